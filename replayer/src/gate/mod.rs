//! The replay gate: hands each thread its recorded events and holds it until
//! what its next outcome depends on has happened.
//!
//! Threads run in parallel and meet only where the recording says they
//! met: on one object's turn counter, one sender's send count, one thread's
//! exit. There is no global lock: a wait that already holds and a change
//! nobody waits for touch only atomics; a thread that must wait registers on
//! the one counter it waits for and sleeps in its own parker, and a change
//! wakes only the waiters it releases.

#[cfg(not(reprise_loom))]
mod dense;
#[cfg(not(reprise_loom))]
mod hook;
#[cfg(not(reprise_loom))]
mod replay_gate;
#[cfg(not(reprise_loom))]
mod state;
#[cfg(not(reprise_loom))]
mod status;
#[cfg(not(reprise_loom))]
mod stop_at;
#[cfg(not(reprise_loom))]
mod stop_commands;
#[cfg(all(test, not(reprise_loom)))]
mod tests;
#[cfg(not(reprise_loom))]
mod threads;
mod waiters;
#[cfg(not(reprise_loom))]
mod watchdog;

#[cfg(not(reprise_loom))]
pub use replay_gate::ReplayGate;
#[cfg(not(reprise_loom))]
pub(crate) use status::Status;
#[cfg(not(reprise_loom))]
pub use stop_at::StopAt;
#[cfg(not(reprise_loom))]
pub use stop_commands::{MoveRefused, StopHost};
#[cfg(not(reprise_loom))]
pub(crate) use watchdog::watchdog;

#[cfg(not(reprise_loom))]
use reprise_recorder::{hook::gate::SiteRef, trace::model::ObjectIndex};

/// One call a replayed thread made, as the program made it.
#[cfg(not(reprise_loom))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    /// The operation.
    pub op: reprise_recorder::trace::model::Op,
    /// The object, when it has one.
    pub object: Option<ObjectIndex>,
    /// Where it was called from.
    pub site: SiteRef,
}
