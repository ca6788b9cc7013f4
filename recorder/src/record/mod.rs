//! Starting and finishing a recording.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::policy::OnDeadlock;
use crate::rt::context::{self, root_seed};
use crate::rt::exec::{ExecKind, Execution, RecordSink};
use crate::rt::flush::{self, FlushClock};
use crate::rt::writer::{self, Stopper, WriterEnd, WriterMsg, WriterStats};
use crate::rt::{monitor, panic, signal};
use crate::thread::run_thread;
use crate::trace::format::{Footer, Verdict};
use crate::trace::model::ThreadIndex;

mod config;

pub use config::{RecordConfig, DEFAULT_PENDING_CAP, PENDING_CAP_ENV};

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
    /// Writing failed mid-recording, or a thread reached the pending cap:
    /// the recording stopped and the program ran on without it (the notice
    /// was already printed on stderr).
    #[error("the recording into `{path}` stopped: {reason}")]
    Stopped {
        /// The trace's path.
        path: PathBuf,
        /// Why.
        reason: String,
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
    /// Why the recording stopped early (writing failed, or a thread reached
    /// [`RecordConfig::pending_cap`]: then the trace is valid up to there
    /// and its footer says why; the notice was printed on stderr), or
    /// `None` when the trace is complete.
    pub stopped: Option<String>,
}

/// An execution being recorded, with its writer, monitor and flusher threads.
#[derive(Debug)]
struct Session {
    exec: Arc<Execution>,
    path: PathBuf,
    /// Shared with the monitor, which waits for the writer before it ends
    /// the process on a deadlock.
    writer: WriterHandle,
    monitor: Option<JoinHandle<()>>,
    flusher: Option<JoinHandle<()>>,
    on_deadlock: OnDeadlock,
    drain: Drain,
}

/// How the end of a recording waits for its writer: at most
/// [`RecordConfig::drain_timeout`], then the writer drops what is left and
/// writes the end marker, for at most as long again.
#[derive(Clone, Debug)]
struct Drain {
    clock: Arc<FlushClock>,
    timeout: Duration,
    /// Tells the writer to drop what is left ([`Stopper::give_up`]).
    give_up: Arc<AtomicBool>,
    /// The writer is done ([`Stopper::done`]).
    written: Arc<AtomicBool>,
}

impl Drain {
    /// Waits for the writer as the program may (see [`Drain`]); whether it
    /// is done.
    fn wait(&self) -> bool {
        self.clock.wait_written(self.timeout);
        if !self.written.load(Ordering::Acquire) {
            self.give_up.store(true, Ordering::Release);
            self.clock.wait_written(self.timeout);
        }
        self.written.load(Ordering::Acquire)
    }
}

type WriterHandle = Arc<parking_lot::Mutex<Option<JoinHandle<WriterEnd>>>>;

impl Session {
    fn start(path: &Path, config: &RecordConfig) -> Result<Session, RecordError> {
        let io_err = |source| RecordError::Io { path: path.to_path_buf(), source };
        panic::install_hook();
        let file = crate::trace::file::create(path).map_err(io_err)?;
        let (to_writer, inbox) = crossbeam_channel::unbounded();
        let (recycle, recycled) = crossbeam_channel::bounded(64);
        let clock = FlushClock::with_pending_cap(true, config.effective_pending_cap());
        let shown = path.display().to_string();
        let give_up = Arc::new(AtomicBool::new(false));
        let written = Arc::new(AtomicBool::new(false));
        let stopper = Stopper {
            path: shown.clone(),
            clock: Arc::clone(&clock),
            give_up: Arc::clone(&give_up),
            done: Arc::clone(&written),
        };
        let writer: WriterHandle = Arc::new(parking_lot::Mutex::new(Some(
            writer::start(
                file,
                &config.header(),
                inbox,
                recycle,
                config.fail_writes_after,
                config.stall_writer,
                stopper,
            )
            .map_err(io_err)?,
        )));
        let monitor_writer = Arc::clone(&writer);
        let drain = Drain { clock: Arc::clone(&clock), timeout: config.drain_timeout, give_up, written };
        let monitor_drain = drain.clone();
        let sink = ExecKind::Record(RecordSink {
            to_writer,
            recycled,
            seed: config.seed,
            clock,
            handover: config.handover_timeout,
        });
        let exec = if config.closed_world { Execution::new_closed_world(sink) } else { Execution::new(sink) };
        if let Some(key) = &config.key {
            let _ = exec.sensitive_key.set(Some(key.clone()));
        }
        let watched = Arc::clone(&exec);
        let policy = config.on_deadlock;
        let monitor = std::thread::Builder::new()
            .name("reprise-monitor".into())
            .spawn(move || {
                monitor::run(Arc::clone(&watched), |verdict| {
                    finish(&watched, verdict.clone());
                    if let OnDeadlock::Exit { code } = policy {
                        // The footer must be on disk before the process ends,
                        // unless the disk does not take it (see `Drain`).
                        let writer = monitor_writer.lock().take();
                        if let Some(writer) = writer {
                            if monitor_drain.wait() {
                                let _ = writer.join();
                            }
                        }
                        crate::diagnostic::warn(&format!("{verdict}"));
                        crate::diagnostic::warn(&format!(
                            "the deadlock is recorded in `{shown}`; exiting with {code}"
                        ));
                        std::process::exit(code);
                    }
                })
            })
            .map_err(io_err)?;
        let flushed = Arc::clone(&exec);
        let interval = config.flush_interval;
        let flusher = std::thread::Builder::new()
            .name("reprise-flusher".into())
            .spawn(move || {
                if let Some(sink) = flushed.sink() {
                    flush::run(&flushed, &sink.clock, interval);
                }
            })
            .map_err(io_err)?;
        signal::watch(&exec);
        Ok(Session {
            exec,
            path: path.to_path_buf(),
            writer,
            monitor: Some(monitor),
            flusher: Some(flusher),
            on_deadlock: config.on_deadlock,
            drain,
        })
    }

    /// Why the recording stopped at the pending cap, if it did.
    fn capped(&self) -> Option<String> {
        self.exec.sink().and_then(|sink| sink.clock.capped().map(str::to_owned))
    }

    fn wait(&mut self) -> WriterEnd {
        for helper in [self.monitor.take(), self.flusher.take()].into_iter().flatten() {
            let _ = helper.join();
        }
        signal::unwatch(&self.exec);
        let Some(writer) = self.writer.lock().take() else {
            return WriterEnd { stats: WriterStats::default(), stopped: None };
        };
        // The program does not wait on the disk: a writer still behind
        // after the drain time drops what is left and writes the end
        // marker; one that cannot even do that (a write that never
        // returns) is left behind, and the trace ends as a killed one.
        if !self.drain.wait() {
            let reason = format!(
                "the trace writer was still writing `{}` after RecordConfig::drain_timeout ({:?}) twice: \
                 the program goes on without it, and the trace ends where the disk got to",
                self.path.display(),
                self.drain.timeout
            );
            crate::diagnostic::warn(&format!("recording stopped: {reason}"));
            return WriterEnd { stats: WriterStats::default(), stopped: Some(reason) };
        }
        // The writer catches its own panics; a join error is only possible
        // if printing its notice failed.
        writer.join().unwrap_or_else(|_| WriterEnd {
            stats: WriterStats::default(),
            stopped: Some("the trace writer thread died".into()),
        })
    }
}

/// Runs `f` as the root thread ("main") of `exec`, and waits for the
/// verdict: then for `f` too, unless the verdict is a deadlock and
/// `on_deadlock` says to return (the deadlocked threads are left blocked).
/// The verdict and `f`'s value (`None` when it panicked or was not waited
/// for). `Err` when the root thread cannot be spawned: nothing ran.
pub(crate) fn run_root<F, R>(
    exec: &Arc<Execution>,
    on_deadlock: OnDeadlock,
    f: F,
) -> io::Result<(Verdict, Option<R>)>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let root_exec = Arc::clone(exec);
    let (result_tx, result_rx) = crossbeam_channel::bounded(1);
    let root = std::thread::Builder::new().name("main".into()).spawn(move || {
        let outcome = run_thread(root_seed(&root_exec, "main"), f);
        let verdict = match &outcome {
            Ok(_) => Verdict::Completed,
            Err(payload) => Verdict::Panicked { thread: 0, message: panic::message(payload.as_ref()) },
        };
        finish(&root_exec, verdict);
        let _ = result_tx.send(outcome.ok());
    })?;
    let verdict = exec.wait_verdict();
    let result = if matches!(verdict, Verdict::Deadlock { .. }) && on_deadlock == OnDeadlock::Return {
        drop(root);
        None
    } else {
        // On a deadlock under `Wait` (or `Exit`, until the monitor ends the
        // process) the closure is waited for, as it would be without reprise.
        let _ = root.join();
        result_rx.recv().ok().flatten()
    };
    Ok((verdict, result))
}

/// Ends the recording with `verdict` unless it already has one.
pub(crate) fn finish(exec: &Execution, verdict: Verdict) {
    // A child forked without exec that returns through the recording's
    // root: the recording is its parent's, and the execution's locks are
    // as the fork found them, perhaps held by a thread the child does not
    // have (seen: the child waited for good on the verdict's lock, and a
    // test with it, at its `waitpid`).
    if crate::rt::fork::is_forked_child() {
        return;
    }
    if !exec.set_verdict(verdict.clone()) {
        return;
    }
    if let Some(sink) = exec.sink() {
        // Every thread's events before the end marker: blocked threads'
        // buffers are taken, running threads hand theirs over at their next
        // event, for a bounded time.
        let (open, waits) = flush::hand_over_all(exec, &sink.clock, sink.handover);
        let mut annotations = exec.annotations.lock().clone();
        annotations.extend(condvar_waits_annotation(&waits));
        if let Some(reason) = sink.clock.capped() {
            annotations.push((STOPPED_ANNOTATION.into(), reason.into()));
        }
        if sink.clock.ran_on() {
            annotations.push((
                RAN_ON_ANNOTATION.into(),
                "threads recorded events after the recording's end; each log ends where its thread saw it"
                    .into(),
            ));
        }
        if open > 0 {
            annotations.push((
                "reprise.unflushed".into(),
                format!("{open} thread(s) did not hand their last events over in time"),
            ));
        }
        let footer = Footer { verdict: bounded(verdict), annotations, events: 0 };
        let _ = sink.to_writer.send(WriterMsg::Finish { footer: Box::new(footer) });
    }
}

/// The footer annotation saying why a recording stopped before the program
/// ended (the pending cap): the trace is valid, but its threads' logs end
/// early.
pub const STOPPED_ANNOTATION: &str = "reprise.stopped";

/// The footer annotation saying that threads ran on after the recording's
/// end (never-joined threads still running when the body returned, others
/// beside a panic that ended it) and recorded events then: each thread's
/// log ends at its first event after the end, handed over in turn, so one
/// log may hold a load of a store another thread made after its own log
/// ended. Replay cuts such a trace to its largest consistent prefix.
pub const RAN_ON_ANNOTATION: &str = "reprise.ran_on";

/// The footer annotation naming the threads (comma-separated indexes) that
/// were in a condvar wait where their logs end: the wait gave its mutex up,
/// though its own event comes only when it ends, so the cut of a trace whose
/// threads' logs end mid-run (a signal, a flight dump taken mid-run) keeps
/// the next holder's turn, as it does for a deadlock's waiters.
pub const CONDVAR_WAITS_ANNOTATION: &str = "reprise.condvar_waits";

/// The [`CONDVAR_WAITS_ANNOTATION`] naming `waits`, if any.
pub(crate) fn condvar_waits_annotation(waits: &[ThreadIndex]) -> Option<(String, String)> {
    let names: Vec<String> = waits.iter().map(ThreadIndex::to_string).collect();
    (!names.is_empty()).then(|| (CONDVAR_WAITS_ANNOTATION.into(), names.join(",")))
}

/// The longest panic message a footer keeps (the footer is at most 64 KiB;
/// the whole message is in the panicking thread's events).
const FOOTER_MESSAGE_MAX: usize = 16 * 1024;

/// `verdict` with a panic message short enough for the footer.
fn bounded(verdict: Verdict) -> Verdict {
    match verdict {
        Verdict::Panicked { thread, message } if message.len() > FOOTER_MESSAGE_MAX => {
            let mut cut = FOOTER_MESSAGE_MAX;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            let dropped = message.len() - cut;
            let message =
                format!("{}... [reprise: {dropped} more bytes in the thread's panic event]", &message[..cut]);
            Verdict::Panicked { thread, message }
        }
        other => other,
    }
}

/// Records `f`, run as the root thread of a new execution, into `path`.
///
/// Threads `f` spawns with [`crate::thread`] join the recording; every primitive
/// call they make is an event. Returns once `f` returned or panicked. A
/// proven deadlock (never mere idleness: see [`RecordConfig::closed_world`])
/// is written as the verdict and the trace finished; then
/// [`RecordConfig::on_deadlock`] decides: keep waiting for `f` (the default),
/// exit the process, or return with the verdict and leave the deadlocked
/// threads blocked ([`OnDeadlock::Return`], for tests and tools).
///
/// # Errors
///
/// [`RecordError::Io`] when the trace cannot be created or written.
pub fn record<F, R>(path: impl AsRef<Path>, config: RecordConfig, f: F) -> Result<Recording<R>, RecordError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let mut session = Session::start(path.as_ref(), &config)?;
    let (verdict, result) = run_root(&session.exec, session.on_deadlock, f)
        .map_err(|source| RecordError::Io { path: session.path.clone(), source })?;
    let end = session.wait();
    let stopped = end.stopped.or_else(|| session.capped());
    Ok(Recording { result, verdict, stats: end.stats, stopped })
}

/// Records the current thread, as the root of a new execution, until the
/// guard is dropped. Made for the top of `main`. A proven deadlock is
/// written down, then [`RecordConfig::on_deadlock`] decides: the program
/// stays as it is (the default, and for [`OnDeadlock::Return`]) or the
/// process exits with the policy's code.
///
/// # Errors
///
/// [`RecordError::Io`] when the trace cannot be created.
pub fn start_recording(path: impl AsRef<Path>, config: RecordConfig) -> Result<RecordGuard, RecordError> {
    let session = Session::start(path.as_ref(), &config)?;
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
                    // As `run_thread` does for the threads it catches: the
                    // panic is an event, and the verdict carries its message.
                    let message = panic::take_message().unwrap_or_else(|| "the main thread panicked".into());
                    ctx.record_panic(&message, &panic::take_site());
                    Verdict::Panicked { thread: ctx.index, message }
                } else {
                    Verdict::Completed
                };
                crate::thread::record_exit(&mut ctx, panicking);
                verdict
            }
            None => Verdict::Completed,
        };
        finish(&session.exec, verdict);
        let end = session.wait();
        match end.stopped.or_else(|| session.capped()) {
            None => Ok(end.stats),
            Some(reason) => Err(RecordError::Stopped { path: session.path.clone(), reason }),
        }
    }
}

impl Drop for RecordGuard {
    fn drop(&mut self) {
        // A stopped recording has said so already, once.
        if let Err(e @ RecordError::Io { .. }) = self.finish_inner() {
            crate::diagnostic::warn(&format!("{e}: {}", e.source_text()));
        }
    }
}

impl RecordError {
    fn source_text(&self) -> String {
        match self {
            RecordError::Io { source, .. } => source.to_string(),
            RecordError::Stopped { reason, .. } => reason.clone(),
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
