//! The replay's progress as counters, dense by position: per object, its
//! turn counters (mutex acquisitions, RwLock writes, atomic stores) and the
//! reads since its last write; per thread, its send count and whether it
//! exited. Whether a wait is over is read from them without a lock; a wait
//! that is not over registers on the one counter it depends on.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;

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

/// No turn counter: the trace records no turn of that class of the object.
const NO_TURN: u32 = u32::MAX;

/// One object's state. Small: most objects are a mutex or a channel that
/// uses one or two of the counters below, and a long run makes millions of
/// them, so a counter is only held where the trace records its turns, and
/// what only channels and RwLocks use is allocated on first use.
#[derive(Debug)]
pub(crate) struct ObjectState {
    /// Per class, the position of its turn counter in [`State::turns`], or
    /// [`NO_TURN`].
    turns: [u32; 3],
    /// The program's address bound to this object (0: none yet).
    pub(crate) bound: AtomicUsize,
    /// Counters of channels and RwLocks, created the first time one is
    /// used; absent, each reads as its initial value.
    rare: OnceLock<Box<RareState>>,
}

impl Default for ObjectState {
    fn default() -> Self {
        ObjectState { turns: [NO_TURN; 3], bound: AtomicUsize::new(0), rare: OnceLock::new() }
    }
}

/// One recorded turn counter of an object: the turns taken, and the
/// recorded turn numbers.
#[derive(Debug, Default)]
pub(crate) struct TurnState {
    taken: Counter,
    ranks: RankRanges,
    /// A mutex's (the lock class's): releases by the replay's threads. A
    /// replay thread holds the mutex while `taken` is ahead of it.
    released: Counter,
    /// An atomic's (the store class's): the last store told of, its number
    /// (0: none yet) and the bits it wrote. Stores are admitted one at a
    /// time in recorded order, so no two writers contend for the lock.
    written: parking_lot::Mutex<(u64, u64)>,
}

/// What only channels use, and a channel uses each time: the dequeued count
/// and the room floor; and what only RwLocks use, created on its first use.
#[derive(Debug, Default)]
pub(crate) struct RareState {
    /// Messages replayed receives took from the channel's replay queue.
    dequeued: Counter,
    /// A send waiting for room whose `taken` is at most this may go: the
    /// watchdog raises it when nothing else could run (see
    /// [`State::let_rooms_go`]).
    room_floor: AtomicU64,
    /// The RwLock counters, absent (initial values) until first used.
    rw: OnceLock<Box<RwState>>,
}

/// An RwLock's reads and waiting writers.
#[derive(Debug, Default)]
pub(crate) struct RwState {
    /// Read locks taken since the last write (RwLocks).
    reads: AtomicU64,
    /// Writers waiting for their turn and enough readers of the write before.
    writers: WaitList<WaitFor>,
    /// Read and write locks taken by the replay's threads, in all.
    acquired: AtomicU64,
    /// Read and write locks let go by the replay's threads, in all: one of
    /// them holds the lock while `acquired` is ahead.
    released: Counter,
}

impl RareState {
    /// Its RwLock counters, created if they were not yet.
    #[inline]
    fn rw(&self) -> &RwState {
        self.rw.get_or_init(Box::default)
    }
}

impl ObjectState {
    /// Its channel and RwLock counters, created if they were not yet.
    #[inline]
    fn rare(&self) -> &RareState {
        self.rare.get_or_init(Box::default)
    }
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

/// A lock's acquisitions and releases by the replay's threads.
enum LockCounts<'a> {
    /// A mutex: its lock turns taken, and its releases.
    Mutex(&'a TurnState),
    /// An RwLock: its read and write locks, and their releases.
    RwLock(&'a RwState),
}

impl LockCounts<'_> {
    fn released(&self) -> &Counter {
        match self {
            LockCounts::Mutex(turn) => &turn.released,
            LockCounts::RwLock(rw) => &rw.released,
        }
    }

    fn acquired(&self) -> u64 {
        match self {
            LockCounts::Mutex(turn) => turn.taken.get(),
            LockCounts::RwLock(rw) => rw.acquired.load(Ordering::SeqCst),
        }
    }
}

/// Every object's and thread's counters.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) object_index: DenseIndex,
    objects: Box<[ObjectState]>,
    /// The turn counters the trace records turns of, by
    /// [`ObjectState::turns`].
    turns: Box<[TurnState]>,
    pub(crate) thread_index: DenseIndex,
    threads: Box<[ThreadCounters]>,
}

impl State {
    /// Counters for every object and thread `log` names, and the recorded
    /// turn numbers of every counter, moved out of `log` (the gate is the
    /// only one to ask them during a replay).
    pub(crate) fn new(log: &mut ReplayLog) -> State {
        let counters: Vec<(ObjectIndex, TurnClass, RankRanges)> = log.take_turn_counters().collect();
        let objects = log.object_indices().chain(counters.iter().map(|&(object, _, _)| object));
        let object_index = DenseIndex::new(objects);
        let mut states: Box<[ObjectState]> =
            (0..object_index.len()).map(|_| ObjectState::default()).collect();
        let mut turns = Vec::with_capacity(counters.len());
        for (object, class, numbers) in counters {
            if let Some(at) = object_index.get(object) {
                let slot = &mut states[at].turns[class_slot(class)];
                if *slot == NO_TURN {
                    *slot = turns.len() as u32;
                    turns.push(TurnState { ranks: numbers, ..TurnState::default() });
                } else {
                    turns[*slot as usize].ranks = numbers;
                }
            }
        }
        let turns = turns.into_boxed_slice();
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
        State { object_index, objects: states, turns, thread_index, threads }
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
        let turn = self.turn_state(object, class)?;
        Some((&turn.taken, turn.ranks.rank(number)?))
    }

    /// Whether the trace records turn `number` of `object`'s counter of
    /// `class`.
    pub(crate) fn records_turn(&self, object: ObjectIndex, class: TurnClass, number: u64) -> bool {
        self.turn(object, class, number).is_some()
    }

    /// The turn counter of `object`'s class `class`, if the trace records
    /// turns of it.
    #[inline]
    fn turn_state(&self, object: ObjectIndex, class: TurnClass) -> Option<&TurnState> {
        let at = self.object(object)?.turns[class_slot(class)];
        self.turns.get(at as usize)
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
                let turn = self
                    .turn_state(object, TurnClass::Write)
                    .is_none_or(|t| t.ranks.rank(number).is_none_or(|rank| t.taken.get() == rank));
                let reads = state
                    .rare
                    .get()
                    .and_then(|rare| rare.rw.get())
                    .map_or(0, |rw| rw.reads.load(Ordering::SeqCst));
                turn && reads >= readers
            }
            WaitFor::Message { sender, seq } => self.thread(sender).is_some_and(|t| t.sent.get() >= seq),
            WaitFor::Exit(thread) => self.thread(thread).is_some_and(|t| t.exited.get() >= 1),
            WaitFor::Received { sender, seq } => self.thread(sender).is_some_and(|t| {
                t.received.get() >= seq || t.kept_receives.as_ref().is_some_and(|kept| !kept.contains(seq))
            }),
            WaitFor::Room { object, taken } => self.object(object).is_none_or(|s| match s.rare.get() {
                Some(rare) => rare.dequeued.get() >= taken || rare.room_floor.load(Ordering::SeqCst) >= taken,
                None => taken == 0,
            }),
            WaitFor::Released { object, releases } => {
                self.lock_counts(object).is_none_or(|counts| counts.released().get() > releases)
            }
        }
    }

    /// This replay's store `store` of atomic `object` wrote `bits`.
    pub(crate) fn stored(&self, object: ObjectIndex, store: u64, bits: u64) {
        if let Some(turn) = self.turn_state(object, TurnClass::Store) {
            *turn.written.lock() = (store, bits);
        }
    }

    /// The bits this replay's store `store` of atomic `object` wrote, while
    /// it is the last one told of.
    pub(crate) fn stored_bits(&self, object: ObjectIndex, store: u64) -> Option<u64> {
        let (last, bits) = *self.turn_state(object, TurnClass::Store)?.written.lock();
        (store != 0 && last == store).then_some(bits)
    }

    /// The releases of lock `object` so far, if a replay thread holds it
    /// (see [`Gate::holder_releases`](reprise_recorder::hook::gate::Gate::holder_releases)).
    pub(crate) fn holder_releases(&self, object: ObjectIndex) -> Option<u64> {
        let counts = self.lock_counts(object)?;
        let released = counts.released().get();
        (counts.acquired() > released).then_some(released)
    }

    /// Lock `object`'s counts. `None`: no lock the trace records turns or
    /// reads of.
    #[inline]
    fn lock_counts(&self, object: ObjectIndex) -> Option<LockCounts<'_>> {
        if let Some(turn) = self.turn_state(object, TurnClass::Lock) {
            return Some(LockCounts::Mutex(turn));
        }
        Some(LockCounts::RwLock(self.object(object)?.rare.get()?.rw.get()?))
    }

    /// Why `until` can never hold as the trace says, if it cannot (see
    /// [`impossible_turn`]). Loads and a binary search.
    pub(crate) fn impossible(&self, until: &WaitFor, strict: bool) -> Option<String> {
        let wait = turn_wait(until)?;
        let empty = RankRanges::default();
        let (ranks, taken) = match self.turn_state(wait.0, wait.1) {
            Some(turn) => (&turn.ranks, turn.taken.get()),
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
                    state.rare().rw().writers.register(who, ticket, *until);
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
                    state.rare().dequeued.register(waiter(taken));
                }
            }
            WaitFor::Received { sender, seq } => {
                if let Some(t) = self.thread(sender) {
                    t.received.register(waiter(seq));
                }
            }
            WaitFor::Released { object, releases } => {
                if let Some(counts) = self.lock_counts(object) {
                    counts.released().register(waiter(releases + 1));
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
            WaitFor::WriteTurn { object, .. } => {
                self.object(object).and_then(|s| s.rare.get()?.rw.get()).map_or(0, |r| r.writers.registered())
            }
            WaitFor::Message { sender, .. } => self.thread(sender).map_or(0, |t| t.sent.registered()),
            WaitFor::Exit(thread) => self.thread(thread).map_or(0, |t| t.exited.registered()),
            WaitFor::Received { sender, .. } => self.thread(sender).map_or(0, |t| t.received.registered()),
            WaitFor::Room { object, .. } => {
                self.object(object).and_then(|s| s.rare.get()).map_or(0, |r| r.dequeued.registered())
            }
            WaitFor::Released { object, .. } => {
                self.lock_counts(object).map_or(0, |counts| counts.released().registered())
            }
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
                    state.rare().room_floor.fetch_max(taken, Ordering::SeqCst);
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
                let rw = (class == TurnClass::Write).then(|| state.rare().rw());
                if let Some(rw) = rw {
                    // Before the turn: see `ready`.
                    rw.reads.store(0, Ordering::SeqCst);
                    rw.acquired.fetch_add(1, Ordering::SeqCst);
                }
                // A turn the trace records none of its class is waited for
                // by nobody: it needs no counter.
                if let Some(turn) = self.turn_state(object, class) {
                    turn.taken.add_one(&mut wake);
                }
                if let Some(rw) = rw {
                    rw.writers.notify(|until| self.ready(until), wake);
                }
            }
            Happened::Read(object) => {
                let Some(state) = self.object(object) else { return };
                let rw = state.rare().rw();
                rw.reads.fetch_add(1, Ordering::SeqCst);
                rw.acquired.fetch_add(1, Ordering::SeqCst);
                rw.writers.notify(|until| self.ready(until), wake);
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
                    state.rare().dequeued.add_one(&mut wake);
                }
            }
            Happened::Released(object) => {
                if let Some(counts) = self.lock_counts(object) {
                    counts.released().add_one(&mut wake);
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

#[cfg(test)]
mod tests {
    use reprise_recorder::hook::gate::{Happened, TurnClass, WaitFor};
    use reprise_recorder::trace::model::{Event, Op};

    use super::{ObjectState, State, NO_TURN};

    fn ev(op: Op, object: u32, a: u64, b: u64) -> Event {
        Event { op, object, site: 0, a, b, c: 0 }
    }

    /// A run of many short-lived mutexes (objects 1..=n, two acquisitions
    /// each): each object holds its one turn counter and nothing for the
    /// channel and RwLock counters it never uses. Before, every object held
    /// three turn counters, a dequeued counter and a writers' list: 328
    /// bytes each. The counter's ranks move from the log to the gate: the
    /// log kept a copy in a table entry per counter too.
    #[test]
    fn an_object_holds_only_the_counters_it_uses() {
        let n = 1000u32;
        let start = ev(Op::ThreadStart, 0, 0, 0);
        let exit = ev(Op::ThreadExit, 0, 0, 0);
        let mut events = vec![start];
        for object in 1..=n {
            events.push(ev(Op::Lock, object, 1, 0));
            events.push(ev(Op::Lock, object, 2, 0));
        }
        events.push(exit);
        let mut log = crate::log::from_events(vec![events]);
        assert_eq!(log.rank_ranges(), n as usize);
        let state = State::new(&mut log);
        assert_eq!(log.rank_ranges(), 0, "the ranks moved to the gate: the log keeps no second copy");
        assert_eq!(state.objects.len(), n as usize);
        assert_eq!(state.turns.len(), n as usize, "one turn counter per mutex");
        assert!(std::mem::size_of::<ObjectState>() <= 40, "{} bytes", std::mem::size_of::<ObjectState>());
        for object in 1..=n {
            state.happened(Happened::Turn { object, class: TurnClass::Lock }, |_| {});
            let lock = WaitFor::Turn { object, class: TurnClass::Lock, number: 2 };
            assert!(state.ready(&lock), "the second acquisition's turn came");
        }
        for s in state.objects.iter() {
            assert_eq!(s.turns[1..], [NO_TURN, NO_TURN]);
            assert!(s.rare.get().is_none(), "a mutex makes no channel or RwLock counters");
        }
        // A channel's counters come on first use, from their initial values.
        let room = WaitFor::Room { object: 1, taken: 1 };
        assert!(!state.ready(&room));
        state.happened(Happened::Dequeued(1), |_| {});
        assert!(state.ready(&room));
        let rare = state.objects[0].rare.get().expect("a dequeue makes the channel counters");
        assert!(rare.rw.get().is_none(), "a channel makes no RwLock counters");
        assert!(
            std::mem::size_of::<super::RareState>() <= 72,
            "{} bytes",
            std::mem::size_of::<super::RareState>()
        );
    }
}
