//! Cutting a damaged trace to its largest consistent prefix: no receive whose
//! send was lost, no turn whose earlier turns were lost (lock turns, writes
//! and the reads a writer waited for, an atomic's modification order), no
//! join of a thread whose exit was lost, no thread whose spawn was lost.
//!
//! A thread's events from its first missing dependency on are dropped; what
//! is left replays. Dropping can orphan another thread's events, so the cut
//! repeats until nothing changes.

use std::collections::{HashMap, HashSet};

use reprise_recorder::rt::gate::TurnClass;
use reprise_recorder::trace::model::{Event, ObjectIndex, Op, ThreadIndex};

use crate::log::{turn_of, ReplayLog};

/// The root thread of every execution: the one no spawn event names.
const ROOT: ThreadIndex = 0;

/// Cuts `log` in place; returns how many events were dropped.
pub fn cut_to_consistent_prefix(log: &mut ReplayLog) -> u64 {
    let before = log.event_count();
    loop {
        let sent: HashSet<(ThreadIndex, u64)> = log
            .threads
            .iter()
            .flat_map(|(&t, l)| {
                l.events.iter().filter(|e| e.op == Op::Send && e.b == 0).map(move |e| (t, e.a))
            })
            .collect();
        let exited: HashSet<ThreadIndex> =
            log.threads.iter().filter(|(_, l)| l.exited()).map(|(&t, _)| t).collect();
        let spawned: HashSet<ThreadIndex> = log
            .threads
            .values()
            .flat_map(|l| l.events.iter().filter(|e| e.op == Op::Spawn).map(|e| e.a as ThreadIndex))
            .collect();
        // Reads present per (rwlock, the write they saw): a writer waits for
        // as many reads of the previous write as were recorded.
        let mut reads: HashMap<(ObjectIndex, u64), u64> = HashMap::new();
        for l in log.threads.values() {
            for e in &l.events {
                let seen = match e.op {
                    Op::ReadLock => Some(e.a),
                    Op::TryReadLock if e.a != 0 => Some(e.a - 1),
                    _ => None,
                };
                if let Some(seen) = seen {
                    *reads.entry((e.object, seen)).or_default() += 1;
                }
            }
        }
        let mut turns: HashMap<(ObjectIndex, TurnClass), Vec<u64>> = HashMap::new();
        for l in log.threads.values() {
            for e in &l.events {
                if let Some((object, class, number)) = turn_of(e) {
                    turns.entry((object, class)).or_default().push(number);
                }
            }
        }
        // The highest number up to which every turn of a counter is present.
        let complete_upto: HashMap<(ObjectIndex, TurnClass), u64> = turns
            .into_iter()
            .map(|(key, mut numbers)| {
                numbers.sort_unstable();
                numbers.dedup();
                let upto = numbers.iter().enumerate().take_while(|&(i, &n)| n == i as u64 + 1).count() as u64;
                (key, upto)
            })
            .collect();
        let depends_on_lost = |e: &Event| -> bool {
            let message = match e.op {
                Op::Recv | Op::TryRecv | Op::RecvTimeout | Op::Select if e.a != 0 => {
                    Some(((e.a - 1) as ThreadIndex, e.b))
                }
                _ => None,
            };
            if let Some(id) = message {
                if !sent.contains(&id) {
                    return true;
                }
            }
            if let Some((object, class, number)) = turn_of(e) {
                if number > complete_upto.get(&(object, class)).copied().unwrap_or(0) {
                    return true;
                }
            }
            let seen = match e.op {
                Op::AtomicLoad => Some((e.object, TurnClass::Store, e.a)),
                Op::AtomicCas if e.c == 0 => Some((e.object, TurnClass::Store, e.a)),
                Op::ReadLock => Some((e.object, TurnClass::Write, e.a)),
                Op::TryReadLock if e.a != 0 => Some((e.object, TurnClass::Write, e.a - 1)),
                _ => None,
            };
            if let Some((object, class, number)) = seen {
                if number > complete_upto.get(&(object, class)).copied().unwrap_or(0) {
                    return true;
                }
            }
            let write = match e.op {
                Op::WriteLock => Some(e.a),
                Op::TryWriteLock if e.a != 0 => Some(e.a - 1),
                _ => None,
            };
            if let Some(n) = write {
                let present = reads.get(&(e.object, n.saturating_sub(1))).copied().unwrap_or(0);
                if present < e.b {
                    return true;
                }
            }
            e.op == Op::Join && !exited.contains(&(e.a as ThreadIndex))
        };
        let mut changed = false;
        for (&t, l) in log.threads.iter_mut() {
            // The root has no spawn event; any other thread needs its own.
            let first_lost = if t != ROOT && !spawned.contains(&t) {
                Some(0)
            } else {
                l.events.iter().position(depends_on_lost)
            };
            if let Some(at) = first_lost.filter(|&at| at < l.events.len()) {
                l.events.truncate(at);
                l.blobs.retain(|&i, _| i < at);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    log.index_turns();
    before - log.event_count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::ThreadLog;

    fn ev(op: Op, object: ObjectIndex, a: u64, b: u64, c: u64) -> Event {
        Event { op, object, site: 0, a, b, c }
    }

    fn start() -> Event {
        ev(Op::ThreadStart, 0, 0, 0, 0)
    }

    fn exit() -> Event {
        ev(Op::ThreadExit, 0, 0, 0, 0)
    }

    /// A log of threads 0.. with these events.
    fn log_of(threads: Vec<Vec<Event>>) -> ReplayLog {
        let mut log = ReplayLog::default();
        for (t, events) in threads.into_iter().enumerate() {
            log.threads.insert(t as ThreadIndex, ThreadLog { events, ..ThreadLog::default() });
        }
        log
    }

    fn lengths(log: &ReplayLog) -> Vec<usize> {
        log.threads.values().map(|l| l.events.len()).collect()
    }

    #[test]
    fn a_receive_whose_send_was_lost_is_dropped_with_the_rest_of_its_thread() {
        // Thread 1 received message (thread 0, seq 2); thread 0's log ends
        // after its first send.
        let mut log = log_of(vec![
            vec![start(), ev(Op::Spawn, 0, 1, 0, 0), ev(Op::Send, 5, 1, 0, 0)],
            vec![start(), ev(Op::Recv, 5, 1, 1, 0), ev(Op::Recv, 5, 1, 2, 0), ev(Op::Lock, 6, 1, 0, 0)],
        ]);
        assert_eq!(cut_to_consistent_prefix(&mut log), 2);
        assert_eq!(lengths(&log), vec![3, 2]);
    }

    #[test]
    fn a_lock_turn_after_a_lost_turn_is_dropped() {
        // Turn 2 of mutex 7 was lost with thread 1's tail: turn 3 cannot be taken.
        let mut log = log_of(vec![
            vec![start(), ev(Op::Spawn, 0, 1, 0, 0), ev(Op::Lock, 7, 1, 0, 0), ev(Op::Lock, 7, 3, 0, 0)],
            vec![start()],
        ]);
        assert_eq!(cut_to_consistent_prefix(&mut log), 1);
        assert_eq!(lengths(&log), vec![3, 1]);
    }

    #[test]
    fn a_read_of_a_lost_write_and_a_write_whose_readers_were_lost_are_dropped() {
        // RwLock 4: thread 1 wrote (write 1) and its log ends there; thread 0
        // read write 2, which is lost. Thread 2 wrote write 2 after 2 readers
        // of write 1, but only one such read survives.
        let mut log = log_of(vec![
            vec![start(), ev(Op::Spawn, 0, 1, 0, 0), ev(Op::Spawn, 0, 2, 0, 0), ev(Op::ReadLock, 4, 2, 0, 0)],
            vec![start(), ev(Op::WriteLock, 4, 1, 0, 0), ev(Op::ReadLock, 4, 1, 0, 0)],
            vec![start(), ev(Op::WriteLock, 4, 2, 2, 0), ev(Op::Lock, 9, 1, 0, 0)],
        ]);
        cut_to_consistent_prefix(&mut log);
        assert_eq!(lengths(&log), vec![3, 3, 1]);
    }

    #[test]
    fn a_try_write_whose_readers_were_lost_is_dropped() {
        let mut log = log_of(vec![
            vec![start(), ev(Op::Spawn, 0, 1, 0, 0), ev(Op::WriteLock, 4, 1, 0, 0)],
            vec![start(), ev(Op::TryWriteLock, 4, 3, 1, 0)],
        ]);
        cut_to_consistent_prefix(&mut log);
        assert_eq!(lengths(&log), vec![3, 1], "write 2 needs one read of write 1, none is left");
    }

    #[test]
    fn an_atomic_load_of_a_lost_store_and_a_store_after_a_gap_are_dropped() {
        // Atomic 3: store 1 present, store 2 lost; thread 1 loaded store 2,
        // thread 0 stored 3.
        let mut log = log_of(vec![
            vec![
                start(),
                ev(Op::Spawn, 0, 1, 0, 0),
                ev(Op::AtomicStore, 3, 1, 0, 0),
                ev(Op::AtomicRmw, 3, 3, 0, 0),
            ],
            vec![start(), ev(Op::AtomicLoad, 3, 1, 0, 0), ev(Op::AtomicLoad, 3, 2, 0, 0)],
        ]);
        cut_to_consistent_prefix(&mut log);
        assert_eq!(lengths(&log), vec![3, 2]);
    }

    #[test]
    fn a_join_of_a_thread_whose_exit_was_lost_is_dropped() {
        let mut log = log_of(vec![
            vec![start(), ev(Op::Spawn, 0, 1, 0, 0), ev(Op::Join, 0, 1, 0, 0), exit()],
            vec![start(), ev(Op::Lock, 2, 1, 0, 0)],
        ]);
        cut_to_consistent_prefix(&mut log);
        assert_eq!(lengths(&log), vec![2, 2]);
    }

    #[test]
    fn a_thread_whose_spawn_was_lost_is_dropped_whole_and_what_it_enabled_follows() {
        // Thread 2's spawn was in thread 0's lost tail; thread 1 received a
        // message from thread 2.
        let mut log = log_of(vec![
            vec![start(), ev(Op::Spawn, 0, 1, 0, 0)],
            vec![start(), ev(Op::Lock, 8, 1, 0, 0), ev(Op::Recv, 5, 3, 1, 0)],
            vec![start(), ev(Op::Send, 5, 1, 0, 0), exit()],
        ]);
        cut_to_consistent_prefix(&mut log);
        assert_eq!(lengths(&log), vec![2, 2, 0]);
    }

    #[test]
    fn a_consistent_log_is_left_whole() {
        let mut log = log_of(vec![
            vec![
                start(),
                ev(Op::Spawn, 0, 1, 0, 0),
                ev(Op::Send, 5, 1, 0, 0),
                ev(Op::Join, 0, 1, 0, 0),
                exit(),
            ],
            vec![start(), ev(Op::Recv, 5, 1, 1, 0), ev(Op::Lock, 7, 1, 0, 0), exit()],
        ]);
        assert_eq!(cut_to_consistent_prefix(&mut log), 0);
    }
}
