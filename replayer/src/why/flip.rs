//! The strategy of one `why` run: follow the recorded order up to a point,
//! optionally hold one thread back until another has made a given event
//! (the flip), then run on without preemption.
//!
//! The tail runs each thread until it blocks (then the lowest-numbered
//! runnable one): deterministic, and the schedule least likely to make a
//! race of its own, so a failure that remains is the recorded prefix's.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;

use reprise_recorder::hook::coop::Served;
use reprise_recorder::trace::model::{Event, Op, ThreadIndex};

use crate::explore::Strategy;

/// A recorded event by position: its thread and its index among the
/// thread's events.
pub(crate) type At = (ThreadIndex, u64);

/// Hold `held` back until `until` has been made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Hold {
    /// The thread held back, and the index of its event that must come
    /// after `until`.
    pub(crate) held: At,
    /// The event to let happen first, and its place in the recorded order.
    pub(crate) until: At,
    pub(crate) until_at: usize,
}

/// What the run told about its flip, read after the run.
#[derive(Clone, Debug, Default)]
pub(crate) struct Flipped {
    /// The held event's thread could not get there without the held thread.
    pub(crate) infeasible: Cell<bool>,
    /// `until` was made while the held thread had not made its event: the
    /// order was flipped.
    pub(crate) happened: Cell<bool>,
    /// A thread asked for a captured value where its recording has none
    /// (`thread`, the index of its event).
    pub(crate) missing_capture: Cell<Option<At>>,
}

/// Follows `order[..upto]`, then the hold, then runs without preemption.
pub(crate) struct Guided {
    order: Rc<[At]>,
    upto: usize,
    hold: Option<Hold>,
    cursor: usize,
    done: BTreeMap<ThreadIndex, u64>,
    /// Per thread, its yields since its last event: a thread that keeps
    /// yielding waits for another, so the tail lets another run.
    yields: BTreeMap<ThreadIndex, u32>,
    flipped: Rc<Flipped>,
    captures: Rc<Captures>,
    arms: Rc<Arms>,
    due: Rc<Due>,
    /// Each recorded event's place in `order`.
    positions: Rc<Positions>,
}

/// Each recorded event's place in the recorded order.
pub(crate) type Positions = std::collections::HashMap<At, usize>;

/// What the recording serves a run, by (thread, event index), with the
/// event's place in the recorded order.
pub(crate) type Captures = BTreeMap<At, (usize, Served)>;

/// The arm each recorded select took, by (thread, event index), with the
/// event's place in the recorded order.
pub(crate) type Arms = BTreeMap<At, (usize, u32)>;

/// The virtual time at which recorded events that depend on the clock
/// were made (a select that took a timer arm, a timer's receive), by
/// (thread, event index), with the event's place in the recorded order.
pub(crate) type Due = BTreeMap<At, (usize, u64)>;

/// Yields in a row after which the tail takes the turn from a thread: one
/// yield between a read and a write is not a wait, a loop of them is.
const SPIN: u32 = 3;

impl Guided {
    pub(crate) fn new(
        (order, positions): (Rc<[At]>, Rc<Positions>),
        (captures, arms, due): (Rc<Captures>, Rc<Arms>, Rc<Due>),
        upto: usize,
        hold: Option<Hold>,
        flipped: Rc<Flipped>,
    ) -> Guided {
        let (done, yields) = (BTreeMap::new(), BTreeMap::new());
        Guided { order, upto, hold, cursor: 0, done, yields, flipped, captures, arms, due, positions }
    }

    fn made_count(&self, thread: ThreadIndex) -> u64 {
        self.done.get(&thread).copied().unwrap_or(0)
    }

    /// The thread held back now: once the prefix has been made, until
    /// `until` has.
    fn holding(&self) -> Option<ThreadIndex> {
        let hold = self.hold?;
        let on = self.cursor >= self.upto
            && self.made_count(hold.until.0) <= hold.until.1
            && !self.flipped.infeasible.get();
        on.then_some(hold.held.0)
    }

    /// Moves the cursor past the events made.
    fn advance(&mut self) {
        while let Some(&(t, i)) = self.order.get(self.cursor) {
            if self.made_count(t) <= i {
                break;
            }
            self.cursor += 1;
        }
    }

    /// How far the recorded order is followed now.
    fn follow_end(&self) -> usize {
        match self.holding().and(self.hold) {
            Some(hold) => hold.until_at + 1,
            None => self.upto,
        }
        .min(self.order.len())
    }
}

impl Strategy for Guided {
    fn begin(&mut self, _index: u64) -> bool {
        self.cursor = 0;
        self.done.clear();
        self.yields.clear();
        self.flipped.infeasible.set(false);
        self.flipped.happened.set(false);
        self.flipped.missing_capture.set(None);
        true
    }

    /// Also a time choice's: `runnable` then ends with the sleeper whose
    /// timer is the earliest, which is chosen (its timer fires) when its
    /// next event comes first in the recorded order, or when no other
    /// thread may go on.
    fn choose(&mut self, runnable: &[ThreadIndex], current: Option<ThreadIndex>) -> ThreadIndex {
        self.advance();
        let held = self.holding();
        let end = self.follow_end();
        if self.cursor < end {
            // The runnable thread whose next event comes first in the
            // recorded order: the one at the cursor, unless it waits (a send
            // to a full bounded channel, which the order, placing every send
            // before its receive, does not know about).
            let next = |t: ThreadIndex| self.positions.get(&(t, self.made_count(t))).copied();
            let first = runnable
                .iter()
                .filter(|&&t| Some(t) != held)
                .filter_map(|&t| next(t).filter(|&p| p < end).map(|p| (p, t)))
                .min();
            if let Some((_, t)) = first {
                return t;
            }
        }
        let spinning = |t: &ThreadIndex| self.yields.get(t).is_some_and(|&n| n >= SPIN);
        let allowed = |t: &ThreadIndex| Some(*t) != held;
        if let Some(c) = current.filter(|c| allowed(c) && !spinning(c)) {
            return c;
        }
        if let Some(&t) = runnable.iter().find(|t| allowed(t) && !spinning(t)) {
            return t;
        }
        if let Some(&t) = runnable.iter().find(|t| allowed(t)) {
            return t;
        }
        // Only the held thread can run: the other cannot get to its event
        // first, so this order cannot be flipped.
        self.flipped.infeasible.set(true);
        runnable[0]
    }

    fn ran(&mut self, thread: ThreadIndex, call: Option<reprise_recorder::hook::coop::CoopCall>) {
        // `None` after a thread's start is a `yield_now`.
        if call.is_none() && self.made_count(thread) > 0 {
            *self.yields.entry(thread).or_default() += 1;
        }
        // The scheduler asks nobody when one thread alone can run: if that
        // is the held one, the hold is broken.
        if self.holding() == Some(thread) {
            self.flipped.infeasible.set(true);
        }
    }

    fn made(&mut self, thread: ThreadIndex, _event: &Event) {
        if let Some(hold) = self.hold {
            let until = (thread, self.made_count(thread)) == hold.until;
            if until && self.made_count(hold.held.0) == hold.held.1 {
                self.flipped.happened.set(true);
            }
        }
        *self.done.entry(thread).or_default() += 1;
        self.yields.remove(&thread);
        self.advance();
    }

    fn served(&mut self, thread: ThreadIndex, op: Op) -> Option<Served> {
        let at = (thread, self.made_count(thread));
        let recorded = self.captures.get(&at).filter(|(_, s)| s.outcome.op() == op);
        if !matches!(op, Op::Capture | Op::CaptureSensitive) {
            // A receive that found no message is served while the run
            // follows the recording; after that, the explorer decides.
            let end = self.follow_end();
            return recorded.filter(|(place, _)| *place < end).map(|(_, s)| s.clone());
        }
        // By (thread, call index), as a coroutine replay serves them: a run
        // that took another path asks where the recording has no value.
        let served = recorded.map(|(_, s)| s.clone());
        if served.is_none() && self.flipped.missing_capture.get().is_none() {
            self.flipped.missing_capture.set(Some(at));
        }
        served
    }

    /// While the recorded order is followed, a select takes the arm it
    /// took in the recording: with several arms ready, which one it takes
    /// is a choice of the schedule as much as who runs.
    fn arm(&mut self, thread: ThreadIndex, options: &[u32]) -> Option<u32> {
        let (place, arm) = *self.arms.get(&(thread, self.made_count(thread)))?;
        (place < self.follow_end() && options.contains(&arm)).then_some(arm)
    }

    /// While the recorded order is followed, a select that took a timer
    /// arm (or a timer's receive that got its instant) is not made before
    /// the time it was made at: the timer was not due earlier. The order
    /// has no edges for time (a trace does not say when a sleep or a
    /// timeout fired), so it may place such a select before the timed waits
    /// of other threads that moved the clock in the recording: run at once,
    /// it found only another arm ready and took that one.
    fn not_before(&mut self, thread: ThreadIndex) -> Option<u64> {
        let (place, at) = *self.due.get(&(thread, self.made_count(thread)))?;
        (place < self.follow_end()).then_some(at)
    }

    fn name(&self) -> String {
        "why".into()
    }
}
