//! `REPRISE_STOP_AT=EVENT` / `reprise replay --stop-at EVENT`: where each
//! thread of a replay pauses for a debugger, from the trace's numbering.

use std::path::Path;

use reprise_replayer::views::number;
use reprise_replayer::StopAt;

use crate::exit;

/// The environment variable `reprise replay FILE --stop-at EVENT -- CMD`
/// hands the event to the program's `reprise::main` in.
pub const STOP_AT_ENV: &str = "REPRISE_STOP_AT";

/// Where each thread of `path`'s replay stops after `event`, or an exit code
/// and a message saying why it cannot.
pub(crate) fn plan(path: &Path, event: u64) -> Result<StopAt, (i32, String)> {
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
    let value = std::env::var(STOP_AT_ENV).ok().filter(|v| !v.is_empty())?;
    Some(match value.trim().parse::<u64>() {
        Ok(event) => plan(path, event),
        Err(_) => Err((exit::USAGE, format!("{STOP_AT_ENV}={value:?} is not an event number"))),
    })
}
