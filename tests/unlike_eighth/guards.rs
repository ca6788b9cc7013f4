//! Job guards whose `Drop`s run while their threads unwind: a pool of
//! workers each catching its jobs' panics, the job's guard counting it
//! under a `Mutex`, logging it under an `RwLock`, notifying a condvar and
//! sending on a channel; the same with a single worker that panics beside
//! two that never do; a `select!` whose arm bodies panic; and a `Drop` that
//! sends on a rendezvous channel while its thread unwinds, beside a
//! consumer that holds a lock across its receive.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use reprise::channel::{self, select, Sender};
use reprise::sync::{Condvar, Mutex, RwLock};
use reprise::thread;

use super::{replays_to, STAGED};

/// What the pool counted.
#[derive(Default)]
pub(super) struct Stats {
    pub(super) done: u32,
    pub(super) failed: u32,
}

/// What every job's guard reaches.
#[derive(Clone)]
pub(super) struct Shared {
    pub(super) stats: Arc<Mutex<Stats>>,
    pub(super) log: Arc<RwLock<Vec<u32>>>,
    pub(super) settled: Arc<Condvar>,
    pub(super) results: Sender<(u32, bool)>,
}

impl Shared {
    pub(super) fn new(results: Sender<(u32, bool)>) -> Shared {
        Shared {
            stats: Arc::new(Mutex::new(Stats::default())),
            log: Arc::new(RwLock::new(Vec::new())),
            settled: Arc::new(Condvar::new()),
            results,
        }
    }
}

/// Settles job `.0` when dropped: failed if its thread unwinds.
pub(super) struct JobGuard(pub(super) u32, pub(super) Shared);

impl Drop for JobGuard {
    fn drop(&mut self) {
        let failed = thread::panicking();
        let s = &self.1;
        {
            let mut stats = s.stats.lock().unwrap_or_else(|e| e.into_inner());
            if failed {
                stats.failed += 1;
            } else {
                stats.done += 1;
            }
        }
        s.log.write().unwrap_or_else(|e| e.into_inner()).push(self.0);
        // Ignored: a planted failure may end the run, dropping the receiver.
        let _ = s.results.send((self.0, failed));
        s.settled.notify_all();
    }
}

/// Runs `job` under a guard; `fails` says whether it panics. Whether it
/// panicked.
pub(super) fn run_job(job: u32, shared: &Shared, fails: bool) -> bool {
    catch_unwind(AssertUnwindSafe(|| {
        let _guard = JobGuard(job, shared.clone());
        thread::yield_now();
        if fails {
            panic!("{STAGED}: job {job}");
        }
    }))
    .is_err()
}

/// Waits on the condvar until `jobs` are settled: (done, failed).
fn wait_settled(shared: &Shared, jobs: u32) -> (u32, u32) {
    let stats = shared.stats.lock().unwrap();
    let stats = shared.settled.wait_while(stats, |s| s.done + s.failed < jobs).unwrap();
    (stats.done, stats.failed)
}

/// What the pool says once its workers are joined: its counts, the failed
/// jobs by their guards' messages, the log's length and whether either lock
/// is poisoned (never, in std: every lock taken while unwinding was taken
/// so, and no one panicked holding one).
fn report(
    shared: Shared,
    results: channel::Receiver<(u32, bool)>,
    settled: (u32, u32),
    caught: u32,
) -> String {
    let (done, failed) = settled;
    drop(shared.results);
    let mut failures: Vec<u32> = results.iter().filter(|r| r.1).map(|r| r.0).collect();
    failures.sort();
    let logged = shared.log.read().unwrap().len();
    let poisoned = (shared.stats.is_poisoned(), shared.log.is_poisoned());
    format!("done {done} failed {failed} caught {caught} {failures:?} logged {logged} poisoned {poisoned:?}")
}

// ---------------------------------------------------------------------------
// A pool whose workers all may panic.

#[test]
fn a_pool_whose_guards_settle_panicking_jobs_replays_to_std_s_answer() {
    replays_to(
        "eighth-pool",
        "done 9 failed 3 caught 3 [1, 5, 9] logged 12 poisoned (false, false)",
        true,
        pool_with_guards,
    );
}

/// Three workers take jobs 0..12 from one channel; jobs 1, 5 and 9 panic,
/// each caught by its worker, and every job's guard settles it (locks
/// taken, a send and a notify, while the worker unwinds for a failed one).
/// The main thread waits on the condvar until all 12 are settled.
pub(super) fn pool_with_guards() -> String {
    let (work_tx, work_rx) = channel::unbounded::<u32>();
    let (results_tx, results_rx) = channel::unbounded();
    let shared = Shared::new(results_tx);
    for job in 0..12 {
        work_tx.send(job).unwrap();
    }
    drop(work_tx);
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let (work_rx, shared) = (work_rx.clone(), shared.clone());
            thread::spawn(move || {
                work_rx.iter().map(|job| u32::from(run_job(job, &shared, job % 4 == 1))).sum::<u32>()
            })
        })
        .collect();
    let settled = wait_settled(&shared, 12);
    let caught: u32 = workers.into_iter().map(|h| h.join().unwrap()).sum::<u32>();
    report(shared, results_rx, settled, caught)
}

// ---------------------------------------------------------------------------
// One worker panics; two never do.

#[test]
fn one_panicking_worker_beside_two_that_do_not_replays_to_std_s_answer() {
    replays_to(
        "eighth-one-panicker",
        "done 9 failed 3 caught 3 [0, 2, 4] logged 12 poisoned (false, false)",
        true,
        one_panicker_pool,
    );
}

/// Worker 0 gets jobs 0, 2 and 4 and each panics (caught); workers 1 and 2
/// get the other nine and never panic. Their guards take the same locks,
/// so worker 0 may unwind into a lock one of them holds and wait there;
/// none of them may then count its job failed or poison a lock.
pub(super) fn one_panicker_pool() -> String {
    let (results_tx, results_rx) = channel::unbounded();
    let shared = Shared::new(results_tx);
    let mut handles = Vec::new();
    for w in 0..3u32 {
        let shared = shared.clone();
        let jobs: Vec<u32> = match w {
            0 => vec![0, 2, 4],
            1 => vec![1, 3, 5, 6, 7],
            _ => vec![8, 9, 10, 11],
        };
        handles.push(thread::spawn(move || {
            jobs.into_iter().map(|job| u32::from(run_job(job, &shared, w == 0))).sum::<u32>()
        }));
    }
    let settled = wait_settled(&shared, 12);
    let caught: u32 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    report(shared, results_rx, settled, caught)
}

// ---------------------------------------------------------------------------
// A select! whose arm bodies panic.

/// Sends `(item, panicking)` and adds the item under a lock when dropped.
struct Tally(u32, Sender<(u32, bool)>, Arc<Mutex<u32>>);

impl Drop for Tally {
    fn drop(&mut self) {
        *self.2.lock().unwrap_or_else(|e| e.into_inner()) += self.0;
        self.1.send((self.0, thread::panicking())).unwrap();
    }
}

#[test]
fn a_select_whose_arm_bodies_panic_replays_to_std_s_answer() {
    replays_to(
        "eighth-select-arm",
        "taken [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15] panicked [0, 3, 12, 15] sum 90 caught 4",
        true,
        select_arm_panics,
    );
}

/// The same workers catching with reprise's `catch_unwind`: a coroutine
/// replay hears of each catch, so its answer to "does this thread unwind"
/// beside another suspended mid-unwind is settled, and every coroutine
/// replay matches (with std's, above, most stop unsure).
#[test]
fn a_select_whose_arm_bodies_panic_caught_by_reprise_replays_on_coroutines() {
    replays_to(
        "eighth-select-arm-seen",
        "taken [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15] panicked [0, 3, 12, 15] sum 90 caught 4",
        false,
        select_arm_panics_seen,
    );
}

/// Two workers `select!` over two channels (0..6 and 10..16, both closed
/// once filled); an arm body holds a `Tally` and panics on a multiple of
/// 3, caught around the whole `select!`. A closed channel's arm is swapped
/// for `never`. A panic not its own goes on (found.rs, the sixth finding).
pub(super) fn select_arm_panics() -> String {
    select_arm_panics_catching(false)
}

/// [`select_arm_panics`]; with `catch_all`, a worker goes on after any
/// panic, not only its own.
pub(super) fn select_arm_panics_catching(catch_all: bool) -> String {
    select_arm_panics_with(catch_all, false)
}

/// [`select_arm_panics`] catching with reprise's `catch_unwind`, which
/// tells a coroutine replay (and the explorer) where a caught unwind ends.
pub(super) fn select_arm_panics_seen() -> String {
    select_arm_panics_with(false, true)
}

/// With `seen`, the workers catch with reprise's `catch_unwind`, else std's.
fn select_arm_panics_with(catch_all: bool, seen: bool) -> String {
    let (a_tx, a_rx) = channel::unbounded::<u32>();
    let (b_tx, b_rx) = channel::bounded::<u32>(2);
    let (tally_tx, tally_rx) = channel::unbounded();
    let sum = Arc::new(Mutex::new(0u32));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (a_rx, b_rx, tally_tx, sum) =
                (a_rx.clone(), b_rx.clone(), tally_tx.clone(), Arc::clone(&sum));
            thread::spawn(move || {
                let never = channel::never::<u32>();
                let mut live = [true, true];
                let mut caught = 0u32;
                while live[0] || live[1] {
                    let body = |arm: usize, m: Result<u32, channel::RecvError>| match m {
                        Ok(item) => {
                            let _t = Tally(item, tally_tx.clone(), Arc::clone(&sum));
                            if item % 3 == 0 {
                                panic!("{STAGED}: item {item} from arm {arm}");
                            }
                            None
                        }
                        Err(_) => Some(arm),
                    };
                    let mut choose = || {
                        select! {
                            recv(if live[0] { &a_rx } else { &never }) -> m => body(0, m),
                            recv(if live[1] { &b_rx } else { &never }) -> m => body(1, m),
                        }
                    };
                    let r = if seen {
                        reprise::panic::catch_unwind(AssertUnwindSafe(&mut choose))
                    } else {
                        catch_unwind(AssertUnwindSafe(&mut choose))
                    };
                    match r {
                        Ok(Some(closed)) => live[closed] = false,
                        Ok(None) => {}
                        Err(p) if catch_all || super::says(p.as_ref(), STAGED) => caught += 1,
                        Err(p) => std::panic::resume_unwind(p),
                    }
                }
                caught
            })
        })
        .collect();
    drop(tally_tx);
    for i in 0..6 {
        a_tx.send(i).unwrap();
        b_tx.send(10 + i).unwrap();
    }
    drop((a_tx, b_tx));
    let caught: u32 = workers.into_iter().map(|h| h.join().unwrap()).sum();
    let mut tallies: Vec<(u32, bool)> = tally_rx.iter().collect();
    tallies.sort();
    let taken: Vec<u32> = tallies.iter().map(|t| t.0).collect();
    let panicked: Vec<u32> = tallies.iter().filter(|t| t.1).map(|t| t.0).collect();
    let sum = *sum.lock().unwrap();
    format!("taken {taken:?} panicked {panicked:?} sum {sum} caught {caught}")
}

// ---------------------------------------------------------------------------
// A Drop that sends on a rendezvous while its thread unwinds.

/// Sends `.0` on a rendezvous channel when dropped.
struct SendsOnDrop(u32, Sender<u32>);

impl Drop for SendsOnDrop {
    fn drop(&mut self) {
        self.1.send(self.0).unwrap();
    }
}

#[test]
fn a_drop_sending_on_a_rendezvous_while_unwinding_replays_to_std_s_answer() {
    // Its coroutine replay used to abort the process (found.rs, the second
    // finding); it may stop, leaving a thread mid-unwind.
    super::replays_to(
        "eighth-drop-sends",
        "[(0, false), (1, false), (2, false), (3, false)] caught 2 poisoned false",
        true,
        drop_sends_while_others_lock,
    );
}

/// A producer runs items 0..4, each with a `SendsOnDrop` on a `bounded(0)`
/// channel; even items panic (caught), so their sends wait for the
/// consumer while the producer unwinds. The consumer takes a lock before
/// each receive and lets it go after, noting whether it is panicking: it
/// never is, and the lock is never poisoned.
pub(super) fn drop_sends_while_others_lock() -> String {
    let (tx, rx) = channel::bounded::<u32>(0);
    let log = Arc::new(Mutex::new(Vec::new()));
    let producer = thread::spawn(move || {
        let mut caught = 0;
        for item in 0..4 {
            let r = catch_unwind(AssertUnwindSafe(|| {
                let _s = SendsOnDrop(item, tx.clone());
                if item % 2 == 0 {
                    panic!("{STAGED}: item {item}");
                }
            }));
            caught += u32::from(r.is_err());
        }
        caught
    });
    let consumer = {
        let log = Arc::clone(&log);
        thread::spawn(move || {
            for _ in 0..4 {
                let mut g = log.lock().unwrap();
                let item = rx.recv().unwrap();
                thread::yield_now();
                g.push((item, thread::panicking()));
            }
        })
    };
    let caught = producer.join().unwrap();
    consumer.join().unwrap();
    let poisoned = log.is_poisoned();
    let mut log = log.lock().unwrap().clone();
    log.sort();
    format!("{log:?} caught {caught} poisoned {poisoned}")
}
