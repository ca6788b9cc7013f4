//! Replay on coroutines: the program's threads run as the explorer's fibers
//! on one OS thread, in an order the trace allows, instead of as OS threads
//! held at a gate. No thread ever parks in the OS and a switch costs a
//! coroutine switch, not a futex hand-off; but the program's threads are not
//! OS threads, so a debugger sees one thread. Parallel replay
//! ([`replay`](fn@crate::replay)) stays the default and the mode for debuggers.
//!
//! ```
//! use reprise_recorder::{record, sync::atomic::{AtomicU64, Ordering}, thread, RecordConfig};
//! use reprise_recorder::trace::read::read_trace_file;
//! use std::sync::Arc;
//!
//! fn program() -> u64 {
//!     let hits = Arc::new(AtomicU64::new(0));
//!     let h = Arc::clone(&hits);
//!     let worker = thread::spawn(move || h.fetch_add(1, Ordering::SeqCst));
//!     let seen = hits.load(Ordering::SeqCst);
//!     worker.join().unwrap();
//!     seen
//! }
//!
//! let path = std::env::temp_dir().join(format!("coreplay-doc-{}.trace", std::process::id()));
//! let recorded = record(&path, RecordConfig::new("doc", "1"), program).unwrap();
//! let trace = read_trace_file(&path).unwrap();
//! let replayed = reprise_replayer::replay_coroutines(&trace, program);
//! assert!(replayed.outcome.matched());
//! assert_eq!(replayed.result, recorded.result);
//! # std::fs::remove_file(&path).ok();
//! ```

mod ahead;
mod aside;
mod backlog;
mod check;
mod counters;
mod dense;
mod end;
mod follow;
mod state;
mod trace;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use reprise_recorder::hook::coop::CoopRun;
use reprise_recorder::trace::format::{Footer, Verdict};
use reprise_recorder::trace::model::sensitive::SealKey;
use reprise_recorder::trace::read::TraceFile;

use crate::log::{IndexedTrace, ReplayLog};
use crate::replay::{not_started, prepare, Prepared, ReplayReport};

/// How a trace is replayed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReplayMode {
    /// Each thread an OS thread, held at a gate until what its next event
    /// depends on has happened: the default, and the mode for debuggers.
    #[default]
    Parallel,
    /// Every thread a coroutine on the calling OS thread, run in an order
    /// the trace allows: see [`replay_coroutines`].
    Coroutines,
}

/// Re-executes `f` under `trace` with its threads as coroutines on this OS
/// thread, following the recorded order. Every call is checked against its
/// recorded event (operation, object, call site and outcome) as it is made;
/// the time, random numbers, captured values and what non-blocking calls
/// found come from the trace. The report is the one [`replay`](fn@crate::replay) gives:
/// a divergence, a stall (decided from the replay's state: no thread's next
/// event can happen), the recorded deadlock, or a match with the verdict the
/// run reached.
///
/// A damaged trace is cut to its largest consistent prefix first, as
/// parallel replay cuts it, and the replay ends as the trace did. (Followed
/// uncut, a lock turn after a lost one was taken one number early, and the
/// replay reported a divergence the program never made.)
///
/// Sensitive captures are opened with `REPRISE_KEY`'s key; see
/// [`replay_coroutines_keyed`].
pub fn replay_coroutines<F, R>(trace: &TraceFile, f: F) -> ReplayReport<R>
where
    F: FnOnce() -> R + 'static,
    R: 'static,
{
    replay_coroutines_with(trace, None, f)
}

/// [`replay_coroutines`] with the key opening the trace's sensitive captures
/// ([`reprise_recorder::capture_sensitive`]); a capture that cannot be opened
/// (wrong key, altered bytes) fails its thread with the reason.
pub fn replay_coroutines_keyed<F, R>(
    trace: &TraceFile,
    key: reprise_recorder::trace::model::sensitive::SealKey,
    f: F,
) -> ReplayReport<R>
where
    F: FnOnce() -> R + 'static,
    R: 'static,
{
    replay_coroutines_with(trace, Some(key), f)
}

/// [`replay_coroutines`] for a trace indexed from its file
/// ([`IndexedTrace::open`]): each thread's events are decoded a chunk at a
/// time as the replay reaches them, so the memory it takes does not grow
/// with the trace's length (the trace read whole replays the same way, its
/// records cut into windows). `key` opens sensitive captures as
/// [`replay_coroutines_keyed`]'s does; `None` reads `REPRISE_KEY`'s.
pub fn replay_coroutines_indexed<F, R>(
    trace: IndexedTrace,
    key: Option<reprise_recorder::trace::model::sensitive::SealKey>,
    f: F,
) -> ReplayReport<R>
where
    F: FnOnce() -> R + 'static,
    R: 'static,
{
    let whole = trace.is_whole();
    follow_log(trace.log, whole, trace.end.footer.as_ref(), key, f)
}

fn replay_coroutines_with<F, R>(
    trace: &TraceFile,
    key: Option<reprise_recorder::trace::model::sensitive::SealKey>,
    f: F,
) -> ReplayReport<R>
where
    F: FnOnce() -> R + 'static,
    R: 'static,
{
    follow_log(ReplayLog::from_trace(trace), trace.is_whole(), trace.footer.as_ref(), key, f)
}

fn follow_log<F, R>(
    mut log: ReplayLog,
    whole: bool,
    footer: Option<&Footer>,
    key: Option<reprise_recorder::trace::model::sensitive::SealKey>,
    f: F,
) -> ReplayReport<R>
where
    F: FnOnce() -> R + 'static,
    R: 'static,
{
    let Prepared { complete, verdict, cut } = prepare(&mut log, whole, footer);

    let run = Rc::new(CoopRun::new(0));
    run.keep_no_events();
    // No key given: REPRISE_KEY's, looked up here as a replay looks it up.
    // Left unset, the first sensitive capture would look it up as a
    // recording does, and warn in a recording's words. Silent: a bad value
    // was named by whoever read the options, and the stop says a key is
    // needed.
    let key = key.or_else(|| SealKey::from_env().ok().flatten());
    run.set_key(key);
    let mut report = follow_on(&run, log, complete, whole, verdict.as_ref(), f);
    report.cut += cut;
    run.discard_chunks();
    report
}

/// Replays `f` on `run`, following `log`.
fn follow_on<F, R>(
    run: &Rc<CoopRun>,
    log: ReplayLog,
    complete: bool,
    whole: bool,
    verdict: Option<&Verdict>,
    f: F,
) -> ReplayReport<R>
where
    F: FnOnce() -> R + 'static,
    R: 'static,
{
    let log = trace::FollowLog::new(log);
    if std::thread::panicking() {
        return not_started(crate::ReplayOutcome::OnUnwindingThread, log.event_count(), whole);
    }
    let ticking = Rc::clone(run);
    let tearing_down = Rc::new(Cell::new(false));
    let events = log.event_count();
    let follow = follow::Follow::new(
        log,
        complete,
        Box::new(move || ticking.discard_chunks()),
        Rc::clone(&tearing_down),
    );
    let _listed = crate::progress::list_coroutines(&follow.made, events);
    let result: Rc<RefCell<Option<std::thread::Result<R>>>> = Rc::new(RefCell::new(None));
    let slot = Rc::clone(&result);
    let torn_down = Rc::clone(&tearing_down);
    let root = run.root(move || {
        let value = f();
        // A root that returns while the replay's end unwinds it caught that
        // unwind (a `catch_unwind` around its work): it was stopped, and
        // what it returns then is not a result of the replay.
        if !torn_down.get() {
            *slot.borrow_mut() = Some(Ok(value));
        }
    });
    let panicked: Rc<RefCell<Option<String>>> = Rc::new(RefCell::new(None));
    let panic_slot = Rc::clone(&panicked);
    let stopped = Rc::clone(&tearing_down);
    follow.run(Box::new(move || {
        if let Err(payload) = root() {
            if stopped.get() {
                // The replay is over and unwinds the root's fiber (a
                // program still running past a cut trace's end): not a
                // panic of the program's. The unwind goes on to the fiber's
                // owner.
                std::panic::resume_unwind(payload);
            }
            *panic_slot.borrow_mut() = Some(reprise_recorder::hook::panic::message(payload.as_ref()));
        }
    }));
    let value = result.borrow_mut().take().and_then(Result::ok);
    let root_end = match (value, panicked.borrow_mut().take()) {
        (Some(value), _) => end::RootEnd::Returned(value),
        (None, Some(message)) => end::RootEnd::Panicked(Verdict::Panicked { thread: 0, message }),
        (None, None) => end::RootEnd::Stopped,
    };
    let state = follow.state.borrow();
    end::report(&state, verdict, complete, whole, root_end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reprise_recorder::trace::read::read_trace_file;
    use reprise_recorder::{record, sync::Mutex, thread, RecordConfig};
    use std::sync::Arc;

    fn program() -> u64 {
        let total = Arc::new(Mutex::new(0u64));
        let t = Arc::clone(&total);
        let worker = thread::spawn(move || (0..50).for_each(|_| *t.lock().unwrap() += 1));
        (0..50).for_each(|_| *total.lock().unwrap() += 1);
        worker.join().unwrap();
        let sum = *total.lock().unwrap();
        sum
    }

    /// Events the run's own recording kept, after a replay of `trace` on it.
    fn kept(trace: &TraceFile, run: &Rc<CoopRun>) -> u64 {
        let log = ReplayLog::from_trace(trace);
        let report = follow_on(run, log, true, true, None, program);
        assert!(report.outcome.matched(), "{:?}", report.outcome);
        assert_eq!(report.result, Some(100));
        run.take_chunks().iter().map(|c| u64::from(c.events)).sum()
    }

    /// Messages the producer of `interleaving` sends.
    const MESSAGES: usize = 2_000;

    /// A producer sending on an unbounded channel (it never waits) and the
    /// root receiving; each notes what it did in a log no primitive sees.
    fn interleaving() -> Vec<char> {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tx, rx) = reprise_recorder::channel::unbounded::<usize>();
        let producer_log = Arc::clone(&log);
        let producer = thread::spawn(move || {
            for i in 0..MESSAGES {
                tx.send(i).unwrap();
                producer_log.lock().unwrap().push('P');
            }
        });
        for _ in 0..MESSAGES {
            rx.recv().unwrap();
            log.lock().unwrap().push('C');
        }
        producer.join().unwrap();
        let done = log.lock().unwrap().clone();
        done
    }

    /// Records `program` into a temporary trace named after `name`, then
    /// replays that trace on coroutines; the replay must match it.
    pub(super) fn record_then_follow<R: Send + 'static>(
        name: &str,
        program: fn() -> R,
    ) -> (Option<R>, ReplayReport<R>) {
        let path = std::env::temp_dir().join(format!("coreplay-{name}-{}.trace", std::process::id()));
        let recorded = record(&path, RecordConfig::new(name, "1"), program).unwrap();
        let trace = read_trace_file(&path).unwrap();
        std::fs::remove_file(&path).ok();
        let report = replay_coroutines(&trace, program);
        assert!(report.outcome.matched(), "{:?}", report.outcome);
        (recorded.result, report)
    }

    #[test]
    fn a_thread_that_can_always_go_on_still_lets_the_others_run_every_slice() {
        let (_, report) = record_then_follow("slice", interleaving);
        let order = report.result.unwrap();
        let longest = order.split(|&c| c == 'C').map(<[char]>::len).max().unwrap_or(0);
        assert!(longest <= follow::SLICE as usize, "the producer ran {longest} sends in a row");
    }

    /// `n` threads taking turns on one lock, then each sending its
    /// total to the root.
    fn queue_on_one_lock(n: u64) -> u64 {
        let total = Arc::new(Mutex::new(0u64));
        let (tx, rx) = reprise_recorder::channel::unbounded::<u64>();
        let workers: Vec<_> = (0..n)
            .map(|i| {
                let (total, tx) = (Arc::clone(&total), tx.clone());
                thread::spawn(move || {
                    for _ in 0..3 {
                        *total.lock().unwrap() += i;
                    }
                    tx.send(*total.lock().unwrap()).unwrap();
                })
            })
            .collect();
        drop(tx);
        let seen: u64 = (0..n).map(|_| rx.recv().unwrap()).sum();
        workers.into_iter().for_each(|w| w.join().unwrap());
        seen
    }

    /// Looks at whether a thread can run per event, replaying `n` threads.
    fn looks_per_event(n: u64) -> f64 {
        let path = std::env::temp_dir().join(format!("coreplay-looks-{n}-{}.trace", std::process::id()));
        let recorded = record(&path, RecordConfig::new("looks", "1"), move || queue_on_one_lock(n)).unwrap();
        let trace = read_trace_file(&path).unwrap();
        std::fs::remove_file(&path).ok();
        state::LOOKS.with(|looks| looks.set(0));
        let report = replay_coroutines(&trace, move || queue_on_one_lock(n));
        assert!(report.outcome.matched(), "{n} threads: {:?}", report.outcome);
        assert_eq!(report.result, recorded.result);
        state::LOOKS.with(|looks| looks.get()) as f64 / trace.events as f64
    }

    #[test]
    fn a_pick_among_many_threads_looks_at_few_of_them() {
        let (few, many) = (looks_per_event(8), looks_per_event(300));
        // Every thread looked at per pick would make it grow with the threads.
        assert!(many < 2.0 * few.max(1.0), "{few:.2} looks per event with 8 threads, {many:.2} with 300");
    }

    #[test]
    fn a_turn_that_never_comes_among_many_threads_is_a_divergence_not_a_hang() {
        let path = std::env::temp_dir().join(format!("coreplay-forged-{}.trace", std::process::id()));
        record(&path, RecordConfig::new("forged", "1"), || queue_on_one_lock(100)).unwrap();
        let mut trace = read_trace_file(&path).unwrap();
        std::fs::remove_file(&path).ok();
        // Thread 50's second lock waits for an acquisition no thread makes.
        let lock = trace
            .records_mut(50)
            .unwrap()
            .iter_mut()
            .filter_map(|r| match r {
                reprise_recorder::trace::model::Record::Event(e)
                    if e.op == reprise_recorder::trace::model::Op::Lock =>
                {
                    Some(e)
                }
                _ => None,
            })
            .nth(1)
            .unwrap();
        lock.a = 1_000_000;
        let report = replay_coroutines(&trace, || queue_on_one_lock(100));
        // Past a gap in the lock's numbers: a divergence where a thread
        // waits for it (it was a stall before any turn was checked so).
        let crate::report::ReplayOutcome::Diverged(d) = &report.outcome else {
            panic!("{:?}", report.outcome)
        };
        assert!(d.detail.contains("never reached acquisition"), "{}", d.detail);
    }

    #[test]
    fn a_replay_keeps_none_of_its_own_events_yet_checks_them_all() {
        let path = std::env::temp_dir().join(format!("coreplay-kept-{}.trace", std::process::id()));
        record(&path, RecordConfig::new("kept", "1"), program).unwrap();
        let trace = read_trace_file(&path).unwrap();
        std::fs::remove_file(&path).ok();
        let keeping = Rc::new(CoopRun::new(0));
        assert!(kept(&trace, &keeping) >= trace.events, "a run that keeps its events encodes each");
        let unkept = Rc::new(CoopRun::new(0));
        unkept.keep_no_events();
        assert_eq!(kept(&trace, &unkept), 0);
    }
}
