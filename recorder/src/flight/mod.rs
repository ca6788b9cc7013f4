//! The flight recorder: a recording that keeps only the last events of each
//! thread, in fixed memory, and writes nothing until a dump.
//!
//! The threads record exactly as in [`record`](crate::record) (the same
//! per-thread buffers, the same events, the same hot path); the chunks they
//! hand over go to a keeper thread that keeps each thread's newest ones in
//! a ring ([`FlightConfig`] says how many) instead of to a file. A dump
//! writes the rings as a normal trace
//! ([`TraceMode::FlightRecorder`](crate::trace::format::TraceMode::FlightRecorder),
//! with its window in the header: see
//! [`Window`](crate::trace::window::Window)), which `reprise verify`,
//! `inspect` and `replay` open. A dump replays when its window covers the
//! whole run; otherwise replay refuses it, saying from which event it starts.
//!
//! A dump is written:
//!
//! - when a recorded thread panics (a panic hook, chained before the one
//!   that was there), once that thread has recorded its panic and exited;
//! - when the run ends with a panic or a proven deadlock (and at every end
//!   with [`FlightConfig::dump_at_end`]), or when `std::process::exit`
//!   ends it mid-run and nothing was dumped before;
//! - on `SIGUSR1` (Unix), where its disposition was the default: every
//!   flight recorder of the process dumps, and the process runs on;
//! - by [`flight_dump`] (from a thread of the recording) or
//!   [`flight_dump_all`] (from any thread).
//!
//! Each dump replaces the previous one at the same path (it is written
//! beside it and renamed). From the environment, `reprise::main` flies with
//! `REPRISE_FLIGHT=path[,events=N][,bytes=N][,exited=N]`.

use std::path::Path;
use std::sync::{Arc, Once};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::Sender;
use parking_lot::{Mutex, RwLock};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::policy::OnDeadlock;
use crate::record::{finish, run_root, RecordError};
use crate::rt::context::{self, Role};
use crate::rt::exec::{ExecKind, Execution, RecordSink};
use crate::rt::flush::FlushClock;
use crate::rt::{monitor, panic, signal};
use crate::trace::format::Verdict;
use crate::trace::model::ObjectIndex;

mod config;
mod dump;
mod exits;
mod gather;
mod keeper;
mod panics;
mod retired;
pub(crate) mod ring;

pub use config::{
    FlightConfig, FlightSpecError, DEFAULT_EXITED_THREADS, DEFAULT_FLIGHT_BYTES, DEFAULT_FLIGHT_EVENTS,
};
pub use dump::DumpInfo;
pub use keeper::{DUMP_NOTE, LATE_NOTE, RUNNING_NOTE};

use keeper::{Keeper, KeeperEnd, KeeperInputs, Request};

/// How long a dump request waits for the keeper: a backstop (a dump takes
/// the time of writing a few MiB), never reached while the keeper works.
const DUMP_BACKSTOP: Duration = Duration::from_secs(30);

/// Why a dump could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlightError {
    /// The calling thread belongs to no flight recording.
    #[error("no flight recorder runs on this thread")]
    NotFlying,
    /// The recording ended before the dump was written.
    #[error("the flight recording ended before the dump")]
    Ended,
    /// Writing the dump failed (the program runs on).
    #[error("{0}")]
    Write(String),
}

/// A finished flight recording.
#[derive(Debug)]
#[non_exhaustive]
pub struct FlightRun<R> {
    /// What the closure returned; `None` when it panicked or deadlocked.
    pub result: Option<R>,
    /// How the run ended.
    pub verdict: Verdict,
    /// The dumps written, in order (each replaced the one before it on disk).
    pub dumps: Vec<DumpInfo>,
    /// Dumps that could not be written, and why.
    pub failures: Vec<String>,
}

/// Flight recorders running in this process: their execution and keeper.
static ACTIVE: Mutex<Vec<(u32, Sender<Request>)>> = Mutex::new(Vec::new());
static HOOK: Once = Once::new();

/// Where each running flight recorder hears of its objects being dropped
/// (see [`object_dropped`]); `FLYING` counts them, so that a drop in a
/// process with none costs one load.
static DROPS: RwLock<Vec<(u32, Sender<ObjectIndex>)>> = RwLock::new(Vec::new());
static FLYING: AtomicUsize = AtomicUsize::new(0);

/// An object that execution `exec` named was dropped: its flight recorder,
/// if it has one, may forget its name once no chunk it keeps refers to it.
/// Without this, the names of every object ever made stayed in the keeper's
/// memory (about 5 bytes each: a service making a reply channel and a lock
/// per request grew by 16 bytes a request, for ever).
pub(crate) fn object_dropped(exec: u32, index: ObjectIndex) {
    if FLYING.load(Ordering::Relaxed) == 0 {
        return;
    }
    // On a thread of that recording, the drop goes with the thread's next
    // block; elsewhere (another thread, a context in use further up the
    // stack, a closed buffer) through the keeper's channel.
    if context::note_dropped(exec, index) {
        return;
    }
    if let Some((_, keeper)) = DROPS.read().iter().find(|(id, _)| *id == exec) {
        let _ = keeper.send(index);
    }
}

/// A flight recording in progress.
struct Session {
    exec: Arc<Execution>,
    keeper: Option<JoinHandle<KeeperEnd>>,
    monitor: Option<JoinHandle<()>>,
    on_deadlock: OnDeadlock,
}

impl Session {
    fn start(path: &Path, config: &FlightConfig) -> Result<Session, RecordError> {
        let io_err = |source| RecordError::Io { path: path.to_path_buf(), source };
        panic::install_hook();
        install_panic_dump();
        let record = &config.record;
        let (to_writer, inbox) = crossbeam_channel::unbounded();
        let (recycle, recycled) = crossbeam_channel::bounded(64);
        // Each thread's blocks waiting for the keeper are capped as a
        // recording's are for the writer; at the cap a thread drops a block
        // (its window starts after it) rather than stop or grow.
        let clock = FlushClock::flight(record.effective_pending_cap());
        let sink = ExecKind::Record(RecordSink {
            to_writer,
            recycled,
            seed: record.seed,
            clock: Arc::clone(&clock),
            handover: record.handover_timeout,
        });
        let exec = if record.closed_world { Execution::new_closed_world(sink) } else { Execution::new(sink) };
        if let Some(key) = &record.key {
            let _ = exec.sensitive_key.set(Some(key.clone()));
        }
        let (requests_tx, requests) = crossbeam_channel::unbounded();
        let (drops_tx, drops) = crossbeam_channel::unbounded();
        let keeper = Keeper::new(
            Arc::clone(&exec),
            Arc::clone(&clock),
            path,
            config,
            KeeperInputs { inbox, requests, drops, recycle },
        );
        let keeper = std::thread::Builder::new()
            .name("reprise-flight".into())
            .spawn(move || keeper.run())
            .map_err(io_err)?;
        ACTIVE.lock().push((exec.id, requests_tx));
        DROPS.write().push((exec.id, drops_tx));
        FLYING.fetch_add(1, Ordering::Relaxed);
        let watched = Arc::clone(&exec);
        let policy = record.on_deadlock;
        let shown = path.display().to_string();
        let monitor = std::thread::Builder::new().name("reprise-monitor".into()).spawn(move || {
            monitor::run(Arc::clone(&watched), |verdict| {
                finish(&watched, verdict.clone());
                if let OnDeadlock::Exit { code } = policy {
                    // The dump must be on disk before the process ends.
                    if let Some(sink) = watched.sink() {
                        sink.clock.wait_written(DUMP_BACKSTOP);
                    }
                    crate::diagnostic::warn(&format!("{verdict}"));
                    crate::diagnostic::warn(&format!(
                        "the deadlock is in the flight-recorder dump `{shown}`; exiting with {code}"
                    ));
                    std::process::exit(code);
                }
            })
        });
        let monitor = match monitor {
            Ok(monitor) => monitor,
            Err(e) => {
                unregister(exec.id);
                return Err(io_err(e));
            }
        };
        signal::watch(&exec);
        Ok(Session { exec, keeper: Some(keeper), monitor: Some(monitor), on_deadlock: record.on_deadlock })
    }

    fn wait(&mut self) -> KeeperEnd {
        if let Some(monitor) = self.monitor.take() {
            let _ = monitor.join();
        }
        signal::unwatch(&self.exec);
        unregister(self.exec.id);
        let keeper = self.keeper.take().map(JoinHandle::join);
        match keeper {
            Some(Ok(end)) => end,
            _ => KeeperEnd {
                dumps: Vec::new(),
                failures: vec!["the flight-recorder keeper thread died".into()],
                scan_visits: 0,
            },
        }
    }
}

fn unregister(exec: u32) {
    ACTIVE.lock().retain(|(id, _)| *id != exec);
    let mut drops = DROPS.write();
    let before = drops.len();
    drops.retain(|(id, _)| *id != exec);
    FLYING.fetch_sub(before - drops.len(), Ordering::Relaxed);
}

/// Runs `f` as the root thread of a new execution under a flight recorder
/// that dumps into `path` (see the [module](self) for when).
///
/// Returns once `f` returned or panicked; a proven deadlock is dumped, then
/// [`RecordConfig::on_deadlock`](crate::RecordConfig::on_deadlock) decides as
/// for [`record`](crate::record).
///
/// # Errors
///
/// [`RecordError::Io`] when the recorder's threads cannot be started. A dump
/// that cannot be written is reported in [`FlightRun::failures`] (and on
/// stderr) and the program runs on.
///
/// # Examples
///
/// ```
/// use reprise_recorder::{flight, flight_dump, FlightConfig, RecordConfig};
///
/// let path = std::env::temp_dir().join(format!("flight-doc-{}.trace", std::process::id()));
/// let run = flight(&path, FlightConfig::new(RecordConfig::new("doc", "1")), || {
///     let worker = reprise_recorder::thread::spawn(|| 40 + 2);
///     let answer = worker.join().unwrap();
///     flight_dump().unwrap();
///     answer
/// })
/// .unwrap();
/// assert_eq!(run.result, Some(42));
/// assert_eq!(run.dumps.len(), 1);
/// assert!(run.dumps[0].covers_run);
/// let trace = reprise_recorder::trace::read::read_trace_file(&path).unwrap();
/// assert!(trace.is_whole());
/// # std::fs::remove_file(&path).ok();
/// ```
pub fn flight<F, R>(path: impl AsRef<Path>, config: FlightConfig, f: F) -> Result<FlightRun<R>, RecordError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    fly(path.as_ref(), config, f).map(|(run, _)| run)
}

/// [`flight`], and the thread entries its keeper looked at to find exited
/// threads (see [`KeeperEnd::scan_visits`]).
fn fly<F, R>(path: &Path, config: FlightConfig, f: F) -> Result<(FlightRun<R>, u64), RecordError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let mut session = Session::start(path, &config)?;
    let (verdict, result) = match run_root(&session.exec, session.on_deadlock, f) {
        Ok(ended) => ended,
        Err(source) => {
            // Nothing ran: end the keeper and the monitor, dump nothing.
            finish(&session.exec, Verdict::Completed);
            session.wait();
            return Err(RecordError::Io { path: path.to_path_buf(), source });
        }
    };
    let end = session.wait();
    Ok((FlightRun { result, verdict, dumps: end.dumps, failures: end.failures }, end.scan_visits))
}

/// Dumps the flight recording the calling thread belongs to, now; returns
/// once the dump is on disk. The caller's own events up to this call are
/// in it, and those of threads blocked in a reprise call; a thread running
/// elsewhere is in it up to its last handed-over chunk.
///
/// # Errors
///
/// [`FlightError::NotFlying`] outside a flight recording; [`FlightError::Write`]
/// when the file could not be written.
pub fn flight_dump() -> Result<DumpInfo, FlightError> {
    let (exec, thread, let_go) = let_go_of_buffer().ok_or(FlightError::NotFlying)?;
    let keeper = ACTIVE.lock().iter().find(|(id, _)| *id == exec).map(|(_, k)| k.clone());
    let dumped = match keeper {
        Some(keeper) => request(&keeper, "flight_dump()", Some(thread)),
        None => Err(FlightError::NotFlying),
    };
    if let_go {
        take_buffer_back();
    }
    dumped
}

/// Flushes the calling recorded thread's buffer and lets go of it while the
/// thread waits for a dump, as a thread blocked in a reprise call does: a
/// dump gathering meanwhile (another thread's, a panic's) flushes it
/// instead of waiting the handover time for an event this thread makes
/// only once answered (a panic hook of the program's calling
/// `flight_dump_all` while another thread dumps or panics held the host
/// 1 s per dump). Returns the thread's execution and index, and whether it
/// let go (see [`take_buffer_back`]).
fn let_go_of_buffer() -> Option<(u32, crate::trace::model::ThreadIndex, bool)> {
    context::try_with(|ctx| {
        let mut let_go = false;
        if let Role::Record { buf } = &mut ctx.role {
            if let Some(guard) = buf.as_mut() {
                guard.flush();
                *buf = None;
                let_go = true;
            }
        }
        (ctx.exec.id, ctx.index, let_go)
    })
}

/// Takes the buffer [`let_go_of_buffer`] let go of back, as the end of a
/// blocking call does.
fn take_buffer_back() {
    context::try_with(|ctx| {
        if let Role::Record { buf } = &mut ctx.role {
            if let (None, Some(shared)) = (buf.as_ref(), &ctx.shared.buf) {
                *buf = Some(Mutex::lock_arc(shared));
            }
        }
    });
}

/// Dumps every flight recording of the process (what `SIGUSR1` does); from
/// any thread. Returns each one's result.
pub fn flight_dump_all() -> Vec<Result<DumpInfo, FlightError>> {
    dump_all("flight_dump_all()")
}

/// Dumps every flight recording, saying `reason`; from the signal watcher too.
pub(crate) fn dump_all(reason: &str) -> Vec<Result<DumpInfo, FlightError>> {
    let keepers: Vec<(u32, Sender<Request>)> = ACTIVE.lock().clone();
    // A recorded thread asking waits for its own recorder's dump: its events
    // go in first, and that recorder must not wait for it to hand over.
    let caller = let_go_of_buffer();
    let dumped = keepers
        .iter()
        .map(|(exec, keeper)| {
            let requester = caller.filter(|(e, _, _)| e == exec).map(|(_, thread, _)| thread);
            request(keeper, reason, requester)
        })
        .collect();
    if caller.is_some_and(|(_, _, let_go)| let_go) {
        take_buffer_back();
    }
    dumped
}

fn request(
    keeper: &Sender<Request>,
    reason: &str,
    requester: Option<crate::trace::model::ThreadIndex>,
) -> Result<DumpInfo, FlightError> {
    request_with(keeper, reason, requester, Verdict::Completed)
}

fn request_with(
    keeper: &Sender<Request>,
    reason: &str,
    requester: Option<crate::trace::model::ThreadIndex>,
    verdict: Verdict,
) -> Result<DumpInfo, FlightError> {
    let (reply, answer) = crossbeam_channel::bounded(1);
    keeper
        .send(Request::Now { reason: reason.into(), requester, verdict, reply })
        .map_err(|_| FlightError::Ended)?;
    match answer.recv_timeout(DUMP_BACKSTOP) {
        Ok(result) => result.map_err(FlightError::Write),
        Err(_) => Err(FlightError::Ended),
    }
}

/// Installs (once) the hook that asks a panicking thread's flight recorder
/// for a dump, before the hook that was there.
fn install_panic_dump() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // The hook before (printing a backtrace can take long) runs
            // first: the keeper's wait for this thread to exit starts after.
            previous(info);
            if will_abort(info) {
                return dump_before_abort(info);
            }
            if let Some((exec, thread)) = context::current_ids() {
                panics::remember(&panic::message(info.payload()));
                // Bounded: never wait long (or deadlock) inside a panic; the
                // lock is only ever held for a push, a copy or a removal.
                if let Some(active) = ACTIVE.try_lock_for(Duration::from_millis(100)) {
                    if let Some((_, keeper)) = active.iter().find(|(id, _)| *id == exec) {
                        let message = panic::message(info.payload());
                        // `try_with`: a panic inside reprise's own call has
                        // the context in use; its dump waits for the exit.
                        context::try_with(|ctx| ctx.watch_panic());
                        let _ = keeper.send(Request::Panic { thread, message });
                    }
                }
            }
        }));
    });
}

/// Whether the process aborts after this panic's hooks: built with
/// `panic = "abort"`, or a panic that cannot unwind (std's own, raised when
/// a `Drop` panics while its thread unwinds, or a panic reaches a function
/// that cannot unwind). The thread never exits then: a dump waiting for its
/// exit was never written.
fn will_abort(info: &std::panic::PanicHookInfo<'_>) -> bool {
    const CANNOT_UNWIND: [&str; 2] =
        ["panic in a destructor during cleanup", "panic in a function that cannot unwind"];
    cfg!(panic = "abort") || CANNOT_UNWIND.iter().any(|m| panic::message(info.payload()) == *m)
}

/// A recorded thread's panic the process will not survive: its events
/// before the panic are flushed and dumped now, from the hook, before the
/// abort (bounded by the dump's backstop).
fn dump_before_abort(info: &std::panic::PanicHookInfo<'_>) {
    let Some((exec, thread, _)) = let_go_of_buffer() else { return };
    let Some(active) = ACTIVE.try_lock_for(Duration::from_millis(100)) else { return };
    let keeper = active.iter().find(|(id, _)| *id == exec).map(|(_, k)| k.clone());
    drop(active);
    if let Some(keeper) = keeper {
        let message = panics::aborting_message(&panic::message(info.payload()));
        let verdict = Verdict::Panicked { thread, message };
        let _ = request_with(
            &keeper,
            &format!("panic in thread {thread} (the process aborts)"),
            Some(thread),
            verdict,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{channel, thread, RecordConfig};

    /// The keeper's scan work for a fan-in of `threads` short-lived threads
    /// (at most 8 alive at once), the run's own check that it completed.
    fn fan_in_scan_visits(threads: u64) -> u64 {
        let dir = std::env::temp_dir().join(format!("reprise-flight-scan-{}-{threads}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (run, visits) =
            fly(&dir.join("dump.trace"), FlightConfig::new(RecordConfig::new("scan", "1")), move || {
                let (tx, rx) = channel::unbounded::<u64>();
                let mut handles = std::collections::VecDeque::new();
                for i in 0..threads {
                    let tx = tx.clone();
                    handles.push_back(thread::spawn(move || tx.send(i).unwrap()));
                    if handles.len() >= 8 {
                        handles.pop_front().unwrap().join().unwrap();
                    }
                }
                drop(tx);
                for h in handles {
                    h.join().unwrap();
                }
                rx.iter().count() as u64
            })
            .unwrap();
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(run.result, Some(threads));
        visits
    }

    /// A fan-in of 2,000 threads took 1.5-2.1 s under the flight recorder
    /// (0.17 s recorded): for each chunk the keeper looked at every thread
    /// ever started, to find those that exited, so its work grew with the
    /// square of the threads, and the run's end waited for it. Eight times
    /// the threads must cost about eight times the work (a scan of every
    /// thread per chunk costs 64 times, a few million entries here). The
    /// counts depend on how the threads interleave (250 threads 277-424
    /// entries, 2,000 threads 2,614-4,452 in five runs): against the small
    /// run alone, 16 times failed once in a CI run; a linear scan stays
    /// well under 8 entries a thread.
    #[test]
    fn the_keepers_work_per_chunk_does_not_grow_with_the_threads_started() {
        let small = fan_in_scan_visits(250);
        let large = fan_in_scan_visits(2000);
        eprintln!("thread entries looked at: 250 threads {small}, 2,000 threads {large}");
        assert!(
            large < 8 * 2000 && large < 32 * small.max(250),
            "250 threads: {small} thread entries looked at, 2,000: {large}"
        );
    }

    /// Under the flight recorder every object dropped took the global
    /// `DROPS` lock (read) and a channel send: every thread dropping
    /// objects met every other at that lock. A recorded thread's drops now
    /// go with its next block: while another thread holds the lock for
    /// writing, the run drops its objects and ends. (Before, the first drop
    /// waited for the holder, which let go only at its backstop.)
    #[test]
    fn a_recorded_threads_object_drops_take_no_global_lock() {
        use std::sync::mpsc;
        use std::time::Duration;
        let dir = std::env::temp_dir().join(format!("reprise-flight-drops-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = FlightConfig::new(RecordConfig::new("drops", "1"));
        let (run, _) = fly(&dir.join("dump.trace"), config, || {
            let (held_tx, held_rx) = mpsc::channel();
            let (done_tx, done_rx) = mpsc::channel::<()>();
            let holder = std::thread::spawn(move || {
                let lock = DROPS.write();
                held_tx.send(()).unwrap();
                // A backstop only: the drops below end the wait.
                let waited_out = done_rx.recv_timeout(Duration::from_secs(60)).is_err();
                drop(lock);
                waited_out
            });
            held_rx.recv().unwrap();
            for i in 0..100u64 {
                let lock = crate::sync::Mutex::new(i);
                *lock.lock().unwrap() += 1;
            }
            done_tx.send(()).unwrap();
            holder.join().unwrap()
        })
        .unwrap();
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(run.result, Some(false), "the drops waited for the lock's holder");
    }

    /// A keeper that cannot keep up (stalled here until the run ends) let
    /// each thread's blocks pile up for it without bound. At the pending
    /// cap a thread now drops its block: the run goes on recorded, its
    /// window starts after the gap, and what the dropped blocks named stays.
    #[test]
    fn a_keeper_behind_costs_each_thread_its_window_not_unbounded_memory() {
        use crate::sync::atomic::{AtomicU64, Ordering};
        const STORES: u64 = 200_000;
        let dir = std::env::temp_dir().join(format!("reprise-flight-behind-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("dump.trace");
        let mut record = RecordConfig::new("behind", "1").pending_cap(256 * 1024);
        record.stall_writer = true;
        // Rings that would keep the whole run: only the cap makes a gap.
        let config = FlightConfig::new(record).events(u64::MAX).bytes(usize::MAX).dump_at_end(true);
        let run = fly(&path, config, || {
            let counter = AtomicU64::new(0);
            for i in 0..STORES {
                counter.store(i, Ordering::Relaxed);
            }
            counter.load(Ordering::Relaxed)
        })
        .unwrap()
        .0;
        assert_eq!(run.result, Some(STORES - 1), "the program ran to its end");
        let dump = run.dumps.last().expect("a dump at the end");
        let start = dump.window.first_event(0);
        assert!(start > 0, "the root's window starts at its first event: its blocks all waited");
        assert!(dump.events < STORES, "{} events kept", dump.events);
        let trace = crate::trace::read::read_trace_file(&path).unwrap();
        std::fs::remove_dir_all(&dir).ok();
        let footer = trace.footer.as_ref().expect("finished");
        assert!(!footer.annotations.iter().any(|(k, _)| k == crate::STOPPED_ANNOTATION), "{footer:?}");
        // Every event's object is named, though the block naming it was dropped.
        let named: std::collections::HashSet<_> = trace.threads[&0]
            .iter()
            .filter_map(|r| match r {
                crate::trace::model::Record::Object { index, .. } => Some(*index),
                _ => None,
            })
            .collect();
        for record in trace.threads[&0].iter() {
            if let crate::trace::model::Record::Event(e) = record {
                if e.op == crate::trace::model::Op::AtomicStore {
                    assert!(named.contains(&e.object), "object {} unnamed", e.object);
                }
            }
        }
    }
}
