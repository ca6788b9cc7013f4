//! `REPRISE_REPLAY=<trace> cargo test <test::path> -- --exact`: the
//! explore call of the test a failure's trace names replays that trace's
//! schedule in place of exploring, with its threads as OS threads (a
//! debugger sees them), and fails the test as the explored run failed.
//! Every other explore call in the process explores as usual: the mode
//! belongs to one execution, not to the process.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use reprise_recorder::trace::read::{read_trace_file, TraceFile};

use crate::ReplayOutcome;

/// The variable naming the trace to replay.
pub const REPLAY_ENV: &str = "REPRISE_REPLAY";

/// The test path libtest gave the calling thread (it names each test's
/// thread after the test), unless the thread is `main` or unnamed.
pub(crate) fn calling_test() -> Option<String> {
    let current = std::thread::current();
    current.name().filter(|n| *n != "main" && !n.is_empty()).map(str::to_string)
}

/// The trace [`REPLAY_ENV`] names, when its header says `test` explored it.
/// A trace that cannot be read is said once on stderr, and ignored: every
/// test of the process would see the variable.
pub(crate) fn requested(test: Option<&str>) -> Option<(String, TraceFile)> {
    static WARNED: AtomicBool = AtomicBool::new(false);
    let path = std::env::var(REPLAY_ENV).ok().filter(|p| !p.is_empty())?;
    let test = test?;
    match read_trace_file(Path::new(&path)) {
        Ok(trace) => {
            let named = super::explored_test(&trace.header) == Some(test);
            named.then_some((path, trace))
        }
        Err(e) => {
            if !WARNED.swap(true, Ordering::Relaxed) {
                reprise_recorder::diagnostic::warn(&format!(
                    "{REPLAY_ENV}={path}: cannot read the trace ({e}); exploring as usual"
                ));
            }
            None
        }
    }
}

/// Replays `trace` with `program` and says how it went: the failure the
/// explored run had, when it came back.
pub(crate) fn replay_in_place<F>(path: &str, trace: &TraceFile, program: F) -> String
where
    F: FnOnce() + Send + 'static,
{
    let schedule = trace
        .header
        .parameters
        .iter()
        .find(|(k, _)| k == "explore-schedule")
        .map_or("?", |(_, v)| v.as_str())
        .to_string();
    let report = crate::replay(trace, program);
    let how = match (&report.outcome, &report.reproduced) {
        (outcome, Some(verdict)) if outcome.matched() => format!("the run failed as explored: {verdict}"),
        (ReplayOutcome::Matched, None) => "the replay matched the trace".to_string(),
        (outcome, _) => format!("the replay did not follow the trace: {outcome}"),
    };
    format!("reprise: replayed schedule {schedule} from {path} ({REPLAY_ENV}): {how}")
}
