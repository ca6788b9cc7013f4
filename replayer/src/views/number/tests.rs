use super::*;
use reprise_recorder::trace::format::{FormatVersion, Header, TraceMode};
use reprise_recorder::trace::model::{ObjectIndex, Op};
use std::collections::BTreeMap;

fn ev(op: Op, object: ObjectIndex, a: u64, b: u64, c: u64) -> Event {
    Event { op, object, site: 0, a, b, c }
}

fn start() -> Event {
    ev(Op::ThreadStart, 0, 0, 0, 0)
}

fn exit() -> Event {
    ev(Op::ThreadExit, 0, 0, 0, 0)
}

fn spawn(child: u64) -> Event {
    ev(Op::Spawn, 0, child, 0, 0)
}

/// A trace of threads 0.. with these events.
pub(crate) fn trace_of(threads: Vec<Vec<Event>>) -> TraceFile {
    let events = threads.iter().map(|t| t.len() as u64).sum();
    let threads: BTreeMap<u32, Vec<Record>> = threads
        .into_iter()
        .enumerate()
        .map(|(t, events)| (t as u32, events.into_iter().map(Record::Event).collect()))
        .collect();
    let threads = threads.into_iter().map(|(t, records)| (t, std::sync::Arc::new(records))).collect();
    TraceFile {
        version: FormatVersion::CURRENT,
        header: Header {
            program: "test".into(),
            program_version: "1".into(),
            recorder_version: "0".into(),
            mode: TraceMode::Record,
            parameters: vec![],
            start_unix_ms: 0,
        },
        threads,
        footer: None,
        seal: None,
        chunks: 0,
        events,
        bytes: 0,
        intact_bytes: 0,
        damage: None,
    }
}

fn order_of(trace: &TraceFile) -> Vec<(u32, u64)> {
    number(trace).iter().map(|n| (n.thread, n.index)).collect()
}

#[test]
fn a_receive_is_numbered_after_its_send_though_its_thread_is_lower() {
    let trace = trace_of(vec![
        vec![start(), spawn(1), ev(Op::Recv, 5, 2, 1, 0), exit()],
        vec![start(), ev(Op::Send, 5, 1, 0, 0), exit()],
    ]);
    let n = number(&trace);
    assert_eq!(n.forced_count(), 0);
    assert!(n.global(0, 2).unwrap() > n.global(1, 1).unwrap());
    // The lowest ready thread goes first: thread 0 until it waits.
    assert_eq!(order_of(&trace), vec![(0, 0), (0, 1), (1, 0), (1, 1), (0, 2), (0, 3), (1, 2)]);
}

#[test]
fn a_lock_turn_is_numbered_after_the_previous_holders_unlock() {
    // Thread 1 took turn 1 and unlocked; thread 0 took turn 2.
    let trace = trace_of(vec![
        vec![start(), spawn(1), ev(Op::Lock, 7, 2, 0, 0), ev(Op::Unlock, 7, 0, 0, 0)],
        vec![start(), ev(Op::Lock, 7, 1, 0, 0), ev(Op::Random, 0, 4, 0, 0), ev(Op::Unlock, 7, 0, 0, 0)],
    ]);
    let n = number(&trace);
    assert_eq!(n.forced_count(), 0);
    assert!(n.global(0, 2).unwrap() > n.global(1, 3).unwrap(), "{:?}", order_of(&trace));
}

#[test]
fn a_condvar_wait_releases_its_mutex_and_nothing_is_forced() {
    // Thread 0: lock 1, wait (reacquires as turn 3), unlock. Thread 1:
    // lock 2, notify, unlock.
    let trace = trace_of(vec![
        vec![
            start(),
            spawn(1),
            ev(Op::Lock, 7, 1, 0, 0),
            ev(Op::CondWait, 8, 3, 0, 7),
            ev(Op::Unlock, 7, 0, 0, 0),
        ],
        vec![start(), ev(Op::Lock, 7, 2, 0, 0), ev(Op::Notify, 8, 0, 0, 0), ev(Op::Unlock, 7, 0, 0, 0)],
    ]);
    let n = number(&trace);
    assert_eq!(n.forced_count(), 0);
    assert!(n.global(1, 1).unwrap() > n.global(0, 2).unwrap());
    assert!(n.global(0, 3).unwrap() > n.global(1, 3).unwrap());
}

#[test]
fn a_load_comes_between_the_store_it_read_and_the_next_store() {
    let trace = trace_of(vec![
        vec![start(), spawn(1), ev(Op::AtomicLoad, 3, 1, 10, 0)],
        vec![start(), ev(Op::AtomicStore, 3, 1, 0, 0), ev(Op::AtomicStore, 3, 2, 0, 0)],
    ]);
    let n = number(&trace);
    let load = n.global(0, 2).unwrap();
    assert!(load > n.global(1, 1).unwrap());
    assert!(load < n.global(1, 2).unwrap(), "{:?}", order_of(&trace));
}

#[test]
fn a_join_follows_the_exit_and_a_child_its_spawn() {
    let trace = trace_of(vec![
        vec![start(), ev(Op::Random, 0, 1, 0, 0), spawn(1), ev(Op::Join, 0, 1, 0, 0)],
        vec![start(), exit()],
    ]);
    let n = number(&trace);
    assert!(n.global(1, 0).unwrap() > n.global(0, 2).unwrap());
    assert!(n.global(0, 3).unwrap() > n.global(1, 1).unwrap());
}

#[test]
fn a_write_lock_waits_for_the_readers_of_the_previous_write_to_unlock() {
    let trace = trace_of(vec![
        vec![start(), spawn(1), ev(Op::WriteLock, 4, 1, 1, 0), ev(Op::WriteUnlock, 4, 0, 0, 0)],
        vec![start(), ev(Op::ReadLock, 4, 0, 0, 0), ev(Op::ReadUnlock, 4, 0, 0, 0)],
    ]);
    let n = number(&trace);
    assert_eq!(n.forced_count(), 0);
    assert!(n.global(0, 2).unwrap() > n.global(1, 2).unwrap());
}

#[test]
fn a_damaged_trace_is_numbered_whole_with_the_orphans_forced() {
    // The send of (1, 2) was lost.
    let trace = trace_of(vec![
        vec![start(), spawn(1), ev(Op::Recv, 5, 2, 2, 0), ev(Op::Random, 0, 1, 0, 0)],
        vec![start(), ev(Op::Send, 5, 1, 0, 0)],
    ]);
    let n = number(&trace);
    assert_eq!(n.len(), 6);
    assert_eq!(n.forced_count(), 1);
    let forced: Vec<_> = n.iter().filter(|e| e.forced).map(|e| (e.thread, e.index)).collect();
    assert_eq!(forced, vec![(0, 2)]);
}

#[test]
fn numbers_and_positions_are_inverse_and_iteration_can_start_anywhere() {
    let trace = trace_of(vec![
        vec![start(), spawn(1), ev(Op::Recv, 5, 2, 1, 0), exit()],
        vec![start(), ev(Op::Send, 5, 1, 0, 0), exit()],
    ]);
    let n = number(&trace);
    for e in n.iter() {
        assert_eq!(n.global(e.thread, e.index), Some(e.number));
        assert_eq!(n.get(e.number).map(|g| (g.thread, g.index)), Some((e.thread, e.index)));
    }
    assert_eq!(n.iter_from(5).map(|e| e.number).collect::<Vec<_>>(), vec![5, 6, 7]);
    assert!(n.get(0).is_none() && n.get(8).is_none() && n.global(0, 4).is_none() && n.global(9, 0).is_none());
}

#[test]
fn numbering_the_same_trace_twice_gives_the_same_numbers() {
    let trace = trace_of(vec![
        vec![start(), spawn(1), spawn(2), ev(Op::Lock, 7, 1, 0, 0), ev(Op::Unlock, 7, 0, 0, 0)],
        vec![start(), ev(Op::Lock, 7, 3, 0, 0), ev(Op::Unlock, 7, 0, 0, 0)],
        vec![start(), ev(Op::Lock, 7, 2, 0, 0), ev(Op::Unlock, 7, 0, 0, 0)],
    ]);
    assert_eq!(order_of(&trace), order_of(&trace));
    let n = number(&trace);
    assert_eq!(n.forced_count(), 0);
    // Turn order 1 (t0), 2 (t2), 3 (t1), each after the previous unlock.
    assert!(n.global(2, 1).unwrap() > n.global(0, 4).unwrap());
    assert!(n.global(1, 1).unwrap() > n.global(2, 2).unwrap());
}

#[test]
fn a_threads_position_counts_its_events_at_or_below_a_number() {
    let trace = trace_of(vec![
        vec![start(), spawn(1), ev(Op::Recv, 5, 2, 1, 0), exit()],
        vec![start(), ev(Op::Send, 5, 1, 0, 0), exit()],
    ]);
    let n = number(&trace);
    // Order: t0 #1 #2, t1 #3 #4 #5?, ...: check against a direct count.
    for number in 0..=n.len() + 1 {
        for thread in [0, 1] {
            let direct = n.iter().filter(|e| e.thread == thread && e.number <= number).count() as u64;
            assert_eq!(n.thread_position(thread, number), direct, "thread {thread} at {number}");
        }
    }
    assert_eq!(n.thread_position(7, 3), 0);
}
