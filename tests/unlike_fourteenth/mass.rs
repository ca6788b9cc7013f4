//! A long day: an end-of-day job that makes and drops ten thousand locks
//! and channels (one per position, each used a few times and dropped at
//! once) and runs two thousand short-lived threads in waves of forty (each
//! makes objects of its own and reports on a shared channel), to see what
//! recording and replay cost in time and trace size at that scale (the
//! test prints both; nothing here asserts on time).

use std::sync::Arc;

use reprise::channel;
use reprise::sync::atomic::{AtomicU64, Ordering};
use reprise::sync::Mutex;
use reprise::thread;

pub(crate) const POSITIONS: u64 = 10_000;
pub(crate) const WAVES: u64 = 50;
pub(crate) const PER_WAVE: u64 = 40;

/// Values a position through a lock and a one-slot channel of its own.
fn value(position: u64) -> u64 {
    let lock = Mutex::new(position);
    let (tx, rx) = channel::bounded::<u64>(1);
    *lock.lock().expect("a fresh lock") += 1;
    tx.send(*lock.lock().expect("a fresh lock") * 2).expect("its own receiver");
    rx.recv().expect("its own sender")
}

pub(crate) fn long_day() -> String {
    let total: u64 = (0..POSITIONS).map(value).sum();
    assert_eq!(total, (0..POSITIONS).map(|p| (p + 1) * 2).sum::<u64>());
    let (report_tx, report_rx) = channel::unbounded::<(u64, u64)>();
    let shared = Arc::new(AtomicU64::new(0));
    let mut first_of_wave = Vec::new();
    for wave in 0..WAVES {
        let order = Arc::new(Mutex::new(Vec::new()));
        let workers: Vec<_> = (0..PER_WAVE)
            .map(|k| {
                let (report_tx, shared, order) = (report_tx.clone(), Arc::clone(&shared), Arc::clone(&order));
                thread::spawn(move || {
                    let id = wave * PER_WAVE + k;
                    let v = value(id) + value(id + POSITIONS);
                    shared.fetch_add(v, Ordering::Relaxed);
                    order.lock().expect("the wave's order").push(k);
                    report_tx.send((id, v)).expect("the root collects reports");
                })
            })
            .collect();
        for w in workers {
            w.join().expect("a worker ends");
        }
        first_of_wave.push(order.lock().expect("the wave's order")[0]);
    }
    drop(report_tx);
    let reports: Vec<(u64, u64)> = report_rx.iter().collect();
    let threads = WAVES * PER_WAVE;
    assert_eq!(reports.len() as u64, threads);
    let sum: u64 = reports.iter().map(|r| r.1).sum();
    assert_eq!(sum, shared.load(Ordering::Relaxed));
    // Which worker of each wave came first is the schedule's; a digest of
    // the first few waves keeps the transcript short.
    let firsts: Vec<String> = first_of_wave.iter().take(8).map(u64::to_string).collect();
    format!("total {total}, {threads} threads summed {sum}, firsts {}", firsts.join(","))
}
