//! Cutting a damaged trace to its largest consistent prefix: no receive whose
//! send was lost, no turn whose earlier turns were lost (lock turns, writes
//! and the reads a writer waited for, an atomic's modification order), no
//! lock turn whose previous holders' unlocks were lost (a mutex's previous
//! holder; an RwLock's previous writer and the readers a writer waited
//! for), no join of a thread whose exit was lost, no thread whose spawn was
//! lost, no captured value (or panic message) whose bytes were cut short.
//!
//! A thread's events from its first missing dependency on are dropped; what
//! is left replays. Dropping can orphan another thread's events, so the cut
//! repeats until nothing changes.
//!
//! The cut works from the chunk index: each round reads every thread's kept
//! events a chunk at a time, keeping per-counter ranges and per-thread
//! summaries (messages sent, spawns, reads per rwlock write), never the
//! events themselves.

use std::collections::{HashMap, HashSet};

use reprise_recorder::trace::model::{
    Event, Happened, ObjectIndex, Op, Outcome, ThreadIndex, TurnClass, WaitFor,
};

use crate::log::{turn_of, Numbers, Ranks, ReplayLog, Turns, Window};

/// The root thread of every execution: the one no spawn event names.
const ROOT: ThreadIndex = 0;

/// What the kept events of every thread provide to others.
#[derive(Debug, Default)]
struct Provided {
    /// Per sender, the sequence numbers of its messages that were sent.
    sent: HashMap<ThreadIndex, Numbers>,
    /// Per sender, the sequence numbers of its messages that were received.
    received: HashMap<ThreadIndex, Numbers>,
    spawned: HashSet<ThreadIndex>,
    /// Released reads per (rwlock, the write they saw): a writer waits for
    /// as many reads of the previous write as were recorded, and each must
    /// have let go of the real lock.
    reads: HashMap<(ObjectIndex, u64), u64>,
    turns: Turns,
    /// Mutex turns and RwLock writes whose holder's release (an unlock, or
    /// a condvar wait that gave the mutex up) was kept: the next turn, and
    /// a read of that write, can be taken. Without it the replayed holder
    /// stops at its unlock, still holding the real lock, and the next
    /// holder blocks inside `lock`, where no gate sees it.
    released: HashSet<(ObjectIndex, TurnClass, u64)>,
}

fn provided(log: &ReplayLog, waiting: &HashSet<ThreadIndex>) -> Provided {
    let mut p = Provided::default();
    for (&t, l) in log.threads() {
        let mut sent = Numbers::default();
        // The mutex turn or RwLock write this thread holds, per lock.
        let mut holding: HashMap<(ObjectIndex, TurnClass), u64> = HashMap::new();
        // The writes seen by the read locks this thread holds, per RwLock
        // (all the same write: none can happen while a read is held).
        let mut reading: HashMap<ObjectIndex, Vec<u64>> = HashMap::new();
        l.scan(t, l.len, log.counters(), |_, e| {
            let outcome = e.outcome();
            // What the event lets others' waits end on, derived in one place
            // (a select's send arm sends too).
            if let Some(Happened::Sent { seq, .. }) =
                outcome.as_ref().ok().and_then(|o| o.makes_happen(t, e.object))
            {
                sent.insert(seq);
            }
            if let Some(WaitFor::Message { sender, seq }) =
                outcome.as_ref().ok().and_then(|o| o.waits_for(e.object))
            {
                p.received.entry(sender).or_default().insert(seq);
            }
            match outcome {
                Ok(Outcome::Spawn { child }) => {
                    p.spawned.insert(child);
                }
                Ok(
                    Outcome::ReadLock { writes_before }
                    | Outcome::TryReadLock { writes_before: Some(writes_before) },
                ) => reading.entry(e.object).or_default().push(writes_before),
                Ok(Outcome::ReadUnlock) => {
                    if let Some(seen) = reading.get_mut(&e.object).and_then(Vec::pop) {
                        *p.reads.entry((e.object, seen)).or_default() += 1;
                    }
                }
                _ => {}
            }
            if let Some((object, class, number)) = turn_of(e) {
                p.turns.entry((object, class)).or_default().insert(number);
                if matches!(class, TurnClass::Lock | TurnClass::Write) {
                    // Taking a mutex it held: a condvar wait released it.
                    if let Some(held) = holding.insert((object, class), number) {
                        p.released.insert((object, class, held));
                    }
                }
            }
            let unlocked = match e.op {
                Op::Unlock => Some(TurnClass::Lock),
                Op::WriteUnlock => Some(TurnClass::Write),
                _ => None,
            };
            if let Some(class) = unlocked {
                if let Some(held) = holding.remove(&(e.object, class)) {
                    p.released.insert((e.object, class, held));
                }
            }
            true
        });
        if waiting.contains(&t) {
            // Blocked in a condvar wait at the end: the wait gave its mutex
            // up (a condvar waits on a mutex only).
            p.released.extend(
                holding
                    .into_iter()
                    .filter(|&((_, class), _)| class == TurnClass::Lock)
                    .map(|((object, class), held)| (object, class, held)),
            );
        }
        p.sent.insert(t, sent);
    }
    p
}

/// Cuts `log` in place; returns how many events were dropped.
pub fn cut_to_consistent_prefix(log: &mut ReplayLog) -> u64 {
    cut_to_consistent_prefix_with(log, &HashSet::new())
}

/// [`cut_to_consistent_prefix`] of a trace whose `waiting` threads are
/// blocked in a condvar wait at its end (a recorded deadlock's): the wait
/// gave up the mutex they held, though no event says so.
pub fn cut_to_consistent_prefix_with(log: &mut ReplayLog, waiting: &HashSet<ThreadIndex>) -> u64 {
    let before = log.event_count();
    drop_tails_whose_bytes_were_lost(log);
    loop {
        let p = provided(log, waiting);
        let exited: HashSet<ThreadIndex> = log.thread_ids().filter(|&t| log.exited(t)).collect();
        // The highest number up to which every turn of a counter is present.
        let complete_upto: HashMap<(ObjectIndex, TurnClass), u64> =
            p.turns.iter().map(|(&key, numbers)| (key, numbers.complete_upto())).collect();
        let complete = |object, class| complete_upto.get(&(object, class)).copied().unwrap_or(0);
        // Whether the holder of turn `number` let the real lock go (turn
        // 0 is the lock's making: nobody held it).
        let released = |object, class, number| number == 0 || p.released.contains(&(object, class, number));
        // What the event waits for in a replay is what it needs kept: the
        // same derivation from its outcome, in one place.
        let depends_on_lost = |e: &Event| -> bool {
            let Ok(outcome) = e.outcome() else { return true };
            match outcome.waits_for(e.object) {
                None => false,
                Some(WaitFor::Message { sender, seq }) => {
                    !p.sent.get(&sender).is_some_and(|sent| sent.contains(seq))
                }
                Some(WaitFor::Turn { object, class: TurnClass::Lock, number }) => {
                    number > complete(object, TurnClass::Lock)
                        || !released(object, TurnClass::Lock, number.saturating_sub(1))
                }
                // A read of write `number` takes the real lock once that
                // writer let it go.
                Some(WaitFor::Taken { object, class: TurnClass::Write, number }) => {
                    number > complete(object, TurnClass::Write) || !released(object, TurnClass::Write, number)
                }
                Some(WaitFor::Turn { object, class, number } | WaitFor::Taken { object, class, number }) => {
                    number > complete(object, class)
                }
                Some(WaitFor::WriteTurn { object, number, readers }) => {
                    let released_reads =
                        p.reads.get(&(object, number.saturating_sub(1))).copied().unwrap_or(0);
                    number > complete(object, TurnClass::Write)
                        || !released(object, TurnClass::Write, number.saturating_sub(1))
                        || released_reads < readers
                }
                Some(WaitFor::Exit(thread)) => !exited.contains(&thread),
                // Never derived from an outcome: only a replayed rendezvous
                // send waits for it.
                Some(WaitFor::Received { .. }) => false,
            }
        };
        let mut cuts = Vec::new();
        for (&t, l) in log.threads() {
            // The root has no spawn event; any other thread needs its own.
            let (at, last) = if t != ROOT && !p.spawned.contains(&t) {
                (0, None)
            } else {
                let mut last = None;
                let at = l.scan(t, l.len, log.counters(), |_, e| {
                    let lost = depends_on_lost(e);
                    if !lost {
                        last = Some(*e);
                    }
                    !lost
                });
                (at, last)
            };
            if at < l.len {
                cuts.push((t, at, last));
            }
        }
        if cuts.is_empty() {
            log.set_ranks(Ranks::new(p.turns));
            log.set_kept_receives(p.received);
            break;
        }
        for (t, at, last) in cuts {
            if let Some(l) = log.threads_mut().get_mut(&t) {
                l.keep(at, last);
            }
        }
    }
    before - log.event_count()
}

/// Drops a thread's last event when it carries bytes (a captured value, a
/// panic message) and fewer of them were kept than it recorded: the bytes
/// follow the event and may continue into chunks the crash lost. Replayed,
/// such a capture would hand the program a cut value, or fail to open a
/// sealed one. Only the last event can be short: every earlier one's bytes
/// end before it in chunks that were kept. Nothing waits for a capture, a
/// panic or an annotation, so dropping one orphans nobody.
///
/// It reads the tails on the side: moving a thread's own window to its last
/// chunk would make every event before it decode a chunk of its own (a
/// killed payments trace of 13 M events then replayed in 7.5 minutes, not
/// seconds).
fn drop_tails_whose_bytes_were_lost(log: &mut ReplayLog) {
    let mut w = Window::default();
    let mut aside = |log: &ReplayLog, t: ThreadIndex, at: u64| {
        let pos =
            usize::try_from(at.checked_sub(log.window_into(t, at, &mut w).then_some(w.first)?)?).ok()?;
        let event = *w.events.get(pos)?;
        Some((event, w.blob_at(pos).map_or(0, |i| w.blobs[i].1.len() as u64)))
    };
    let mut short = Vec::new();
    for (&t, l) in log.threads() {
        let Some(at) = l.len.checked_sub(1) else { continue };
        let Some((event, kept)) = aside(log, t, at) else { continue };
        let Some(len) = event.outcome().ok().and_then(|o| o.blob_len()) else { continue };
        if kept < len {
            let before = at.checked_sub(1).and_then(|before| aside(log, t, before)).map(|(e, _)| e);
            short.push((t, at, before));
        }
    }
    for (t, at, last) in short {
        if let Some(l) = log.threads_mut().get_mut(&t) {
            l.keep(at, last);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        crate::log::from_events(threads)
    }

    fn lengths(log: &ReplayLog) -> Vec<usize> {
        log.thread_ids().map(|t| log.thread_len(t)).collect()
    }

    /// A killed recording of threads reading sensitive values once kept a
    /// capture whose sealed bytes were in the next chunk, which was lost:
    /// the replay could not open it ("malformed") and called it a
    /// divergence.
    #[test]
    fn a_last_capture_whose_bytes_were_lost_is_dropped() {
        use reprise_recorder::trace::model::Record;
        let capture = |len| Record::Event(Event::new(Outcome::Capture { len, panicked: false }, 0, 0));
        let sealed = |len| Record::Event(Event::new(Outcome::CaptureSensitive { len, panicked: true }, 0, 0));
        let panic = |len| Record::Event(Event::new(Outcome::Panic { len }, 0, 0));
        let bytes = |n: usize| Record::Blob(vec![7; n]);
        let mut log = crate::log::from_thread_records(vec![
            // Whole: nothing to drop.
            std::iter::once(start())
                .chain((1..5).map(|child| ev(Op::Spawn, 0, child, 0, 0)))
                .map(Record::Event)
                .chain([capture(4), bytes(4)])
                .collect(),
            // Part of its bytes kept.
            vec![Record::Event(start()), capture(3), bytes(3), sealed(60), bytes(20)],
            // None of its bytes kept.
            vec![Record::Event(start()), sealed(61)],
            // An empty value has no bytes to lose.
            vec![Record::Event(start()), capture(0)],
            // A panic message cut short.
            vec![Record::Event(start()), panic(9), bytes(8)],
        ]);
        assert_eq!(cut_to_consistent_prefix(&mut log), 3);
        assert_eq!(lengths(&log), vec![6, 2, 1, 2, 1]);
        assert_eq!(log.blob(1, 1).map(|b| b.len()), Some(3), "the whole capture before it is kept");
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
    fn a_message_sent_by_a_select_send_arm_keeps_its_receive() {
        use reprise_recorder::trace::model::{Received, Sent};
        // Thread 0 sent message 1 from a select's send arm; a killed
        // recording once cut thread 1 from that receive on, and with it
        // nearly every thread of a program whose workers sent that way.
        let sent = Event::new(Outcome::SelectSend { arm: 1, sent: Sent::Delivered { seq: 1 } }, 5, 0);
        let received = Event::new(Outcome::Recv(Received::Message { sender: 0, seq: 1 }), 5, 0);
        let mut log = log_of(vec![
            vec![start(), ev(Op::Spawn, 0, 1, 0, 0), sent],
            vec![start(), received, ev(Op::Lock, 6, 1, 0, 0)],
        ]);
        assert_eq!(cut_to_consistent_prefix(&mut log), 0);
        assert_eq!(lengths(&log), vec![3, 3]);
    }

    /// A killed recording of the payments pipeline once kept a worker's lock
    /// turn but lost its unlock, and the next worker's turn: the replay then
    /// waited in the real `lock` until the time backstop.
    #[test]
    fn a_lock_turn_whose_previous_holders_unlock_was_lost_is_dropped() {
        let mut log = log_of(vec![
            vec![start(), ev(Op::Spawn, 0, 1, 0, 0), ev(Op::Lock, 7, 1, 0, 0)],
            vec![start(), ev(Op::Lock, 7, 2, 0, 0), ev(Op::Unlock, 7, 0, 0, 0), ev(Op::Send, 5, 1, 0, 0)],
        ]);
        assert_eq!(cut_to_consistent_prefix(&mut log), 3);
        assert_eq!(lengths(&log), vec![3, 1]);
        // With the unlock kept, the next turn stays.
        let mut log = log_of(vec![
            vec![start(), ev(Op::Spawn, 0, 1, 0, 0), ev(Op::Lock, 7, 1, 0, 0), ev(Op::Unlock, 7, 0, 0, 0)],
            vec![start(), ev(Op::Lock, 7, 2, 0, 0), ev(Op::Unlock, 7, 0, 0, 0)],
        ]);
        assert_eq!(cut_to_consistent_prefix(&mut log), 0);
    }

    /// A recorded deadlock whose thread 0 waits on a condvar: the wait gave
    /// the mutex up, and thread 1's turn after it is no loss.
    #[test]
    fn a_turn_after_a_deadlocked_condvar_waits_mutex_is_kept() {
        let events = || {
            vec![
                vec![start(), ev(Op::Spawn, 0, 1, 0, 0), ev(Op::Lock, 7, 1, 0, 0)],
                vec![start(), ev(Op::Lock, 7, 2, 0, 0)],
            ]
        };
        assert_eq!(cut_to_consistent_prefix_with(&mut log_of(events()), &HashSet::from([0])), 0);
        assert_eq!(cut_to_consistent_prefix(&mut log_of(events())), 1, "not waiting: the unlock was lost");
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
            vec![
                start(),
                ev(Op::WriteLock, 4, 1, 0, 0),
                ev(Op::WriteUnlock, 4, 0, 0, 0),
                ev(Op::ReadLock, 4, 1, 0, 0),
                ev(Op::ReadUnlock, 4, 0, 0, 0),
            ],
            vec![start(), ev(Op::WriteLock, 4, 2, 2, 0), ev(Op::Lock, 9, 1, 0, 0)],
        ]);
        cut_to_consistent_prefix(&mut log);
        assert_eq!(lengths(&log), vec![3, 5, 1]);
    }

    #[test]
    fn a_try_write_whose_readers_were_lost_is_dropped() {
        let mut log = log_of(vec![
            vec![
                start(),
                ev(Op::Spawn, 0, 1, 0, 0),
                ev(Op::WriteLock, 4, 1, 0, 0),
                ev(Op::WriteUnlock, 4, 0, 0, 0),
            ],
            vec![start(), ev(Op::TryWriteLock, 4, 3, 1, 0)],
        ]);
        cut_to_consistent_prefix(&mut log);
        assert_eq!(lengths(&log), vec![4, 1], "write 2 needs one read of write 1, none is left");
    }

    /// As a mutex's turn after a lost unlock: a replayed writer or reader
    /// stopped before its unlock holds the real RwLock, and whoever the cut
    /// kept after it would block inside `read` or `write`.
    #[test]
    fn a_read_or_write_after_a_lost_rwlock_unlock_is_dropped() {
        let writer = |unlocked: bool| {
            let mut events = vec![start(), ev(Op::Spawn, 0, 1, 0, 0), ev(Op::WriteLock, 4, 1, 0, 0)];
            if unlocked {
                events.push(ev(Op::WriteUnlock, 4, 0, 0, 0));
            }
            events
        };
        // Thread 1 reads write 1, which needs the writer's release.
        let reader = || vec![start(), ev(Op::ReadLock, 4, 1, 0, 0), ev(Op::Send, 5, 1, 0, 0)];
        let mut log = log_of(vec![writer(false), reader()]);
        assert_eq!(cut_to_consistent_prefix(&mut log), 2, "write 1's unlock was lost");
        assert_eq!(lengths(&log), vec![3, 1]);
        let mut log = log_of(vec![writer(true), reader()]);
        assert_eq!(cut_to_consistent_prefix(&mut log), 0);

        // Write 2 after write 1 and one read of it: lost write unlock, lost
        // read unlock, both kept.
        let second = || vec![start(), ev(Op::WriteLock, 4, 2, 1, 0), ev(Op::WriteUnlock, 4, 0, 0, 0)];
        let read = |unlocked: bool| {
            let mut events = vec![ev(Op::ReadLock, 4, 1, 0, 0)];
            if unlocked {
                events.push(ev(Op::ReadUnlock, 4, 0, 0, 0));
            }
            events
        };
        let with_read = |writer_unlocked: bool, read_unlocked: bool| {
            let mut first = writer(writer_unlocked);
            if writer_unlocked {
                first.extend(read(read_unlocked));
            }
            log_of(vec![first, second()])
        };
        let mut log = with_read(false, false);
        cut_to_consistent_prefix(&mut log);
        assert_eq!(lengths(&log), vec![3, 1], "write 1's unlock was lost");
        let mut log = with_read(true, false);
        cut_to_consistent_prefix(&mut log);
        assert_eq!(lengths(&log), vec![5, 1], "the read's unlock was lost");
        let mut log = with_read(true, true);
        assert_eq!(cut_to_consistent_prefix(&mut log), 0);
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
    fn a_cut_deep_in_a_long_log_reads_it_a_chunk_at_a_time() {
        // 20,000 messages, each received; then a receive of one never sent.
        let n = 20_000;
        let mut sender = vec![start(), ev(Op::Spawn, 0, 1, 0, 0)];
        sender.extend((1..=n).map(|seq| ev(Op::Send, 5, seq, 0, 0)));
        let mut receiver = vec![start()];
        receiver.extend((1..=n).map(|seq| ev(Op::Recv, 5, 1, seq, 0)));
        receiver.extend([ev(Op::Recv, 5, 1, n + 1, 0), ev(Op::Lock, 7, 1, 0, 0)]);
        let mut log = log_of(vec![sender, receiver]);
        assert_eq!(cut_to_consistent_prefix(&mut log), 2);
        assert_eq!(lengths(&log), vec![n as usize + 2, n as usize + 1]);
        assert_eq!(log.event(1, n as usize).map(|e| e.b), Some(n));
        assert!(log.event(1, n as usize + 1).is_none(), "past the cut");
        assert!(log.peak_window() * 4 < n as usize, "decoded {} events at once", log.peak_window());
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
