//! What a flight recorder keeps, and how `REPRISE_FLIGHT` says it.

use std::path::PathBuf;

use crate::record::RecordConfig;

/// The default [`FlightConfig::events`]: per thread.
pub const DEFAULT_FLIGHT_EVENTS: u64 = 64 * 1024;
/// The default [`FlightConfig::bytes`]: per thread.
pub const DEFAULT_FLIGHT_BYTES: usize = 1 << 20;
/// The default [`FlightConfig::exited_threads`].
pub const DEFAULT_EXITED_THREADS: usize = 64;

/// A flight recorder's settings: the recording's own ([`RecordConfig`]:
/// program, parameters, seed, deadlock policy, key) and how much of each
/// thread's recent past it keeps in memory.
///
/// Each thread's events go into fixed-size chunks, as in a recording
/// (16 KiB, a few thousand events); the recorder keeps, per thread, the
/// fewest newest chunks that hold at least [`events`](Self::events) events,
/// and never more than [`bytes`](Self::bytes) bytes of them (the newest
/// chunk always stays). Memory is thus bounded per thread, and the rings
/// of threads that exited are kept for the last
/// [`exited_threads`](Self::exited_threads) of them only (a program that
/// spawns a thread per task stays bounded too). What overwritten chunks
/// defined (call sites, objects, the thread itself) is kept apart, so a dump
/// names everything its events refer to; that grows with the number of
/// distinct call sites and objects, not with the events.
///
/// # Examples
///
/// ```
/// use reprise_recorder::{FlightConfig, RecordConfig};
///
/// let config = FlightConfig::new(RecordConfig::new("payments", "1.0")).events(10_000).bytes(256 * 1024);
/// assert_eq!(config.events, 10_000);
/// let (path, config) = FlightConfig::from_spec("/tmp/dump.trace,events=500", config).unwrap();
/// assert_eq!(path, std::path::PathBuf::from("/tmp/dump.trace"));
/// assert_eq!((config.events, config.bytes), (500, 256 * 1024));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FlightConfig {
    /// The recording's header and policies.
    pub record: RecordConfig,
    /// Events to keep per thread, at least. Default: [`DEFAULT_FLIGHT_EVENTS`].
    pub events: u64,
    /// Bytes of chunks to keep per thread, at most. Default: [`DEFAULT_FLIGHT_BYTES`].
    pub bytes: usize,
    /// Also dump when the run completes (by default only a panic, a proven
    /// deadlock, `SIGUSR1` or [`flight_dump`](crate::flight_dump) do).
    pub dump_at_end: bool,
    /// How many threads that exited keep their events (the last to exit;
    /// the root, whose exit ends the run, always keeps its); threads that
    /// exited before them keep only their names.
    /// Default: [`DEFAULT_EXITED_THREADS`].
    pub exited_threads: usize,
}

impl Default for FlightConfig {
    fn default() -> Self {
        FlightConfig::new(RecordConfig::default())
    }
}

impl FlightConfig {
    /// The default budgets, for a recording described by `record`.
    pub fn new(record: RecordConfig) -> Self {
        FlightConfig {
            record,
            events: DEFAULT_FLIGHT_EVENTS,
            bytes: DEFAULT_FLIGHT_BYTES,
            dump_at_end: false,
            exited_threads: DEFAULT_EXITED_THREADS,
        }
    }

    /// Sets [`FlightConfig::events`].
    pub fn events(mut self, events: u64) -> Self {
        self.events = events;
        self
    }

    /// Sets [`FlightConfig::bytes`].
    pub fn bytes(mut self, bytes: usize) -> Self {
        self.bytes = bytes;
        self
    }

    /// Sets [`FlightConfig::exited_threads`].
    pub fn exited_threads(mut self, threads: usize) -> Self {
        self.exited_threads = threads;
        self
    }

    /// Sets [`FlightConfig::dump_at_end`].
    pub fn dump_at_end(mut self, dump: bool) -> Self {
        self.dump_at_end = dump;
        self
    }

    /// Reads `REPRISE_FLIGHT`'s form, `path[,events=N][,bytes=N][,exited=N]`,
    /// over `base`.
    ///
    /// # Errors
    ///
    /// An empty path, an unknown key, or a value that is not a positive number.
    pub fn from_spec(spec: &str, base: FlightConfig) -> Result<(PathBuf, FlightConfig), FlightSpecError> {
        let mut parts = spec.split(',');
        let path = parts.next().unwrap_or_default();
        if path.is_empty() {
            return Err(FlightSpecError::NoPath);
        }
        let mut config = base;
        for part in parts {
            let bad = || FlightSpecError::Bad(part.to_owned());
            let (key, value) = part.split_once('=').ok_or_else(bad)?;
            let value: u64 = value.trim().parse().ok().filter(|&n| n > 0).ok_or_else(bad)?;
            match key.trim() {
                "events" => config.events = value,
                "bytes" => config.bytes = usize::try_from(value).map_err(|_| bad())?,
                "exited" => config.exited_threads = usize::try_from(value).map_err(|_| bad())?,
                _ => return Err(bad()),
            }
        }
        Ok((PathBuf::from(path), config))
    }
}

/// Why a `REPRISE_FLIGHT` value was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FlightSpecError {
    /// Nothing before the first comma.
    #[error("REPRISE_FLIGHT needs a path: path[,events=N][,bytes=N][,exited=N]")]
    NoPath,
    /// An entry that is not `events=N`, `bytes=N` or `exited=N` with N > 0.
    #[error("REPRISE_FLIGHT: `{0}` is not events=N, bytes=N or exited=N (N > 0)")]
    Bad(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_sets_the_path_and_the_budgets_it_names() {
        let (path, c) = FlightConfig::from_spec("d.trace", FlightConfig::default()).unwrap();
        assert_eq!(path, PathBuf::from("d.trace"));
        assert_eq!((c.events, c.bytes), (DEFAULT_FLIGHT_EVENTS, DEFAULT_FLIGHT_BYTES));
        let (_, c) = FlightConfig::from_spec("d,bytes=4096,events=7", FlightConfig::default()).unwrap();
        assert_eq!((c.events, c.bytes), (7, 4096));
        assert_eq!(c.exited_threads, DEFAULT_EXITED_THREADS);
        let (_, c) = FlightConfig::from_spec("d,exited=1000", FlightConfig::default()).unwrap();
        assert_eq!(c.exited_threads, 1000);
    }

    #[test]
    fn a_bad_spec_is_refused() {
        let base = FlightConfig::default;
        assert_eq!(FlightConfig::from_spec("", base()).unwrap_err(), FlightSpecError::NoPath);
        assert_eq!(FlightConfig::from_spec(",events=3", base()).unwrap_err(), FlightSpecError::NoPath);
        for bad in ["d,events=0", "d,events=x", "d,ring=5", "d,events", "d,bytes=-1"] {
            assert!(matches!(FlightConfig::from_spec(bad, base()), Err(FlightSpecError::Bad(_))), "{bad}");
        }
    }
}
