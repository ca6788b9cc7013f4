//! Lock-free and hand-rolled shapes: a Treiber stack on `AtomicPtr` with
//! compare-exchange retry loops, flags and extrema on atomics with every
//! `Ordering` and `yield_now` spins, a park/unpark ping-pong with
//! `park_timeout`, captured and random inputs steering control flow, and a
//! fork-join over nested scopes in which one scoped thread panics.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::Arc;

use reprise::sync::atomic::{
    fence, AtomicBool, AtomicI8, AtomicPtr, AtomicU16, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};
use reprise::sync::Mutex;
use reprise::thread;
use reprise::time::Duration;

use super::runs;
use crate::util::replays_give_the_transcript;

// ---------------------------------------------------------------------------
// A Treiber stack.

#[test]
fn a_treiber_stack_on_atomic_ptr_replays_to_its_recorded_transcript() {
    // Under load every run may interleave the same way: no count asserted.
    replays_give_the_transcript("third-treiber", runs(), || treiber(3, 6, 2));
}

struct Node {
    value: u32,
    next: *mut Node,
}

/// A lock-free stack; popped nodes are kept, not freed, until the end, so
/// no address is reused while others may still read it (no ABA).
pub(super) struct Stack {
    head: AtomicPtr<Node>,
    popped: Mutex<Vec<usize>>,
}

// SAFETY: the raw pointers are only followed while their nodes are alive
// (freed in `Drop`, with no other thread left).
unsafe impl Send for Stack {}
unsafe impl Sync for Stack {}

impl Stack {
    pub(super) fn new() -> Stack {
        Stack { head: AtomicPtr::new(ptr::null_mut()), popped: Mutex::new(Vec::new()) }
    }

    /// Pushes; returns how many times the compare-exchange lost a race.
    pub(super) fn push(&self, value: u32) -> u32 {
        let node = Box::into_raw(Box::new(Node { value, next: ptr::null_mut() }));
        let mut head = self.head.load(Ordering::Relaxed);
        let mut retries = 0;
        loop {
            // SAFETY: `node` is ours until the exchange publishes it.
            unsafe { (*node).next = head };
            match self.head.compare_exchange_weak(head, node, Ordering::Release, Ordering::Relaxed) {
                Ok(_) => return retries,
                Err(now) => {
                    head = now;
                    retries += 1;
                }
            }
        }
    }

    /// Pops; `None` when empty.
    pub(super) fn pop(&self) -> Option<u32> {
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            if head.is_null() {
                return None;
            }
            // SAFETY: nodes are never freed while the stack is shared.
            let next = unsafe { (*head).next };
            match self.head.compare_exchange(head, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    self.popped.lock().unwrap().push(head as usize);
                    // SAFETY: as above.
                    return Some(unsafe { (*head).value });
                }
                Err(now) => head = now,
            }
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        while self.pop().is_some() {}
        for node in self.popped.get_mut().unwrap().drain(..) {
            // SAFETY: every node was made by `Box::into_raw` and popped once.
            drop(unsafe { Box::from_raw(node as *mut Node) });
        }
    }
}

fn treiber(pushers: u32, each: u32, poppers: u32) -> String {
    let stack = Arc::new(Stack::new());
    let taken = Arc::new(AtomicU32::new(0));
    let total = pushers * each;
    let push_handles: Vec<_> = (0..pushers)
        .map(|p| {
            let stack = Arc::clone(&stack);
            thread::spawn(move || (0..each).map(|i| stack.push(p * 100 + i)).sum::<u32>())
        })
        .collect();
    let pop_handles: Vec<_> = (0..poppers)
        .map(|q| {
            let (stack, taken) = (Arc::clone(&stack), Arc::clone(&taken));
            thread::spawn(move || {
                let (mut got, mut empty) = (Vec::new(), 0u32);
                while taken.load(Ordering::Acquire) < total {
                    match stack.pop() {
                        Some(v) => {
                            taken.fetch_add(1, Ordering::AcqRel);
                            got.push(v.to_string());
                        }
                        None => {
                            empty += 1;
                            thread::yield_now();
                        }
                    }
                }
                format!("q{q}: {} (empty {empty})", got.join(","))
            })
        })
        .collect();
    let retries: Vec<u32> = push_handles.into_iter().map(|h| h.join().unwrap()).collect();
    let mut out: Vec<String> = pop_handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(stack.head.load(Ordering::SeqCst).is_null());
    out.push(format!("push retries {retries:?}"));
    out.join("\n")
}

// ---------------------------------------------------------------------------
// Flags and extrema.

#[test]
fn flags_and_extrema_on_atomics_replay_to_their_recorded_transcript() {
    // Under load every run may interleave the same way: no count asserted.
    replays_give_the_transcript("third-atomics", runs(), flags_and_extrema);
}

fn flags_and_extrema() -> String {
    let go = Arc::new(AtomicBool::new(false));
    let high = Arc::new(AtomicU64::new(0));
    let low = Arc::new(AtomicU64::new(u64::MAX));
    let last = Arc::new(AtomicU32::new(u32::MAX));
    let even = Arc::new(AtomicU32::new(0));
    let small = Arc::new(AtomicI8::new(0));
    let bits = Arc::new(AtomicU16::new(0));
    let arrived = Arc::new(AtomicUsize::new(0));
    let flip = Arc::new(AtomicBool::new(false));
    let orders = [Ordering::Relaxed, Ordering::Acquire, Ordering::SeqCst];
    let handles: Vec<_> = (0..3u32)
        .map(|t| {
            let (go, high, low, last, even, small, bits, arrived, flip) = (
                Arc::clone(&go),
                Arc::clone(&high),
                Arc::clone(&low),
                Arc::clone(&last),
                Arc::clone(&even),
                Arc::clone(&small),
                Arc::clone(&bits),
                Arc::clone(&arrived),
                Arc::clone(&flip),
            );
            let order = orders[t as usize];
            thread::spawn(move || {
                let mut log = Vec::new();
                arrived.fetch_add(1, Ordering::Relaxed);
                let mut spins = 0u32;
                while !go.load(order) {
                    spins += 1;
                    thread::yield_now();
                }
                if order == Ordering::Relaxed {
                    fence(Ordering::Acquire);
                }
                log.push(format!("t{t} spun {}", spins.min(1)));
                for i in 0..6u64 {
                    let v = (u64::from(t) * 37 + i * 11) % 50;
                    let before_high = high.fetch_max(v, Ordering::AcqRel);
                    let before_low = low.fetch_min(v, Ordering::Release);
                    let prev = last.swap(t * 10 + i as u32, Ordering::AcqRel);
                    if v > before_high || v < before_low {
                        log.push(format!("t{t} moved an extreme with {v} after {prev}"));
                    }
                    // Bump `even` only from an even value: retry until it is.
                    let mut tries = 0u32;
                    loop {
                        let now = even.load(Ordering::Relaxed);
                        if now % 2 == 1 {
                            // Someone else's turn to make it even.
                            if even
                                .compare_exchange(now, now + 1, Ordering::AcqRel, Ordering::Relaxed)
                                .is_ok()
                            {
                                log.push(format!("t{t} evened {now}"));
                            }
                            tries += 1;
                            thread::yield_now();
                            continue;
                        }
                        match even.compare_exchange(now, now + 1, Ordering::SeqCst, Ordering::SeqCst) {
                            Ok(_) => break,
                            Err(_) => tries += 1,
                        }
                    }
                    if tries > 0 {
                        log.push(format!("t{t} retried {tries}"));
                    }
                    small.fetch_sub(50, Ordering::Relaxed);
                    bits.fetch_xor(1 << (t * 3 + i as u32 % 3), Ordering::AcqRel);
                    if flip.fetch_not(Ordering::AcqRel) {
                        log.push(format!("t{t} flipped back at {i}"));
                    }
                }
                log
            })
        })
        .collect();
    // Waits for everyone to arrive, then releases them.
    while arrived.load(Ordering::Acquire) < 3 {
        thread::yield_now();
    }
    go.store(true, Ordering::Release);
    let mut out: Vec<String> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    out.push(format!(
        "high {} low {} last {} even {} small {} bits {:#06x} flip {}",
        high.load(Ordering::SeqCst),
        low.load(Ordering::SeqCst),
        last.load(Ordering::SeqCst),
        even.load(Ordering::SeqCst),
        small.load(Ordering::SeqCst),
        bits.load(Ordering::SeqCst),
        flip.load(Ordering::SeqCst)
    ));
    out.join("\n")
}

// ---------------------------------------------------------------------------
// A park/unpark ping-pong.

#[test]
fn a_park_unpark_ping_pong_replays_to_its_recorded_transcript() {
    // A quiet machine can keep the two threads in step for a whole batch
    // (one fresh-clone CI run saw 20 identical transcripts): a few more
    // batches before judging that the test shows little.
    let mut seen = crate::util::transcripts_replayed("third-ping-pong", runs(), ping_pong);
    for batch in 1..5 {
        if seen.len() > 1 {
            break;
        }
        seen.extend(crate::util::transcripts_replayed(
            &format!("third-ping-pong-{batch}"),
            runs(),
            ping_pong,
        ));
    }
    assert!(seen.len() > 1, "every run interleaved the same way: the test shows little");
}

/// Two threads take turns by a shared counter: each parks (with a
/// timeout) until the counter is its parity, bumps it and unparks the
/// other. Timeouts and spurious returns are counted.
fn ping_pong() -> String {
    let turn = Arc::new(AtomicU32::new(0));
    let log = Arc::new(Mutex::new(Vec::new()));
    let (me_tx, me_rx) = reprise::sync::mpsc::channel::<thread::Thread>();
    let pong = {
        let (turn, log) = (Arc::clone(&turn), Arc::clone(&log));
        thread::spawn(move || {
            let ping = me_rx.recv().unwrap();
            let (mut timeouts, mut wakes) = (0u32, 0u32);
            loop {
                let now = turn.load(Ordering::Acquire);
                if now >= 20 {
                    break;
                }
                if now % 2 == 1 {
                    turn.store(now + 1, Ordering::Release);
                    ping.unpark();
                    continue;
                }
                thread::park_timeout(Duration::from_micros(80));
                if turn.load(Ordering::Acquire).is_multiple_of(2) {
                    timeouts += 1;
                } else {
                    wakes += 1;
                }
            }
            log.lock().unwrap().push(format!("pong timeouts {timeouts} wakes {wakes}"));
        })
    };
    me_tx.send(thread::current()).unwrap();
    let (mut early, mut parks) = (0u32, 0u32);
    loop {
        let now = turn.load(Ordering::Acquire);
        if now >= 20 {
            break;
        }
        if now.is_multiple_of(2) {
            turn.store(now + 1, Ordering::Release);
            pong.thread().unpark();
            if now.is_multiple_of(6) {
                // An unpark before the park: the token is kept.
                thread::current().unpark();
                thread::park();
                early += 1;
            }
            continue;
        }
        thread::park_timeout(Duration::from_micros(120));
        parks += 1;
    }
    pong.join().unwrap();
    let mut out = std::mem::take(&mut *log.lock().unwrap());
    out.push(format!("ping early {early} parks {parks} turn {}", turn.load(Ordering::SeqCst)));
    out.join("\n")
}

// ---------------------------------------------------------------------------
// Inputs from outside steering control flow.

#[test]
fn captured_and_random_inputs_steering_threads_replay() {
    let distinct = replays_give_the_transcript("third-inputs", runs(), inputs_steer);
    assert!(distinct > 1, "every run gave the same inputs: the test shows little");
}

/// Each worker reads a "queue depth" from outside (the wall clock's
/// nanoseconds, which replay must not read again) and a random route;
/// they decide whether it takes a lock, sleeps or skips.
fn inputs_steer() -> String {
    let shared = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..3u32)
        .map(|w| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let mut skipped = 0;
                for i in 0..5u32 {
                    let depth: u32 = reprise::capture(|| {
                        std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .unwrap()
                            .subsec_nanos()
                            % 4
                    });
                    let route = reprise::random::u64() % 3;
                    match (depth, route) {
                        (0, _) => skipped += 1,
                        (_, 0) => shared.lock().unwrap().push(format!("w{w}.{i} d{depth}")),
                        (_, 1) => {
                            thread::sleep(Duration::from_micros(u64::from(depth) * 20));
                            shared.lock().unwrap().push(format!("w{w}.{i} slept"));
                        }
                        _ => {
                            let name: String = reprise::capture(|| format!("ext-{}", depth * 7 + i));
                            shared.lock().unwrap().push(name);
                        }
                    }
                }
                skipped
            })
        })
        .collect();
    let skipped: Vec<u32> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let mut out = std::mem::take(&mut *shared.lock().unwrap());
    out.push(format!("skipped {skipped:?}"));
    out.join(" ")
}

// ---------------------------------------------------------------------------
// A fork-join over nested scopes, one scoped thread panicking.

#[test]
fn a_fork_join_over_nested_scopes_with_a_panic_replays() {
    let distinct = replays_give_the_transcript("third-fork-join", runs(), fork_join);
    assert!(distinct > 1, "every run interleaved the same way: the test shows little");
}

/// Sums 0..240 in three parts, each split in two by an inner scope. One
/// inner half panics when it finds its part first (a flag only one wins);
/// its parent joins it, sees the error and redoes the half itself. A
/// second scope, whose panicking thread nobody joins, panics out of
/// `scope` and is caught.
fn fork_join() -> String {
    let log = Mutex::new(Vec::new());
    let first = AtomicBool::new(false);
    let parts: Vec<u64> = thread::scope(|outer| {
        let handles: Vec<_> = (0..3u64)
            .map(|p| {
                let (log, first) = (&log, &first);
                outer.spawn(move || {
                    let range = p * 80..(p + 1) * 80;
                    let mid = range.start + 40;
                    thread::scope(|inner| {
                        let low = inner.spawn(|| {
                            if p == 1 && !first.swap(true, Ordering::AcqRel) {
                                panic!("part {p} low half fails on purpose");
                            }
                            (range.start..mid).sum::<u64>()
                        });
                        let high = inner.spawn(|| {
                            log.lock().unwrap().push(format!("p{p} high"));
                            (mid..range.end).sum::<u64>()
                        });
                        let high = high.join().unwrap();
                        let low = match low.join() {
                            Ok(v) => v,
                            Err(_) => {
                                log.lock().unwrap().push(format!("p{p} redid its low half"));
                                (range.start..mid).sum()
                            }
                        };
                        log.lock().unwrap().push(format!("p{p} joined"));
                        low + high
                    })
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(parts.iter().sum::<u64>(), (0..240u64).sum::<u64>());
    let escaped = catch_unwind(AssertUnwindSafe(|| {
        thread::scope(|s| {
            s.spawn(|| {
                log.lock().unwrap().push("unjoined starts".to_string());
                panic!("nobody joins me");
            });
            s.spawn(|| log.lock().unwrap().push("sibling runs".to_string()));
        })
    }));
    let mut out = log.into_inner().unwrap();
    out.push(format!("parts {parts:?} escaped {}", escaped.is_err()));
    out.join("\n")
}
