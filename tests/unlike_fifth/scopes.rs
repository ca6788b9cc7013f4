//! Trees of `thread::scope`s: scoped threads that open scopes of their own
//! and borrow from every level above (a slice, a lock, a counter), workers
//! built with `Builder::stack_size` and names, and a pool sized by
//! `available_parallelism`.

use std::fmt::Write as _;

use reprise::sync::atomic::{AtomicU64, Ordering};
use reprise::sync::{Mutex, RwLock};
use reprise::thread;

use super::{replays, replays_and_varies};

#[test]
fn a_tree_of_nested_scopes_borrowing_from_every_level_replays_to_its_transcript() {
    replays_and_varies("fifth-scope-tree", scope_tree);
}

/// A sum over a borrowed slice split in two halves, each half split again
/// inside the scoped thread's own scope; leaves write their partial sums
/// into a borrowed log in the order they finish, and bump a borrowed
/// counter; a scoped thread named by `Builder::spawn_scoped` watches.
pub(super) fn scope_tree() -> String {
    let data: Vec<u64> = (1..=16).collect();
    let log = Mutex::new(String::new());
    let finished = AtomicU64::new(0);
    let total = thread::scope(|outer| {
        let halves: Vec<_> = data
            .chunks(8)
            .enumerate()
            .map(|(h, half)| {
                let (log, finished) = (&log, &finished);
                outer.spawn(move || {
                    thread::scope(|inner| {
                        let leaves: Vec<_> = half
                            .chunks(4)
                            .enumerate()
                            .map(|(l, quarter)| {
                                inner.spawn(move || {
                                    let sum: u64 = quarter.iter().sum();
                                    let order = finished.fetch_add(1, Ordering::AcqRel);
                                    let _ = write!(log.lock().unwrap(), "{h}{l}#{order} ");
                                    sum
                                })
                            })
                            .collect();
                        leaves.into_iter().map(|l| l.join().unwrap()).sum::<u64>()
                    })
                })
            })
            .collect();
        let watcher = thread::Builder::new()
            .name("watcher".into())
            .spawn_scoped(outer, || {
                let seen = finished.load(Ordering::Acquire);
                format!("{}@{}", thread::current().name().unwrap_or("?"), seen.min(1))
            })
            .unwrap();
        let total: u64 = halves.into_iter().map(|h| h.join().unwrap()).sum();
        (total, watcher.join().unwrap())
    });
    assert_eq!(total.0, 136);
    assert_eq!(finished.load(Ordering::SeqCst), 4);
    format!("{} {}", log.into_inner().unwrap(), total.1)
}

#[test]
fn named_workers_with_their_own_stack_sizes_in_a_pool_sized_by_the_machine_replay() {
    // Varies on an idle machine; beside two CPU hogs every run may not.
    replays("fifth-pool", sized_pool);
}

/// A pool of `available_parallelism` (at most 3, at least 2) workers named
/// `pool-N`, each on a 256 KiB stack recursing a little, pulling job
/// numbers from a shared counter; a read-mostly table they consult.
pub(super) fn sized_pool() -> String {
    let width = thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(2, 3);
    let next = std::sync::Arc::new(AtomicU64::new(0));
    let table = std::sync::Arc::new(RwLock::new(vec![0u64; 8]));
    let workers: Vec<_> = (0..width)
        .map(|w| {
            let (next, table) = (std::sync::Arc::clone(&next), std::sync::Arc::clone(&table));
            thread::Builder::new()
                .name(format!("pool-{w}"))
                .stack_size(256 * 1024)
                .spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let job = next.fetch_add(1, Ordering::AcqRel);
                        if job >= 8 {
                            break;
                        }
                        let depth = fib(10 + job as u32 % 3);
                        let before = table.read().unwrap()[job as usize];
                        assert_eq!(before, 0, "a job done twice");
                        table.write().unwrap()[job as usize] = depth;
                        done.push(job);
                    }
                    format!("{}:{done:?}", thread::current().name().unwrap())
                })
                .unwrap()
        })
        .collect();
    let out: Vec<String> = workers.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(table.read().unwrap().iter().all(|&v| v > 0));
    format!("{width} {}", out.join(" "))
}

/// Recursion, so the set stack size is used.
fn fib(n: u32) -> u64 {
    if n < 2 {
        u64::from(n)
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

#[test]
fn a_deep_recursion_on_a_stack_asked_for_by_builder_replays_on_coroutines_and_explores() {
    replays_and_varies("fifth-deep-stack", deep_stack);
    let dir = crate::util::scratch("fifth-deep-stack-explore");
    let config = reprise::explore::Config::default().budget(20).seed(2).trace_dir(&dir);
    let outcome = reprise::explore::Explorer::new(config).run(|| {
        deep_stack();
    });
    assert!(
        outcome.failure.is_none() && outcome.blocked.is_none(),
        "{:?}",
        outcome.failure.map(|f| f.report)
    );
}

/// Two parsers on 16 MiB stacks descending 128 frames of 8 KiB and more
/// (over std's default 2 MiB in a debug build, well within what they asked
/// for), one plain thread descending 48 (within std's default; coroutines
/// had 256 KiB) and a scoped one built as the parsers are,
/// racing to report their depth first.
pub(super) fn deep_stack() -> String {
    let (tx, rx) = reprise::channel::unbounded();
    let mut parsers: Vec<_> = (0..2u32)
        .map(|p| {
            let tx = tx.clone();
            thread::Builder::new()
                .name(format!("parser-{p}"))
                .stack_size(16 << 20)
                .spawn(move || tx.send((p, descend(128))).unwrap())
                .unwrap()
        })
        .collect();
    let plain = tx.clone();
    parsers.push(thread::spawn(move || plain.send((2, descend(48))).unwrap()));
    thread::scope(|s| {
        let tx = &tx;
        thread::Builder::new()
            .stack_size(16 << 20)
            .spawn_scoped(s, move || tx.send((3, descend(128))).unwrap())
            .unwrap();
    });
    drop(tx);
    let order: Vec<(u32, u64)> = rx.iter().collect();
    parsers.into_iter().for_each(|h| h.join().unwrap());
    assert_eq!(order.len(), 4);
    assert!(order.iter().all(|&(p, depth)| depth == if p == 2 { 48 } else { 128 }));
    format!("{order:?}")
}

/// Recursion with a frame of 8 KiB and more: `levels` of it use more than
/// `levels * 8` KiB.
fn descend(levels: u64) -> u64 {
    let frame = std::hint::black_box([levels as u8; 8 * 1024]);
    if levels == 0 {
        0
    } else {
        1 + descend(levels - 1) + u64::from(frame[levels as usize % 1024] != levels as u8)
    }
}
