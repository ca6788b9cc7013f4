//! The replay's time backstop: how long a replay may consume no event before
//! it is stopped with a report that says it is not a proof.
//!
//! Stalls are proven from the gate's state; this only catches a thread stuck
//! where reprise cannot see it (a call outside its primitives), so it is
//! long by default and configurable.
//!
//! A debugging session must not trip it: time counts only while the process
//! runs (a gdb all-stop, `kill -STOP` or a suspended laptop stops the
//! watchdog too, and the gap it then sees is not counted), and it never fires
//! while a debugger is attached (gdb's non-stop mode holds one thread at a
//! breakpoint while the rest, the watchdog among them, run on).

use std::sync::Once;
use std::time::{Duration, Instant};

/// The backstop when nothing sets it: long enough for any computation
/// between two reprise calls that a replay should wait out.
pub const DEFAULT_STALL_BACKSTOP: Duration = Duration::from_secs(60);

/// The environment variable that sets the backstop: seconds (`90`, `2.5`),
/// or `off` for none.
pub const STALL_BACKSTOP_ENV: &str = "REPRISE_STALL_BACKSTOP";

/// A backstop setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{STALL_BACKSTOP_ENV}={value:?} is not a number of seconds greater than 0, or `off`")]
pub struct BackstopError {
    /// The value given.
    pub value: String,
}

/// Parses a backstop setting: seconds (greater than 0, at most a year) or
/// `off` (`None`: no backstop).
///
/// # Errors
///
/// Anything else.
pub fn parse_stall_backstop(value: &str) -> Result<Option<Duration>, BackstopError> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    const YEAR: f64 = 365.0 * 24.0 * 3600.0;
    match value.parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs <= YEAR => Ok(Some(Duration::from_secs_f64(secs))),
        _ => Err(BackstopError { value: value.to_string() }),
    }
}

/// Reads `value`, the setting of the variable `name`, as
/// [`parse_stall_backstop`] does, with an error that names the variable.
pub(crate) fn seconds_or_off(name: &str, value: &str) -> Result<Option<Duration>, String> {
    parse_stall_backstop(value)
        .map_err(|e| format!("{name}={:?} is not a number of seconds greater than 0, or `off`", e.value))
}

/// The backstop [`STALL_BACKSTOP_ENV`] asks for, or the default. A bad value
/// must not stop the host's replay: it is named on stderr once, and the
/// default is used.
pub(crate) fn stall_backstop_from_env() -> Option<Duration> {
    let Some(value) = std::env::var_os(STALL_BACKSTOP_ENV) else {
        return Some(DEFAULT_STALL_BACKSTOP);
    };
    match parse_stall_backstop(&value.to_string_lossy()) {
        Ok(backstop) => backstop,
        Err(e) => {
            static WARNED: Once = Once::new();
            WARNED.call_once(|| {
                reprise_recorder::diagnostic::warn(&format!(
                    "{e}; using {}s",
                    DEFAULT_STALL_BACKSTOP.as_secs()
                ));
            });
            Some(DEFAULT_STALL_BACKSTOP)
        }
    }
}

/// The longest gap between two looks of a watcher that still counts in
/// full. A watcher looks every few milliseconds; a longer gap means the
/// process was not running (stopped by a debugger or a signal, or the
/// machine asleep), and only this much of it counts. A watcher starved on a
/// loaded machine loses at most the rest of such a gap: its backstop comes
/// later, never sooner.
const LONGEST_COUNTED_GAP: Duration = Duration::from_millis(250);

/// Time that passed while the process ran, as a watcher that looks often
/// sees it: the wall clock, less the gaps in which nothing ran.
#[derive(Debug)]
pub(crate) struct RunningClock {
    last_look: Instant,
    counted: Duration,
}

impl RunningClock {
    /// A clock at zero.
    pub(crate) fn start() -> RunningClock {
        RunningClock { last_look: Instant::now(), counted: Duration::ZERO }
    }

    /// Counts the time since the last look, a gap longer than the
    /// process's own running could explain only in part, and returns the
    /// total since the clock started.
    pub(crate) fn look(&mut self) -> Duration {
        let now = Instant::now();
        self.counted += now.saturating_duration_since(self.last_look).min(LONGEST_COUNTED_GAP);
        self.last_look = now;
        self.counted
    }

    /// Back to zero: progress was made, or the backstop was held.
    pub(crate) fn restart(&mut self) {
        *self = RunningClock::start();
    }

    /// Whether a backstop of `limit` fires, `ran` being this clock's time
    /// (its last [`Self::look`]): a developer holding a thread at a
    /// breakpoint is no stall, so while a debugger is attached the clock
    /// starts again and the backstop waits another full period.
    pub(crate) fn due(&mut self, ran: Duration, limit: Duration) -> bool {
        if ran < limit {
            return false;
        }
        if debugger_attached() {
            self.restart();
            return false;
        }
        true
    }
}

/// Whether a debugger (any ptrace tracer) is attached to this process. Read
/// from `/proc/self/status` only when a backstop is about to fire, never per
/// event; `false` where that file does not exist or cannot be read.
pub(crate) fn debugger_attached() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| tracer_in(&status))
}

fn tracer_in(status: &str) -> bool {
    status
        .lines()
        .find_map(|line| line.strip_prefix("TracerPid:"))
        .is_some_and(|pid| pid.trim().parse::<u32>().is_ok_and(|pid| pid != 0))
}

#[cfg(test)]
mod tests {
    use super::{parse_stall_backstop, tracer_in, Duration};

    #[test]
    fn a_tracer_is_a_non_zero_tracer_pid() {
        assert!(tracer_in("Name:\treprise\nTracerPid:\t4242\nUid:\t0\n"));
        assert!(!tracer_in("Name:\treprise\nTracerPid:\t0\nUid:\t0\n"));
        assert!(!tracer_in("Name:\treprise\n"));
        assert!(!super::debugger_attached(), "the unit tests run without a debugger");
    }

    #[test]
    fn a_backstop_is_seconds_or_off_and_nothing_else() {
        assert_eq!(parse_stall_backstop("90"), Ok(Some(Duration::from_secs(90))));
        assert_eq!(parse_stall_backstop(" 2.5 "), Ok(Some(Duration::from_millis(2500))));
        assert_eq!(parse_stall_backstop("OFF"), Ok(None));
        for bad in ["", "0", "-1", "1e30", "NaN", "inf", "60s"] {
            let e = parse_stall_backstop(bad).expect_err(bad);
            assert!(e.to_string().contains("REPRISE_STALL_BACKSTOP"), "{e}");
        }
    }
}
