//! The threads of one explored run and who among them can run, kept up to
//! date as they block, wake, yield and finish, so that a scheduling point
//! costs the same with 2 threads as with 100: the runnable threads are a
//! sorted list changed one thread at a time (no scan of every thread per
//! step), the waiters of each lock, channel or thread are indexed by what
//! they wait on (a wake touches only them), and every change of who can run
//! is passed to the strategy ([`Strategy::runnable`]), so that a strategy
//! that orders threads (PCT) keeps its own order without scanning either.

use reprise_recorder::hook::coop::{CoopCall, Resource, SavedContext, Woken};
use reprise_recorder::trace::model::ThreadIndex;

use super::coroutine::Fiber;
use super::strategy::{Runnable, Strategy};

/// Where a thread of the run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Status {
    Runnable,
    /// Waiting on the resources in its slot's `on`, or until the virtual
    /// clock reaches `deadline`.
    Blocked {
        deadline: Option<u64>,
    },
    Finished,
}

/// One thread of the run.
pub(super) struct Slot {
    pub(super) fiber: Option<Fiber>,
    pub(super) ctx: Option<SavedContext>,
    pub(super) status: Status,
    /// What it is blocked on (kept between blocks for its capacity).
    pub(super) on: Vec<Resource>,
    pub(super) woken: Woken,
    /// What the thread is about to do (or blocked in).
    pub(super) next: Option<CoopCall>,
    /// It called `thread::yield_now`: let the others go first.
    pub(super) yielded: bool,
    /// While it yields, the threads it lets go first, sorted: those that
    /// could run when it yielded and have not run, blocked or finished
    /// since. It is on offer again once they all have, as in CHESS's fair
    /// scheduling: a yield defers to the others for one step each, not for
    /// as long as they can run, so a thread that yields while it waits for
    /// threads that spin without yielding still gets its turn.
    owed: Vec<ThreadIndex>,
}

/// A map keyed by small integers, hashed cheaply: the waiters are looked
/// up at every wake, and SipHash would cost more than the rest of the wake.
pub(super) type IndexMap<K, V> = crate::int_hash::IntMap<K, V>;

/// The threads of a run, by index, and the sets kept from their states.
#[derive(Default)]
pub(super) struct Threads {
    slots: Vec<Option<Slot>>,
    /// Runnable threads that did not yield, sorted.
    ready: Vec<ThreadIndex>,
    /// Runnable threads that yielded, sorted: they run only when no other
    /// can, or once every thread they deferred to has had a step.
    yielded: Vec<ThreadIndex>,
    /// Scratch list for [`Threads::discharge`].
    released: Vec<ThreadIndex>,
    /// The blocked threads waiting on each resource, in the order they
    /// blocked. An emptied list stays, so that blocking again does not
    /// allocate.
    waiters: IndexMap<Resource, Vec<ThreadIndex>>,
    /// Blocked threads with a deadline.
    timed: Vec<ThreadIndex>,
    /// Scratch list for [`Threads::fire_timers`].
    due: Vec<ThreadIndex>,
    /// The `on` lists of the slots of earlier runs, for new slots.
    free_on: Vec<Vec<Resource>>,
    /// The `owed` lists of the slots of earlier runs, for new slots.
    free_owed: Vec<Vec<ThreadIndex>>,
}

impl Threads {
    /// Forgets every thread, keeping the memory for the next run: a run
    /// of the same program then allocates nothing here.
    pub(super) fn reset(&mut self) {
        for slot in self.slots.drain(..).flatten() {
            let (mut on, mut owed) = (slot.on, slot.owed);
            on.clear();
            owed.clear();
            self.free_on.push(on);
            self.free_owed.push(owed);
        }
        self.ready.clear();
        self.yielded.clear();
        self.timed.clear();
        for list in self.waiters.values_mut() {
            list.clear();
        }
    }

    /// The slot of `thread`.
    pub(super) fn get(&self, thread: ThreadIndex) -> Option<&Slot> {
        self.slots.get(thread as usize).and_then(Option::as_ref)
    }

    /// The slot of `thread`, to change.
    pub(super) fn get_mut(&mut self, thread: ThreadIndex) -> Option<&mut Slot> {
        self.slots.get_mut(thread as usize).and_then(Option::as_mut)
    }

    /// Every thread, by index.
    pub(super) fn iter(&self) -> impl Iterator<Item = (ThreadIndex, &Slot)> {
        self.slots.iter().enumerate().filter_map(|(t, s)| s.as_ref().map(|s| (t as ThreadIndex, s)))
    }

    /// Every slot with its thread, to change (teardown).
    pub(super) fn indexed_slots_mut(&mut self) -> impl Iterator<Item = (ThreadIndex, &mut Slot)> {
        self.slots.iter_mut().enumerate().filter_map(|(t, s)| s.as_mut().map(|s| (t as ThreadIndex, s)))
    }

    /// What the thread is about to do.
    pub(super) fn next(&self, thread: ThreadIndex) -> Option<CoopCall> {
        self.get(thread).and_then(|s| s.next)
    }

    /// The threads on offer at a scheduling point: the runnable ones that
    /// did not yield, or if there are none, those that did. Sorted.
    pub(super) fn offered(&self) -> &[ThreadIndex] {
        if self.ready.is_empty() {
            &self.yielded
        } else {
            &self.ready
        }
    }

    /// Whether `thread` is the only runnable thread.
    pub(super) fn alone(&self, thread: ThreadIndex) -> bool {
        self.yielded.is_empty() && self.ready == [thread]
    }

    /// Whether any thread is runnable.
    pub(super) fn any_runnable(&self) -> bool {
        !self.ready.is_empty() || !self.yielded.is_empty()
    }

    /// A new thread, runnable.
    pub(super) fn add(&mut self, thread: ThreadIndex, fiber: Fiber, strategy: &mut dyn Strategy) {
        let at = thread as usize;
        if at >= self.slots.len() {
            self.slots.resize_with(at + 1, || None);
        }
        self.slots[at] = Some(Slot {
            fiber: Some(fiber),
            ctx: None,
            status: Status::Runnable,
            on: self.free_on.pop().unwrap_or_default(),
            woken: Woken::Changed,
            next: None,
            yielded: false,
            owed: self.free_owed.pop().unwrap_or_default(),
        });
        self.enter(thread, false, strategy);
    }

    /// Marks whether the running `thread` yielded, moving it between the
    /// two runnable sets. A yield defers to the threads that can run now
    /// (see [`Slot::owed`]); with none, it changes nothing.
    pub(super) fn set_yielded(&mut self, thread: ThreadIndex, yielded: bool, strategy: &mut dyn Strategy) {
        let Threads { slots, ready, yielded: yielders, .. } = self;
        let Some(slot) = slots.get_mut(thread as usize).and_then(Option::as_mut) else { return };
        if slot.yielded == yielded {
            return;
        }
        slot.owed.clear();
        if yielded {
            slot.owed.extend(ready.iter().chain(yielders.iter()).filter(|&&t| t != thread));
            if slot.owed.is_empty() {
                return;
            }
            slot.owed.sort_unstable();
        }
        slot.yielded = yielded;
        if slot.status == Status::Runnable {
            self.leave(thread, !yielded);
            self.enter(thread, yielded, strategy);
        }
    }

    /// `thread` was picked to run a step: it no longer yields, and the
    /// threads that deferred to it may be owed nothing more.
    pub(super) fn ran(&mut self, thread: ThreadIndex, strategy: &mut dyn Strategy) {
        self.set_yielded(thread, false, strategy);
        self.discharge(thread, strategy);
    }

    /// `thread` ran, blocked or finished: no yielding thread waits for it
    /// any longer, and those it was the last of are on offer again.
    fn discharge(&mut self, thread: ThreadIndex, strategy: &mut dyn Strategy) {
        if self.yielded.is_empty() {
            return;
        }
        let mut released = std::mem::take(&mut self.released);
        released.clear();
        for &y in &self.yielded {
            let Some(slot) = self.slots.get_mut(y as usize).and_then(Option::as_mut) else { continue };
            if let Ok(at) = slot.owed.binary_search(&thread) {
                slot.owed.remove(at);
            }
            if slot.owed.is_empty() {
                released.push(y);
            }
        }
        for &y in &released {
            self.set_yielded(y, false, strategy);
        }
        self.released = released;
    }

    /// `thread` (the running one) waits on `on` or until `deadline`.
    pub(super) fn block(
        &mut self,
        thread: ThreadIndex,
        on: &[Resource],
        deadline: Option<u64>,
        strategy: &mut dyn Strategy,
    ) {
        let Some(slot) = self.get_mut(thread) else { return };
        let was = (slot.status, slot.yielded);
        slot.status = Status::Blocked { deadline };
        slot.yielded = false;
        slot.on.clear();
        slot.on.extend_from_slice(on);
        if was.0 == Status::Runnable {
            self.leave(thread, was.1);
            strategy.runnable(thread, Runnable::No);
        }
        for &r in on {
            self.waiters.entry(r).or_default().push(thread);
        }
        if deadline.is_some() {
            self.timed.push(thread);
        }
        self.discharge(thread, strategy);
    }

    /// Lets the blocked `thread` run again, told why.
    fn unblock(&mut self, thread: ThreadIndex, woken: Woken, strategy: &mut dyn Strategy) {
        let Some(slot) = self.slots.get_mut(thread as usize).and_then(Option::as_mut) else { return };
        let Status::Blocked { deadline } = slot.status else { return };
        slot.status = Status::Runnable;
        slot.woken = woken;
        for r in &slot.on {
            if let Some(list) = self.waiters.get_mut(r) {
                list.retain(|&t| t != thread);
            }
        }
        if deadline.is_some() {
            self.timed.retain(|&t| t != thread);
        }
        self.enter(thread, false, strategy);
    }

    /// The threads blocked on `on`, sorted, into `out`.
    pub(super) fn waiters_of(&self, on: Resource, out: &mut Vec<ThreadIndex>) {
        out.clear();
        if let Some(list) = self.waiters.get(&on) {
            out.extend_from_slice(list);
            out.sort_unstable();
        }
    }

    /// Lets every thread blocked on `on` run again.
    pub(super) fn wake_all(&mut self, on: Resource, strategy: &mut dyn Strategy) {
        let Some(list) = self.waiters.get_mut(&on) else { return };
        if list.is_empty() {
            return;
        }
        let mut list = std::mem::take(list);
        for &t in &list {
            self.unblock(t, Woken::Changed, strategy);
        }
        list.clear();
        // Back in its place, for its capacity.
        if let Some(emptied) = self.waiters.get_mut(&on) {
            if emptied.is_empty() {
                *emptied = list;
            }
        }
    }

    /// Lets `thread`, one of the waiters of something, run again.
    pub(super) fn wake_one(&mut self, thread: ThreadIndex, strategy: &mut dyn Strategy) {
        self.unblock(thread, Woken::Changed, strategy);
    }

    /// `thread` has ended.
    pub(super) fn finish(&mut self, thread: ThreadIndex, strategy: &mut dyn Strategy) {
        let Some(slot) = self.get_mut(thread) else { return };
        let was = (slot.status, slot.yielded);
        slot.status = Status::Finished;
        if was.0 == Status::Runnable {
            self.leave(thread, was.1);
            strategy.runnable(thread, Runnable::No);
        }
        self.discharge(thread, strategy);
    }

    /// The blocked thread whose timer expires first (the lowest index among
    /// equal deadlines), with its deadline.
    pub(super) fn earliest_timer(&self) -> Option<(u64, ThreadIndex)> {
        self.timed
            .iter()
            .filter_map(|&t| match self.get(t)?.status {
                Status::Blocked { deadline: Some(d) } => Some((d, t)),
                _ => None,
            })
            .min()
    }

    /// Wakes, timed out, every blocked thread whose deadline is at or
    /// before `now`, in index order.
    pub(super) fn fire_timers(&mut self, now: u64, strategy: &mut dyn Strategy) {
        let mut due = std::mem::take(&mut self.due);
        due.clear();
        due.extend(self.timed.iter().copied().filter(|&t| {
            matches!(self.get(t).map(|s| s.status), Some(Status::Blocked { deadline: Some(d) }) if d <= now)
        }));
        due.sort_unstable();
        for &t in &due {
            self.unblock(t, Woken::TimedOut, strategy);
        }
        self.due = due;
    }

    /// Adds `thread` to the runnable set it belongs to and tells the strategy.
    fn enter(&mut self, thread: ThreadIndex, yielded: bool, strategy: &mut dyn Strategy) {
        let set = if yielded { &mut self.yielded } else { &mut self.ready };
        if let Err(at) = set.binary_search(&thread) {
            set.insert(at, thread);
        }
        strategy.runnable(thread, if yielded { Runnable::Yielded } else { Runnable::Ready });
    }

    /// Takes `thread` out of a runnable set.
    fn leave(&mut self, thread: ThreadIndex, yielded: bool) {
        let set = if yielded { &mut self.yielded } else { &mut self.ready };
        if let Ok(at) = set.binary_search(&thread) {
            set.remove(at);
        }
    }
}
