//! Which threads a coroutine replay's scheduler looks at when it picks the
//! next one to run. A thread whose next recorded event must wait (for a
//! turn, a message, an exit, ...) is set aside under what it waits for and
//! looked at again only once that has happened; without this a pick looked
//! at every thread, and a program of 4,000 threads taking turns on one lock
//! replayed at 1.7x the time per thread of one of 500.
//!
//! The sets only save looking: a wake-up missed here would leave a thread
//! aside that could run, so when no candidate can run the scheduler looks
//! at every thread before it calls the replay stalled (see `Follow::pick`).

use std::collections::BTreeSet;

use reprise_recorder::trace::model::{Happened, ObjectIndex, ThreadIndex, TurnClass, WaitFor};

use super::counters::Pending;
use super::trace::FollowLog;
use crate::int_hash::IntMap;

/// What a thread set aside waits for to happen: as exactly as one event can
/// say it, so that a turn taken wakes the one thread whose turn is next,
/// not every thread queued on the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Key {
    /// The object's counter of this class reaching this many turns taken.
    Count(ObjectIndex, TurnClass, u64),
    /// A write turn or a read of this RwLock (a write turn waits for both).
    Write(ObjectIndex),
    /// This sender's message of this sequence number.
    Sent(ThreadIndex, u64),
    /// This thread's exit.
    Exit(ThreadIndex),
    /// A load of this atomic.
    Loads(ObjectIndex),
    /// A thread spawned.
    Spawn,
    /// A lock let go (by this run's numbering, which a recorded event's
    /// pending does not name: any lock).
    Release,
}

impl Key {
    /// What `pending` waits for, if anything this replay makes happen can
    /// end the wait; turn numbers ranked by `log` (as `Counters` counts).
    pub(super) fn of(pending: &Pending, log: &FollowLog) -> Option<Key> {
        Some(match *pending {
            Pending::Wait(WaitFor::Turn { object, class, number }) => {
                Key::Count(object, class, log.rank(object, class, number)?)
            }
            Pending::Wait(WaitFor::Taken { object, class, number }) => {
                Key::Count(object, class, log.rank(object, class, number)? + 1)
            }
            Pending::Wait(WaitFor::WriteTurn { object, .. }) => Key::Write(object),
            Pending::Wait(WaitFor::Message { sender, seq }) => Key::Sent(sender, seq),
            Pending::Wait(WaitFor::Exit(thread)) => Key::Exit(thread),
            // A coroutine replay never waits for a receive or a parallel
            // replay's release (see `Counters::satisfied`).
            Pending::Wait(WaitFor::Received { .. } | WaitFor::Room { .. } | WaitFor::Released { .. }) => {
                return None
            }
            Pending::Loads { object, .. } => Key::Loads(object),
            Pending::Spawn(_) => Key::Spawn,
            Pending::Held(_) => Key::Release,
        })
    }

    /// What waits `happened` can end, `taken` being the turns of its
    /// counter taken now (for a turn).
    pub(super) fn woken_by(happened: Happened, taken: u64) -> [Option<Key>; 2] {
        match happened {
            Happened::Turn { object, class: TurnClass::Write } => {
                [Some(Key::Count(object, TurnClass::Write, taken)), Some(Key::Write(object))]
            }
            Happened::Turn { object, class } => [Some(Key::Count(object, class, taken)), None],
            Happened::Read(object) => [Some(Key::Write(object)), None],
            Happened::Sent { sender, seq } => [Some(Key::Sent(sender, seq)), None],
            Happened::Exited(thread) => [Some(Key::Exit(thread)), None],
            Happened::Received { .. } | Happened::Dequeued(_) | Happened::Released(_) => [None, None],
        }
    }
}

/// The threads a pick looks at, and those set aside.
#[derive(Debug, Default)]
pub(super) struct Aside {
    /// Threads a pick looks at, in index order.
    candidates: BTreeSet<ThreadIndex>,
    /// Threads set aside, by what they wait for.
    waiting: IntMap<Key, Vec<ThreadIndex>>,
}

impl Aside {
    /// `thread` is looked at by the next picks.
    pub(super) fn add(&mut self, thread: ThreadIndex) {
        self.candidates.insert(thread);
    }

    /// The first candidate from `from` on, wrapping around to the lowest.
    pub(super) fn next_from(&self, from: ThreadIndex) -> Option<ThreadIndex> {
        self.candidates.range(from..).next().or_else(|| self.candidates.first()).copied()
    }

    /// `thread` is not looked at until `key` happens (never again: `None`,
    /// for a thread that finished or blocked in a primitive, which comes
    /// back through [`add`](Self::add)).
    pub(super) fn set_aside(&mut self, thread: ThreadIndex, key: Option<Key>) {
        self.candidates.remove(&thread);
        if let Some(key) = key {
            self.waiting.entry(key).or_default().push(thread);
        }
    }

    /// `key` happened: the threads waiting for it are looked at again.
    #[inline]
    pub(super) fn wake(&mut self, key: Key) {
        if self.waiting.is_empty() {
            return;
        }
        if let Some(threads) = self.waiting.remove(&key) {
            self.candidates.extend(threads);
        }
    }

    /// Every one of `threads` is looked at again, and none waits.
    pub(super) fn reset(&mut self, threads: impl Iterator<Item = ThreadIndex>) {
        self.waiting.clear();
        self.candidates.clear();
        self.candidates.extend(threads);
    }

    /// Whether any thread is set aside.
    pub(super) fn any_waiting(&self) -> bool {
        !self.waiting.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_set_aside_comes_back_when_what_it_waits_for_happens_and_not_before() {
        let mut aside = Aside::default();
        (0..4).for_each(|t| aside.add(t));
        aside.set_aside(1, Some(Key::Count(7, TurnClass::Lock, 3)));
        aside.set_aside(2, Some(Key::Exit(3)));
        assert_eq!(aside.next_from(1), Some(3));
        let lock = Happened::Turn { object: 7, class: TurnClass::Lock };
        for key in Key::woken_by(lock, 2).into_iter().flatten() {
            aside.wake(key);
        }
        assert_eq!(aside.next_from(1), Some(3), "the turn before the one it waits for");
        aside.wake(Key::Count(7, TurnClass::Write, 3));
        assert_eq!(aside.next_from(1), Some(3), "another counter of the same object");
        for key in Key::woken_by(lock, 3).into_iter().flatten() {
            aside.wake(key);
        }
        assert_eq!(aside.next_from(1), Some(1));
        assert!(aside.any_waiting(), "thread 2 still waits");
        aside.set_aside(3, None);
        assert_eq!(aside.next_from(2), Some(0), "wraps around past the last");
        aside.reset(0..4);
        assert!(!aside.any_waiting());
        assert_eq!(aside.next_from(2), Some(2));
    }
}
