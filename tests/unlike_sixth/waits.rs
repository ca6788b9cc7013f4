//! Condition waits with predicates: a turnstile whose threads draw tickets
//! with `fetch_add` and pass in ticket order through `Condvar::wait_while`
//! (predicates that count their own calls, so every wake-up shows), watched
//! by a main thread in a `wait_timeout_while` loop; and a `Barrier` reused
//! over many phases whose leader, which changes from phase to phase, hands
//! the phase's result down a `reprise::sync::mpsc` channel.

use std::fmt::Write as _;
use std::sync::Arc;

use reprise::sync::atomic::{AtomicU32, Ordering};
use reprise::sync::{mpsc, Barrier, Condvar, Mutex};
use reprise::thread;
use reprise::time::Duration;

use super::{replays, replays_and_varies};

// ---------------------------------------------------------------------------
// A turnstile on wait_while.

struct Turn {
    next: u32,
    order: String,
}

#[test]
fn a_turnstile_on_wait_while_replays_to_its_transcript() {
    replays_and_varies("sixth-turnstile", turnstile);
}

/// Six threads draw tickets, then wait with `wait_while` until the
/// turnstile shows theirs; each passes, bumps the turn and wakes all. The
/// main thread waits for the last with `wait_timeout_while` of 200 µs,
/// counting its timeouts. The transcript: the passing order, how often
/// each thread's predicate ran, the main thread's timeouts.
pub(super) fn turnstile() -> String {
    const N: u32 = 6;
    let gate = Arc::new((Mutex::new(Turn { next: 0, order: String::new() }), Condvar::new()));
    let tickets = Arc::new(AtomicU32::new(0));
    let walkers: Vec<_> = (0..N)
        .map(|w| {
            let (gate, tickets) = (Arc::clone(&gate), Arc::clone(&tickets));
            thread::spawn(move || {
                let ticket = tickets.fetch_add(1, Ordering::AcqRel);
                let (lock, cv) = &*gate;
                let mut checks = 0u32;
                let mut turn = cv
                    .wait_while(lock.lock().unwrap(), |t| {
                        checks += 1;
                        t.next != ticket
                    })
                    .unwrap();
                turn.order.push(char::from(b'a' + w as u8));
                turn.next += 1;
                drop(turn);
                cv.notify_all();
                (ticket, checks)
            })
        })
        .collect();
    let (lock, cv) = &*gate;
    let mut timeouts = 0u32;
    let mut guard = lock.lock().unwrap();
    loop {
        let (g, result) = cv.wait_timeout_while(guard, Duration::from_micros(200), |t| t.next < N).unwrap();
        guard = g;
        if !result.timed_out() {
            break;
        }
        timeouts += 1;
    }
    assert_eq!(guard.next, N);
    let order = guard.order.clone();
    drop(guard);
    let mut out = order.clone();
    for (w, h) in walkers.into_iter().enumerate() {
        let (ticket, checks) = h.join().unwrap();
        assert_eq!(order.as_bytes()[ticket as usize], b'a' + w as u8, "{order}: passed out of turn");
        let _ = write!(out, " {ticket}:{checks}");
    }
    let _ = write!(out, " t{timeouts}");
    out
}

// ---------------------------------------------------------------------------
// A barrier reused over many phases.

#[test]
fn a_barrier_reused_over_many_phases_replays_to_its_transcript() {
    // The leader of each phase is whoever arrives last: beside CPU hogs a
    // batch may well see one order only.
    replays("sixth-barrier-phases", barrier_phases);
}

/// Four workers, twelve phases. Each phase every worker adds its share to a
/// shared sum; the leader (`is_leader`) takes the sum, sends it with its
/// own id down a channel and resets it; a second wait keeps the next
/// phase's shares out until then. A collector thread receives the phases.
pub(super) fn barrier_phases() -> String {
    const WORKERS: u64 = 4;
    const PHASES: u64 = 12;
    let barrier = Arc::new(Barrier::new(WORKERS as usize));
    let sum = Arc::new(Mutex::new(0u64));
    let (tx, rx) = mpsc::channel::<(u64, u64, u64)>();
    let collector = thread::spawn(move || {
        let mut out = String::new();
        let mut leaders = [0u32; WORKERS as usize];
        for (phase, leader, total) in rx.iter() {
            leaders[leader as usize] += 1;
            let _ = write!(out, "{phase}{}", char::from(b'a' + leader as u8));
            assert_eq!(total, (0..WORKERS).map(|w| w * 10 + phase).sum::<u64>(), "phase {phase}'s sum");
        }
        (out, leaders)
    });
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (barrier, sum, tx) = (Arc::clone(&barrier), Arc::clone(&sum), tx.clone());
            thread::spawn(move || {
                for phase in 0..PHASES {
                    *sum.lock().unwrap() += w * 10 + phase;
                    if barrier.wait().is_leader() {
                        let total = std::mem::take(&mut *sum.lock().unwrap());
                        tx.send((phase, w, total)).unwrap();
                    }
                    barrier.wait();
                }
            })
        })
        .collect();
    drop(tx);
    for h in workers {
        h.join().unwrap();
    }
    let (out, leaders) = collector.join().unwrap();
    assert_eq!(leaders.iter().sum::<u32>(), PHASES as u32, "one leader a phase");
    format!("{out} {leaders:?}")
}
