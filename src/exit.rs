//! Exit codes, the same for every subcommand.

use reprise_recorder::trace::model::sensitive::SensitiveError;
use reprise_recorder::trace::read::ReadFileError;
use reprise_replayer::ReplayOutcome;

/// Success.
pub const SUCCESS: i32 = 0;
/// A finding: explore found a failure, diff found a difference.
pub const FINDING: i32 = 1;
/// The command line was wrong.
pub const USAGE: i32 = 2;
/// The replay diverged from the trace.
pub const DIVERGED: i32 = 3;
/// The replay stalled, or explore stopped at a blocking call reprise does
/// not see (its backstop).
pub const STALLED: i32 = 4;
/// The trace ended before the program did (a crashed recording).
pub const TRACE_ENDED: i32 = 5;
/// The trace is damaged or unreadable.
pub const DAMAGED: i32 = 6;
/// Any other I/O error.
pub const IO_ERROR: i32 = 7;
/// The replay followed the whole trace, but its verdict or annotations (the
/// digest) differ from the recording's, or the replayed program never replayed.
pub const MISMATCHED: i32 = 8;
/// The program run by `reprise replay FILE -- CMD` was killed by a signal,
/// or a paused `reprise replay --stop-at` was quit (`q`) before its end.
pub const KILLED: i32 = 9;
/// The replay reached a sensitive capture it cannot open: no key
/// (`REPRISE_KEY`), a wrong key, bytes altered, or a value recorded without
/// a key. `diff`: no difference found, but sealed captures it could not
/// open to compare.
pub const SENSITIVE: i32 = 10;
/// The trace is a flight-recorder dump whose window does not cover the run
/// from every thread's first event: replay and diff refuse it (it names where the
/// window starts); `inspect` and `verify` still read it.
pub const WINDOW: i32 = 11;

/// The table printed by `--help`.
pub const TABLE: &str = "\
Exit codes:
  0  success
  1  a finding (explore found a failure, diff found a difference)
  2  usage error
  3  replay diverged from the trace
  4  replay stalled, or explore stopped at a blocking call reprise does not see
  5  the trace ended before the program did (a crashed recording)
  6  the trace is damaged or unreadable
  7  any other I/O error
  8  replay finished but its verdict or annotations differ from the recording,
     or the program run by `replay FILE -- CMD` did not replay the trace; why
     could not reproduce the failure, or its `-- CMD`/`--test` run said nothing
  9  the program run by `replay FILE -- CMD` was killed by a signal, or a
     paused `replay --stop-at` was quit (`q`)
 10  replay reached a sensitive capture it cannot open (no REPRISE_KEY, a wrong
     key, altered bytes, or a value recorded without a key); diff found no
     difference but sensitive captures it cannot open to compare
 11  replay (or diff) refused a flight-recorder dump whose window does not
     start at the run's first event (it says from which event it starts)

replay exits 0 only when it followed every recorded event and reproduced the
recorded verdict and every recorded annotation it also produced (the digest).";

/// The exit code for a replay's outcome.
pub fn of_outcome(outcome: &ReplayOutcome) -> i32 {
    match outcome {
        ReplayOutcome::Matched | ReplayOutcome::Deadlock(_) | ReplayOutcome::Livelock(_) => SUCCESS,
        ReplayOutcome::Diverged(d) if SensitiveError::is_refusal(&d.detail) => SENSITIVE,
        ReplayOutcome::Diverged(d) if d.is_trace_unreadable() => DAMAGED,
        ReplayOutcome::Diverged(_) => DIVERGED,
        ReplayOutcome::Stalled(_) => STALLED,
        ReplayOutcome::TraceEnded { .. } => TRACE_ENDED,
        ReplayOutcome::Refused(_) => WINDOW,
        // Only a library call meets it: a replay the caller cannot make there.
        ReplayOutcome::OnUnwindingThread => USAGE,
    }
}

/// The exit code for a trace that could not be read.
pub fn of_read_error(error: &ReadFileError) -> i32 {
    match error {
        ReadFileError::Io { .. } => IO_ERROR,
        _ => DAMAGED,
    }
}
