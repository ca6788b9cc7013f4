//! Writing a failing schedule as a trace: a file name of its own, a header
//! that says what ran (the program, its version, the test, when), and a
//! footer with the verdict `reprise replay` checks against.

use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use reprise_recorder::hook::coop::RecordedChunk;
use reprise_recorder::trace::format::{BlockedThread, Footer, Header, TraceMode, Verdict};
use reprise_recorder::trace::write::TraceWriter;

use super::run_failure::FailureKind;
use super::Config;

/// The footer note a failing schedule's trace carries: the failure the
/// explorer saw. The explorer makes it, not the program, so a replay does
/// not make it again.
pub(crate) const FAILURE_NOTE: &str = "failure";

/// The header parameter holding the full path of the test that explored.
pub const TEST_PARAMETER: &str = "explore-test";

/// The full path of the test whose exploration wrote a trace with this
/// header, if a test did.
pub fn explored_test(header: &Header) -> Option<&str> {
    header.parameters.iter().find(|(k, _)| k == TEST_PARAMETER).map(|(_, v)| v.as_str())
}

/// A program's name, version and parameters, for a trace header.
pub(crate) type ProgramHeader = (String, String, Vec<(String, String)>);

thread_local! {
    /// The program name, version and parameters the CLI wants in explored
    /// traces' headers (so `reprise replay` knows which pipeline to run).
    static PROGRAM_HEADER: std::cell::RefCell<Option<ProgramHeader>> = const { std::cell::RefCell::new(None) };
}

/// Sets the program name, version and parameters written into the headers of
/// traces this thread's explorations save.
pub fn set_program_header(program: &str, version: &str, parameters: Vec<(String, String)>) {
    PROGRAM_HEADER.with(|h| *h.borrow_mut() = Some((program.to_string(), version.to_string(), parameters)));
}

/// The header [`set_program_header`] set on this thread.
pub(crate) fn program_header() -> Option<ProgramHeader> {
    PROGRAM_HEADER.with(|h| h.borrow().clone())
}

/// Sets on this thread the header [`program_header`] read on another: the
/// exploration runs on a thread of its own.
pub(crate) fn restore_program_header(header: Option<ProgramHeader>) {
    PROGRAM_HEADER.with(|h| *h.borrow_mut() = header);
}

/// The running program's name and version: the package cargo ran
/// (`cargo test` and `cargo run` set `CARGO_PKG_NAME` and
/// `CARGO_PKG_VERSION`), else the executable's name without the hash cargo
/// appends to test binaries.
pub(crate) fn program_identity() -> (String, String) {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let name = var("CARGO_PKG_NAME").unwrap_or_else(|| {
        let exe = std::env::current_exe().ok();
        let stem = exe.as_ref().and_then(|p| p.file_stem()).map(|s| s.to_string_lossy().into_owned());
        strip_hash(&stem.unwrap_or_default()).to_string()
    });
    (name, var("CARGO_PKG_VERSION").unwrap_or_default())
}

/// `main-0f3a9c1d2e4b5a69` -> `main`: cargo's suffix on test executables.
fn strip_hash(stem: &str) -> &str {
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => name,
        _ => stem,
    }
}

/// The most bytes of a trace file name taken from the test's path.
const MAX_PREFIX: usize = 180;

/// A path for a failure's trace no other failure has: `prefix` (the
/// config's name, else the test's path, else the program's name), the
/// schedule's number, the process id and a count within the process; a
/// file already there moves the count on.
pub(crate) fn unique_path(config: &Config, program: &str, schedule: u64) -> PathBuf {
    static FAILURES: AtomicU64 = AtomicU64::new(0);
    let dir = config.trace_dir.clone().unwrap_or_else(std::env::temp_dir);
    let prefix = if !config.name.is_empty() {
        config.name.clone()
    } else {
        config.test.clone().unwrap_or_else(|| program.to_string())
    };
    let prefix: String = prefix
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '-' })
        .collect();
    // A file name has at most 255 bytes: keep the end of a long test path
    // (the test's own name).
    let prefix = &prefix[prefix.len().saturating_sub(MAX_PREFIX)..];
    loop {
        let n = FAILURES.fetch_add(1, Ordering::Relaxed) + 1;
        let path = dir.join(format!("{prefix}-schedule{schedule}-{}-{n}.trace", std::process::id()));
        if !path.exists() {
            return path;
        }
    }
}

/// What a failure's trace says about its run.
pub(crate) struct TraceFacts<'a> {
    pub(crate) kind: &'a FailureKind,
    pub(crate) strategy: &'a str,
    pub(crate) schedule: u64,
    /// When the written run started, milliseconds since the Unix epoch.
    pub(crate) start_unix_ms: u64,
    pub(crate) annotations: Vec<(String, String)>,
}

/// Writes `chunks` as a trace at `path`.
pub(crate) fn write_trace(
    path: &Path,
    chunks: &[RecordedChunk],
    config: &Config,
    facts: TraceFacts<'_>,
) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let kind = facts.kind;
    let mut parameters = vec![
        ("explore-strategy".to_string(), facts.strategy.to_string()),
        ("explore-seed".to_string(), config.seed.to_string()),
        ("explore-schedule".to_string(), facts.schedule.to_string()),
        ("explore-failure".to_string(), kind.summary()),
    ];
    if let Some(test) = &config.test {
        parameters.push((TEST_PARAMETER.to_string(), test.clone()));
    }
    let (program, program_version) = program_identity();
    let mut header = Header {
        program,
        program_version,
        recorder_version: env!("CARGO_PKG_VERSION").to_string(),
        mode: TraceMode::Explore,
        parameters,
        start_unix_ms: facts.start_unix_ms,
    };
    if let Some((program, version, params)) = program_header() {
        header.program = program;
        header.program_version = version;
        header.parameters.extend(params);
    }
    let mut writer =
        TraceWriter::create(BufWriter::new(reprise_recorder::trace::file::create(path)?), &header)?;
    let mut events = 0u64;
    for chunk in chunks {
        writer.write_chunk(chunk.thread, chunk.seq, &chunk.payload)?;
        events += u64::from(chunk.events);
    }
    let mut notes = vec![(FAILURE_NOTE.to_string(), kind.summary())];
    notes.extend(facts.annotations);
    let footer = Footer { verdict: verdict(kind), annotations: notes, events };
    let mut out = writer.finish(&footer)?;
    std::io::Write::flush(&mut out)?;
    Ok(())
}

fn verdict(kind: &FailureKind) -> Verdict {
    match kind {
        FailureKind::Panic { thread, message } => {
            Verdict::Panicked { thread: *thread, message: message.clone() }
        }
        FailureKind::Deadlock { stuck, .. } => Verdict::Deadlock {
            blocked: stuck
                .iter()
                .map(|s| BlockedThread {
                    thread: s.thread,
                    op: s.call.and_then(|c| c.op).unwrap_or(reprise_recorder::trace::model::Op::Lock),
                    object: s.call.and_then(|c| c.object).unwrap_or(0),
                    file: s.call.map(|c| c.location.file().to_string()).unwrap_or_default(),
                    line: s.call.map_or(0, |c| c.location.line()),
                    column: s.call.map_or(0, |c| c.location.column()),
                    waits_for: s.waits_for,
                })
                .collect(),
        },
        FailureKind::Livelock { thread, call, steps } => Verdict::Livelock {
            thread: *thread,
            steps: *steps,
            file: call.map(|c| c.location.file().to_string()).unwrap_or_default(),
            line: call.map_or(0, |c| c.location.line()),
            column: call.map_or(0, |c| c.location.column()),
        },
        FailureKind::Check { .. } => Verdict::Completed,
    }
}

#[cfg(test)]
mod tests {
    use super::strip_hash;

    #[test]
    fn a_long_test_path_keeps_its_end_and_the_file_name_stays_short() {
        let config = crate::explore::Config::default().test(format!("{}the_test", "module::".repeat(60)));
        let path = super::unique_path(&config, "program", 3);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.len() < 255 && name.contains("--the_test-schedule3-"), "{name}");
    }

    #[test]
    fn cargo_s_hash_suffix_is_dropped_from_a_test_executable_s_name() {
        assert_eq!(strip_hash("main-0f3a9c1d2e4b5a69"), "main");
        assert_eq!(strip_hash("reprise"), "reprise");
        assert_eq!(strip_hash("clearing-pipeline"), "clearing-pipeline");
    }
}
