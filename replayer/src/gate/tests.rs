//! The gate driven by hand, from threads standing in for a replayed
//! program's: what a wait registers, whom a change wakes.

use std::panic::Location;
use std::sync::Arc;

use reprise_recorder::hook::gate::{Aborted, Call, Gate, Happened, TurnClass, WaitFor};
use reprise_recorder::trace::model::{Event, ObjectIndex, Op, ThreadIndex};

use crate::gate::replay_gate::ReplayGate;
use crate::gate::state::State;
use crate::gate::waiters::Waiter;
use crate::log::ReplayLog;
use crate::report::Stop;

const LOCK: ObjectIndex = 1;
const RWLOCK: ObjectIndex = 3;

fn ev(op: Op, object: ObjectIndex, a: u64, b: u64) -> Event {
    Event { op, object, site: 0, a, b, c: 0 }
}

/// Thread 0 takes lock turn 0, thread 1 sends message 1, thread 2 takes
/// lock turn 1; the RwLock has writes 0 and 1, and reads of write 0.
fn log() -> ReplayLog {
    let start = ev(Op::ThreadStart, 0, 0, 0);
    let exit = ev(Op::ThreadExit, 0, 0, 0);
    let threads = [
        vec![start, ev(Op::Lock, LOCK, 1, 0), ev(Op::WriteLock, RWLOCK, 1, 0), exit],
        vec![start, ev(Op::Send, 2, 1, 0), ev(Op::ReadLock, RWLOCK, 1, 0), exit],
        vec![start, ev(Op::Lock, LOCK, 2, 0), ev(Op::WriteLock, RWLOCK, 2, 1), exit],
    ];
    crate::log::from_events(threads.to_vec())
}

fn gate() -> Arc<ReplayGate> {
    Arc::new(ReplayGate::new(log(), None, false, false))
}

fn call() -> Call {
    Call { op: Op::Lock, object: Some(LOCK), location: Location::caller() }
}

/// Spins (yielding) until every counted thread is parked: decided from the
/// gate's state, never from time.
fn until_all_parked(gate: &ReplayGate) {
    while gate.liveness.snapshot().running() > 0 {
        std::thread::yield_now();
    }
}

/// The lock's turn taken `taken`-th (from 0): acquisition numbers start at 1.
fn turn(taken: u64) -> WaitFor {
    WaitFor::Turn { object: LOCK, class: TurnClass::Lock, number: taken + 1 }
}

#[test]
fn a_wait_that_already_holds_returns_and_registers_nowhere() {
    let gate = gate();
    assert_eq!(gate.wait(0, turn(0), call()), Ok(()));
    assert_eq!(gate.state.registered(&turn(0)), 0);
    // Nothing registered: the change that follows finds nobody to wake.
    gate.happened(Happened::Turn { object: LOCK, class: TurnClass::Lock });
    assert_eq!(gate.state.registered(&turn(1)), 0);
}

#[test]
fn a_change_wakes_the_waiter_on_its_key_and_leaves_the_others_asleep() {
    let gate = gate();
    gate.liveness.enter(); // two waiting threads counted, like two admitted spawns
    let message = WaitFor::Message { sender: 1, seq: 1 };
    let waiter = |thread, until| {
        let gate = Arc::clone(&gate);
        std::thread::spawn(move || gate.wait(thread, until, call()))
    };
    let on_lock = waiter(2, turn(1));
    let on_message = waiter(0, message);
    until_all_parked(&gate);
    assert_eq!(gate.state.registered(&turn(1)), 1);
    assert_eq!(gate.state.registered(&message), 1);
    let lock_bed = gate.slot(2).unwrap().parker.epoch();

    gate.happened(Happened::Sent { sender: 1, seq: 1 });
    assert_eq!(on_message.join().unwrap(), Ok(()));
    assert_eq!(gate.slot(2).unwrap().parker.epoch(), lock_bed, "a send must not wake a lock's waiter");
    assert_eq!(gate.state.registered(&message), 0, "the woken waiter left its key");

    gate.happened(Happened::Turn { object: LOCK, class: TurnClass::Lock });
    assert_eq!(on_lock.join().unwrap(), Ok(()));
}

#[test]
fn a_stale_registration_wakes_nobody() {
    let gate = gate();
    let slot = gate.slot(2).unwrap();
    let old = slot.next_ticket();
    slot.next_ticket(); // the thread moved on to another wait
    let bed = slot.parker.epoch();
    gate.wake(Waiter { threshold: 0, who: 2, ticket: old });
    assert_eq!(slot.parker.epoch(), bed);
}

#[test]
fn a_stop_releases_every_waiter_with_aborted() {
    let gate = gate();
    let waiting = {
        let gate = Arc::clone(&gate);
        std::thread::spawn(move || gate.wait(2, turn(1), call()))
    };
    until_all_parked(&gate);
    gate.stop(Stop::TraceEnded);
    assert_eq!(waiting.join().unwrap(), Err(Aborted));
}

#[test]
fn a_writer_waits_for_its_turn_and_the_readers_of_the_write_before() {
    let state = State::new(&mut log());
    let second_write = WaitFor::WriteTurn { object: RWLOCK, number: 2, readers: 1 };
    let write = Happened::Turn { object: RWLOCK, class: TurnClass::Write };
    assert!(!state.ready(&second_write));
    state.register(2, 1, &second_write);
    let mut woken = Vec::new();
    state.happened(write, |w| woken.push(w.who));
    assert!(!state.ready(&second_write), "its turn, but no reader yet");
    assert!(woken.is_empty());
    state.happened(Happened::Read(RWLOCK), |w| woken.push(w.who));
    assert!(state.ready(&second_write));
    assert_eq!(woken, [2]);
    state.happened(write, |w| woken.push(w.who));
    assert!(!state.ready(&second_write), "a write resets the reads and takes the turn");
}

#[test]
fn a_chain_of_lock_turns_across_threads_runs_to_its_end() {
    // Many threads, each waiting for the turn the one before hands on: any
    // lost wake-up leaves this test hanging.
    const THREADS: u64 = 64;
    let start = ev(Op::ThreadStart, 0, 0, 0);
    let log = crate::log::from_events(
        (0..THREADS).map(|t| vec![start, ev(Op::Lock, LOCK, THREADS - t, 0)]).collect(),
    );
    let gate = Arc::new(ReplayGate::new(log, None, false, false));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let gate = Arc::clone(&gate);
            gate.liveness.enter();
            std::thread::spawn(move || {
                let result = gate.wait(t as ThreadIndex, turn(THREADS - 1 - t), call());
                gate.happened(Happened::Turn { object: LOCK, class: TurnClass::Lock });
                result
            })
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap(), Ok(()));
    }
    assert_eq!(gate.state.registered(&turn(0)), 0, "every waiter left its key");
}

/// A killed recording kept thread 0's rendezvous send of message 1 but lost
/// the receive that took it: nothing in the replay will take it, so the
/// send does not wait (its sender replays the rest of its kept events).
/// Message 2, whose receive was kept, still waits for it.
#[test]
fn after_a_cut_a_rendezvous_send_whose_receive_was_lost_does_not_wait() {
    use reprise_recorder::trace::model::{Outcome, Received};
    let start = ev(Op::ThreadStart, 0, 0, 0);
    let received = Event::new(Outcome::Recv(Received::Message { sender: 0, seq: 2 }), 5, 0);
    let threads = vec![
        vec![start, ev(Op::Spawn, 0, 1, 0), ev(Op::Send, 5, 1, 0), ev(Op::Send, 5, 2, 0)],
        vec![start, received],
    ];
    let lost = |seq| WaitFor::Received { sender: 0, seq };
    let whole = State::new(&mut crate::log::from_events(threads.clone()));
    assert!(!whole.ready(&lost(1)), "a whole log: every send's receive is there");
    let mut log = crate::log::from_events(threads);
    assert_eq!(crate::prefix::cut_to_consistent_prefix(&mut log), 0);
    let state = State::new(&mut log);
    assert!(state.ready(&lost(1)));
    assert!(!state.ready(&lost(2)), "its receive was kept: wait for it");
}

/// What the gate keeps of the log per short-lived object: the ranks move
/// into its own counters and the loads per store, which only a coroutine
/// replay asks, are dropped. A log of many atomics, each stored once and
/// loaded twice, and mutexes, each locked once.
#[test]
fn the_gate_keeps_no_second_copy_of_the_ranks_and_no_loads() {
    use reprise_recorder::trace::model::Outcome;
    let n = 300u32;
    let mut events = vec![ev(Op::ThreadStart, 0, 0, 0)];
    for object in 1..=n {
        events.push(Event::new(Outcome::AtomicStore { store: 1 }, 2 * object, 0));
        for _ in 0..2 {
            events.push(Event::new(Outcome::AtomicLoad { store: 1, value: 0 }, 2 * object, 0));
        }
        events.push(Event::new(Outcome::Lock { acquisition: 1 }, 2 * object + 1, 0));
    }
    events.push(ev(Op::ThreadExit, 0, 0, 0));
    let log = crate::log::from_events(vec![events]);
    assert_eq!(log.loads_of(2, 1), 2);
    assert_eq!(log.rank_ranges(), 2 * n as usize, "a store counter and a lock counter per pair");
    let gate = ReplayGate::new(log, None, false, false);
    assert_eq!(gate.log.rank_ranges(), 0, "the ranks moved to the gate's counters");
    assert_eq!(gate.log.loads_of(2, 1), 0, "the loads were dropped");
    let second = WaitFor::Turn { object: 3, class: TurnClass::Lock, number: 1 };
    assert!(gate.state.ready(&second), "the gate answers from its own copy");
    let unrecorded = WaitFor::Turn { object: 3, class: TurnClass::Lock, number: 2 };
    assert!(gate.state.impossible(&unrecorded, true).is_some(), "and still knows what was never recorded");
}
