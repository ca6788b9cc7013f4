// The thread probe's body, compiled twice by `tests/thread_parity.rs`: once
// in a module whose imports are std's (`std::thread`, `std::sync`,
// `std::thread_local!`), once in one whose imports are reprise's. A name or
// signature reprise lacks fails the second compilation.

use std::cell::{Cell, RefCell};
use std::fmt::Debug;
use std::hash::Hash;
use std::time::Duration;

thread_local! {
    static HITS: Cell<u32> = const { Cell::new(0) };
    static SEEN: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

fn handle_traits<T: Clone + Debug + Send + Sync>(_: &T) {}
fn id_traits<T: Copy + Eq + Hash + Debug>(_: T) {}

/// What every mode must agree on.
pub fn probe() -> (usize, usize, u32, Vec<usize>) {
    let me: thread::Thread = thread::current();
    handle_traits(&me);
    id_traits(me.id());
    let parallelism: usize = thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    assert!(!thread::panicking());

    // A park/unpark handshake; the flag is the program's own.
    let ready = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&ready);
    let waiter: thread::JoinHandle<(usize, thread::ThreadId)> = thread::Builder::new()
        .name("waiter".into())
        .stack_size(512 * 1024)
        .spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                thread::park();
            }
            thread::park_timeout(Duration::from_millis(1));
            thread::yield_now();
            thread::sleep(Duration::from_millis(1));
            HITS.with(|h| h.set(h.get() + 1));
            let me = thread::current();
            (me.name().map_or(0, str::len), me.id())
        })
        .unwrap();
    let waiter_thread: thread::Thread = waiter.thread().clone();
    ready.store(true, Ordering::SeqCst);
    waiter_thread.unpark();
    let _: bool = waiter.is_finished();
    let joined: thread::Result<(usize, thread::ThreadId)> = waiter.join();
    let (name_len, waiter_id) = joined.unwrap();
    assert_eq!(waiter_id, waiter_thread.id());
    assert_ne!(waiter_id, me.id());

    // Scoped threads that borrow, one spawning another through the scope.
    let data: Vec<usize> = (1..=6).collect();
    let total = Mutex::new(0usize);
    let sum = thread::scope(|s| {
        let outer: thread::ScopedJoinHandle<'_, usize> = s.spawn(|| {
            let inner = s.spawn(|| data[..3].iter().sum::<usize>());
            let _: &thread::Thread = inner.thread();
            inner.join().unwrap() + data[3..].iter().sum::<usize>()
        });
        thread::Builder::new()
            .name("scoped".into())
            .spawn_scoped(s, || *total.lock().unwrap() += data.len())
            .unwrap();
        let _ = outer.is_finished();
        outer.join().unwrap()
    });

    HITS.set(HITS.get() + 10);
    SEEN.with_borrow_mut(|seen| seen.push(sum));
    let hits = HITS.take();
    let seen = SEEN.take();
    (name_len + parallelism.min(1), sum + total.into_inner().unwrap(), hits, seen)
}
