//! Starting and finishing a recording.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::rt::context::{self, root_seed};
use crate::rt::exec::{ExecKind, Execution, RecordSink};
use crate::rt::writer::{self, WriterMsg, WriterStats};
use crate::rt::{monitor, panic};
use crate::thread::run_thread;
use crate::trace::format::{Footer, Header, TraceMode, Verdict};

/// What to put in a recording's header.
#[derive(Clone, Debug, Default)]
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
    /// Whether the header also stores the program's arguments in clear, under
    /// [`ARGS_PARAMETER`](crate::args::ARGS_PARAMETER). Default: false, because
    /// arguments can hold secrets (tokens, passwords, account numbers); a hash of
    /// them ([`args_hash`](crate::args::args_hash), under
    /// [`ARGS_HASH_PARAMETER`](crate::args::ARGS_HASH_PARAMETER)) is always
    /// stored, so a replay can say that its arguments differ. `reprise::main`
    /// sets it from `REPRISE_RECORD_ARGS=1`.
    pub record_arguments: bool,
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

    /// Sets the random seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets [`RecordConfig::record_arguments`].
    pub fn record_arguments(mut self, record: bool) -> Self {
        self.record_arguments = record;
        self
    }

    fn header(&self) -> Header {
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

/// Why a recording could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The trace file could not be created or written.
    #[error("cannot write the trace `{path}`")]
    Io {
        /// The trace's path.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: io::Error,
    },
}

/// A finished recording.
#[derive(Debug)]
#[non_exhaustive]
pub struct Recording<R> {
    /// What the recorded closure returned; `None` when it panicked or
    /// deadlocked.
    pub result: Option<R>,
    /// How the execution ended.
    pub verdict: Verdict,
    /// What was written.
    pub stats: WriterStats,
}

/// An execution being recorded, with its writer and monitor threads.
#[derive(Debug)]
struct Session {
    exec: Arc<Execution>,
    path: PathBuf,
    writer: Option<JoinHandle<io::Result<WriterStats>>>,
    monitor: Option<JoinHandle<()>>,
}

impl Session {
    fn start(path: &Path, config: &RecordConfig, exit_on_deadlock: bool) -> Result<Session, RecordError> {
        let io_err = |source| RecordError::Io { path: path.to_path_buf(), source };
        panic::install_hook();
        let file = File::create(path).map_err(io_err)?;
        let (to_writer, inbox) = crossbeam_channel::unbounded();
        let (recycle, recycled) = crossbeam_channel::bounded(64);
        let writer = writer::start(file, &config.header(), inbox, recycle).map_err(io_err)?;
        let exec = Execution::new(ExecKind::Record(RecordSink { to_writer, recycled, seed: config.seed }));
        let watched = Arc::clone(&exec);
        let shown = path.display().to_string();
        let monitor = std::thread::Builder::new()
            .name("reprise-monitor".into())
            .spawn(move || {
                monitor::run(Arc::clone(&watched), |verdict| {
                    collect_blocked_buffers(&watched);
                    finish(&watched, verdict.clone());
                    if exit_on_deadlock {
                        eprintln!("reprise: {verdict}");
                        eprintln!("reprise: the deadlock is recorded in `{shown}`; exiting");
                        std::process::exit(crate::DEADLOCK_EXIT_CODE);
                    }
                })
            })
            .map_err(io_err)?;
        Ok(Session { exec, path: path.to_path_buf(), writer: Some(writer), monitor: Some(monitor) })
    }

    fn wait(&mut self) -> Result<WriterStats, RecordError> {
        if let Some(monitor) = self.monitor.take() {
            let _ = monitor.join();
        }
        let writer = self.writer.take().expect("recording session waited twice");
        let written =
            writer.join().unwrap_or_else(|_| Err(io::Error::other("the trace writer thread panicked")));
        written.map_err(|source| RecordError::Io { path: self.path.clone(), source })
    }
}

/// Ends the recording with `verdict` unless it already has one.
pub(crate) fn finish(exec: &Execution, verdict: Verdict) {
    if !exec.set_verdict(verdict.clone()) {
        return;
    }
    if let Some(sink) = exec.sink() {
        let annotations = exec.annotations.lock().clone();
        let footer = Footer { verdict, annotations, events: 0 };
        let _ = sink.to_writer.send(WriterMsg::Finish { footer: Box::new(footer) });
    }
}

/// On a deadlock, the blocked threads' buffers are free: write them out.
fn collect_blocked_buffers(exec: &Execution) {
    for thread in exec.threads.lock().iter() {
        if let Some(buf) = &thread.buf {
            if let Some(mut guard) = buf.try_lock() {
                guard.close();
            }
        }
    }
}

/// Records `f`, run as the root thread of a new execution, into `path`.
///
/// Threads `f` spawns with [`crate::thread`] join the recording; every primitive
/// call they make is an event. Returns once `f` returned or panicked, or once
/// a deadlock was detected (the deadlocked threads are then left blocked).
///
/// # Errors
///
/// [`RecordError::Io`] when the trace cannot be created or written.
pub fn record<F, R>(path: impl AsRef<Path>, config: RecordConfig, f: F) -> Result<Recording<R>, RecordError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let mut session = Session::start(path.as_ref(), &config, false)?;
    let exec = Arc::clone(&session.exec);
    let (result_tx, result_rx) = crossbeam_channel::bounded(1);
    let root = std::thread::Builder::new()
        .name("main".into())
        .spawn(move || {
            let outcome = run_thread(root_seed(&exec, "main"), f);
            let verdict = match &outcome {
                Ok(_) => Verdict::Completed,
                Err(payload) => Verdict::Panicked { thread: 0, message: panic::message(payload.as_ref()) },
            };
            finish(&exec, verdict);
            let _ = result_tx.send(outcome.ok());
        })
        .map_err(|source| RecordError::Io { path: session.path.clone(), source })?;
    let verdict = session.exec.wait_verdict();
    let result = if matches!(verdict, Verdict::Deadlock { .. }) {
        drop(root);
        None
    } else {
        let _ = root.join();
        result_rx.recv().ok().flatten()
    };
    let stats = session.wait()?;
    Ok(Recording { result, verdict, stats })
}

/// Records the current thread, as the root of a new execution, until the
/// guard is dropped. Made for the top of `main` (see [`crate::init`]); a
/// deadlock ends the process with [`crate::DEADLOCK_EXIT_CODE`] once it is
/// written down.
///
/// # Errors
///
/// [`RecordError::Io`] when the trace cannot be created.
pub fn start_recording(path: impl AsRef<Path>, config: RecordConfig) -> Result<RecordGuard, RecordError> {
    let session = Session::start(path.as_ref(), &config, true)?;
    let mut ctx = context::ThreadCtx::new(root_seed(&session.exec, "main"));
    crate::thread::record_start(&mut ctx);
    context::install(Box::new(ctx));
    Ok(RecordGuard { session: Some(session) })
}

/// Finishes the recording of [`start_recording`] when dropped, also when the
/// thread unwinds from a panic.
#[must_use = "the recording stops when the guard is dropped"]
#[derive(Debug)]
pub struct RecordGuard {
    session: Option<Session>,
}

impl RecordGuard {
    /// Finishes the trace now and says what was written.
    ///
    /// # Errors
    ///
    /// [`RecordError::Io`] when the trace could not be written.
    pub fn finish(mut self) -> Result<WriterStats, RecordError> {
        self.finish_inner()
    }

    fn finish_inner(&mut self) -> Result<WriterStats, RecordError> {
        let Some(mut session) = self.session.take() else {
            return Ok(WriterStats::default());
        };
        let verdict = match context::take() {
            Some(mut ctx) => {
                let panicking = std::thread::panicking();
                let verdict = if panicking {
                    Verdict::Panicked { thread: ctx.index, message: "the main thread panicked".into() }
                } else {
                    Verdict::Completed
                };
                crate::thread::record_exit(&mut ctx, panicking);
                verdict
            }
            None => Verdict::Completed,
        };
        finish(&session.exec, verdict);
        session.wait()
    }
}

impl Drop for RecordGuard {
    fn drop(&mut self) {
        if let Err(e) = self.finish_inner() {
            eprintln!("reprise: {e}: {}", e.source_text());
        }
    }
}

impl RecordError {
    fn source_text(&self) -> String {
        match self {
            RecordError::Io { source, .. } => source.to_string(),
        }
    }
}

/// Adds a key-value note to the footer of the current recording (a digest, a
/// result line). Does nothing outside a recording.
pub fn annotate(key: impl Into<String>, value: impl Into<String>) {
    let (key, value) = (key.into(), value.into());
    context::try_with(|ctx| {
        if ctx.exec.sink().is_some() {
            let mut notes = ctx.exec.annotations.lock();
            notes.retain(|(k, _)| *k != key);
            notes.push((key, value));
        }
    });
}
