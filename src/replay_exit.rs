//! The report of a replay that the replayed program ends itself, with
//! `std::process::exit` in one of its threads: the process is gone before
//! `reprise::main`'s replay returns, so the report the CLI waits for is
//! written from an `atexit` handler instead, with how far the replay got.
//! Without it, `reprise replay FILE -- CMD` said the program "exited
//! without replaying the trace" (exit 8) though it had replayed it.

use std::sync::{Mutex, Once, PoisonError};

use crate::exit;

/// Set while `reprise::main`'s replay runs: whether the recording itself
/// was ended by `std::process::exit` (its footer says so).
static REPLAYING: Mutex<Option<bool>> = Mutex::new(None);
static REGISTER: Once = Once::new();

/// The replay is about to run; `recorded_exit`: the recording ended with the
/// process's exit. Until [`done`], an exit writes the report.
pub(crate) fn begin(recorded_exit: bool) {
    *REPLAYING.lock().unwrap_or_else(PoisonError::into_inner) = Some(recorded_exit);
    REGISTER.call_once(|| reprise_recorder::hook::at_process_exit(at_exit));
}

/// The replay returned: it writes its own report.
pub(crate) fn done() {
    REPLAYING.lock().unwrap_or_else(PoisonError::into_inner).take();
}

/// The code and message of a replay the program ended by exiting: the
/// trace ended there too when the recording was ended the same way
/// ([`exit::TRACE_ENDED`], as the in-process replay of such a trace says);
/// otherwise the replayed run did something the recording did not
/// ([`exit::DIVERGED`]).
pub(crate) fn report(recorded_exit: bool, replayed: Option<(u64, u64)>) -> (i32, String) {
    let progress = match replayed {
        Some((replayed, events)) => format!("after {replayed} of the trace's {events} events"),
        None => "before the replay started".to_owned(),
    };
    if recorded_exit {
        (
            exit::TRACE_ENDED,
            format!(
                "the trace ended: the replayed program exited the process (std::process::exit) {progress}, \
                 as the recording was ended by its exit"
            ),
        )
    } else {
        (
            exit::DIVERGED,
            format!(
                "replay diverged: the replayed program exited the process (std::process::exit) {progress}; \
                 the recording did not end that way"
            ),
        )
    }
}

extern "C" fn at_exit() {
    // A forked child's exit is not the replayed program's.
    if reprise_recorder::hook::is_forked_child() {
        return;
    }
    // Nothing may unwind out of an `extern "C"` function.
    let _ = std::panic::catch_unwind(|| {
        let Some(recorded_exit) = REPLAYING.lock().unwrap_or_else(PoisonError::into_inner).take() else {
            return;
        };
        reprise_replayer::progress::settle_before_exit();
        let replayed = reprise_replayer::progress::running().map(|p| (p.replayed, p.events));
        let (code, message) = report(recorded_exit, replayed);
        eprintln!("reprise: {message}");
        crate::handoff::write(code, &message);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exit_the_recording_also_ended_with_is_the_trace_ending_otherwise_a_divergence() {
        let (code, message) = report(true, Some((10, 12)));
        assert_eq!(code, exit::TRACE_ENDED);
        assert!(message.contains("after 10 of the trace's 12 events"), "{message}");
        let (code, message) = report(false, Some((3, 12)));
        assert_eq!(code, exit::DIVERGED);
        assert!(message.starts_with("replay diverged"), "{message}");
    }
}
