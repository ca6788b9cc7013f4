//! The runtime behind the primitives: which mode a thread is in, and what each
//! mode does with a primitive call.

#[cfg(not(reprise_loom))]
pub(crate) mod chunk;
#[cfg(not(reprise_loom))]
pub(crate) mod context;
#[cfg(not(reprise_loom))]
pub mod coop;
#[cfg(not(reprise_loom))]
#[allow(unsafe_code)]
pub(crate) mod current;
#[cfg(not(reprise_loom))]
pub(crate) mod exec;
#[cfg(not(reprise_loom))]
pub(crate) mod flush;
#[cfg(not(reprise_loom))]
#[allow(unsafe_code)]
pub(crate) mod fork;
#[cfg(not(reprise_loom))]
pub mod gate;
#[cfg(not(reprise_loom))]
pub(crate) mod gated;
pub(crate) mod mode;
#[cfg(not(reprise_loom))]
pub(crate) mod monitor;
// Kept under loom for their loom tests; nothing else uses them there.
#[cfg_attr(reprise_loom, allow(dead_code))]
pub(crate) mod object;
// Kept under loom for their loom tests; nothing else uses them there.
#[cfg_attr(reprise_loom, allow(dead_code))]
pub(crate) mod order;
#[cfg(not(reprise_loom))]
pub mod panic;
pub(crate) mod primitive;
#[cfg(not(reprise_loom))]
pub(crate) mod raw;
#[cfg(not(reprise_loom))]
pub(crate) mod recorded_outcome;
#[cfg(not(reprise_loom))]
#[allow(unsafe_code)]
pub(crate) mod signal;
#[cfg(not(reprise_loom))]
pub(crate) mod sites;
#[cfg(not(reprise_loom))]
#[allow(unsafe_code)]
pub(crate) mod stderr_line;
#[cfg(not(reprise_loom))]
pub(crate) mod writer;
