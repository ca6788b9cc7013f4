//! What a failed run was: how it failed (a panic, a deadlock, a livelock),
//! the threads a deadlock left blocked, and the scheduling decisions that
//! led there.

use reprise_recorder::hook::coop::CoopCall;
use reprise_recorder::trace::model::ThreadIndex;

/// One scheduling decision, for the failure report.
#[derive(Clone, Debug)]
pub struct Step {
    /// The thread that ran.
    pub thread: ThreadIndex,
    /// What it was about to do (`None`: starting, or a `yield_now`).
    pub call: Option<CoopCall>,
    /// Whether running it preempted a thread that could have gone on.
    pub preempted: bool,
    /// Whether the strategy was asked (more than one thread could run).
    pub(crate) asked: bool,
}

/// A blocked thread at the end of a deadlocked run.
#[derive(Clone, Debug)]
pub struct Stuck {
    /// The thread.
    pub thread: ThreadIndex,
    /// The call it is blocked in.
    pub call: Option<CoopCall>,
    /// The thread holding the lock it waits for, if any.
    pub waits_for: Option<ThreadIndex>,
}

/// How a run failed.
#[derive(Clone, Debug)]
pub enum FailureKind {
    /// A thread panicked (an assertion, an invariant check).
    Panic {
        /// The thread.
        thread: ThreadIndex,
        /// Its message.
        message: String,
    },
    /// Threads wait on each other forever. `partial` when others could still run.
    Deadlock {
        /// The threads in the deadlock (the cycle first).
        stuck: Vec<Stuck>,
        /// Whether it was a cycle found while other threads were still runnable.
        partial: bool,
    },
    /// The run took more scheduling points than the bound: a thread spins.
    Livelock {
        /// The thread that was running when the bound was hit.
        thread: ThreadIndex,
        /// Where it was spinning.
        call: Option<CoopCall>,
        /// The bound.
        steps: u64,
    },
    /// The program's own check said the run is wrong.
    Check {
        /// What the check said.
        message: String,
    },
}

impl FailureKind {
    /// A one-line description.
    pub fn summary(&self) -> String {
        match self {
            FailureKind::Panic { thread, message } => format!("thread {thread} panicked: {message}"),
            FailureKind::Deadlock { stuck, partial } => {
                let who: Vec<String> = stuck.iter().map(|s| format!("thread {}", s.thread)).collect();
                let kind = if *partial { "partial deadlock (a cycle of lock waits)" } else { "deadlock" };
                format!("{kind}: {} blocked", who.join(", "))
            }
            FailureKind::Livelock { thread, call, steps } => format!(
                "livelock: no end after {steps} steps; thread {thread} spins at {}",
                call.map(|c| c.location.to_string()).unwrap_or_else(|| "?".into())
            ),
            FailureKind::Check { message } => message.clone(),
        }
    }

    /// Whether two failures are the same bug, for minimization.
    pub fn same_kind(&self, other: &FailureKind) -> bool {
        match (self, other) {
            (FailureKind::Panic { message: a, .. }, FailureKind::Panic { message: b, .. }) => a == b,
            (FailureKind::Check { message: a }, FailureKind::Check { message: b }) => a == b,
            (FailureKind::Deadlock { .. }, FailureKind::Deadlock { .. }) => true,
            (FailureKind::Livelock { .. }, FailureKind::Livelock { .. }) => true,
            _ => false,
        }
    }
}
