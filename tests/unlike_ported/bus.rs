//! A pub-sub broadcast bus (one publisher, a bounded channel per
//! subscriber, a slow subscriber dropped when its channel is full, others
//! unsubscribing mid-stream through a control channel, or by hanging up) and
//! a metrics registry (sharded `AtomicU64` counters in an `RwLock`ed
//! `HashMap` with double-checked insertion, a reporter thread taking
//! snapshots with `recv_timeout` as its clock).

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::Arc;

use reprise::channel::{self, Receiver, RecvTimeoutError, Sender, TrySendError};
use reprise::sync::atomic::{AtomicU64, Ordering};
use reprise::sync::RwLock;
use reprise::thread;
use reprise::time::Duration;

use super::runs;
use crate::util::replays_give_the_transcript;

#[test]
fn a_pub_sub_bus_replays_to_its_recorded_transcript() {
    let distinct = replays_give_the_transcript("ported-bus", runs(), || bus(5, 40));
    assert!(distinct > 1, "every run interleaved the same way: the test shows little");
}

#[test]
fn a_metrics_registry_replays_to_its_recorded_transcript() {
    let distinct = replays_give_the_transcript("ported-metrics", runs(), || metrics(4, 60));
    assert!(distinct > 1, "every run interleaved the same way: the test shows little");
}

enum Control {
    Subscribe(u32, Sender<u64>),
    Unsubscribe(u32),
}

pub fn bus(subscribers: u32, messages: u64) -> String {
    let (ctl_tx, ctl_rx) = channel::unbounded::<Control>();
    let publisher = thread::Builder::new()
        .name("publisher".into())
        .spawn(move || {
            let mut subs: Vec<(u32, Sender<u64>)> = Vec::new();
            let mut log = Vec::new();
            for m in 0..messages {
                while let Ok(c) = ctl_rx.try_recv() {
                    match c {
                        Control::Subscribe(id, tx) => {
                            log.push(format!("m{m}: +s{id}"));
                            subs.push((id, tx));
                        }
                        Control::Unsubscribe(id) => {
                            log.push(format!("m{m}: -s{id}"));
                            subs.retain(|(s, _)| *s != id);
                        }
                    }
                }
                subs.retain(|(id, tx)| match tx.try_send(m) {
                    Ok(()) => true,
                    Err(TrySendError::Full(_)) => {
                        log.push(format!("m{m}: s{id} too slow, dropped"));
                        false
                    }
                    Err(TrySendError::Disconnected(_)) => {
                        log.push(format!("m{m}: s{id} hung up"));
                        false
                    }
                });
                if m.is_multiple_of(4) {
                    thread::sleep(Duration::from_micros(10));
                }
            }
            log.push(format!("end with {:?}", subs.iter().map(|s| s.0).collect::<Vec<_>>()));
            log
        })
        .unwrap();
    let subs: Vec<_> = (0..subscribers)
        .map(|id| {
            let ctl = ctl_tx.clone();
            thread::Builder::new().name(format!("sub-{id}")).spawn(move || subscriber(id, ctl)).unwrap()
        })
        .collect();
    drop(ctl_tx);
    let mut out = publisher.join().unwrap();
    out.extend(subs.into_iter().map(|s| s.join().unwrap()));
    out.join("\n")
}

/// Subscriber `id`'s behaviour: 0 is slow, 1 unsubscribes after 5
/// messages, 2 hangs up after 7, the others read to the end.
fn subscriber(id: u32, ctl: Sender<Control>) -> String {
    let (tx, rx): (Sender<u64>, Receiver<u64>) = channel::bounded(4);
    // Subscribers join late, a few messages in.
    thread::sleep(Duration::from_micros(20 * id as u64));
    // The publisher may be gone already: then the channel hangs up at once.
    let _ = ctl.send(Control::Subscribe(id, tx));
    let mut got = Vec::new();
    for m in rx.iter() {
        got.push(m);
        match id {
            0 => thread::sleep(Duration::from_micros(100)),
            1 if got.len() == 5 => {
                let _ = ctl.send(Control::Unsubscribe(id));
            }
            2 if got.len() == 7 => break,
            _ => {}
        }
    }
    let ordered = got.windows(2).all(|w| w[0] < w[1]);
    format!("s{id} got {} first {:?} last {:?} ordered {ordered}", got.len(), got.first(), got.last())
}

type Fixed = BuildHasherDefault<DefaultHasher>;

/// A counter striped over shards to spread contention.
struct Counter {
    shards: [AtomicU64; 4],
}

impl Counter {
    fn add(&self, shard: usize, n: u64) {
        self.shards[shard % 4].fetch_add(n, Ordering::Relaxed);
    }
    fn get(&self) -> u64 {
        self.shards.iter().map(|s| s.load(Ordering::Relaxed)).sum()
    }
}

#[derive(Default)]
struct Registry {
    counters: RwLock<HashMap<String, Arc<Counter>, Fixed>>,
    created: AtomicU64,
}

impl Registry {
    /// Double-checked: a read lock for the common hit, a write lock and a
    /// second look on a miss.
    fn counter(&self, name: &str) -> Arc<Counter> {
        if let Some(c) = self.counters.read().unwrap().get(name) {
            return Arc::clone(c);
        }
        let mut map = self.counters.write().unwrap();
        Arc::clone(map.entry(name.to_string()).or_insert_with(|| {
            self.created.fetch_add(1, Ordering::Relaxed);
            Arc::new(Counter { shards: Default::default() })
        }))
    }

    fn snapshot(&self) -> Vec<(String, u64)> {
        let map = self.counters.read().unwrap();
        let mut v: Vec<_> = map.iter().map(|(k, c)| (k.clone(), c.get())).collect();
        v.sort();
        v
    }
}

fn metrics(workers: usize, events: u64) -> String {
    let registry = Arc::new(Registry::default());
    let (stop_tx, stop_rx) = channel::bounded::<()>(1);
    let reporter = {
        let registry = Arc::clone(&registry);
        thread::Builder::new()
            .name("reporter".into())
            .spawn(move || {
                let mut reports = Vec::new();
                loop {
                    let last = match stop_rx.recv_timeout(Duration::from_micros(250)) {
                        Err(RecvTimeoutError::Timeout) => false,
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => true,
                    };
                    let snap = registry.snapshot();
                    let total: u64 = snap.iter().map(|(_, n)| n).sum();
                    reports.push(format!("{} names, total {total}", snap.len()));
                    if last {
                        return (reports, snap);
                    }
                }
            })
            .unwrap()
    };
    let hs: Vec<_> = (0..workers)
        .map(|w| {
            let registry = Arc::clone(&registry);
            thread::spawn(move || {
                for e in 0..events {
                    // Names shared by all workers, and some of each worker's own.
                    let name = match e % 5 {
                        0 => format!("requests.{}", e % 3),
                        1 => "errors".to_string(),
                        2 => format!("worker.{w}"),
                        _ => format!("bytes.{}", (e + w as u64) % 4),
                    };
                    registry.counter(&name).add(w, e % 7 + 1);
                    if e.is_multiple_of(10) {
                        thread::yield_now();
                    }
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    stop_tx.send(()).unwrap();
    let (reports, last) = reporter.join().unwrap();
    let expected: u64 = (0..events).map(|e| e % 7 + 1).sum::<u64>() * workers as u64;
    assert_eq!(last.iter().map(|(_, n)| n).sum::<u64>(), expected, "a count was lost");
    assert_eq!(registry.created.load(Ordering::Relaxed) as usize, last.len(), "a counter was made twice");
    // The reports are how far the workers had got at each tick.
    format!("{}\n{last:?}", reports.join("\n"))
}
