//! Scopes, nesting and joins while unwinding: a `thread::scope` whose
//! body panics beside children that lock (std waits for them, then goes on
//! with the body's panic), and a scope whose children catch nested panics
//! of their own; nested `catch_unwind` with `resume_unwind` of the inner
//! payload; a `Drop` that joins a thread while its own thread unwinds; a
//! `Barrier` one of whose participants panics (caught) before it waits.

use std::panic::{catch_unwind, panic_any, resume_unwind, AssertUnwindSafe};
use std::sync::Arc;

use reprise::channel;
use reprise::sync::{Barrier, Mutex};
use reprise::thread::{self, JoinHandle};

use super::{replays_to, says, STAGED};

/// Adds `.1` to the counter when dropped.
struct AddsOnDrop<'a>(&'a Mutex<u32>, u32);

impl Drop for AddsOnDrop<'_> {
    fn drop(&mut self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) += self.1;
    }
}

// ---------------------------------------------------------------------------
// A scope whose body panics.

#[test]
fn a_scope_whose_body_panics_replays_to_std_s_answer() {
    replays_to(
        "eighth-scope-body",
        "body: staged: scope body, count 106, children 2 | second Ok(4), count 210",
        true,
        scope_body_panics,
    );
}

/// A scope spawns two children that each add 1 three times and say so on
/// a channel; its body then panics with an `AddsOnDrop` of 100 alive. std:
/// the scope waits for both children, then the body's panic goes on out of
/// `scope`, to the `catch_unwind` around it: 106, two messages. A second
/// scope's two children each catch an inner panic, then panic again in the
/// handler (an `AddsOnDrop` of 50 alive), caught outside: the scope
/// returns normally, having added 2 * (50 + 2).
pub(super) fn scope_body_panics() -> String {
    let count = Mutex::new(0u32);
    let (tx, rx) = channel::unbounded::<u32>();
    let first = catch_unwind(AssertUnwindSafe(|| {
        thread::scope(|s| {
            for k in 0..2 {
                let (count, tx) = (&count, tx.clone());
                s.spawn(move || {
                    for _ in 0..3 {
                        *count.lock().unwrap() += 1;
                        thread::yield_now();
                    }
                    tx.send(k).unwrap();
                });
            }
            let _d = AddsOnDrop(&count, 100);
            thread::yield_now();
            panic!("{STAGED}: scope body");
        })
    }));
    drop(tx);
    let body = match first {
        Ok(()) => "returned".to_string(),
        Err(p) if says(p.as_ref(), "scope body") => format!("{STAGED}: scope body"),
        Err(_) => "another payload".to_string(),
    };
    let first_count = *count.lock().unwrap();
    let children = rx.iter().count();
    let second = thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let count = &count;
                s.spawn(move || {
                    let outer = catch_unwind(AssertUnwindSafe(|| {
                        let inner = catch_unwind(AssertUnwindSafe(|| {
                            let _d = AddsOnDrop(count, 1);
                            panic!("{STAGED}: inner");
                        }));
                        assert!(inner.is_err());
                        let _d = AddsOnDrop(count, 50);
                        *count.lock().unwrap() += 1;
                        panic!("{STAGED}: in the handler");
                    }));
                    u32::from(outer.is_err()) + 1
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum::<u32>()
    });
    let count = *count.lock().unwrap();
    format!("body: {body}, count {first_count}, children {children} | second Ok({second}), count {count}")
}

// ---------------------------------------------------------------------------
// Nested catch_unwind and resume_unwind.

/// A payload of this set's own type.
struct Job(u32);

/// Logs `(.1, thread::panicking())` under a lock when dropped.
struct Notes(Arc<Mutex<Vec<(u32, String)>>>, u32, &'static str);

impl Drop for Notes {
    fn drop(&mut self) {
        let line = format!("{} {}", self.2, thread::panicking());
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push((self.1, line));
    }
}

#[test]
fn nested_catches_and_a_resumed_payload_replay_to_std_s_answer() {
    let each = |k: u32| format!("[inner true, caught {k}, outer true, resumed {k}]");
    let expected = format!("{} {}", each(0), each(1));
    replays_to("eighth-nested", &expected, true, nested_catch_and_resume);
}

/// Two workers each: an outer `catch_unwind` with a `Notes` alive, inside
/// it an inner one whose `Notes` is dropped by a `panic_any(Job(k))`; the
/// handler logs the payload and resumes it with `resume_unwind`, which
/// unwinds the outer `Notes` (std: `panicking()` is true there, the hook
/// is not called) to the outer catch, which gets the same `Job(k)`.
pub(super) fn nested_catch_and_resume() -> String {
    let log = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..2u32)
        .map(|k| {
            let log = Arc::clone(&log);
            thread::spawn(move || {
                let outer = catch_unwind(AssertUnwindSafe(|| {
                    let _o = Notes(Arc::clone(&log), k, "outer");
                    let inner = catch_unwind(AssertUnwindSafe(|| {
                        let _i = Notes(Arc::clone(&log), k, "inner");
                        thread::yield_now();
                        panic_any(Job(k));
                    }));
                    let payload = inner.expect_err("the inner panic");
                    let job = payload.downcast_ref::<Job>().map_or(99, |j| j.0);
                    log.lock().unwrap().push((k, format!("caught {job}")));
                    resume_unwind(payload);
                }));
                let job = outer.err().and_then(|p| p.downcast::<Job>().ok()).map_or(99, |j| j.0);
                log.lock().unwrap().push((k, format!("resumed {job}")));
            })
        })
        .collect();
    for h in workers {
        h.join().unwrap();
    }
    let log = log.lock().unwrap();
    (0..2)
        .map(|k| {
            let lines: Vec<&str> = log.iter().filter(|l| l.0 == k).map(|l| l.1.as_str()).collect();
            format!("[{}]", lines.join(", "))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------
// A Drop that joins a thread while its thread unwinds.

/// Joins its thread when dropped, and keeps what the thread returned.
struct JoinsOnDrop<'a>(Option<JoinHandle<bool>>, &'a Mutex<Option<bool>>);

impl Drop for JoinsOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(h) = self.0.take() {
            let r = h.join().unwrap_or(true);
            *self.1.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
        }
    }
}

#[test]
fn a_drop_that_joins_while_unwinding_replays_to_std_s_answer() {
    replays_to(
        "eighth-drop-joins",
        "caught true, worker panicking Some(false), log [\"got 5, panicking false\"], poisoned false",
        true,
        drop_joins_while_unwinding,
    );
}

/// A worker takes a lock, then receives on a rendezvous, then lets the lock
/// go, noting `thread::panicking()` before and after; the main thread
/// sends it 5 and panics with a `JoinsOnDrop` alive, whose `Drop` waits
/// for the worker while the main thread unwinds. std: the worker never
/// sees itself panicking, and the lock it let go is not poisoned.
pub(super) fn drop_joins_while_unwinding() -> String {
    let log = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = channel::bounded::<u32>(0);
    let joined = Mutex::new(None);
    let worker = {
        let log = Arc::clone(&log);
        thread::spawn(move || {
            let mut g = log.lock().unwrap();
            let v = rx.recv().unwrap();
            thread::yield_now();
            g.push(format!("got {v}, panicking {}", thread::panicking()));
            drop(g);
            thread::panicking()
        })
    };
    let caught = catch_unwind(AssertUnwindSafe(|| {
        let _j = JoinsOnDrop(Some(worker), &joined);
        tx.send(5).unwrap();
        panic!("{STAGED}: with a join pending");
    }))
    .is_err();
    let worker_panicking = *joined.lock().unwrap();
    let poisoned = log.is_poisoned();
    let log = log.lock().unwrap_or_else(|e| e.into_inner()).clone();
    format!("caught {caught}, worker panicking {worker_panicking:?}, log {log:?}, poisoned {poisoned}")
}

// ---------------------------------------------------------------------------
// A Barrier with a participant that panics first.

#[test]
fn a_barrier_with_a_participant_that_panics_first_replays_to_std_s_answer() {
    replays_to("eighth-barrier", "leaders 2, caught 1, sum 16", true, barrier_with_a_panicker);
}

/// Three threads meet at a `Barrier(3)` twice, adding 1 under a lock after
/// each meeting; before the first, participant 1 panics (caught) with an
/// `AddsOnDrop` of 10 alive, then waits like the others. One leader per
/// meeting; 10 + 2 * 3.
pub(super) fn barrier_with_a_panicker() -> String {
    let barrier = Arc::new(Barrier::new(3));
    let sum = Arc::new(Mutex::new(0u32));
    let threads: Vec<_> = (0..3u32)
        .map(|p| {
            let (barrier, sum) = (Arc::clone(&barrier), Arc::clone(&sum));
            thread::spawn(move || {
                let mut leaders = 0;
                let mut caught = 0;
                for round in 0..2 {
                    if p == 1 && round == 0 {
                        let r = catch_unwind(AssertUnwindSafe(|| {
                            let _d = AddsOnDrop(&sum, 10);
                            thread::yield_now();
                            panic!("{STAGED}: before the barrier");
                        }));
                        caught += u32::from(r.is_err());
                    }
                    leaders += u32::from(barrier.wait().is_leader());
                    *sum.lock().unwrap() += 1;
                }
                (leaders, caught)
            })
        })
        .collect();
    let (mut leaders, mut caught) = (0, 0);
    for h in threads {
        let (l, c) = h.join().unwrap();
        leaders += l;
        caught += c;
    }
    let sum = *sum.lock().unwrap();
    format!("leaders {leaders}, caught {caught}, sum {sum}")
}
