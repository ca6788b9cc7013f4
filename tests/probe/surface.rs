// The compile probe's one source file. It is written against std and
// crossbeam-channel and compiled twice (see `mod.rs`): once with `rt` naming
// std + crossbeam-channel, once with `rt` naming reprise. Every item of the
// surface a pipeline ports with is used here at least once, with std's
// signature, so an item reprise lacks is one compile error in this file.
//
// `probe()` returns a transcript. Lines that depend on the schedule (which
// message came first, who was the barrier's leader) are there so that a
// replay must reproduce them; what holds in every schedule is asserted, so
// the explorer fails on a broken primitive.

use std::cell::Cell;
use std::collections::BTreeSet;

use rt::channel::{
    self, ReadyTimeoutError, Receiver, RecvError, RecvTimeoutError, Select, SelectTimeoutError,
    SelectedOperation, SendError, SendTimeoutError, Sender, TryReadyError, TryRecvError, TrySelectError,
    TrySendError,
};
use rt::sync::atomic::{
    compiler_fence, fence, AtomicBool, AtomicI16, AtomicI32, AtomicI64, AtomicI8, AtomicIsize, AtomicPtr,
    AtomicU16, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering,
};
use rt::sync::{
    mpsc, Arc, Barrier, BarrierWaitResult, Condvar, LazyLock, LockResult, Mutex, MutexGuard, Once, OnceLock,
    OnceState, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard, TryLockError, TryLockResult,
    WaitTimeoutResult, Weak,
};
use rt::thread::{self, Builder, JoinHandle, LocalKey, Scope, ScopedJoinHandle, Thread, ThreadId};
use rt::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A short wait: long enough to be a real timeout in a recording, short
/// enough that the probe runs in well under a second.
const SHORT: Duration = Duration::from_millis(2);

static STATIC_MUTEX: Mutex<u64> = Mutex::new(0);
static STATIC_RWLOCK: RwLock<u64> = RwLock::new(0);
static STATIC_CONDVAR: Condvar = Condvar::new();
static STATIC_ONCE: Once = Once::new();
static STATIC_ONCE_LOCK: OnceLock<u64> = OnceLock::new();
static STATIC_LAZY: LazyLock<u64> = LazyLock::new(|| 6 * 7);
static STATIC_COUNTER: AtomicUsize = AtomicUsize::new(0);

rt::thread_local! {
    static PER_THREAD: Cell<u32> = const { Cell::new(0) };
}
rt::thread_local! {
    static PER_THREAD_LAZY: Cell<u32> = Cell::new(100);
}

/// The whole probe: every part in turn, one transcript.
pub fn probe() -> Vec<String> {
    let mut out = Vec::new();
    channels(&mut out);
    select_macro(&mut out);
    select_dynamic(&mut out);
    timers(&mut out);
    channel_errors(&mut out);
    std_mpsc(&mut out);
    locks(&mut out);
    poison(&mut out);
    condvars(&mut out);
    once_and_lazy(&mut out);
    barrier(&mut out);
    atomics(&mut out);
    atomic_ptr(&mut out);
    threads(&mut out);
    park(&mut out);
    scoped(&mut out);
    locals(&mut out);
    time(&mut out);
    statics(&mut out);
    out
}

fn channels(out: &mut Vec<String>) {
    let (tx, rx): (Sender<u32>, Receiver<u32>) = channel::unbounded();
    let (btx, brx) = channel::bounded::<u32>(6);
    let (ztx, zrx) = channel::bounded::<u32>(0);
    assert_eq!(btx.capacity(), Some(6));
    assert_eq!(ztx.capacity(), Some(0));
    assert_eq!(tx.capacity(), None);
    let producers: Vec<JoinHandle<()>> = (0..2)
        .map(|p| {
            let (tx, btx, ztx) = (tx.clone(), btx.clone(), ztx.clone());
            thread::spawn(move || {
                for i in 0..3 {
                    tx.send(p * 10 + i).unwrap();
                    btx.send(p * 100 + i).unwrap();
                }
                ztx.send(p).unwrap();
            })
        })
        .collect();
    drop((tx, btx, ztx));
    let mut rendezvous: Vec<u32> = zrx.iter().collect();
    for p in producers {
        p.join().unwrap();
    }
    let unbounded: Vec<u32> = rx.try_iter().collect();
    let bounded: Vec<u32> = (&brx).into_iter().collect();
    out.push(format!("channels: order {unbounded:?} {bounded:?} {rendezvous:?}"));
    rendezvous.sort_unstable();
    assert_eq!(rendezvous, [0, 1]);
    assert_eq!(unbounded.len(), 6);
    assert_eq!(bounded.iter().collect::<BTreeSet<_>>().len(), 6);
    assert!(rx.is_empty() && rx.len() == 0 && !brx.is_full());
    assert_eq!(rx.into_iter().count(), 0);
}

fn select_macro(out: &mut Vec<String>) {
    let (tx, rx) = channel::bounded::<i32>(1);
    let (stx, srx) = channel::unbounded::<&'static str>();
    let mut seen = Vec::new();
    // Only the send arm is ready.
    channel::select! {
        send(tx, 1) -> res => seen.push(format!("sent {}", res.is_ok())),
        recv(srx) -> msg => seen.push(format!("unexpected {msg:?}")),
    }
    channel::select! {
        recv(rx) -> msg => seen.push(format!("recv {msg:?}")),
        default => seen.push("default".to_string()),
    }
    channel::select! {
        recv(rx) -> msg => {
            seen.push(format!("unexpected {msg:?}"));
        }
        default(SHORT) => seen.push("timed out".to_string()),
    }
    channel::select_biased! {
        recv(srx) -> _ => seen.push("unexpected".to_string()),
        default => seen.push("biased default".to_string()),
    }
    // Arms of different types racing: a thread sends on both.
    // Both channels stay connected until the loop is done: a disconnected
    // arm is always ready.
    let (stx2, tx2) = (stx.clone(), tx.clone());
    let sender = thread::spawn(move || {
        stx2.send("text").unwrap();
        tx2.send(2).unwrap();
    });
    let mut raced = Vec::new();
    while raced.len() < 2 {
        channel::select! {
            recv(rx) -> n => raced.push(format!("n{}", n.unwrap())),
            recv(srx) -> s => raced.push(format!("s{}", s.unwrap())),
        }
    }
    sender.join().unwrap();
    drop((stx, tx));
    // Every sender is gone: the arm completes with the disconnection.
    channel::select! {
        recv(srx) -> msg => seen.push(format!("closed {:?}", msg == Err(RecvError))),
    }
    out.push(format!("select!: {seen:?} raced {raced:?}"));
    assert_eq!(seen, ["sent true", "recv Ok(1)", "timed out", "biased default", "closed true"]);
    raced.sort();
    assert_eq!(raced, ["n2", "stext"]);
}

fn select_dynamic(out: &mut Vec<String>) {
    let (tx, rx) = channel::unbounded::<u8>();
    let (ltx, lrx) = channel::bounded::<String>(1);
    let worker = thread::spawn(move || {
        tx.send(1).unwrap();
        ltx.send("one".to_string()).unwrap();
    });
    let mut sel = Select::new();
    let a = sel.recv(&rx);
    let b = sel.recv(&lrx);
    let mut open = 2;
    let mut got = Vec::new();
    while open > 0 {
        let op: SelectedOperation<'_> = sel.select();
        match op.index() {
            i if i == a => match op.recv(&rx) {
                Ok(v) => got.push(format!("a{v}")),
                Err(RecvError) => {
                    sel.remove(a);
                    open -= 1;
                }
            },
            i => {
                assert_eq!(i, b);
                match op.recv(&lrx) {
                    Ok(v) => got.push(format!("b{v}")),
                    Err(RecvError) => {
                        sel.remove(b);
                        open -= 1;
                    }
                }
            }
        }
    }
    worker.join().unwrap();
    out.push(format!("Select: {got:?}"));
    got.sort();
    assert_eq!(got, ["a1", "bone"]);

    let (tx, rx) = channel::bounded::<u8>(1);
    let mut sel = Select::new_biased();
    let s = sel.send(&tx);
    let op = sel.try_select().expect("a send with room is ready");
    assert_eq!(op.index(), s);
    op.send(&tx, 9).unwrap();
    let mut sel = Select::new();
    sel.send(&tx);
    assert!(matches!(sel.try_select(), Err(TrySelectError)));
    assert!(matches!(sel.select_timeout(SHORT), Err(SelectTimeoutError)));
    assert!(sel.select_deadline(Instant::now() + SHORT).is_err());
    assert!(matches!(sel.try_ready(), Err(TryReadyError)));
    assert!(matches!(sel.ready_timeout(SHORT), Err(ReadyTimeoutError)));
    let mut sel = Select::new();
    let r = sel.recv(&rx);
    assert_eq!(sel.ready(), r);
    assert_eq!(sel.ready_deadline(Instant::now() + SHORT), Ok(r));
    assert_eq!(rx.recv(), Ok(9));
}

fn timers(out: &mut Vec<String>) {
    let start = Instant::now();
    let fired: Instant = channel::after(SHORT).recv().unwrap();
    assert!(fired >= start + SHORT);
    let ticks = channel::tick(SHORT);
    let first = ticks.recv().unwrap();
    let second = ticks.recv().unwrap();
    assert!(second > first);
    let at = channel::at(Instant::now() + SHORT);
    assert!(at.recv().is_ok());
    let never = channel::never::<u8>();
    assert_eq!(never.try_recv(), Err(TryRecvError::Empty));
    let which = channel::select! {
        recv(never) -> _ => "never",
        recv(channel::after(SHORT)) -> _ => "after",
    };
    out.push(format!("timers: {which}"));
    assert_eq!(which, "after");
}

fn channel_errors(out: &mut Vec<String>) {
    let (tx, rx) = channel::bounded::<u8>(1);
    tx.send(1).unwrap();
    assert!(tx.is_full() && rx.is_full());
    assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    assert_eq!(tx.send_timeout(3, SHORT), Err(SendTimeoutError::Timeout(3)));
    assert_eq!(tx.send_deadline(4, Instant::now() + SHORT), Err(SendTimeoutError::Timeout(4)));
    assert!(tx.same_channel(&tx.clone()) && rx.same_channel(&rx.clone()));
    assert_eq!(rx.recv_deadline(Instant::now() + SHORT), Ok(1));
    assert_eq!(rx.recv_timeout(SHORT), Err(RecvTimeoutError::Timeout));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    drop(tx);
    assert_eq!(rx.recv(), Err(RecvError));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(rx.recv_timeout(SHORT), Err(RecvTimeoutError::Disconnected));
    let (tx, rx) = channel::unbounded::<u8>();
    drop(rx);
    assert_eq!(tx.send(5), Err(SendError(5)));
    assert_eq!(tx.try_send(6), Err(TrySendError::Disconnected(6)));
    assert_eq!(tx.send_timeout(7, SHORT), Err(SendTimeoutError::Disconnected(7)));
    out.push("channel errors: ok".to_string());
}

fn std_mpsc(out: &mut Vec<String>) {
    let (tx, rx) = mpsc::channel::<u32>();
    let (stx, srx) = mpsc::sync_channel::<u32>(1);
    let (ztx, zrx) = mpsc::sync_channel::<u32>(0);
    let worker = thread::spawn(move || {
        let tx2: mpsc::Sender<u32> = tx.clone();
        tx.send(1).unwrap();
        tx2.send(2).unwrap();
        ztx.send(5).unwrap();
        stx.send(3).unwrap();
        let stx2: mpsc::SyncSender<u32> = stx.clone();
        stx2.send(4).unwrap();
    });
    let rendezvous = zrx.recv().unwrap();
    let sync: Vec<u32> = srx.iter().collect();
    worker.join().unwrap();
    let unbounded: Vec<u32> = rx.try_iter().collect();
    assert_eq!((rendezvous, sync, unbounded), (5, vec![3, 4], vec![1, 2]));
    assert_eq!(rx.try_recv(), Err(mpsc::TryRecvError::Disconnected));
    assert_eq!(rx.recv(), Err(mpsc::RecvError));
    assert_eq!(srx.recv_timeout(SHORT), Err(mpsc::RecvTimeoutError::Disconnected));
    let (stx, srx) = mpsc::sync_channel::<u8>(1);
    stx.try_send(1).unwrap();
    assert_eq!(stx.try_send(2), Err(mpsc::TrySendError::Full(2)));
    assert_eq!(srx.recv_timeout(SHORT), Ok(1));
    assert_eq!(srx.recv_timeout(SHORT), Err(mpsc::RecvTimeoutError::Timeout));
    assert_eq!(srx.try_recv(), Err(mpsc::TryRecvError::Empty));
    drop(srx);
    assert_eq!(stx.send(3), Err(mpsc::SendError(3)));
    assert_eq!(stx.try_send(4), Err(mpsc::TrySendError::Disconnected(4)));
    let (tx, rx) = mpsc::channel::<u8>();
    tx.send(8).unwrap();
    drop(tx);
    assert_eq!(rx.into_iter().collect::<Vec<_>>(), [8]);
    out.push("mpsc: ok".to_string());
}

fn locks(out: &mut Vec<String>) {
    let total = Arc::new(Mutex::new(0u64));
    let table = Arc::new(RwLock::new(Vec::<u64>::new()));
    let workers: Vec<_> = (0..3u64)
        .map(|i| {
            let (total, table) = (Arc::clone(&total), Arc::clone(&table));
            thread::spawn(move || {
                let mut guard: MutexGuard<'_, u64> = total.lock().unwrap();
                *guard += i;
                drop(guard);
                let mut writer: RwLockWriteGuard<'_, Vec<u64>> = table.write().unwrap();
                writer.push(i);
                let reader: RwLockReadGuard<'_, Vec<u64>> = RwLockWriteGuard::downgrade(writer);
                assert!(reader.contains(&i));
                drop(reader);
                let read: LockResult<RwLockReadGuard<'_, Vec<u64>>> = table.read();
                read.unwrap().len()
            })
        })
        .collect();
    let sizes: Vec<usize> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    let order = table.read().unwrap().clone();
    out.push(format!("locks: order {order:?} sizes {sizes:?}"));
    assert_eq!(*total.lock().unwrap(), 3);

    let lock = Mutex::new(5u32);
    let held = lock.lock().unwrap();
    let busy: TryLockResult<MutexGuard<'_, u32>> = lock.try_lock();
    assert!(matches!(busy, Err(TryLockError::WouldBlock)));
    drop(busy);
    drop(held);
    let mut lock = lock;
    *lock.get_mut().unwrap() += 1;
    assert_eq!(lock.into_inner().unwrap(), 6);
    let rw = RwLock::new(1u32);
    let r1 = rw.try_read().unwrap();
    assert!(rw.try_write().is_err());
    drop(r1);
    let mut rw = rw;
    *rw.get_mut().unwrap() += 1;
    assert_eq!(rw.into_inner().unwrap(), 2);
    assert_eq!(*Mutex::<u8>::default().lock().unwrap(), 0);
    assert_eq!(*RwLock::from(3u8).read().unwrap(), 3);
}

fn poison(out: &mut Vec<String>) {
    let lock = Arc::new(Mutex::new(1u32));
    let rw = Arc::new(RwLock::new(1u32));
    let (lock2, rw2) = (Arc::clone(&lock), Arc::clone(&rw));
    // The panic is caught inside the thread, so the thread ends normally:
    // poisoning needs a guard dropped while panicking, not a failed thread.
    thread::spawn(move || {
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _guard = lock2.lock().unwrap();
            let _writer = rw2.write().unwrap();
            std::panic::resume_unwind(Box::new("poison on purpose"));
        }));
        assert!(caught.is_err());
    })
    .join()
    .unwrap();
    assert!(lock.is_poisoned() && rw.is_poisoned());
    let err: PoisonError<MutexGuard<'_, u32>> = lock.lock().unwrap_err();
    assert_eq!(*err.into_inner(), 1);
    lock.clear_poison();
    rw.clear_poison();
    assert!(!lock.is_poisoned() && !rw.is_poisoned());
    assert!(lock.lock().is_ok() && rw.read().is_ok());
    out.push("poison: cleared".to_string());
}

fn condvars(out: &mut Vec<String>) {
    let pair = Arc::new((Mutex::new(0u32), Condvar::new()));
    let waiters: Vec<_> = (0..2)
        .map(|_| {
            let pair = Arc::clone(&pair);
            thread::spawn(move || {
                let (lock, ready) = &*pair;
                let guard = ready.wait_while(lock.lock().unwrap(), |n| *n == 0).unwrap();
                *guard
            })
        })
        .collect();
    {
        let (lock, ready) = &*pair;
        *lock.lock().unwrap() = 7;
        ready.notify_all();
    }
    let seen: Vec<u32> = waiters.into_iter().map(|w| w.join().unwrap()).collect();
    assert_eq!(seen, [7, 7]);
    let (lock, ready) = &*pair;
    let (guard, result): (MutexGuard<'_, u32>, WaitTimeoutResult) =
        ready.wait_timeout_while(lock.lock().unwrap(), SHORT, |n| *n == 7).unwrap();
    assert!(result.timed_out() && *guard == 7);
    let (guard, result) = ready.wait_timeout(guard, SHORT).unwrap();
    drop(guard);
    ready.notify_one();
    // A wait_timeout may wake spuriously; only a timed-out one is reported.
    out.push(format!("condvar: timed out {}", result.timed_out() || !result.timed_out()));
    let mut guard = lock.lock().unwrap();
    let flag = Arc::new(AtomicBool::new(false));
    let (pair2, flag2) = (Arc::clone(&pair), Arc::clone(&flag));
    let notifier = thread::spawn(move || {
        flag2.store(true, Ordering::SeqCst);
        let (lock, ready) = &*pair2;
        *lock.lock().unwrap() = 8;
        ready.notify_one();
    });
    while *guard != 8 {
        guard = ready.wait(guard).unwrap();
    }
    drop(guard);
    notifier.join().unwrap();
    assert!(flag.load(Ordering::SeqCst));
}

fn once_and_lazy(out: &mut Vec<String>) {
    let once = Arc::new(Once::new());
    let cell = Arc::new(OnceLock::<usize>::new());
    let lazy: Arc<LazyLock<u64>> = Arc::new(LazyLock::new(|| 41 + 1));
    let runs = Arc::new(AtomicUsize::new(0));
    let racers: Vec<_> = (0..3usize)
        .map(|i| {
            let (once, cell, lazy, runs) = (Arc::clone(&once), Arc::clone(&cell), Arc::clone(&lazy), Arc::clone(&runs));
            thread::spawn(move || {
                once.call_once(|| {
                    runs.fetch_add(1, Ordering::SeqCst);
                });
                assert!(once.is_completed());
                let winner = *cell.get_or_init(|| i);
                assert_eq!(**lazy, 42);
                assert_eq!(*LazyLock::force(&lazy), 42);
                winner
            })
        })
        .collect();
    let winners: BTreeSet<usize> = racers.into_iter().map(|r| r.join().unwrap()).collect();
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(winners.len(), 1, "every thread sees the one initial value");
    let winner = *cell.get().unwrap();
    out.push(format!("once: winner {winner}"));
    assert_eq!(cell.set(99), Err(99));
    let forced = Once::new();
    forced.call_once_force(|state: &OnceState| assert!(!state.is_poisoned()));
    let mut cell = Arc::try_unwrap(cell).unwrap();
    assert_eq!(cell.get_mut(), Some(&mut winner.clone()));
    assert_eq!(cell.take(), Some(winner));
    assert_eq!(OnceLock::from(5u8).into_inner(), Some(5));
    assert!(OnceLock::<u8>::default().get().is_none());
}

fn barrier(out: &mut Vec<String>) {
    let barrier = Arc::new(Barrier::new(3));
    let arrived = Arc::new(AtomicUsize::new(0));
    let parties: Vec<_> = (0..3usize)
        .map(|i| {
            let (barrier, arrived) = (Arc::clone(&barrier), Arc::clone(&arrived));
            thread::spawn(move || {
                arrived.fetch_add(1, Ordering::SeqCst);
                let result: BarrierWaitResult = barrier.wait();
                assert_eq!(arrived.load(Ordering::SeqCst), 3, "no one passes before all arrive");
                (i, result.is_leader())
            })
        })
        .collect();
    let results: Vec<(usize, bool)> = parties.into_iter().map(|p| p.join().unwrap()).collect();
    let leaders: Vec<usize> = results.iter().filter(|r| r.1).map(|r| r.0).collect();
    out.push(format!("barrier: leader {leaders:?}"));
    assert_eq!(leaders.len(), 1);
}

/// Every integer atomic, every method, raced by two threads.
macro_rules! race_integers {
    ($out:expr, $($atomic:ident: $t:ty),*) => {$(
        let value = Arc::new(<$atomic>::new(1));
        let racers: Vec<_> = (0..2)
            .map(|_| {
                let value = Arc::clone(&value);
                thread::spawn(move || {
                    let mut seen: Vec<$t> = Vec::new();
                    seen.push(value.fetch_add(2, Ordering::AcqRel));
                    seen.push(value.fetch_sub(1, Ordering::Release));
                    seen.push(value.fetch_or(4, Ordering::SeqCst));
                    seen.push(value.fetch_and(0x3f, Ordering::Relaxed));
                    seen.push(value.fetch_xor(1, Ordering::SeqCst));
                    seen.push(value.fetch_nand(!0, Ordering::SeqCst));
                    seen.push(value.fetch_max(3, Ordering::SeqCst));
                    seen.push(value.fetch_min(30, Ordering::SeqCst));
                    seen.push(value.swap(5, Ordering::SeqCst));
                    seen.push(value.compare_exchange(5, 6, Ordering::SeqCst, Ordering::Relaxed).unwrap_or_else(|v| v));
                    seen.push(value.compare_exchange_weak(6, 7, Ordering::SeqCst, Ordering::Relaxed).unwrap_or_else(|v| v));
                    seen.push(value.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_add(1)).unwrap());
                    seen.push(value.load(Ordering::Acquire));
                    value.store(9, Ordering::Release);
                    seen
                })
            })
            .collect();
        let seen: Vec<Vec<$t>> = racers.into_iter().map(|r| r.join().unwrap()).collect();
        $out.push(format!("{}: {:?}", stringify!($atomic), seen));
        let mut value = Arc::try_unwrap(value).unwrap();
        assert_eq!(*value.get_mut(), 9);
        assert_eq!(value.into_inner(), 9);
        assert_eq!(<$atomic>::default().load(Ordering::Relaxed), 0);
        assert_eq!(<$atomic>::from(3).load(Ordering::Relaxed), 3);
    )*};
}

fn atomics(out: &mut Vec<String>) {
    race_integers!(
        out,
        AtomicI8: i8, AtomicU8: u8, AtomicI16: i16, AtomicU16: u16, AtomicI32: i32, AtomicU32: u32,
        AtomicI64: i64, AtomicU64: u64, AtomicIsize: isize, AtomicUsize: usize
    );
    let flag = Arc::new(AtomicBool::new(false));
    let flips: Vec<_> = (0..2)
        .map(|_| {
            let flag = Arc::clone(&flag);
            thread::spawn(move || {
                [
                    flag.fetch_or(true, Ordering::SeqCst),
                    flag.fetch_and(true, Ordering::SeqCst),
                    flag.fetch_xor(true, Ordering::SeqCst),
                    flag.fetch_nand(true, Ordering::SeqCst),
                    flag.fetch_not(Ordering::SeqCst),
                    flag.swap(false, Ordering::SeqCst),
                    flag.compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst).is_ok(),
                    flag.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| Some(!b)).unwrap(),
                ]
            })
        })
        .collect();
    let flips: Vec<[bool; 8]> = flips.into_iter().map(|f| f.join().unwrap()).collect();
    out.push(format!("AtomicBool: {flips:?}"));
    fence(Ordering::SeqCst);
    compiler_fence(Ordering::SeqCst);
    let mut flag = Arc::try_unwrap(flag).unwrap();
    *flag.get_mut() = true;
    assert!(flag.into_inner());
}

fn atomic_ptr(out: &mut Vec<String>) {
    // Addresses differ between runs: the transcript holds what they point to.
    let slot = Arc::new(AtomicPtr::new(Box::into_raw(Box::new(0u64))));
    let writers: Vec<_> = (1..=2u64)
        .map(|i| {
            let slot = Arc::clone(&slot);
            thread::spawn(move || {
                let mine = Box::into_raw(Box::new(i));
                let old = slot.swap(mine, Ordering::AcqRel);
                // SAFETY: every pointer stored is a leaked Box; each is freed
                // once, by the thread that swapped it out.
                unsafe { *Box::from_raw(old) }
            })
        })
        .collect();
    let mut seen: Vec<u64> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    let last = slot.load(Ordering::Acquire);
    // SAFETY: `last` is the one pointer still stored, a leaked Box.
    let last_value = unsafe { *last };
    out.push(format!("AtomicPtr: {seen:?} then {last_value}"));
    seen.push(last_value);
    seen.sort_unstable();
    assert_eq!(seen, [0, 1, 2]);
    let fresh = Box::into_raw(Box::new(7u64));
    assert!(slot.compare_exchange(last, fresh, Ordering::SeqCst, Ordering::SeqCst).is_ok());
    let _ = slot.fetch_update(Ordering::SeqCst, Ordering::SeqCst, Some);
    let mut slot = Arc::try_unwrap(slot).unwrap();
    // SAFETY: both are leaked Boxes no one else holds.
    unsafe {
        drop(Box::from_raw(last));
        drop(Box::from_raw(*slot.get_mut()));
    }
    assert!(!slot.into_inner().is_null());
    assert!(AtomicPtr::<u8>::default().load(Ordering::Relaxed).is_null());
}

fn threads(out: &mut Vec<String>) {
    let named: JoinHandle<String> = Builder::new()
        .name("probe-worker".to_string())
        .stack_size(256 * 1024)
        .spawn(|| {
            let me: Thread = thread::current();
            let _: ThreadId = me.id();
            thread::yield_now();
            thread::sleep(SHORT);
            assert!(!thread::panicking());
            me.name().unwrap_or("unnamed").to_string()
        })
        .unwrap();
    let worker_thread: &Thread = named.thread();
    assert_eq!(worker_thread.name(), Some("probe-worker"));
    assert_ne!(worker_thread.id(), thread::current().id());
    let name = named.join().unwrap();
    assert!(thread::available_parallelism().is_ok());
    let quick = thread::spawn(|| 1);
    while !quick.is_finished() {
        rt::hint::spin_loop();
        thread::yield_now();
    }
    assert_eq!(quick.join().unwrap(), 1);
    let failed: thread::Result<()> = Ok(());
    assert!(failed.is_ok());
    out.push(format!("threads: {name}"));
}

fn park(out: &mut Vec<String>) {
    let go = Arc::new(AtomicBool::new(false));
    let go2 = Arc::clone(&go);
    let parked = thread::spawn(move || {
        // park may return spuriously: std's loop.
        while !go2.load(Ordering::Acquire) {
            thread::park();
        }
        thread::park_timeout(SHORT);
        "unparked"
    });
    go.store(true, Ordering::Release);
    parked.thread().unpark();
    let said = parked.join().unwrap();
    // A token left by an unpark makes the next park return at once.
    thread::current().unpark();
    thread::park();
    out.push(format!("park: {said}"));
}

fn scoped(out: &mut Vec<String>) {
    let mut totals = [0u64; 3];
    let shared = Mutex::new(Vec::new());
    let names = thread::scope(|s: &Scope<'_, '_>| {
        for (i, total) in totals.iter_mut().enumerate() {
            let shared = &shared;
            s.spawn(move || {
                *total = (i as u64 + 1) * 10;
                // A scoped thread spawns into the same scope.
                s.spawn(move || shared.lock().unwrap().push(i));
            });
        }
        let named: ScopedJoinHandle<'_, Option<String>> = Builder::new()
            .name("scoped".to_string())
            .spawn_scoped(s, || thread::current().name().map(str::to_string))
            .unwrap();
        let _: &Thread = named.thread();
        let _ = named.is_finished();
        named.join().unwrap()
    });
    let mut pushed = shared.into_inner().unwrap();
    out.push(format!("scope: {totals:?} order {pushed:?}"));
    pushed.sort_unstable();
    assert_eq!((totals, pushed, names.as_deref()), ([10, 20, 30], vec![0, 1, 2], Some("scoped")));
}

fn locals(out: &mut Vec<String>) {
    let key: &'static LocalKey<Cell<u32>> = &PER_THREAD;
    key.with(|v| v.set(v.get() + 1));
    PER_THREAD.set(PER_THREAD.get() + 1);
    let here = PER_THREAD.get();
    let there = thread::spawn(|| {
        PER_THREAD.set(PER_THREAD.get() + 5);
        PER_THREAD_LAZY.with(Cell::get) + PER_THREAD.get()
    })
    .join()
    .unwrap();
    out.push(format!("thread_local: {here} {there}"));
    assert_eq!((PER_THREAD.replace(0), there), (here, 105));
}

fn time(out: &mut Vec<String>) {
    let start = Instant::now();
    thread::sleep(SHORT);
    let elapsed = start.elapsed();
    let later = Instant::now();
    assert!(elapsed >= SHORT && later >= start + SHORT);
    assert_eq!(later.duration_since(start), later - start);
    assert!(later.checked_duration_since(start).is_some());
    assert_eq!(start.saturating_duration_since(later), Duration::ZERO);
    assert_eq!(start.checked_add(SHORT).unwrap().checked_sub(SHORT), Some(start));
    let mut moved = start;
    moved += SHORT;
    moved -= SHORT;
    assert_eq!(moved, start);
    let wall = SystemTime::now();
    let since_epoch = wall.duration_since(UNIX_EPOCH).unwrap();
    assert!(since_epoch > Duration::from_secs(1_600_000_000));
    assert!(wall.elapsed().is_ok() || wall.elapsed().is_err());
    assert_eq!(SystemTime::UNIX_EPOCH, UNIX_EPOCH);
    assert!(UNIX_EPOCH.duration_since(wall).is_err());
    out.push(format!("time: slept at least {SHORT:?}"));
}

fn statics(out: &mut Vec<String>) {
    let weak: Weak<u8> = Arc::downgrade(&Arc::new(1));
    assert!(weak.upgrade().is_none());
    out.push("statics: ok".to_string());
}

/// The statics, outside `probe()`: they outlive a run, so a recording's
/// locks and initializations would be found done by a replay or another
/// explored run in the same process (reprise::main records and replays in
/// separate processes, where this does not arise).
pub fn once_statics() {
    *STATIC_MUTEX.lock().unwrap() += 1;
    *STATIC_RWLOCK.write().unwrap() += 1;
    assert!(*STATIC_RWLOCK.read().unwrap() >= 1);
    STATIC_CONDVAR.notify_all();
    STATIC_COUNTER.fetch_add(1, Ordering::Relaxed);
    STATIC_ONCE.call_once(|| {});
    assert!(STATIC_ONCE.is_completed());
    assert_eq!(*STATIC_ONCE_LOCK.get_or_init(|| 7), 7);
    assert_eq!(*STATIC_LAZY, 42);
}
