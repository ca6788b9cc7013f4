//! The deterministic order behind the global event numbers: a topological
//! order of the per-thread streams in which every event comes after what it
//! waited for, choosing at each step the lowest-indexed thread whose next
//! event can happen.
//!
//! What an event waits for is [`Outcome::waits_for`], plus the edges a view
//! must show that no replay waits for: a lock turn comes after the previous
//! holder's unlock (or its condvar wait, which releases it), a read lock
//! after the writer's unlock, a write after the readers' unlocks, a store
//! after every load that read the store before it, a thread's first event
//! after its spawn, and a send after the send of the message its receiver
//! took just before it from the same channel (channels are FIFO: a
//! receiver's order is the queue's). All of these are edges between recorded events, so a
//! whole trace never gets stuck; a damaged one may, and then the lowest
//! thread's next event is placed anyway and marked forced.
//!
//! A thread that cannot go on waits under one key (an object, a sender, a
//! thread's exit or spawn) and is looked at again only when something under
//! that key happens: each step costs O(log threads), not O(threads).

use std::collections::{BTreeSet, HashMap};

use reprise_recorder::trace::model::{
    Event, ObjectIndex, Outcome, Received, Record, Sent, ThreadIndex, TurnClass, WaitFor,
};

/// The root thread: the only one without a spawn event.
const ROOT: ThreadIndex = 0;

/// One thread's events as the order walks them.
pub(super) struct Stream<'t> {
    pub(super) thread: ThreadIndex,
    pub(super) records: &'t [Record],
    /// The record index of each of its events.
    pub(super) positions: Vec<u32>,
    next: usize,
}

impl<'t> Stream<'t> {
    pub(super) fn new(thread: ThreadIndex, records: &'t [Record]) -> Stream<'t> {
        let positions = records
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r, Record::Event(_)))
            .map_while(|(i, _)| u32::try_from(i).ok())
            .collect();
        Stream { thread, records, positions, next: 0 }
    }

    pub(super) fn event(&self, index: usize) -> Option<&'t Event> {
        let records: &'t [Record] = self.records;
        match records.get(*self.positions.get(index)? as usize)? {
            Record::Event(e) => Some(e),
            _ => None,
        }
    }

    fn peek(&self) -> Option<&'t Event> {
        self.event(self.next)
    }
}

/// What a blocked thread waits under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    Object(ObjectIndex),
    Sender(ThreadIndex),
    Exit(ThreadIndex),
    Spawn(ThreadIndex),
}

/// What the events placed so far have made true.
#[derive(Default)]
struct State {
    /// The highest turn number taken per counter.
    turns: HashMap<(ObjectIndex, TurnClass), u64>,
    /// Who holds a mutex or an RwLock's write lock.
    holder: HashMap<ObjectIndex, ThreadIndex>,
    /// How many read locks of an RwLock are held.
    reading: HashMap<ObjectIndex, u64>,
    /// Read locks placed per (RwLock, writes before them).
    reads_seen: HashMap<(ObjectIndex, u64), u64>,
    /// Loads (and parks, failed compare_exchanges) of store `n` not yet
    /// placed, per (object, n): store `n + 1` comes after them.
    loads_left: HashMap<(ObjectIndex, u64), u64>,
    /// The highest message sequence number each sender delivered.
    sent: HashMap<ThreadIndex, u64>,
    /// Per message `(sender, seq)`, the message its receiver took just
    /// before it from the same channel, when another thread sent that one:
    /// it was queued first.
    queued_after: HashMap<(ThreadIndex, u64), (ThreadIndex, u64)>,
    exited: BTreeSet<ThreadIndex>,
    spawned: BTreeSet<ThreadIndex>,
}

/// A load-like wait: it reads store `n` of `object`'s modification order.
fn reads_store(outcome: &Outcome, object: ObjectIndex) -> Option<(ObjectIndex, u64)> {
    match outcome.waits_for(object) {
        Some(WaitFor::Taken { object, class: TurnClass::Store, number }) => Some((object, number)),
        _ => None,
    }
}

fn is_read_lock(outcome: &Outcome) -> Option<u64> {
    match *outcome {
        Outcome::ReadLock { writes_before } | Outcome::TryReadLock { writes_before: Some(writes_before) } => {
            Some(writes_before)
        }
        _ => None,
    }
}

/// Orders the streams; `place(slot, forced)` is called once per event in
/// the order (slot: the stream's position in `streams`).
pub(super) fn order(streams: &mut [Stream<'_>], mut place: impl FnMut(usize, bool)) {
    let mut state = State::default();
    look_ahead(streams, &mut state);
    let slot_of: HashMap<ThreadIndex, usize> =
        streams.iter().enumerate().map(|(i, s)| (s.thread, i)).collect();
    let mut candidates: BTreeSet<usize> = (0..streams.len()).collect();
    let mut waiters: HashMap<Key, Vec<usize>> = HashMap::new();
    let mut left: usize = streams.iter().map(|s| s.positions.len()).sum();
    let mut unfinished: BTreeSet<usize> =
        (0..streams.len()).filter(|&s| streams[s].peek().is_some()).collect();
    // Rescans look at every unfinished thread. A damaged trace can need one
    // per event (100,000 threads never spawned: each first event is forced),
    // which made a 2.6 MB file take hours; past this many threads looked
    // at, the lowest thread's next event is forced without a rescan.
    let mut rescan_budget: usize = left.saturating_add(streams.len()).saturating_mul(4);
    while left > 0 {
        let Some(&slot) = candidates.first() else {
            if rescan_budget < unfinished.len() {
                while unfinished.first().is_some_and(|&s| streams[s].peek().is_none()) {
                    unfinished.pop_first();
                }
                let Some(&slot) = unfinished.first() else { break };
                step(&mut state, streams, slot, &mut waiters, &mut candidates);
                place(slot, true);
                left -= 1;
                candidates.insert(slot);
                continue;
            }
            rescan_budget -= unfinished.len();
            unfinished.retain(|&s| streams[s].peek().is_some());
            // Nothing is known to be ready: look at every thread again (a
            // wake-up can only be missed on a damaged trace), and if none
            // can go on, place the lowest thread's next event anyway.
            let ready = unfinished.iter().copied().find(|&s| blocker(&state, streams, &slot_of, s).is_none());
            if ready.is_none() {
                let Some(&slot) = unfinished.first() else { break };
                step(&mut state, streams, slot, &mut waiters, &mut candidates);
                place(slot, true);
                left -= 1;
            }
            candidates.extend(unfinished.iter().copied());
            waiters.clear();
            continue;
        };
        if streams[slot].peek().is_none() {
            candidates.remove(&slot);
            continue;
        }
        match blocker(&state, streams, &slot_of, slot) {
            Some(key) => {
                candidates.remove(&slot);
                waiters.entry(key).or_default().push(slot);
            }
            None => {
                step(&mut state, streams, slot, &mut waiters, &mut candidates);
                place(slot, false);
                left -= 1;
            }
        }
    }
}

/// What placing needs to know ahead, from one pass over every event: how
/// many loads read each store (the next store comes after them), and for
/// each message a thread received by `recv`, `try_recv` or `recv_timeout`,
/// the message it received before it from the same channel when another
/// thread sent that one (one sender's messages are in order already). A
/// select is left out: its event's object is not always the channel it took
/// from.
fn look_ahead(streams: &[Stream<'_>], state: &mut State) {
    for s in streams {
        let mut last_taken: HashMap<ObjectIndex, (ThreadIndex, u64)> = HashMap::new();
        for e in (0..s.positions.len()).filter_map(|i| s.event(i)) {
            let Ok(outcome) = e.outcome() else { continue };
            if let Some(read) = reads_store(&outcome, e.object) {
                *state.loads_left.entry(read).or_default() += 1;
            }
            let (Outcome::Recv(Received::Message { sender, seq })
            | Outcome::TryRecv(Received::Message { sender, seq })
            | Outcome::RecvTimeout(Received::Message { sender, seq })) = outcome
            else {
                continue;
            };
            if let Some(previous) = last_taken.insert(e.object, (sender, seq)) {
                if previous.0 != sender {
                    state.queued_after.insert((sender, seq), previous);
                }
            }
        }
    }
}

/// Why the next event of `slot` cannot be placed yet, or `None` if it can.
fn blocker(
    state: &State,
    streams: &[Stream<'_>],
    slot_of: &HashMap<ThreadIndex, usize>,
    slot: usize,
) -> Option<Key> {
    let s = &streams[slot];
    let e = s.peek()?;
    if s.next == 0 && s.thread != ROOT && !state.spawned.contains(&s.thread) {
        return Some(Key::Spawn(s.thread));
    }
    let Ok(outcome) = e.outcome() else { return None };
    let taken = |object, class| state.turns.get(&(object, class)).copied().unwrap_or(0);
    // A lock is free when nobody holds it, or its holder is this thread or
    // is about to return from a condvar wait on it (which released it), or
    // has no events left: it holds no lock another thread took a later
    // turn of, so it released it in a call that never returned (a condvar
    // wait left waiting by a deadlock, which a trace does not record).
    let free = |object: ObjectIndex| match state.holder.get(&object) {
        None => true,
        Some(&h) if h == s.thread => true,
        Some(h) => slot_of.get(h).is_some_and(|&hs| match streams[hs].peek() {
            None => true,
            Some(next) => matches!(next.outcome(), Ok(Outcome::CondWait { mutex, .. }) if mutex == object),
        }),
    };
    let object_wait = |object| Some(Key::Object(object));
    if let Outcome::Send(Sent::Delivered { seq }) = outcome {
        if let Some(&(sender, before)) = state.queued_after.get(&(s.thread, seq)) {
            if state.sent.get(&sender).is_none_or(|&m| m < before) {
                return Some(Key::Sender(sender));
            }
        }
    }
    match outcome.waits_for(e.object) {
        None | Some(WaitFor::Received { .. } | WaitFor::Room { .. } | WaitFor::Released { .. }) => None,
        Some(WaitFor::Turn { object, class, number }) => {
            // Store 1 comes after the loads of store 0 (the initial value)
            // too: placed first, a load of the initial value that happened
            // before it was numbered after it, and a run following the
            // numbered order (`why`) read the new value instead.
            let loads_done = class != TurnClass::Store
                || number == 0
                || state.loads_left.get(&(object, number - 1)).copied().unwrap_or(0) == 0;
            let ok = taken(object, class) + 1 >= number
                && loads_done
                && (class != TurnClass::Lock || free(object));
            if ok {
                None
            } else {
                object_wait(object)
            }
        }
        Some(WaitFor::Taken { object, class, number }) => {
            let writer_gone = is_read_lock(&outcome).is_none() || !state.holder.contains_key(&object);
            if taken(object, class) >= number && writer_gone {
                None
            } else {
                object_wait(object)
            }
        }
        Some(WaitFor::WriteTurn { object, number, readers }) => {
            let seen = state.reads_seen.get(&(object, number.saturating_sub(1))).copied().unwrap_or(0);
            let idle =
                !state.holder.contains_key(&object) && state.reading.get(&object).copied().unwrap_or(0) == 0;
            if taken(object, TurnClass::Write) + 1 >= number && seen >= readers && idle {
                None
            } else {
                object_wait(object)
            }
        }
        Some(WaitFor::Message { sender, seq }) => {
            if state.sent.get(&sender).is_some_and(|&m| m >= seq) {
                None
            } else {
                Some(Key::Sender(sender))
            }
        }
        Some(WaitFor::Exit(thread)) => {
            if state.exited.contains(&thread) {
                None
            } else {
                Some(Key::Exit(thread))
            }
        }
    }
}

/// Places the next event of `slot`: applies what it made true and wakes the
/// threads waiting under what changed.
fn step(
    state: &mut State,
    streams: &mut [Stream<'_>],
    slot: usize,
    waiters: &mut HashMap<Key, Vec<usize>>,
    candidates: &mut BTreeSet<usize>,
) {
    let thread = streams[slot].thread;
    let Some(e) = streams[slot].peek() else { return };
    streams[slot].next += 1;
    let mut woken: [Option<Key>; 2] = [None, None];
    if let Ok(outcome) = e.outcome() {
        woken[0] = apply(state, thread, e, &outcome);
    }
    // The holder about to return from a condvar wait has released its mutex.
    if let Some(Ok(Outcome::CondWait { mutex, .. })) = streams[slot].peek().map(Event::outcome) {
        woken[1] = Some(Key::Object(mutex));
    }
    for key in woken.into_iter().flatten() {
        if let Some(list) = waiters.remove(&key) {
            candidates.extend(list);
        }
    }
}

/// What placing `e` (with this outcome) made true; the key it changed.
fn apply(state: &mut State, thread: ThreadIndex, e: &Event, outcome: &Outcome) -> Option<Key> {
    if let Some(read) = reads_store(outcome, e.object) {
        if let Some(n) = state.loads_left.get_mut(&read) {
            *n = n.saturating_sub(1);
        }
    }
    if let Some(turn) = outcome.turn(e.object) {
        let max = state.turns.entry((turn.object, turn.class)).or_default();
        *max = (*max).max(turn.number);
        if turn.class != TurnClass::Store {
            state.holder.insert(turn.object, thread);
        }
        return Some(Key::Object(turn.object));
    }
    if let Some(writes_before) = is_read_lock(outcome) {
        *state.reading.entry(e.object).or_default() += 1;
        *state.reads_seen.entry((e.object, writes_before)).or_default() += 1;
        return Some(Key::Object(e.object));
    }
    match *outcome {
        Outcome::Unlock | Outcome::WriteUnlock => {
            if state.holder.get(&e.object) == Some(&thread) {
                state.holder.remove(&e.object);
            }
            Some(Key::Object(e.object))
        }
        Outcome::ReadUnlock => {
            if let Some(n) = state.reading.get_mut(&e.object) {
                *n = n.saturating_sub(1);
            }
            Some(Key::Object(e.object))
        }
        Outcome::AtomicLoad { .. } | Outcome::AtomicCas { .. } | Outcome::Park { .. } => {
            Some(Key::Object(e.object))
        }
        Outcome::Send(Sent::Delivered { seq })
        | Outcome::SelectSend { sent: Sent::Delivered { seq }, .. } => {
            let max = state.sent.entry(thread).or_insert(seq);
            *max = (*max).max(seq);
            Some(Key::Sender(thread))
        }
        Outcome::ThreadExit { .. } => {
            state.exited.insert(thread);
            Some(Key::Exit(thread))
        }
        Outcome::Spawn { child } => {
            state.spawned.insert(child);
            Some(Key::Spawn(child))
        }
        _ => None,
    }
}
