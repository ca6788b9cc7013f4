//! What has happened so far in a coroutine replay, counted per object as the
//! parallel gate counts it (turns taken, messages sent, threads exited), and
//! whether a thread's next recorded event can happen now. One OS thread runs
//! the replay, so nothing here takes a lock.

use reprise_recorder::trace::model::{
    Event, Happened, ObjectIndex, Outcome, ThreadIndex, TurnClass, WaitFor,
};

use super::dense::Dense;
use super::trace::FollowLog;
use crate::int_hash::IntMap;
use crate::log::read_store;

/// The counters of one replay.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Per recorded object: turns taken per class, and reads since the
    /// last write turn.
    objects: Dense<ObjectCounts>,
    /// Per thread: the highest message sequence number sent, and whether
    /// it exited.
    threads: Dense<(u64, bool)>,
    /// Loads (and failed compare-exchanges) made so far, by the store read.
    loads: IntMap<(ObjectIndex, u64), u64>,
    /// Threads created so far (the root included): thread indices are given
    /// out in spawn order, so a spawn waits until its child's index is next.
    pub(crate) created: u64,
}

/// One object's counts.
#[derive(Clone, Copy, Debug, Default)]
struct ObjectCounts {
    /// By `class_slot`.
    taken: [u64; 3],
    reads_since_write: u64,
}

/// A turn class's position in `ObjectCounts::taken`.
#[inline]
pub(super) fn class_slot(class: TurnClass) -> usize {
    match class {
        TurnClass::Lock => 0,
        TurnClass::Write => 1,
        TurnClass::Store => 2,
    }
}

/// Why a recorded event cannot happen yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Pending {
    /// What its outcome depends on in other threads.
    Wait(WaitFor),
    /// The loads of the store before it have not all been made.
    Loads { object: ObjectIndex, store: u64 },
    /// Its child's index is not the next one.
    Spawn(ThreadIndex),
    /// It took a lock without waiting in the recording, and the lock is held.
    Held(ObjectIndex),
}

impl Counters {
    /// Turns of `object`'s counter of `class` taken so far.
    #[inline]
    pub(crate) fn taken(&self, object: ObjectIndex, class: TurnClass) -> u64 {
        self.objects.get(object).taken[class_slot(class)]
    }

    /// Whether a recorded `event` (whose outcome is `outcome`) can
    /// happen now; `Err` says what it waits for.
    pub(crate) fn ready(&self, log: &FollowLog, event: &Event, outcome: &Outcome) -> Result<(), Pending> {
        if let Some(until) = outcome.waits_for(event.object) {
            let until = log.within_trace(until);
            if !self.satisfied(log, &until) {
                return Err(Pending::Wait(until));
            }
        }
        if let Some(turn) = outcome.turn(event.object).filter(|t| t.class == TurnClass::Store) {
            let rank = log.rank(turn.object, turn.class, turn.number).unwrap_or(0);
            let before = log.previous_turn(turn.object, turn.class, rank);
            let needed = log.log.loads_of(turn.object, before);
            if self.loads.get(&(turn.object, before)).copied().unwrap_or(0) < needed {
                return Err(Pending::Loads { object: turn.object, store: before });
            }
        }
        match *outcome {
            Outcome::Spawn { child } if u64::from(child) != self.created => Err(Pending::Spawn(child)),
            _ => Ok(()),
        }
    }

    fn satisfied(&self, log: &FollowLog, until: &WaitFor) -> bool {
        match *until {
            WaitFor::Turn { object, class, number } => match log.rank(object, class, number) {
                Some(rank) => self.taken(object, class) == rank,
                None => true,
            },
            WaitFor::Taken { number: 0, .. } => true,
            WaitFor::Taken { object, class, number } => match log.rank(object, class, number) {
                Some(rank) => self.taken(object, class) > rank,
                None => true,
            },
            WaitFor::WriteTurn { object, number, readers } => {
                let turn = match log.rank(object, TurnClass::Write, number) {
                    Some(rank) => self.taken(object, TurnClass::Write) == rank,
                    None => true,
                };
                turn && self.objects.get(object).reads_since_write >= readers
            }
            WaitFor::Message { sender, seq } => self.threads.get(sender).0 >= seq,
            WaitFor::Exit(thread) => self.threads.get(thread).1,
            // Only a parallel replay's sends and locks wait for these; no
            // recorded outcome does, so a coroutine replay never asks.
            WaitFor::Received { .. } | WaitFor::Room { .. } | WaitFor::Released { .. } => true,
        }
    }

    /// `thread` made its recorded `event`; returns what it made happen.
    pub(crate) fn apply(
        &mut self,
        thread: ThreadIndex,
        event: &Event,
        outcome: &Outcome,
    ) -> Option<Happened> {
        let happened = outcome.makes_happen(thread, event.object);
        match happened {
            Some(Happened::Turn { object, class }) => {
                let counts = self.objects.at(object);
                counts.taken[class_slot(class)] += 1;
                if class == TurnClass::Write {
                    counts.reads_since_write = 0;
                }
            }
            Some(Happened::Read(object)) => self.objects.at(object).reads_since_write += 1,
            Some(Happened::Sent { sender, seq }) => {
                let sent = &mut self.threads.at(sender).0;
                *sent = (*sent).max(seq);
            }
            Some(Happened::Exited(thread)) => self.threads.at(thread).1 = true,
            // Never derived from an outcome (see `ready`).
            Some(Happened::Received { .. } | Happened::Dequeued(_) | Happened::Released(_)) | None => {}
        }
        if let Some(store) = read_store(outcome) {
            *self.loads.entry((event.object, store)).or_insert(0) += 1;
        }
        happened
    }

    /// A thread finished (its exit event, if any, was applied already).
    pub(crate) fn finished(&mut self, thread: ThreadIndex) {
        self.threads.at(thread).1 = true;
    }
}
