//! The replay's progress as counters, dense by position: per object, its
//! turn counters (mutex acquisitions, RwLock writes, atomic stores) and the
//! reads since its last write; per thread, its send count and whether it
//! exited. Whether a wait is over is read from them without a lock; a wait
//! that is not over registers on the one counter it depends on.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use reprise_recorder::hook::gate::{Happened, TurnClass, WaitFor};
use reprise_recorder::trace::model::{ObjectIndex, ThreadIndex};

use crate::gate::dense::DenseIndex;
use crate::gate::waiters::{Counter, WaitList, Waiter};
use crate::log::{impossible_turn, turn_wait, Numbers, RankRanges, ReplayLog};

fn class_slot(class: TurnClass) -> usize {
    match class {
        TurnClass::Lock => 0,
        TurnClass::Write => 1,
        TurnClass::Store => 2,
    }
}

/// One object's counters.
#[derive(Debug, Default)]
pub(crate) struct ObjectState {
    turns: [Counter; 3],
    ranks: [RankRanges; 3],
    /// Read locks taken since the last write (RwLocks).
    reads: AtomicU64,
    /// Writers waiting for their turn and enough readers of the write before.
    writers: WaitList<WaitFor>,
    /// The program's address bound to this object (0: none yet).
    pub(crate) bound: AtomicUsize,
    /// Messages replayed receives took from the channel's replay queue.
    dequeued: Counter,
    /// A send waiting for room whose `taken` is at most this may go: the
    /// watchdog raises it when nothing else could run (see
    /// [`State::let_rooms_go`]).
    room_floor: AtomicU64,
}

/// One thread's counters.
#[derive(Debug, Default)]
pub(crate) struct ThreadCounters {
    /// The highest send count of its messages sent so far.
    sent: Counter,
    /// 1 once it exited.
    exited: Counter,
    /// The highest send count of its rendezvous messages taken so far.
    received: Counter,
    /// In a cut log, the messages of this sender its kept receives take:
    /// a rendezvous send of another one returns at once (its receive was
    /// lost with the crash, so nothing in the replay would take it).
    kept_receives: Option<Numbers>,
}

/// Every object's and thread's counters.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) object_index: DenseIndex,
    objects: Box<[ObjectState]>,
    pub(crate) thread_index: DenseIndex,
    threads: Box<[ThreadCounters]>,
}

impl State {
    /// Counters for every object and thread `log` names, and the recorded
    /// turn numbers of every counter. One pass over the events.
    pub(crate) fn new(log: &ReplayLog) -> State {
        let objects = log.object_indices().chain(log.turn_counters().map(|(object, _, _)| object));
        let object_index = DenseIndex::new(objects);
        let mut states: Box<[ObjectState]> =
            (0..object_index.len()).map(|_| ObjectState::default()).collect();
        for (object, class, numbers) in log.turn_counters() {
            if let Some(at) = object_index.get(object) {
                states[at].ranks[class_slot(class)] = numbers.clone();
            }
        }
        // A thread the trace has no log of (its chunks were lost) has no
        // slot: it parks at its first call, so none of its events is
        // waited for.
        let thread_index = DenseIndex::new(log.thread_ids());
        let mut threads: Box<[ThreadCounters]> =
            (0..thread_index.len()).map(|_| ThreadCounters::default()).collect();
        if let Some(kept) = log.kept_receives() {
            for thread in log.thread_ids() {
                if let Some(at) = thread_index.get(thread) {
                    threads[at].kept_receives = Some(kept.get(&thread).cloned().unwrap_or_default());
                }
            }
        }
        State { object_index, objects: states, thread_index, threads }
    }

    /// The object's counters, if the trace names it.
    #[inline]
    pub(crate) fn object(&self, object: ObjectIndex) -> Option<&ObjectState> {
        self.object_index.get(object).map(|at| &self.objects[at])
    }

    #[inline]
    fn thread(&self, thread: ThreadIndex) -> Option<&ThreadCounters> {
        self.thread_index.get(thread).map(|at| &self.threads[at])
    }

    /// The counter a turn of `object` waits on and the turn's rank; `None`
    /// when that turn was never recorded (nothing to wait for).
    #[inline]
    fn turn(&self, object: ObjectIndex, class: TurnClass, number: u64) -> Option<(&Counter, u64)> {
        let state = self.object(object)?;
        let slot = class_slot(class);
        Some((&state.turns[slot], state.ranks[slot].rank(number)?))
    }

    /// Whether `until` holds now. Loads only: a turn counter before the
    /// reads-since-write count, so a writer that sees a write's turn taken
    /// also sees that write's reset of the count.
    #[inline]
    pub(crate) fn ready(&self, until: &WaitFor) -> bool {
        match *until {
            WaitFor::Turn { object, class, number } => {
                self.turn(object, class, number).is_none_or(|(counter, rank)| counter.get() == rank)
            }
            WaitFor::Taken { number: 0, .. } => true,
            WaitFor::Taken { object, class, number } => {
                self.turn(object, class, number).is_none_or(|(counter, rank)| counter.get() > rank)
            }
            WaitFor::WriteTurn { object, number, readers } => {
                let Some(state) = self.object(object) else { return readers == 0 };
                let slot = class_slot(TurnClass::Write);
                let turn = state.ranks[slot].rank(number).is_none_or(|rank| state.turns[slot].get() == rank);
                turn && state.reads.load(Ordering::SeqCst) >= readers
            }
            WaitFor::Message { sender, seq } => self.thread(sender).is_some_and(|t| t.sent.get() >= seq),
            WaitFor::Exit(thread) => self.thread(thread).is_some_and(|t| t.exited.get() >= 1),
            WaitFor::Received { sender, seq } => self.thread(sender).is_some_and(|t| {
                t.received.get() >= seq || t.kept_receives.as_ref().is_some_and(|kept| !kept.contains(seq))
            }),
            WaitFor::Room { object, taken } => self
                .object(object)
                .is_none_or(|s| s.dequeued.get() >= taken || s.room_floor.load(Ordering::SeqCst) >= taken),
        }
    }

    /// Why `until` can never hold as the trace says, if it cannot (see
    /// [`impossible_turn`]). Loads and a binary search.
    pub(crate) fn impossible(&self, until: &WaitFor, strict: bool) -> Option<String> {
        let wait = turn_wait(until)?;
        let empty = RankRanges::default();
        let (ranks, taken) = match self.object(wait.0) {
            Some(state) => {
                let slot = class_slot(wait.1);
                (&state.ranks[slot], state.turns[slot].get())
            }
            None => (&empty, 0),
        };
        impossible_turn(ranks, taken, wait, strict)
    }

    /// Registers thread `who` (a dense position) as waiting for `until`, on
    /// the one counter whose change can end it. A wait on something the
    /// trace does not name registers nowhere: only the replay's stop ends it.
    pub(crate) fn register(&self, who: u32, ticket: u64, until: &WaitFor) {
        let waiter = |threshold| Waiter { threshold, who, ticket };
        match *until {
            WaitFor::Turn { object, class, number } => {
                if let Some((counter, rank)) = self.turn(object, class, number) {
                    counter.register(waiter(rank));
                }
            }
            WaitFor::Taken { object, class, number } => {
                if let Some((counter, rank)) = self.turn(object, class, number) {
                    counter.register(waiter(rank + 1));
                }
            }
            WaitFor::WriteTurn { object, .. } => {
                if let Some(state) = self.object(object) {
                    state.writers.register(who, ticket, *until);
                }
            }
            WaitFor::Message { sender, seq } => {
                if let Some(t) = self.thread(sender) {
                    t.sent.register(waiter(seq));
                }
            }
            WaitFor::Exit(thread) => {
                if let Some(t) = self.thread(thread) {
                    t.exited.register(waiter(1));
                }
            }
            WaitFor::Room { object, taken } => {
                if let Some(state) = self.object(object) {
                    state.dequeued.register(waiter(taken));
                }
            }
            WaitFor::Received { sender, seq } => {
                if let Some(t) = self.thread(sender) {
                    t.received.register(waiter(seq));
                }
            }
        }
    }

    /// How many entries are registered on the key `until` waits on.
    #[cfg(test)]
    pub(crate) fn registered(&self, until: &WaitFor) -> usize {
        match *until {
            WaitFor::Turn { object, class, number } | WaitFor::Taken { object, class, number } => {
                self.turn(object, class, number).map_or(0, |(counter, _)| counter.registered())
            }
            WaitFor::WriteTurn { object, .. } => self.object(object).map_or(0, |s| s.writers.registered()),
            WaitFor::Message { sender, .. } => self.thread(sender).map_or(0, |t| t.sent.registered()),
            WaitFor::Exit(thread) => self.thread(thread).map_or(0, |t| t.exited.registered()),
            WaitFor::Received { sender, .. } => self.thread(sender).map_or(0, |t| t.received.registered()),
            WaitFor::Room { object, .. } => self.object(object).map_or(0, |s| s.dequeued.registered()),
        }
    }

    /// Lets every send in `waits` that waits for room go, by raising its
    /// channel's floor to its `taken`: called when no thread can run, so
    /// that a wait for room, a preference, never stalls the replay. A send
    /// after these waits again (its `taken` is higher). Returns whether any
    /// did wait for room.
    pub(crate) fn let_rooms_go<'a>(&self, waits: impl Iterator<Item = &'a WaitFor>) -> bool {
        let mut any = false;
        for wait in waits {
            if let WaitFor::Room { object, taken } = *wait {
                if let Some(state) = self.object(object) {
                    state.room_floor.fetch_max(taken, Ordering::SeqCst);
                    any = true;
                }
            }
        }
        any
    }

    /// Records `what` in its counter and hands `wake` the waiters it may
    /// have released.
    #[inline]
    pub(crate) fn happened(&self, what: Happened, mut wake: impl FnMut(Waiter)) {
        match what {
            Happened::Turn { object, class } => {
                let Some(state) = self.object(object) else { return };
                if class == TurnClass::Write {
                    // Before the turn: see `ready`.
                    state.reads.store(0, Ordering::SeqCst);
                }
                state.turns[class_slot(class)].add_one(&mut wake);
                if class == TurnClass::Write {
                    state.writers.notify(|until| self.ready(until), wake);
                }
            }
            Happened::Read(object) => {
                let Some(state) = self.object(object) else { return };
                state.reads.fetch_add(1, Ordering::SeqCst);
                state.writers.notify(|until| self.ready(until), wake);
            }
            Happened::Sent { sender, seq } => {
                if let Some(t) = self.thread(sender) {
                    t.sent.raise_to(seq, wake);
                }
            }
            Happened::Exited(thread) => self.exited(thread, wake),
            Happened::Received { sender, seq } => {
                if let Some(t) = self.thread(sender) {
                    t.received.raise_to(seq, wake);
                }
            }
            Happened::Dequeued(object) => {
                if let Some(state) = self.object(object) {
                    state.dequeued.add_one(&mut wake);
                }
            }
        }
    }

    /// `thread` exited.
    pub(crate) fn exited(&self, thread: ThreadIndex, wake: impl FnMut(Waiter)) {
        if let Some(t) = self.thread(thread) {
            t.exited.raise_to(1, wake);
        }
    }
}
