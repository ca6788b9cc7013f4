//! A market session gate: the root opens rounds by bumping a generation
//! under a `Mutex` and waking every trader with `Condvar::notify_all`; the
//! traders wait on it with `wait_while` (the generation they last saw),
//! rush for a small allotment (a thundering herd: three units, five
//! traders), and acknowledge on a second condvar the root waits on with
//! `wait_while` until every trader has seen the round. The planted bug
//! wakes one trader per round (`notify_one`): the root waits for
//! acknowledgements that never come.

use std::sync::Arc;

use reprise::sync::{Condvar, Mutex};
use reprise::thread;

const TRADERS: usize = 5;
const ROUNDS: u64 = 3;
const ALLOTMENT: u32 = 3;

struct Session {
    generation: u64,
    closed: bool,
    allotment: u32,
    acks: usize,
    fills: Vec<(u64, usize)>,
}

struct Gate {
    session: Mutex<Session>,
    opened: Condvar,
    acked: Condvar,
}

fn session(broadcast: bool) -> Vec<(u64, usize)> {
    let gate = Arc::new(Gate {
        session: Mutex::new(Session {
            generation: 0,
            closed: false,
            allotment: 0,
            acks: 0,
            fills: Vec::new(),
        }),
        opened: Condvar::new(),
        acked: Condvar::new(),
    });
    let traders: Vec<_> = (0..TRADERS)
        .map(|trader| {
            let gate = Arc::clone(&gate);
            thread::Builder::new()
                .name(format!("trader-{trader}"))
                .spawn(move || {
                    let mut seen = 0;
                    let mut filled = 0u32;
                    loop {
                        let guard = gate.session.lock().unwrap();
                        let mut s =
                            gate.opened.wait_while(guard, |s| s.generation == seen && !s.closed).unwrap();
                        if s.closed {
                            return filled;
                        }
                        seen = s.generation;
                        if s.allotment > 0 {
                            s.allotment -= 1;
                            filled += 1;
                            s.fills.push((seen, trader));
                        }
                        s.acks += 1;
                        drop(s);
                        gate.acked.notify_one();
                    }
                })
                .unwrap()
        })
        .collect();
    for _ in 0..ROUNDS {
        let mut s = gate.session.lock().unwrap();
        s.generation += 1;
        s.allotment = ALLOTMENT;
        s.acks = 0;
        drop(s);
        if broadcast {
            gate.opened.notify_all();
        } else {
            gate.opened.notify_one();
        }
        let guard = gate.session.lock().unwrap();
        let s = gate.acked.wait_while(guard, |s| s.acks < TRADERS).unwrap();
        assert_eq!(s.allotment, 0, "five traders for three units: all taken");
    }
    gate.session.lock().unwrap().closed = true;
    gate.opened.notify_all();
    let filled: u32 = traders.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(filled, ALLOTMENT * ROUNDS as u32);
    let fills = std::mem::take(&mut gate.session.lock().unwrap().fills);
    fills
}

/// The correct gate: who got each round's units is the schedule's.
pub(crate) fn market_open() -> String {
    format!("fills {:?}", session(true))
}

/// Planted: `notify_one` for a broadcast; a deadlock (the root waits for
/// five acknowledgements, four traders for a wake-up).
pub(crate) fn lone_wakeup() {
    session(false);
}
