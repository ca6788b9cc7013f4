//! The replay's time backstop: how long a replay may consume no event before
//! it is stopped with a report that says it is not a proof.
//!
//! Stalls are proven from the gate's state; this only catches a thread stuck
//! where reprise cannot see it (a call outside its primitives), so it is
//! long by default and configurable.

use std::sync::Once;
use std::time::Duration;

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

#[cfg(test)]
mod tests {
    use super::{parse_stall_backstop, Duration};

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
