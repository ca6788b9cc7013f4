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

use crate::log::{read_store, turn_of, Loads, Numbers, Ranks, ReplayLog, Turns, Window};

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
    /// How many kept loads read each store: a coroutine replay holds the
    /// next store until they were made, so a load the cut dropped must not
    /// be counted (the store after it would wait for it forever).
    loads: Loads,
}

/// The mutex each thread gave up in a condvar wait it entered where its
/// kept events end: a recorded deadlock's waiter (the mutex unknown: every
/// mutex it holds), or a thread whose first dropped event is a wait (the
/// replay's wait lets the mutex go before it learns the log ended there).
#[derive(Debug, Default)]
struct GaveUp {
    any_mutex: HashSet<ThreadIndex>,
    mutex: HashMap<ThreadIndex, ObjectIndex>,
}

impl GaveUp {
    fn gave_up(&self, thread: ThreadIndex, mutex: ObjectIndex) -> bool {
        self.any_mutex.contains(&thread) || self.mutex.get(&thread) == Some(&mutex)
    }

    /// `thread`'s kept events now end before `first_dropped`.
    fn cut(&mut self, thread: ThreadIndex, first_dropped: Option<&Event>) {
        match first_dropped.map(|e| e.outcome()) {
            Some(Ok(Outcome::CondWait { mutex, .. })) => self.mutex.insert(thread, mutex),
            _ => self.mutex.remove(&thread),
        };
    }
}

fn provided(log: &ReplayLog, gave_up: &GaveUp) -> Provided {
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
            if let Some(store) = outcome.as_ref().ok().and_then(read_store) {
                *p.loads.entry((e.object, store)).or_insert(0) += 1;
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
        // In a condvar wait at the end: the wait gave its mutex up.
        p.released.extend(
            holding
                .into_iter()
                .filter(|&((object, class), _)| class == TurnClass::Lock && gave_up.gave_up(t, object))
                .map(|((object, class), held)| (object, class, held)),
        );
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
    let mut gave_up = GaveUp { any_mutex: waiting.clone(), ..GaveUp::default() };
    loop {
        let p = provided(log, &gave_up);
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
                // Never derived from an outcome: only replayed sends and
                // locks wait for them.
                Some(WaitFor::Received { .. } | WaitFor::Room { .. } | WaitFor::Released { .. }) => false,
            }
        };
        let mut cuts = Vec::new();
        for (&t, l) in log.threads() {
            // The root has no spawn event; any other thread needs its own.
            let (at, last, first_dropped) = if t != ROOT && !p.spawned.contains(&t) {
                (0, None, None)
            } else {
                let (mut last, mut first_dropped) = (None, None);
                let at = l.scan(t, l.len, log.counters(), |_, e| {
                    let lost = depends_on_lost(e);
                    if lost {
                        first_dropped = Some(*e);
                    } else {
                        last = Some(*e);
                    }
                    !lost
                });
                (at, last, first_dropped)
            };
            if at < l.len {
                gave_up.cut(t, first_dropped.as_ref());
                cuts.push((t, at, last));
            }
        }
        if cuts.is_empty() {
            log.set_ranks(Ranks::new(p.turns));
            log.set_kept_receives(p.received);
            log.set_loads(p.loads);
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
mod tests;
