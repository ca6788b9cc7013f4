//! More programs written against std's and crossbeam's shapes, unlike the
//! payments pipeline and unlike tests/unlike_payments.rs: an actor system
//! (actors spawning actors three deep, rendezvous and one-slot mailboxes, a
//! select with send arms and a timeout, disconnect cascades), a
//! work-stealing pool (`try_lock` stealing, CAS and `fetch_update`
//! counters, `wait_timeout_while` idling), a read-mostly cache (`try_read`,
//! `try_write`, read-then-write on a miss, a `OnceLock` per key, scoped
//! workers), a worker that panics under a lock and catches it while the
//! others recover the poisoned lock, std `sync_channel(0)` polled with
//! `try_recv`, `recv_timeout` and `try_send`, and smaller ones (a select
//! sending and receiving on one channel, hang-ups on blocked senders,
//! parking, nested scopes, a panicking `OnceLock` initializer). Each run is
//! recorded, then replayed in parallel and on coroutines; both replays must
//! match every event and give the recorded transcript, whose content depends
//! on how the run interleaved. The actor system is also flight-recorded, and
//! its whole-run dump must replay the same way.
//!
//! At the end, state queries the program polls (`JoinHandle::is_finished`,
//! `Receiver::len`, `Mutex::is_poisoned`): found unrecorded here (a replay
//! diverged, or matched with another result), now recorded as captures;
//! and a lock taken while a thread unwinds, which a coroutine replay cannot
//! order: it stalled, and now stops saying why. A lock taken by a
//! thread-local's destructor, found here too, has its own file
//! (`tests/thread_locals.rs`).

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasherDefault;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use reprise::channel::{self, select, Receiver, Sender};
use reprise::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use reprise::sync::{mpsc, Condvar, Mutex, OnceLock, RwLock, TryLockError};
use reprise::thread;
use reprise::time::Duration;
use reprise::{
    flight, read_trace_file, record, replay, replay_coroutines, FlightConfig, RecordConfig, ReplayOutcome,
};

use crate::util::{replays_give_the_transcript, scratch};

/// Recordings per program: more in a release build.
fn runs() -> usize {
    if cfg!(debug_assertions) {
        20
    } else {
        80
    }
}

// ---------------------------------------------------------------------------
// An actor system.

#[test]
fn an_actor_system_replays_to_its_recorded_transcript() {
    replays_give_the_transcript("unlike-actors", runs(), || actors(12));
}

#[test]
fn a_flight_recording_of_the_actor_system_covering_the_run_replays() {
    let dir = scratch("unlike-actors-flight");
    for run in 0..runs() / 2 {
        let path = dir.join(format!("dump{run}.trace"));
        let config = FlightConfig::new(RecordConfig::new("unlike-actors-flight", "1")).dump_at_end(true);
        let flown = flight(&path, config, || actors(12)).unwrap();
        let expected = flown.result.expect("the run finished");
        assert!(flown.failures.is_empty(), "{:?}", flown.failures);
        assert_eq!(flown.dumps.len(), 1, "run {run}: the end-of-run dump only");
        assert!(flown.dumps[0].covers_run, "run {run}: the default budget holds the whole run");
        let trace = read_trace_file(&path).unwrap();
        assert!(trace.is_whole(), "run {run}: {:?}", trace.damage);
        let parallel = replay(&trace, || actors(12));
        assert!(parallel.outcome.matched(), "run {run}, parallel: {}", parallel.outcome);
        assert_eq!(parallel.result.as_ref(), Some(&expected), "run {run}, parallel");
        let coroutines = replay_coroutines(&trace, || actors(12));
        assert!(coroutines.outcome.matched(), "run {run}, coroutines: {}", coroutines.outcome);
        assert_eq!(coroutines.result.as_ref(), Some(&expected), "run {run}, coroutines");
    }
}

/// The root hands `jobs` to a supervisor over a rendezvous; the supervisor
/// spawns two managers, each of which spawns two workers. A job goes to
/// whichever manager takes it first, then to whichever of its workers does;
/// the results flow back through one-slot mailboxes. The root's hang-up
/// cascades down (supervisor, managers, workers), and the workers' down
/// again back up.
fn actors(jobs: u32) -> String {
    let (job_tx, job_rx) = channel::bounded::<u32>(0);
    let supervisor =
        thread::Builder::new().name("supervisor".into()).spawn(move || supervisor(job_rx)).unwrap();
    for job in 0..jobs {
        job_tx.send(job).unwrap();
    }
    drop(job_tx);
    supervisor.join().unwrap().join("\n")
}

fn spawn_manager(m: usize) -> (Sender<u32>, Receiver<String>, thread::JoinHandle<()>) {
    let (mail_tx, mail_rx) = channel::bounded::<u32>(0);
    let (reply_tx, reply_rx) = channel::bounded::<String>(1);
    let handle = thread::Builder::new()
        .name(format!("manager-{m}"))
        .spawn(move || manager(m, mail_rx, reply_tx))
        .unwrap();
    (mail_tx, reply_rx, handle)
}

fn supervisor(job_rx: Receiver<u32>) -> Vec<String> {
    let mut log = Vec::new();
    let (m0, r0, h0) = spawn_manager(0);
    let (m1, r1, h1) = spawn_manager(1);
    let mut timeouts = 0u32;
    while let Ok(job) = job_rx.recv() {
        let mut placed = false;
        while !placed {
            select! {
                send(m0, job) -> r => { r.unwrap(); log.push(format!("job {job} -> m0")); placed = true; }
                send(m1, job) -> r => { r.unwrap(); log.push(format!("job {job} -> m1")); placed = true; }
                recv(r0) -> r => assert!(!note(&mut log, 0, r), "a manager hung up early"),
                recv(r1) -> r => assert!(!note(&mut log, 1, r), "a manager hung up early"),
                default(Duration::from_micros(300)) => timeouts += 1,
            }
        }
    }
    log.push("root hung up".into());
    drop(m0);
    drop(m1);
    let (mut open0, mut open1) = (true, true);
    while open0 || open1 {
        let never = channel::never::<String>();
        let (a, b) = (if open0 { &r0 } else { &never }, if open1 { &r1 } else { &never });
        select! {
            recv(a) -> r => open0 = !note(&mut log, 0, r),
            recv(b) -> r => open1 = !note(&mut log, 1, r),
        }
    }
    h0.join().unwrap();
    h1.join().unwrap();
    log.push(format!("supervisor timed out {timeouts} times"));
    // The timeouts depend on the machine: they stay in the transcript (the
    // replay must repeat them), apart from the count on this line.
    log
}

/// Logs a reply; whether the manager hung up.
fn note(log: &mut Vec<String>, from: usize, reply: Result<String, channel::RecvError>) -> bool {
    match reply {
        Ok(text) => {
            log.push(format!("from m{from}: {text}"));
            false
        }
        Err(_) => {
            log.push(format!("m{from} hung up"));
            true
        }
    }
}

fn manager(m: usize, mailbox: Receiver<u32>, reply: Sender<String>) {
    let (work_tx, work_rx) = channel::bounded::<u32>(0);
    let (res_tx, res_rx) = channel::bounded::<(usize, u32, u64)>(1);
    let workers: Vec<_> = (0..2)
        .map(|w| {
            let (work_rx, res_tx) = (work_rx.clone(), res_tx.clone());
            thread::Builder::new()
                .name(format!("worker-{m}.{w}"))
                .spawn(move || {
                    for job in work_rx.iter() {
                        let value = (u64::from(job) * 2_654_435_761) % 1_000;
                        if job % 3 == w as u32 {
                            thread::yield_now();
                        }
                        res_tx.send((w, job, value)).unwrap();
                    }
                    w
                })
                .unwrap()
        })
        .collect();
    drop(work_rx);
    drop(res_tx);
    let mut done = 0;
    let forward = |(w, job, value): (usize, u32, u64)| {
        reply.send(format!("w{m}.{w} did {job} = {value}")).unwrap();
    };
    let mut pending: Option<u32> = None;
    let mut open = true;
    while open || pending.is_some() {
        match pending {
            Some(job) => select! {
                send(work_tx, job) -> r => { r.unwrap(); pending = None; }
                recv(res_rx) -> r => { forward(r.unwrap()); done += 1; }
            },
            None => select! {
                recv(mailbox) -> j => match j {
                    Ok(job) => pending = Some(job),
                    Err(_) => open = false,
                },
                recv(res_rx) -> r => { forward(r.unwrap()); done += 1; }
            },
        }
    }
    // Hang up on the workers; their results come until they hang up too.
    drop(work_tx);
    for r in res_rx.iter() {
        forward(r);
        done += 1;
    }
    let ended: Vec<_> = workers.into_iter().map(|h| h.join().unwrap()).collect();
    reply.send(format!("m{m} done {done}, workers {ended:?} ended")).unwrap();
}

// ---------------------------------------------------------------------------
// A work-stealing pool.

#[test]
fn a_work_stealing_pool_replays_to_its_recorded_transcript() {
    replays_give_the_transcript("unlike-stealing", runs(), || stealing_pool(3, 5));
}

#[derive(Clone, Copy, Debug)]
struct Task {
    id: u32,
    depth: u32,
}

struct Pool {
    deques: Vec<Mutex<VecDeque<Task>>>,
    outstanding: AtomicUsize,
    shutdown: AtomicBool,
    /// Bumped on every push and at shutdown, under its lock.
    pushes: Mutex<u64>,
    wake: Condvar,
    contended: AtomicU32,
    log: Mutex<Vec<String>>,
}

impl Pool {
    fn add_outstanding(&self, n: usize) {
        let mut current = self.outstanding.load(Ordering::Relaxed);
        loop {
            match self.outstanding.compare_exchange_weak(
                current,
                current + n,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(seen) => current = seen,
            }
        }
    }

    fn push(&self, worker: usize, task: Task) {
        self.add_outstanding(1);
        self.deques[worker].lock().unwrap().push_back(task);
        *self.pushes.lock().unwrap() += 1;
        self.wake.notify_one();
    }

    /// One task done; the last one shuts the pool down.
    fn finish(&self) {
        let before =
            self.outstanding.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1)).unwrap();
        if before == 1 {
            self.shutdown.store(true, Ordering::Release);
            *self.pushes.lock().unwrap() += 1;
            self.wake.notify_all();
        }
    }

    fn steal(&self, me: usize) -> Option<(Task, usize)> {
        let n = self.deques.len();
        for k in 1..n {
            let victim = (me + k) % n;
            match self.deques[victim].try_lock() {
                Ok(mut deque) => {
                    if let Some(task) = deque.pop_front() {
                        return Some((task, victim));
                    }
                }
                Err(TryLockError::WouldBlock) => {
                    self.contended.fetch_add(1, Ordering::Relaxed);
                }
                Err(TryLockError::Poisoned(_)) => panic!("a deque was poisoned"),
            }
        }
        None
    }
}

fn stealing_pool(workers: usize, seeds: u32) -> String {
    let pool = Arc::new(Pool {
        deques: (0..workers).map(|_| Mutex::new(VecDeque::new())).collect(),
        outstanding: AtomicUsize::new(0),
        shutdown: AtomicBool::new(false),
        pushes: Mutex::new(0),
        wake: Condvar::new(),
        contended: AtomicU32::new(0),
        log: Mutex::new(Vec::new()),
    });
    // Every seed lands on worker 0: the others start by stealing.
    for id in 1..=seeds {
        pool.push(0, Task { id, depth: 0 });
    }
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let pool = Arc::clone(&pool);
            thread::Builder::new()
                .name(format!("stealer-{w}"))
                .spawn(move || {
                    let (mut ran, mut stolen, mut naps) = (0u32, 0u32, 0u32);
                    loop {
                        let own = pool.deques[w].lock().unwrap().pop_back();
                        let task =
                            own.map(|t| (t, None)).or_else(|| pool.steal(w).map(|(t, v)| (t, Some(v))));
                        match task {
                            Some((task, from)) => {
                                ran += 1;
                                let from = match from {
                                    Some(v) => {
                                        stolen += 1;
                                        format!(" stolen from w{v}")
                                    }
                                    None => String::new(),
                                };
                                pool.log.lock().unwrap().push(format!("w{w} ran {}{from}", task.id));
                                if task.depth < 2 {
                                    for c in 1..=2 {
                                        pool.push(w, Task { id: task.id * 10 + c, depth: task.depth + 1 });
                                    }
                                }
                                pool.finish();
                            }
                            None => {
                                if pool.shutdown.load(Ordering::Acquire) {
                                    break;
                                }
                                let pushes = pool.pushes.lock().unwrap();
                                let seen = *pushes;
                                let (pushes, waited) = pool
                                    .wake
                                    .wait_timeout_while(pushes, Duration::from_micros(400), |p| {
                                        *p == seen && !pool.shutdown.load(Ordering::Acquire)
                                    })
                                    .unwrap();
                                drop(pushes);
                                naps += u32::from(waited.timed_out());
                            }
                        }
                    }
                    format!("w{w} ran {ran} stole {stolen} napped {naps}")
                })
                .unwrap()
        })
        .collect();
    let mut summary: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let mut log = std::mem::take(&mut *pool.log.lock().unwrap());
    let ran = log.len();
    assert_eq!(ran, seeds as usize * 7, "every task ran once");
    log.append(&mut summary);
    log.push(format!(
        "outstanding {} contended {}",
        pool.outstanding.load(Ordering::SeqCst),
        pool.contended.load(Ordering::SeqCst)
    ));
    log.join("\n")
}

// ---------------------------------------------------------------------------
// A read-mostly cache.

#[test]
fn a_read_mostly_cache_replays_to_its_recorded_transcript() {
    replays_give_the_transcript("unlike-cache", runs(), || cache(4, 24));
}

/// A fixed hasher: the map's layout must not differ between runs.
type Map = HashMap<u32, Arc<OnceLock<String>>, BuildHasherDefault<DefaultHasher>>;

fn cache(workers: u32, lookups: u32) -> String {
    let map: RwLock<Map> = RwLock::new(Map::default());
    let log = Mutex::new(Vec::<String>::new());
    let builds = AtomicU32::new(0);
    let mut summaries: Vec<String> = thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let (map, log, builds) = (&map, &log, &builds);
                s.spawn(move || {
                    let (mut hits, mut misses, mut contended, mut sum) = (0u32, 0u32, 0u32, 0usize);
                    for i in 0..lookups {
                        let key = (w * 7 + i * 3 + (reprise::random::u64() % 2) as u32) % 6;
                        let found = {
                            let read = match map.try_read() {
                                Ok(read) => read,
                                Err(TryLockError::WouldBlock) => {
                                    contended += 1;
                                    map.read().unwrap()
                                }
                                Err(TryLockError::Poisoned(_)) => panic!("poisoned"),
                            };
                            read.get(&key).cloned()
                        };
                        let cell = match found {
                            Some(cell) => {
                                hits += 1;
                                cell
                            }
                            None => {
                                // The read lock is gone: take the write lock,
                                // and find the key again.
                                misses += 1;
                                let mut write = match map.try_write() {
                                    Ok(write) => write,
                                    Err(TryLockError::WouldBlock) => {
                                        contended += 1;
                                        map.write().unwrap()
                                    }
                                    Err(TryLockError::Poisoned(_)) => panic!("poisoned"),
                                };
                                if write.contains_key(&key) {
                                    log.lock().unwrap().push(format!("w{w} lost the race for {key}"));
                                }
                                Arc::clone(write.entry(key).or_default())
                            }
                        };
                        let value = cell.get_or_init(|| {
                            let n = builds.fetch_add(1, Ordering::AcqRel);
                            log.lock().unwrap().push(format!("w{w} built {key} as #{n}"));
                            format!("{key}:{n}")
                        });
                        sum += value.len() * (i as usize + 1);
                        if i % 5 == 4 {
                            let victim = (key + 1) % 6;
                            if map.write().unwrap().remove(&victim).is_some() {
                                log.lock().unwrap().push(format!("w{w} evicted {victim}"));
                            }
                        }
                    }
                    format!("w{w} hits {hits} misses {misses} contended {contended} sum {sum}")
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut entries: Vec<String> =
        map.into_inner().unwrap().iter().map(|(k, cell)| format!("{k}={:?}", cell.get())).collect();
    entries.sort();
    let mut log = log.into_inner().unwrap();
    log.append(&mut summaries);
    log.push(format!("builds {} entries {}", builds.load(Ordering::SeqCst), entries.join(" ")));
    log.join("\n")
}

// ---------------------------------------------------------------------------
// A worker panics under a lock and catches it; the others recover.

#[test]
fn a_caught_panic_that_poisons_a_lock_replays_to_its_recorded_transcript() {
    replays_give_the_transcript("unlike-poison", runs(), || poisoner(3, 8));
}

fn poisoner(workers: usize, rounds: u32) -> String {
    let ledger = Arc::new(Mutex::new(Vec::<String>::new()));
    let panicked = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let (ledger, panicked) = (Arc::clone(&ledger), Arc::clone(&panicked));
            thread::spawn(move || {
                let mut notes = Vec::new();
                for i in 0..rounds {
                    let caught = catch_unwind(AssertUnwindSafe(|| {
                        let mut entries = match ledger.lock() {
                            Ok(entries) => entries,
                            Err(poisoned) => {
                                let entries = poisoned.into_inner();
                                notes.push(format!("w{w} recovered at {}", entries.len()));
                                // Every other recovery clears the poison,
                                // while holding the lock.
                                if entries.len() % 2 == 0 {
                                    ledger.clear_poison();
                                    notes.push(format!("w{w} cleared"));
                                }
                                entries
                            }
                        };
                        entries.push(format!("w{w}.{i}"));
                        if entries.len() >= 7 && !panicked.swap(true, Ordering::AcqRel) {
                            panic!("w{w} gave up at {}", entries.len());
                        }
                    }));
                    if let Err(payload) = caught {
                        let message = payload.downcast_ref::<String>().cloned().unwrap_or_default();
                        notes.push(format!("w{w} caught: {message}"));
                    }
                    thread::yield_now();
                }
                notes
            })
        })
        .collect();
    let mut transcript = Vec::new();
    for h in handles {
        transcript.extend(h.join().unwrap());
    }
    let poisoned = ledger.is_poisoned();
    let entries = match ledger.lock() {
        Ok(entries) => entries.join(","),
        Err(p) => p.into_inner().join(","),
    };
    transcript.push(format!("ledger {entries} poisoned {poisoned}"));
    transcript.join("\n")
}

// ---------------------------------------------------------------------------
// std's rendezvous channel, polled.

#[test]
fn a_polled_std_rendezvous_channel_replays_to_its_recorded_transcript() {
    replays_give_the_transcript("unlike-rendezvous", runs(), || rendezvous(3, 6));
}

fn rendezvous(producers: usize, each: u32) -> String {
    let (tx, rx) = mpsc::sync_channel::<(usize, u32)>(0);
    let (note_tx, note_rx) = mpsc::channel::<String>();
    let handles: Vec<_> = (0..producers)
        .map(|p| {
            let (tx, note_tx) = (tx.clone(), note_tx.clone());
            thread::spawn(move || {
                for i in 0..each {
                    if i % 3 == 0 {
                        match tx.try_send((p, i)) {
                            Ok(()) => note_tx.send(format!("p{p} handed {i} over at once")).unwrap(),
                            Err(mpsc::TrySendError::Full(m)) => {
                                tx.send(m).unwrap();
                                note_tx.send(format!("p{p} waited to hand {i} over")).unwrap();
                            }
                            Err(mpsc::TrySendError::Disconnected(_)) => panic!("the consumer left"),
                        }
                    } else {
                        tx.send((p, i)).unwrap();
                    }
                }
            })
        })
        .collect();
    drop(tx);
    drop(note_tx);
    let (mut got, mut empties, mut timeouts, mut polls) = (Vec::new(), 0u32, 0u32, 0u32);
    loop {
        polls += 1;
        if polls % 2 == 0 {
            match rx.try_recv() {
                Ok((p, i)) => got.push(format!("{p}.{i}")),
                Err(mpsc::TryRecvError::Empty) => {
                    empties += 1;
                    thread::yield_now();
                }
                Err(mpsc::TryRecvError::Disconnected) => break,
            }
        } else {
            match rx.recv_timeout(Duration::from_micros(150)) {
                Ok((p, i)) => got.push(format!("{p}.{i}!")),
                Err(mpsc::RecvTimeoutError::Timeout) => timeouts += 1,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
    }
    for h in handles {
        h.join().unwrap();
    }
    let notes: Vec<String> = note_rx.try_iter().collect();
    assert_eq!(got.len(), producers * each as usize);
    format!("got {}\nempties {empties} timeouts {timeouts}\n{}", got.join(" "), notes.join("\n"))
}

// ---------------------------------------------------------------------------
// Smaller programs: one channel both ways, hang-ups, parking, unwinding.

#[test]
fn a_select_sending_and_receiving_on_one_channel_replays() {
    replays_give_the_transcript("unlike-same-channel", runs(), same_channel_both_ways);
}

#[test]
fn senders_blocked_on_a_rendezvous_when_the_receiver_hangs_up_replay() {
    replays_give_the_transcript("unlike-hang-up", runs(), hang_up_on_blocked_senders);
}

#[test]
fn parking_and_nested_scopes_replay() {
    replays_give_the_transcript("unlike-parking", runs(), parking_and_nested_scopes);
}

#[test]
fn a_once_lock_whose_initializer_panics_replays_in_parallel() {
    every_replay_matches("unlike-once-panics", runs(), false, once_init_panics);
}

#[test]
fn a_lock_taken_while_unwinding_replays_in_parallel() {
    every_replay_matches("unlike-unwinding-lock", runs(), false, lock_in_drop_while_unwinding);
}

/// Two threads select over sending and receiving on the same one-slot
/// channel, one of them biased.
fn same_channel_both_ways() -> String {
    let (tx, rx) = channel::bounded::<u32>(1);
    let (tx2, rx2) = (tx.clone(), rx.clone());
    let other = thread::spawn(move || {
        let mut log = Vec::new();
        for i in 0..20u32 {
            channel::select_biased! {
                recv(rx2) -> v => log.push(format!("b got {:?}", v.ok())),
                send(tx2, 100 + i) -> _ => log.push(format!("b sent {}", 100 + i)),
            }
        }
        log
    });
    let mut log = Vec::new();
    for i in 0..20u32 {
        select! {
            send(tx, i) -> _ => log.push(format!("a sent {i}")),
            recv(rx) -> v => log.push(format!("a got {:?}", v.ok())),
        }
    }
    log.extend(other.join().unwrap());
    let left: Vec<u32> = rx.try_iter().collect();
    log.push(format!("left {left:?}"));
    log.join("\n")
}

/// Senders blocked on rendezvous (crossbeam and std) while the receiver
/// takes a few messages and hangs up; a last timed send.
fn hang_up_on_blocked_senders() -> String {
    let (tx, rx) = channel::bounded::<u32>(0);
    let (stx, srx) = mpsc::sync_channel::<u32>(0);
    let senders: Vec<_> = (0..3)
        .map(|p| {
            let (tx, stx) = (tx.clone(), stx.clone());
            thread::spawn(move || {
                let mut sent = 0;
                for i in 0..5 {
                    if tx.send(p * 10 + i).is_err() {
                        break;
                    }
                    sent += 1;
                    if stx.send(i).is_err() {
                        break;
                    }
                }
                let t = tx.send_timeout(99, Duration::from_micros(50));
                format!("p{p} sent {sent} then {:?}", t.map_err(|e| e.is_timeout()))
            })
        })
        .collect();
    drop(tx);
    drop(stx);
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(rx.recv().unwrap());
        if let Ok(v) = srx.recv() {
            got.push(1000 + v)
        }
    }
    drop(rx);
    drop(srx);
    let mut out: Vec<String> = senders.into_iter().map(|h| h.join().unwrap()).collect();
    out.push(format!("{got:?}"));
    out.join("\n")
}

/// Park tokens given early, late and twice, `park_timeout`, and a scoped
/// thread spawning a scoped thread that unparks.
fn parking_and_nested_scopes() -> String {
    let log = Arc::new(Mutex::new(Vec::new()));
    let flag = Arc::new(AtomicBool::new(false));
    let (l, f) = (log.clone(), flag.clone());
    let parker = thread::spawn(move || {
        let mut wakes = 0;
        while !f.load(Ordering::Acquire) {
            thread::park_timeout(Duration::from_micros(100));
            wakes += 1;
        }
        l.lock().unwrap().push("parker saw flag".to_string());
        wakes
    });
    let t = parker.thread().clone();
    let nested = thread::scope(|s| {
        let h = s.spawn(|| {
            let inner = s.spawn(|| {
                t.unpark();
                log.lock().unwrap().push("inner unparked".to_string());
                3
            });
            thread::sleep(Duration::from_micros(200));
            inner.join().unwrap() + 1
        });
        h.join().unwrap()
    });
    t.unpark();
    flag.store(true, Ordering::Release);
    t.unpark();
    let wakes = parker.join().unwrap();
    let mut l = std::mem::take(&mut *log.lock().unwrap());
    l.push(format!("nested {nested} wakes {wakes}"));
    l.join("\n")
}

// ---------------------------------------------------------------------------
// Reprise bugs, reduced. Each fails within its first few runs.

/// Records `program` up to `runs` times, replaying each trace in parallel
/// (`coroutines` false) or on coroutines; panics at the first replay that
/// does not match or gives another result.
fn every_replay_matches<R>(name: &str, runs: usize, coroutines: bool, program: fn() -> R)
where
    R: Send + PartialEq + std::fmt::Debug + 'static,
{
    let dir = scratch(name);
    for run in 0..runs {
        let path = dir.join(format!("run{run}.trace"));
        let recorded = record(&path, RecordConfig::new(name, "1"), program).unwrap();
        let expected = recorded.result.unwrap_or_else(|| panic!("{name} run {run}: {}", recorded.verdict));
        let trace = read_trace_file(&path).unwrap();
        let (how, outcome, result) = if coroutines {
            let r = replay_coroutines(&trace, program);
            ("coroutines", r.outcome, r.result)
        } else {
            let r = replay(&trace, program);
            ("parallel", r.outcome, r.result)
        };
        assert!(outcome.matched(), "{name} run {run}, {how}: {outcome}");
        assert_eq!(result.as_ref(), Some(&expected), "{name} run {run}, {how}: another result");
    }
}

/// A root that polls `JoinHandle::is_finished`, taking a lock per poll.
fn polls_is_finished() -> u32 {
    let worker = thread::spawn(|| ());
    let polls = Mutex::new(0u32);
    while !worker.is_finished() {
        *polls.lock().unwrap() += 1;
    }
    worker.join().unwrap();
    polls.into_inner().unwrap()
}

/// A receiver that reads `len` after each receive.
fn reads_len() -> Vec<usize> {
    let (tx, rx) = channel::unbounded::<u32>();
    let producer = thread::spawn(move || {
        for i in 0..100 {
            tx.send(i).unwrap();
        }
    });
    let mut lens = Vec::new();
    while rx.recv().is_ok() {
        lens.push(rx.len());
    }
    producer.join().unwrap();
    lens
}

/// A root that polls `Mutex::is_poisoned` while a worker poisons the lock.
fn polls_is_poisoned() -> u32 {
    let lock = Arc::new(Mutex::new(()));
    let poisoner = {
        let lock = Arc::clone(&lock);
        thread::spawn(move || {
            let _ = catch_unwind(AssertUnwindSafe(|| {
                let _held = lock.lock().unwrap();
                panic!("poisoning on purpose");
            }));
        })
    };
    let polls = Mutex::new(0u32);
    while !lock.is_poisoned() {
        *polls.lock().unwrap() += 1;
    }
    poisoner.join().unwrap();
    polls.into_inner().unwrap()
}

#[test]
fn polling_is_finished_replays_in_parallel() {
    every_replay_matches("bug-is-finished-parallel", 20, false, polls_is_finished);
}

#[test]
fn polling_is_finished_replays_on_coroutines() {
    every_replay_matches("bug-is-finished-coroutines", 20, true, polls_is_finished);
}

#[test]
fn reading_len_replays_in_parallel() {
    every_replay_matches("bug-len-parallel", 50, false, reads_len);
}

#[test]
fn reading_len_replays_on_coroutines() {
    every_replay_matches("bug-len-coroutines", 50, true, reads_len);
}

#[test]
fn polling_is_poisoned_replays_in_parallel() {
    every_replay_matches("bug-is-poisoned-parallel", 20, false, polls_is_poisoned);
}

#[test]
fn polling_is_poisoned_replays_on_coroutines() {
    every_replay_matches("bug-is-poisoned-coroutines", 20, true, polls_is_poisoned);
}

/// A lock taken while its thread unwinds, on coroutines: the thread waits
/// for its recorded turn mid-unwind, and every coroutine replay matches
/// with the recorded result, never a stall, a stop or another result.
/// Before a coroutine replay could suspend an unwinding thread it stopped
/// at such a lock whenever its turn was not next (and, before that, the
/// `OnceLock` program diverged on an acquisition number alone and the drop
/// guard's stalled). `waited` says, from a recorded result, that the
/// unwinding thread's turn came after another thread's: at least one
/// recording must have it, or the test shows nothing.
fn coroutine_replay_follows_an_unwinding_lock<R>(
    name: &str,
    program: fn() -> R,
    waited: Option<fn(&R) -> bool>,
) where
    R: Send + PartialEq + std::fmt::Debug + 'static,
{
    let dir = scratch(name);
    let mut out_of_turn = 0;
    for run in 0..20 {
        let path = dir.join(format!("run{run}.trace"));
        let recorded = record(&path, RecordConfig::new(name, "1"), program).unwrap();
        let expected = recorded.result.unwrap_or_else(|| panic!("{name} run {run}: {}", recorded.verdict));
        if waited.is_some_and(|waited| waited(&expected)) {
            out_of_turn += 1;
        }
        let trace = read_trace_file(&path).unwrap();
        let report = replay_coroutines(&trace, program);
        assert!(report.outcome.matched(), "{name} run {run}: {}", report.outcome);
        assert_eq!(report.result.as_ref(), Some(&expected), "{name} run {run}: another result");
        assert_eq!(report.replayed, trace.events, "{name} run {run}");
    }
    if waited.is_some() {
        assert!(out_of_turn > 0, "{name}: no recording took the lock out of turn; the test shows nothing");
    }
}

#[test]
fn a_once_lock_whose_initializer_panics_replays_on_coroutines() {
    // Which thread's turn came first is not in the result: no meta-check
    // (before the fix, some of the 20 coroutine replays stopped in nearly
    // every run of this test).
    coroutine_replay_follows_an_unwinding_lock("unwinding-once-coroutines", once_init_panics, None);
}

#[test]
fn a_lock_taken_while_unwinding_replays_on_coroutines() {
    // The other thread's entry first: the unwinding thread waited.
    let waited: fn(&Vec<&'static str>) -> bool = |log| log.first() == Some(&"other");
    coroutine_replay_follows_an_unwinding_lock(
        "unwinding-lock-coroutines",
        lock_in_drop_while_unwinding,
        Some(waited),
    );
}

/// Two threads race to initialize a `OnceLock`; thread 0's initializer
/// panics (caught), so the other waits for it, then initializes.
fn once_init_panics() -> Vec<bool> {
    let cell = Arc::new(OnceLock::<u32>::new());
    let racers: Vec<_> = (0..2u32)
        .map(|w| {
            let cell = Arc::clone(&cell);
            thread::spawn(move || {
                catch_unwind(AssertUnwindSafe(|| {
                    *cell.get_or_init(|| {
                        if w == 0 {
                            thread::sleep(Duration::from_micros(100));
                            panic!("initializer 0 fails");
                        }
                        w
                    })
                }))
                .is_ok()
            })
        })
        .collect();
    racers.into_iter().map(|h| h.join().unwrap()).collect()
}

/// Locks its mutex when dropped, also while its thread unwinds.
struct LogOnDrop<'a>(&'a Mutex<Vec<&'static str>>);

impl Drop for LogOnDrop<'_> {
    fn drop(&mut self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push("dropped while unwinding");
    }
}

fn lock_in_drop_while_unwinding() -> Vec<&'static str> {
    let log = Mutex::new(Vec::new());
    thread::scope(|s| {
        s.spawn(|| {
            let _ = catch_unwind(AssertUnwindSafe(|| {
                let _guard = LogOnDrop(&log);
                thread::sleep(Duration::from_micros(200));
                panic!("unwinding on purpose");
            }));
        });
        s.spawn(|| log.lock().unwrap().push("other"));
    });
    log.into_inner().unwrap()
}
/// A consumer that asserts the producer is never ahead of it, by `len()`.
fn asserts_an_empty_queue() {
    let (tx, rx) = channel::unbounded::<u32>();
    let producer = thread::spawn(move || {
        for i in 0..2 {
            tx.send(i).unwrap();
        }
    });
    let first = rx.recv().unwrap();
    assert_eq!(rx.len(), 0, "the producer got ahead after message {first}");
    producer.join().unwrap();
}

/// The explorer finds the schedule where `len()` is not 0, and its trace
/// replays to the same panic both ways: the replays get the explored run's
/// answer to `len()`, recorded as a capture.
#[test]
fn a_failure_that_depends_on_len_is_found_and_its_trace_replays_both_ways() {
    use reprise::explore::{Config, Explorer, FailureKind};
    let dir = scratch("unlike-explore-len");
    let config = Config::default().budget(200).seed(3).trace_dir(&dir).name("len");
    let outcome = Explorer::new(config).run(asserts_an_empty_queue);
    let failure = outcome.failure.expect("a schedule where the producer is ahead");
    assert!(
        matches!(&failure.kind, FailureKind::Panic { message, .. } if message.contains("the producer got ahead")),
        "{:?}",
        failure.kind
    );
    let trace = read_trace_file(failure.trace.as_ref().expect("trace written")).unwrap();
    // Parallel replays race the producer against the check: a replay
    // answering from its own queue diverges when the producer is behind
    // (one invocation in four did, before `len()` was recorded; the
    // `reading_len` tests above catch that every time).
    for round in 0..20 {
        let parallel = replay(&trace, asserts_an_empty_queue);
        assert_eq!(parallel.outcome, ReplayOutcome::Matched, "parallel {round}: {}", parallel.outcome);
        assert_eq!(parallel.result, None, "parallel {round}: the replay panics as the explored run did");
    }
    let coroutines = replay_coroutines(&trace, asserts_an_empty_queue);
    assert_eq!(coroutines.outcome, ReplayOutcome::Matched, "coroutines: {}", coroutines.outcome);
    assert_eq!(coroutines.result, None, "coroutines: the replay panics as the explored run did");
}
