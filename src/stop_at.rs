//! `REPRISE_STOP_AT=EVENT` / `reprise replay --stop-at EVENT`: where each
//! thread of a replay pauses for a debugger, from the trace's numbering, and
//! what the pause does with the commands it reads on stdin (a later stop is
//! planned from the trace file again; quitting exits as a failed replay).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use reprise_replayer::views::number;
use reprise_replayer::{StopAt, StopHost};

use crate::exit;

/// The environment variable `reprise replay FILE --stop-at EVENT -- CMD`
/// hands the event to the program's `reprise::main` in.
pub const STOP_AT_ENV: &str = "REPRISE_STOP_AT";

/// The pid of the `reprise replay --stop-at` that runs the program: the
/// paused program ends with it. Read from the program's own parent pid at
/// its start, a `reprise` killed before the program got that far left the
/// program orphaned already, with nothing to compare against.
pub(crate) const STOP_AT_PARENT_ENV: &str = "REPRISE_STOP_AT_PARENT";

/// Where each thread of `path`'s replay stops after `event`, or an exit code
/// and a message saying why it cannot. Once paused it takes commands on
/// stdin (run on, move the stop, quit).
pub(crate) fn plan(path: &Path, event: u64) -> Result<StopAt, (i32, String)> {
    let stop = plan_only(path, event)?;
    Ok(stop.taking_commands(Arc::new(Host { path: path.to_path_buf() })))
}

fn plan_only(path: &Path, event: u64) -> Result<StopAt, (i32, String)> {
    let trace = crate::read_trace_file(path).map_err(|e| (exit::of_read_error(&e), e.to_string()))?;
    let numbering = number(&trace);
    if event >= numbering.len() {
        return Err((
            exit::USAGE,
            format!(
                "--stop-at {event}: the trace has {} events, so the run would finish first; \
                 give an event from 0 to {}",
                numbering.len(),
                numbering.len().saturating_sub(1)
            ),
        ));
    }
    Ok(StopAt::new(&numbering, event))
}

/// The `REPRISE_STOP_AT` of this process, planned on `path`: `None` when unset.
pub(crate) fn from_env(path: &Path) -> Option<Result<StopAt, (i32, String)>> {
    let value = crate::inherited::var(STOP_AT_ENV)?.into_string().ok().filter(|v| !v.is_empty())?;
    Some(match value.trim().parse::<u64>() {
        Ok(event) => plan(path, event),
        Err(_) => Err((exit::USAGE, format!("{STOP_AT_ENV}={value:?} is not an event number"))),
    })
}

/// The pause's host: the trace it was planned on.
#[derive(Debug)]
struct Host {
    path: PathBuf,
}

impl StopHost for Host {
    fn plan(&self, event: u64) -> Result<StopAt, String> {
        plan_only(&self.path, event).map_err(|(_, message)| message)
    }

    fn quit(&self, event: u64) {
        let message = format!("quit while paused at event {event}: the replay did not finish");
        eprintln!("reprise: {message}");
        // This exit is the user's, not the replayed program's: no report
        // of a program that exited in the middle of its replay.
        crate::replay_exit::done();
        // `reprise replay FILE -- CMD` hears it as this program's replay
        // result: a program that quit did replay, and did not pass.
        crate::handoff::write(exit::KILLED, &message);
        std::process::exit(exit::KILLED);
    }
}
