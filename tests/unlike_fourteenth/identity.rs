//! Who a thread is, as code keyed by it asks: a session registry keyed by
//! `thread::current().id()` (a `ThreadId` as a map key, compared with the
//! one `JoinHandle::thread()` gives) and by `name()`, sized by
//! `available_parallelism`, with workers on small `Builder::stack_size`s;
//! wake-ups given with `unpark` before their thread parks (the token is
//! kept); and housekeeping threads nobody joins, one blocked in a receive
//! on a channel its owner keeps, one parked, still there when the root
//! returns.

use std::collections::BTreeMap;
use std::sync::Arc;

use reprise::channel;
use reprise::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use reprise::sync::Mutex;
use reprise::thread::{self, ThreadId};

pub(crate) fn sessions() -> String {
    let lanes = thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 3);
    let by_id: Arc<Mutex<Vec<(ThreadId, String, usize)>>> = Arc::new(Mutex::new(Vec::new()));
    let order = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..lanes)
        .map(|i| {
            let (by_id, order) = (Arc::clone(&by_id), Arc::clone(&order));
            let mut builder = thread::Builder::new().stack_size(64 << 10);
            if i != 1 {
                builder = builder.name(format!("lane-{i}"));
            }
            builder
                .spawn(move || {
                    let me = thread::current();
                    let turn = order.fetch_add(1, Ordering::SeqCst);
                    // A little recursion on the small stack.
                    fn depth(n: u32) -> u32 {
                        let pad = [n as u8; 256];
                        if n == 0 {
                            u32::from(pad[0])
                        } else {
                            depth(n - 1) + u32::from(pad[255] & 1)
                        }
                    }
                    let d = depth(40);
                    by_id.lock().expect("the registry").push((
                        me.id(),
                        me.name().unwrap_or("-").into(),
                        turn,
                    ));
                    (me.id(), d)
                })
                .expect("spawn a lane")
        })
        .collect();
    let root = thread::current().id();
    let mut checked = Vec::new();
    for w in workers {
        let handle_id = w.thread().id();
        let (id, d) = w.join().expect("a lane ends");
        assert_eq!(id, handle_id, "the handle names its thread");
        assert_ne!(id, root);
        assert_eq!(d, 20);
        checked.push(id);
    }
    let registry = by_id.lock().expect("the registry").clone();
    let keyed: BTreeMap<String, (ThreadId, usize)> =
        registry.iter().map(|(id, name, turn)| (name.clone(), (*id, *turn))).collect();
    assert_eq!(keyed.len(), lanes, "ids and names are distinct");
    let mut ids: Vec<ThreadId> = registry.iter().map(|r| r.0).collect();
    ids.dedup();
    assert_eq!(ids.len(), lanes);
    assert!(checked.iter().all(|id| registry.iter().any(|r| r.0 == *id)));
    let root_name = thread::current().name().map(str::to_string);
    // Which lane came first is the schedule's.
    let turns: Vec<String> = keyed.iter().map(|(name, (_, turn))| format!("{name}#{turn}")).collect();
    format!("root {root_name:?}, {lanes} lanes: {}", turns.join(" "))
}

/// Each worker is unparked before it parks, often long before: the token
/// waits for it. Then a relay: each worker unparks the next, which may or
/// may not be parked yet.
pub(crate) fn early_tokens() -> String {
    let go = Arc::new(AtomicBool::new(false));
    let log = Arc::new(Mutex::new(String::new()));
    let mut handles: Vec<thread::JoinHandle<()>> = Vec::new();
    let next: Arc<Mutex<Vec<thread::Thread>>> = Arc::new(Mutex::new(Vec::new()));
    for i in 0..3u8 {
        let (go, log, next) = (Arc::clone(&go), Arc::clone(&log), Arc::clone(&next));
        handles.push(thread::spawn(move || {
            while !go.load(Ordering::SeqCst) {
                thread::park();
            }
            log.lock().expect("the log").push(char::from(b'a' + i));
            // Pass a wake-up to the next one (the root's list), which may
            // not park at all if it saw `go` already.
            if let Some(t) = next.lock().expect("the relay").get(usize::from(i) + 1) {
                t.unpark();
            }
            thread::park_timeout(std::time::Duration::from_millis(1));
        }));
    }
    next.lock().expect("the relay").extend(handles.iter().map(|h| h.thread().clone()));
    for h in &handles {
        h.thread().unpark();
    }
    go.store(true, Ordering::SeqCst);
    for h in &handles {
        h.thread().unpark();
    }
    for h in handles {
        h.join().expect("a worker ends");
    }
    let log = log.lock().expect("the log").clone();
    assert_eq!(log.len(), 3);
    format!("woke in order {log}")
}

/// Housekeepers nobody joins: a sweeper blocked in `recv` on a channel
/// whose sender the root leaks into a static-free `Box::leak`, and a
/// janitor parked for good; the root's work goes on beside them.
pub(crate) fn unjoined_housekeepers() -> String {
    let (tx, rx) = channel::unbounded::<u32>();
    let swept = Arc::new(Mutex::new(Vec::new()));
    let sweeper = {
        let swept = Arc::clone(&swept);
        thread::Builder::new()
            .name("sweeper".into())
            .spawn(move || {
                for v in rx.iter() {
                    swept.lock().expect("the sweep list").push(v);
                }
            })
            .expect("spawn the sweeper")
    };
    let janitor = thread::Builder::new()
        .name("janitor".into())
        .spawn(|| loop {
            thread::park();
        })
        .expect("spawn the janitor");
    let producers: Vec<_> = (0..2u32)
        .map(|p| {
            let tx = tx.clone();
            thread::spawn(move || {
                for k in 0..3 {
                    tx.send(p * 10 + k).expect("the sweeper lives");
                }
            })
        })
        .collect();
    for p in producers {
        p.join().expect("a producer ends");
    }
    // Wait until the sweeper has seen all six, then leave it waiting for
    // a seventh that never comes.
    loop {
        let n = swept.lock().expect("the sweep list").len();
        if n == 6 {
            break;
        }
        thread::yield_now();
    }
    let seen = swept.lock().expect("the sweep list").clone();
    // Keep the sender alive past the root's end, and drop the handles
    // unjoined.
    std::mem::forget(tx);
    drop((sweeper, janitor));
    format!("swept {seen:?}")
}
