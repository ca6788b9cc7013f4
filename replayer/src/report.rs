//! What a replay says when it does not simply match: divergences, stalls, and
//! the other ways it can stop.

use std::fmt;
use std::time::Duration;

use reprise_recorder::trace::format::{BlockedThread, Verdict};

/// The program did something other than its trace says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The thread, by name and index.
    pub thread: String,
    /// The index of the event in that thread's log.
    pub event: usize,
    /// What the trace has there.
    pub expected: String,
    /// What the program did.
    pub actual: String,
    /// Why they differ.
    pub detail: String,
}

impl Divergence {
    /// The trace file could not be read back during the replay (`failure`
    /// says which chunk and why): not the program's divergence.
    pub fn trace_unreadable(failure: &str) -> Divergence {
        Divergence {
            thread: "the trace file".into(),
            event: 0,
            expected: "every indexed chunk to read back as it was indexed".into(),
            actual: failure.to_string(),
            detail: TRACE_UNREADABLE.into(),
        }
    }

    /// Whether the trace file, not the program, stopped the replay (see
    /// [`Divergence::trace_unreadable`]).
    pub fn is_trace_unreadable(&self) -> bool {
        self.detail == TRACE_UNREADABLE
    }
}

/// The detail of [`Divergence::trace_unreadable`].
const TRACE_UNREADABLE: &str = "the file changed or became unreadable during the replay";

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_trace_unreadable() {
            // The program did nothing wrong: the hint below would mislead.
            return write!(f, "replay stopped: {} ({})", self.actual, self.detail);
        }
        if reprise_recorder::trace::model::sensitive::SensitiveError::is_refusal(&self.detail) {
            // Not a divergence of the program: the hint below would mislead.
            return write!(
                f,
                "replay stopped in {} at its event {}: {}",
                self.thread, self.event, self.detail
            );
        }
        writeln!(f, "replay diverged in {} at its event {}", self.thread, self.event)?;
        writeln!(f, "  expected: {}", self.expected)?;
        writeln!(f, "  actual:   {}", self.actual)?;
        writeln!(f, "  detail:   {}", self.detail)?;
        if self.detail.starts_with(reprise_recorder::trace::model::OUTSIDE_MESSAGE) {
            return write!(
                f,
                "  hint: spawn every thread that sends on the program's channels with \
                 reprise::thread::spawn (or scope, or Builder), so that the recording numbers its \
                 messages and a replay runs it"
            );
        }
        write!(
            f,
            "  hint: nondeterminism outside reprise's primitives shows up like this: iterating a \
             HashMap with a random hasher (use BTreeMap or a fixed hasher), reading the clock \
             directly (use reprise::time::now), comparing addresses, or reading input without \
             reprise::capture; or the program changed since the recording"
        )
    }
}

/// A thread named in a stall report: where it is and what it waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    /// The thread, by name and index.
    pub thread: String,
    /// Its event index.
    pub event: usize,
    /// The call it is in.
    pub call: String,
    /// What it waits for.
    pub waits_for: String,
}

/// No thread could make progress, though the trace has more to replay; or,
/// with [`Stall::backstop`] set, none consumed an event for that long.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stall {
    /// The threads that wait, and on what. After the time backstop, the
    /// running threads too, each by its last reprise call.
    pub waiting: Vec<Waiting>,
    /// `None`: proven from the gate's state (every thread parked on a
    /// recorded event no thread can produce). `Some`: the time backstop
    /// fired after this long without a replayed event, which proves nothing.
    pub backstop: Option<Duration>,
}

impl fmt::Display for Stall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.backstop {
            None => write!(
                f,
                "replay stalled: every thread is parked waiting for a recorded event that no thread can produce"
            )?,
            Some(limit) => write!(
                f,
                "replay stopped by its time backstop: no event was replayed for {}s ({} sets it). This is \
                 not a proof of a stall: a thread may be computing, stopped in a debugger, or blocked in \
                 a call reprise does not see; each thread's last reprise call:",
                limit.as_secs_f64(),
                crate::STALL_BACKSTOP_ENV
            )?,
        }
        for w in &self.waiting {
            write!(f, "\n  {} at event {}: in {}, waiting for {}", w.thread, w.event, w.call, w.waits_for)?;
        }
        Ok(())
    }
}

/// Why a replay stopped before its root thread finished.
#[derive(Clone, Debug, PartialEq)]
pub enum Stop {
    /// The program left the recorded path.
    Diverged(Divergence),
    /// No thread could go on.
    Stalled(Stall),
    /// The recorded deadlock was reached again.
    Deadlock(Vec<BlockedThread>),
    /// The recorded livelock was reached again (the explorer's step bound).
    Livelock(Verdict),
    /// A cut trace ran out of events.
    TraceEnded,
}

/// How a replay ended.
#[derive(Clone, Debug, PartialEq)]
pub enum ReplayOutcome {
    /// Every thread followed the trace to the end.
    Matched,
    /// The recorded deadlock came back.
    Deadlock(Verdict),
    /// The recorded livelock came back: the trace ends while a thread spins.
    Livelock(Verdict),
    /// The program left the recorded path.
    Diverged(Divergence),
    /// No thread could make progress.
    Stalled(Stall),
    /// The trace (a crashed recording) ended before the program did.
    TraceEnded {
        /// Events replayed before it ended.
        replayed: u64,
    },
    /// Nothing was replayed: the trace is a flight-recorder dump whose window
    /// does not start at the run's first event (or cannot be read).
    Refused(reprise_recorder::trace::window::WindowRefusal),
    /// Nothing was replayed: a coroutine replay was asked for on an OS
    /// thread that is unwinding from a panic, or on which an earlier
    /// coroutine replay left a thread suspended mid-unwind. std's panic
    /// count belongs to the OS thread, which every coroutine shares: raised,
    /// each replayed thread would answer `thread::panicking()` wrongly. The
    /// command line never meets it (each replay is a process of its own).
    OnUnwindingThread,
}

impl ReplayOutcome {
    /// Whether the replay followed the whole trace.
    pub fn matched(&self) -> bool {
        matches!(self, ReplayOutcome::Matched | ReplayOutcome::Deadlock(_) | ReplayOutcome::Livelock(_))
    }
}

impl fmt::Display for ReplayOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayOutcome::Matched => f.write_str("replay matched the trace"),
            ReplayOutcome::Deadlock(verdict) | ReplayOutcome::Livelock(verdict) => {
                write!(f, "replay reached the recorded {verdict}")
            }
            ReplayOutcome::Diverged(d) => d.fmt(f),
            ReplayOutcome::Stalled(s) => s.fmt(f),
            ReplayOutcome::TraceEnded { replayed } => write!(
                f,
                "the trace ended before the program did: replayed its first {replayed} events (the recording did not finish)"
            ),
            ReplayOutcome::Refused(refusal) => refusal.fmt(f),
            ReplayOutcome::OnUnwindingThread => f.write_str(
                "cannot replay on coroutines here: this OS thread is unwinding from a panic, or an earlier \
                 coroutine replay on it stopped with a thread mid-unwind and left that thread there (std's \
                 panic count is the OS thread's, shared by every coroutine on it, and stays raised); replay on \
                 another OS thread, or in parallel (the default)",
            ),
        }
    }
}
