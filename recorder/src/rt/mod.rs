//! The runtime behind the primitives: which mode a thread is in, and what each
//! mode does with a primitive call.

pub(crate) mod chunk;
pub(crate) mod context;
pub(crate) mod exec;
pub mod gate;
pub(crate) mod gated;
pub(crate) mod monitor;
pub(crate) mod object;
pub(crate) mod order;
pub(crate) mod panic;
pub(crate) mod primitive;
pub(crate) mod sites;
pub(crate) mod writer;
