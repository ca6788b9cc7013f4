//! Where each thread of a coroutine replay is (its fiber, its status, its
//! next recorded event) and what the run holds beside them; and the one
//! question a pick asks of it: can this thread's next event happen now, or
//! what does it wait for.

use corosensei::stack::DefaultStack;
use reprise_recorder::hook::coop::{CoopCall, Resource, SavedContext};
use reprise_recorder::trace::model::{Event, ObjectIndex, Outcome, ThreadIndex, TurnClass, WaitFor};

use super::aside::{Aside, Key};
use super::counters::{Counters, Pending};
use super::dense::Dense;
use super::follow::Follow;
use super::trace::FollowLog;
use crate::explore::coroutine::{Fiber, Spawned};
use crate::int_hash::IntSet;
use crate::log::{impossible_turn, no_run_gives, turn_wait, RankRanges};
use crate::report::Stop;
use crate::unwinding::Unwinding;

#[cfg(test)]
thread_local! {
    /// How many times this OS thread's replays looked at whether a thread can run.
    pub(super) static LOOKS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Where a thread of the replay is.
#[derive(Debug)]
pub(crate) enum Status {
    /// It may run when its next recorded event is ready.
    Runnable,
    /// Blocked in a primitive (a held lock, a full channel, a join) until
    /// one of these changes.
    Blocked(Vec<Resource>),
    /// It made a call past the end of its recorded events.
    EndOfLog(CoopCall),
    Finished,
}

pub(crate) struct Slot {
    pub(super) fiber: Option<Fiber>,
    pub(super) ctx: Option<SavedContext>,
    pub(crate) status: Status,
    /// Its next recorded event.
    pub(crate) cursor: usize,
    /// The event at `cursor` and its outcome (`None`: one no recorder
    /// writes), copied from its window as the cursor moves: every check of
    /// the thread's next step reads it here. `None` past its window.
    pub(super) recorded: Option<(Event, Option<Outcome>)>,
    /// The call it stopped at (`None`: not started, or a `yield_now`).
    pub(crate) next: Option<CoopCall>,
    /// It made an event past the end of its log: it parks at its next
    /// scheduling point.
    pub(super) overran: bool,
}

pub(crate) struct State {
    pub(crate) log: FollowLog,
    pub(crate) counters: Counters,
    /// This run's threads by index (given out densely, in spawn order).
    pub(super) threads: Vec<Option<Slot>>,
    /// The threads whose status is `Blocked`: a wake-up looks at these only.
    pub(super) blocked: Vec<ThreadIndex>,
    /// The threads a pick looks at, and those set aside until what their
    /// next event waits for happens.
    pub(super) aside: Aside,
    /// This run's object indices to the recording's, bound on first use.
    pub(super) objects: Dense<Option<ObjectIndex>>,
    pub(super) bound: IntSet<ObjectIndex>,
    /// Per counter of the recording's objects, how far this run's numbers
    /// are ahead of the recorded ones (wrapping): set only for primitives
    /// that earlier executions of the process counted on (see
    /// `State::shifted`).
    pub(super) shifts: std::collections::HashMap<(ObjectIndex, TurnClass), u64>,
    /// Locks held in this run (this run's indices).
    pub(super) held: Dense<bool>,
    pub(super) running: Option<ThreadIndex>,
    pub(super) last: Option<ThreadIndex>,
    /// Scheduling points the running thread went on through since it was
    /// picked.
    pub(super) slice: u32,
    pub(crate) stop: Option<Stop>,
    /// Whether running out of a thread's events is a divergence (a whole
    /// trace whose thread exited) rather than the end of what was recorded.
    pub(super) complete: bool,
    pub(super) pool: Vec<DefaultStack>,
    pub(super) spawned: Vec<Spawned>,
    /// Events made so far.
    pub(super) made: u64,
    /// Messages each channel holds (the recording's indices): see
    /// `backlog.rs`.
    pub(super) backlog: Dense<u32>,
    /// Which threads unwind, the OS thread's panic count being shared: a
    /// thread whose turn is not next while it unwinds waits for it,
    /// suspended with the count raised, as the explorer that made such a
    /// trace suspended it.
    pub(super) unwinding: Unwinding,
    /// The first question whether a thread unwinds answered by a guess: the
    /// thread and its cursor then.
    pub(super) guess: Option<(ThreadIndex, usize)>,
}
impl State {
    /// This run's thread `thread`.
    #[inline]
    pub(crate) fn slot(&self, thread: ThreadIndex) -> Option<&Slot> {
        self.threads.get(thread as usize)?.as_ref()
    }

    #[inline]
    pub(super) fn slot_mut(&mut self, thread: ThreadIndex) -> Option<&mut Slot> {
        self.threads.get_mut(thread as usize)?.as_mut()
    }

    /// This run's threads, in index order.
    pub(crate) fn slots(&self) -> impl Iterator<Item = (ThreadIndex, &Slot)> + '_ {
        self.threads.iter().enumerate().filter_map(|(t, s)| Some((t as ThreadIndex, s.as_ref()?)))
    }

    /// `thread` made its recorded event: its cursor moves past it (and its
    /// window along).
    pub(super) fn step(&mut self, thread: ThreadIndex) {
        let Some(Some(slot)) = self.threads.get_mut(thread as usize) else { return };
        slot.cursor += 1;
        let cursor = slot.cursor;
        self.log.advance(thread, cursor as u64);
        slot.recorded = self.log.current(thread, cursor).map(|(e, o)| (*e, o.copied()));
    }

    /// `thread`'s next recorded event and its outcome, if its log holds one.
    #[inline]
    pub(crate) fn recorded(&self, thread: ThreadIndex) -> Option<(&Event, Option<&Outcome>)> {
        let (event, outcome) = self.slot(thread)?.recorded.as_ref()?;
        Some((event, outcome.as_ref()))
    }

    /// `thread` made an event past the end of its log.
    pub(super) fn overran(&mut self, thread: ThreadIndex) {
        if let Some(slot) = self.slot_mut(thread) {
            slot.overran = true;
        }
    }

    /// The first candidate from `from` on (wrapping around) that can run
    /// now; those that cannot are set aside under what they wait for.
    pub(super) fn pick_candidate(&mut self, from: ThreadIndex) -> Option<ThreadIndex> {
        loop {
            let next = self.aside.next_from(from)?;
            if self.can_run(next) {
                return Some(next);
            }
            let runnable = self.slot(next).is_some_and(|slot| matches!(slot.status, Status::Runnable));
            let pending = if runnable { self.pending(next) } else { None };
            if let Some(Pending::Wait(until)) = &pending {
                if self.cannot_happen(next, until) {
                    return None;
                }
            }
            let key = pending.and_then(|p| Key::of(&p, &self.log));
            self.aside.set_aside(next, key);
        }
    }

    /// Whether `thread`'s next recorded event waits for a turn no run
    /// gives (see [`impossible_turn`]), as the parallel gate asks before a
    /// thread waits; if so, the replay stops with a divergence there.
    fn cannot_happen(&mut self, thread: ThreadIndex, until: &WaitFor) -> bool {
        let Some(wait) = turn_wait(until) else { return false };
        let empty = RankRanges::default();
        let ranks = self.log.ranks(wait.0, wait.1).unwrap_or(&empty);
        let taken = self.counters.taken(wait.0, wait.1);
        let why = impossible_turn(ranks, taken, wait, self.complete)
            .or_else(|| self.log.log.too_few_reads(until).filter(|_| self.complete));
        let Some(why) = why else { return false };
        let Some(slot) = self.slot(thread) else { return false };
        let cursor = slot.cursor;
        let actual = slot.next.map_or_else(|| "its next call".into(), |call| self.describe_call(&call));
        let detail = no_run_gives(self.recorded(thread).and_then(|(_, outcome)| outcome), &why);
        Follow::diverge(self, thread, cursor, actual, detail);
        true
    }

    /// The threads that are runnable (not blocked, not finished).
    pub(super) fn runnable(&self) -> Vec<ThreadIndex> {
        self.slots().filter(|(_, slot)| matches!(slot.status, Status::Runnable)).map(|(t, _)| t).collect()
    }

    /// When no thread can run: if one of them waits for a turn no run
    /// gives, stops the replay with a divergence there, not a stall.
    pub(super) fn stop_at_an_impossible_wait(&mut self) {
        for thread in self.runnable() {
            if let Some(Pending::Wait(until)) = self.pending(thread) {
                if self.cannot_happen(thread, &until) {
                    return;
                }
            }
        }
    }

    /// Whether `thread` can run now.
    pub(super) fn can_run(&self, thread: ThreadIndex) -> bool {
        #[cfg(test)]
        LOOKS.with(|looks| looks.set(looks.get() + 1));
        let Some(slot) = self.slot(thread) else { return false };
        matches!(slot.status, Status::Runnable) && self.pending(thread).is_none()
    }

    /// What `thread`'s next recorded event waits for, if it cannot happen now.
    pub(crate) fn pending(&self, thread: ThreadIndex) -> Option<Pending> {
        let slot = self.slot(thread)?;
        let call = slot.next?;
        let (event, outcome) = slot.recorded.as_ref()?;
        self.pending_at(&call, event, outcome.as_ref()?)
    }

    /// What recorded `event` (whose outcome is `outcome`), which a thread
    /// stopped at `call` makes next, waits for, if it cannot happen now.
    #[inline]
    pub(super) fn pending_at(&self, call: &CoopCall, event: &Event, outcome: &Outcome) -> Option<Pending> {
        if let Outcome::CondWait { mutex, .. } = *outcome {
            // A condvar wait stops twice: before it lets the mutex go (it
            // must, whatever its turn) and when it takes the mutex back.
            if call.object.and_then(|o| self.bound_to(o)) != Some(mutex) {
                return None;
            }
        }
        let took = matches!(
            *outcome,
            Outcome::TryLock { acquisition: Some(_) }
                | Outcome::TryReadLock { writes_before: Some(_) }
                | Outcome::TryWriteLock { taken: Some(_) }
        );
        if let (true, Some(object)) = (took, call.object) {
            // It got the lock in the recording without waiting: no writer
            // held it.
            if self.held.get(object) {
                return Some(Pending::Held(event.object));
            }
        }
        self.counters.ready(&self.log, event, outcome).err()
    }
}
