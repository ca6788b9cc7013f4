//! What a recording is told: its header's name and parameters, and what it
//! does when something outside the program's logic happens.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::policy::{OnDeadlock, OnRecordError};
use crate::trace::format::{Header, TraceMode};

/// What to put in a recording's header, and how the recording behaves when
/// something outside the program's logic happens.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RecordConfig {
    /// The recorded program's name. Default: the executable's file name.
    pub program: String,
    /// Its version. Default: empty.
    pub program_version: String,
    /// Parameters a replay needs to run the program the same way
    /// (the built-in pipelines keep theirs here).
    pub parameters: Vec<(String, String)>,
    /// Seed of the recorded random source ([`crate::random`]). Default: 0.
    pub seed: u64,
    /// What a proven deadlock does. Default: [`OnDeadlock::Wait`] (write
    /// the verdict, finish the trace, and leave the program blocked as it
    /// would be without reprise).
    pub on_deadlock: OnDeadlock,
    /// Every thread of the process that could end a wait is spawned through
    /// reprise (no plain `std::thread`, network or FFI thread feeds the
    /// recorded ones). Then a deadlock is also proven when every live
    /// recorded thread waits without a timeout and nothing happened on the
    /// objects they wait on since they started waiting; otherwise only a
    /// cycle of owned resources (locks, joins) is. Declaring it falsely can
    /// give a false deadlock verdict. Default: `false`.
    pub closed_world: bool,
    /// What `reprise::main` does when the trace cannot be created. Default:
    /// [`OnRecordError::RunUnrecorded`].
    pub on_record_error: OnRecordError,
    /// Each thread's buffered events reach the file within about this long
    /// (as well as whenever 16 KiB are buffered), so a crash loses at most
    /// this tail. A thread computing without any reprise call flushes at its
    /// next call. Default: 100 ms (at least 1 ms is used).
    pub flush_interval: Duration,
    /// When the recording finishes while threads still run, how long it
    /// waits for them to hand their buffers over. A thread that makes a
    /// reprise call or blocks in one hands over at once; one computing (or
    /// blocked outside reprise) for longer loses its unflushed tail.
    /// Default: 1 s.
    pub handover_timeout: Duration,
    /// When the recording finishes, how long it waits for the writer to
    /// write what the threads handed over (at most the pending cap per
    /// thread). A writer still behind then (a slow disk, a pipe read
    /// slowly, a hung mount) drops what is left: the trace ends where it
    /// got to, its footer says so ([`STOPPED_ANNOTATION`](crate::STOPPED_ANNOTATION))
    /// once it is written, and the program goes on to its end without
    /// waiting for the disk. Default: 10 s.
    pub drain_timeout: Duration,
    /// Test knob: the trace file fails (as a full disk does) after this many
    /// bytes.
    #[doc(hidden)]
    pub fail_writes_after: Option<u64>,
    /// Test knob: the writer writes nothing until the recording leaves its
    /// recording state (a pending cap, a failure or the end), as a writer
    /// or disk that cannot keep up would.
    #[doc(hidden)]
    pub stall_writer: bool,
    /// How many bytes each thread may have waiting for the writer (handed
    /// over but not yet written) when the writer or the disk falls behind.
    /// A thread that would go past it stops the recording: the trace ends
    /// there, valid, with the reason in its footer (`reprise.stopped`), and
    /// the program runs on unrecorded; it never waits for the writer and
    /// its memory never grows without bound. `None` (the default): the
    /// `REPRISE_PENDING_CAP` environment variable (bytes, or with a `K`,
    /// `M` or `G` suffix for KiB, MiB, GiB), else 8 MiB. What waits is raw
    /// events, 40 bytes each, while the writer keeps up; once it is behind,
    /// threads encode their blocks themselves, about a tenth of the bytes.
    /// Under the flight recorder the cap applies to the keeper: a thread
    /// at it drops the block instead (keeping the names it defined) and
    /// goes on recording; its window then starts after that block.
    pub pending_cap: Option<usize>,
    /// Whether the header also stores the program's arguments in clear, under
    /// [`ARGS_PARAMETER`](crate::args::ARGS_PARAMETER). Default: false, because
    /// arguments can hold secrets (tokens, passwords, account numbers); a hash of
    /// them ([`args_hash`](crate::args::args_hash), under
    /// [`ARGS_HASH_PARAMETER`](crate::args::ARGS_HASH_PARAMETER)) is always
    /// stored, so a replay can say that its arguments differ. `reprise::main`
    /// sets it from `REPRISE_RECORD_ARGS=1`.
    pub record_arguments: bool,
    /// The key sealing [`capture_sensitive`](crate::capture_sensitive)'s
    /// values. `None` (the default): `REPRISE_KEY` is read at the first
    /// sensitive capture; without a valid one those values are not kept.
    pub key: Option<crate::trace::model::sensitive::SealKey>,
}

/// The default [`RecordConfig::flush_interval`].
pub(crate) const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_millis(100);
/// The default [`RecordConfig::pending_cap`]: 8 MiB per thread.
pub const DEFAULT_PENDING_CAP: usize = 8 << 20;
/// The environment variable that sets [`RecordConfig::pending_cap`] when
/// the config leaves it `None`.
pub const PENDING_CAP_ENV: &str = "REPRISE_PENDING_CAP";
/// The default [`RecordConfig::handover_timeout`].
pub(crate) const DEFAULT_HANDOVER_TIMEOUT: Duration = Duration::from_secs(1);
/// The default [`RecordConfig::drain_timeout`].
pub(crate) const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for RecordConfig {
    fn default() -> Self {
        RecordConfig {
            program: String::new(),
            program_version: String::new(),
            parameters: Vec::new(),
            seed: 0,
            flush_interval: DEFAULT_FLUSH_INTERVAL,
            handover_timeout: DEFAULT_HANDOVER_TIMEOUT,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
            fail_writes_after: None,
            stall_writer: false,
            pending_cap: None,
            on_deadlock: OnDeadlock::default(),
            closed_world: false,
            on_record_error: OnRecordError::default(),
            record_arguments: false,
            key: None,
        }
    }
}

impl RecordConfig {
    /// A config for `program` at `version`.
    pub fn new(program: impl Into<String>, version: impl Into<String>) -> Self {
        RecordConfig { program: program.into(), program_version: version.into(), ..RecordConfig::default() }
    }

    /// Adds a parameter.
    pub fn parameter(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.parameters.push((key.into(), value.into()));
        self
    }

    /// Sets the key sealing sensitive captures (see [`RecordConfig::key`]).
    pub fn key(mut self, key: crate::trace::model::sensitive::SealKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Sets the random seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets what a proven deadlock does.
    ///
    /// # Examples
    ///
    /// ```
    /// use reprise_recorder::{OnDeadlock, RecordConfig};
    /// let config = RecordConfig::new("payments", "1.0").on_deadlock(OnDeadlock::exit());
    /// assert_eq!(config.on_deadlock, OnDeadlock::Exit { code: reprise_recorder::DEADLOCK_EXIT_CODE });
    /// ```
    pub fn on_deadlock(mut self, policy: OnDeadlock) -> Self {
        self.on_deadlock = policy;
        self
    }

    /// Declares (or not) that every thread of the process is a reprise
    /// thread; see [`RecordConfig::closed_world`].
    pub fn closed_world(mut self, closed: bool) -> Self {
        self.closed_world = closed;
        self
    }

    /// Sets what `reprise::main` does when the trace cannot be created.
    pub fn on_record_error(mut self, policy: OnRecordError) -> Self {
        self.on_record_error = policy;
        self
    }

    /// Sets [`RecordConfig::flush_interval`].
    pub fn flush_interval(mut self, interval: Duration) -> Self {
        self.flush_interval = interval;
        self
    }

    /// Sets [`RecordConfig::handover_timeout`].
    pub fn handover_timeout(mut self, timeout: Duration) -> Self {
        self.handover_timeout = timeout;
        self
    }

    /// Sets [`RecordConfig::drain_timeout`].
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }

    /// Sets [`RecordConfig::pending_cap`].
    pub fn pending_cap(mut self, bytes: usize) -> Self {
        self.pending_cap = Some(bytes);
        self
    }

    /// The pending cap in force: the config's, else the environment's (an
    /// unreadable value is said once on stderr and the default used: a
    /// typo must not stop the program), else the default.
    pub(crate) fn effective_pending_cap(&self) -> usize {
        if let Some(cap) = self.pending_cap {
            return cap;
        }
        match std::env::var(PENDING_CAP_ENV) {
            Ok(text) => parse_size(&text).unwrap_or_else(|| {
                crate::diagnostic::warn(&format!(
                    "{PENDING_CAP_ENV}={text:?} is not a size (bytes, or with a K, M or G suffix); \
                     using {DEFAULT_PENDING_CAP} bytes"
                ));
                DEFAULT_PENDING_CAP
            }),
            Err(_) => DEFAULT_PENDING_CAP,
        }
    }

    /// Sets [`RecordConfig::record_arguments`].
    pub fn record_arguments(mut self, record: bool) -> Self {
        self.record_arguments = record;
        self
    }

    pub(crate) fn header(&self) -> Header {
        let program = if self.program.is_empty() {
            std::env::current_exe()
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_default()
        } else {
            self.program.clone()
        };
        Header {
            program,
            program_version: self.program_version.clone(),
            recorder_version: env!("CARGO_PKG_VERSION").to_string(),
            mode: TraceMode::Record,
            parameters: self.parameters_with_args(),
            start_unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
        }
    }
}

impl RecordConfig {
    /// The user's parameters, then the arguments' hash (and the clear
    /// arguments if asked); the reserved keys are reprise's, so a user
    /// parameter of the same name gives way.
    fn parameters_with_args(&self) -> Vec<(String, String)> {
        use crate::args::{args_hash, render_args, ARGS_HASH_PARAMETER, ARGS_PARAMETER};
        let mut parameters: Vec<(String, String)> = self
            .parameters
            .iter()
            .filter(|(k, _)| k != ARGS_HASH_PARAMETER && k != ARGS_PARAMETER)
            .cloned()
            .collect();
        parameters.push((ARGS_HASH_PARAMETER.to_owned(), args_hash(std::env::args_os().skip(1))));
        if self.record_arguments {
            parameters.push((ARGS_PARAMETER.to_owned(), render_args(std::env::args_os().skip(1))));
        }
        parameters
    }
}

/// A size in bytes: digits, optionally followed by `K`, `M` or `G` (powers
/// of 1024, an optional `iB`/`B` after them).
fn parse_size(text: &str) -> Option<usize> {
    let text = text.trim();
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: usize = number.parse().ok()?;
    let shift = match unit.trim().trim_end_matches("iB").trim_end_matches('B') {
        "" => 0,
        "K" | "k" => 10,
        "M" | "m" => 20,
        "G" | "g" => 30,
        _ => return None,
    };
    number.checked_mul(1 << shift)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_read_with_and_without_units() {
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("64K"), Some(64 << 10));
        assert_eq!(parse_size(" 8MiB "), Some(8 << 20));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("8 MB"), Some(8 << 20));
        assert_eq!(parse_size("eight"), None);
        assert_eq!(parse_size("8X"), None);
        assert_eq!(parse_size(""), None);
    }
}
