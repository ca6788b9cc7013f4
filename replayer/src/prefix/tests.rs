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

/// A flight dump taken mid-run once lost its lockstep threads' last
/// turns, and the cut then unravelled the whole run a round at a time:
/// dropping a condvar wait's reacquisition lost the release of the turn
/// its thread held before waiting, which dropped the next holder, whose
/// own wait was next. Replayed, a wait gives its mutex up before it
/// learns the log ended there, so the turn it held is released.
#[test]
fn a_dropped_condvar_wait_still_releases_the_mutex_it_gave_up() {
    // Thread 0 holds turn 1 of mutex 7 and waits on `waited`, taking it
    // back at turn 4, after thread 2's turn 3.
    let log_waiting_on = |waited, third: Vec<Event>| {
        let wait = Event::new(Outcome::CondWait { reacquisition: 4, timed_out: false, mutex: waited }, 8, 0);
        log_of(vec![
            vec![
                start(),
                ev(Op::Spawn, 0, 1, 0, 0),
                ev(Op::Spawn, 0, 2, 0, 0),
                ev(Op::Lock, 7, 1, 0, 0),
                wait,
            ],
            vec![start(), ev(Op::Lock, 7, 2, 0, 0), ev(Op::Unlock, 7, 0, 0, 0), ev(Op::Send, 5, 1, 0, 0)],
            third,
        ])
    };
    // Turn 3 was lost with thread 2's tail.
    let mut log = log_waiting_on(7, vec![start()]);
    assert_eq!(cut_to_consistent_prefix(&mut log), 1, "only the wait");
    assert_eq!(lengths(&log), vec![4, 4, 1]);
    // A wait on another mutex releases nothing of mutex 7.
    let mut log = log_waiting_on(9, vec![start(), ev(Op::Lock, 9, 1, 0, 0), ev(Op::Lock, 9, 2, 0, 0)]);
    cut_to_consistent_prefix(&mut log);
    assert_eq!(lengths(&log)[1], 1, "turn 2 of mutex 7 waits for an unlock nobody kept");
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
        vec![start(), ev(Op::Spawn, 0, 1, 0, 0), ev(Op::Send, 5, 1, 0, 0), ev(Op::Join, 0, 1, 0, 0), exit()],
        vec![start(), ev(Op::Recv, 5, 1, 1, 0), ev(Op::Lock, 7, 1, 0, 0), exit()],
    ]);
    assert_eq!(cut_to_consistent_prefix(&mut log), 0);
}

/// A flight dump of threads in lockstep kept a store whose previous store's
/// load (by a thread cut before it) was dropped: the coroutine replay held
/// the store for that load forever and ended one event short.
#[test]
fn a_load_the_cut_drops_is_no_longer_waited_for() {
    // Thread 0 stores 1 and 2; thread 1 loads store 1 after a receive of a
    // message that was never kept, so the cut drops both.
    let store = |n| Event::new(Outcome::AtomicStore { store: n }, 7, 0);
    let load = Event::new(Outcome::AtomicLoad { store: 1, value: 1 }, 7, 0);
    let mut log = log_of(vec![
        vec![start(), ev(Op::Spawn, 0, 1, 0, 0), store(1), store(2)],
        vec![start(), ev(Op::Recv, 5, 1, 1, 0), load],
    ]);
    assert_eq!(log.loads_of(7, 1), 1, "before the cut");
    assert_eq!(cut_to_consistent_prefix(&mut log), 2);
    assert_eq!(lengths(&log), vec![4, 1]);
    assert_eq!(log.loads_of(7, 1), 0, "the only load of store 1 was cut");
}
