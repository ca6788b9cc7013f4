//! What a replayed thread is doing, for the watchdog's and the stall
//! report's eyes.

use reprise_recorder::hook::gate::{Call, WaitFor};

/// What a thread of the replay is doing.
#[derive(Clone, Debug)]
pub(crate) enum Status {
    Running,
    Waiting { until: WaitFor, call: Call, cursor: usize },
    EndOfLog { call: Call, cursor: usize },
    Finished,
}
