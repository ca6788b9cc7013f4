//! SURW, selectively uniform random walk (Zhao et al., "Selectively uniform
//! concurrency testing", ASPLOS 2025). A random walk that picks each
//! runnable thread with the same odds favours the threads with few events
//! left: a short thread almost surely runs before the end of a long one. To
//! sample interleavings uniformly, a thread is picked with probability
//! proportional to the events it has left. Those counts are not known in
//! advance, so they are learned: the most events each thread made on each
//! object in the schedules so far.
//!
//! "Selectively": only the events that matter count and are interleaved.
//! Each schedule focuses either on every shared object (touched by two
//! threads or more; all objects before anything is known) or on one shared
//! object drawn at random; an event on an object out of focus is not a
//! choice point (the thread that reached it goes on), so the randomness is
//! spent on the orders of the events in focus.

use std::collections::{BTreeMap, BTreeSet};

use reprise_recorder::hook::coop::CoopCall;
use reprise_recorder::trace::model::{ObjectIndex, ThreadIndex};

use super::conflict::Access;
use super::rng::{run_seed, Rng};
use super::{NextCall, Strategy};

/// Which events a schedule interleaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Focus {
    /// Events on any shared object, or on one not seen before.
    Shared,
    /// Events on this object.
    One(ObjectIndex),
}

/// Selectively uniform random walk, reseeded per schedule from the search
/// seed.
#[derive(Debug)]
pub struct Surw {
    seed: u64,
    rng: Rng,
    /// The most events a schedule made per thread and object, so far.
    learned: BTreeMap<(ThreadIndex, ObjectIndex), u64>,
    /// The first thread seen touching each object.
    toucher: BTreeMap<ObjectIndex, ThreadIndex>,
    /// Objects two or more threads touched.
    shared: BTreeSet<ObjectIndex>,
    /// The current schedule's events per thread and object.
    counts: BTreeMap<(ThreadIndex, ObjectIndex), u64>,
    focus: Focus,
    /// Per thread, its estimated events in focus still to come.
    remaining: Vec<u64>,
}

impl Surw {
    /// SURW seeded with `seed`.
    pub fn new(seed: u64) -> Surw {
        Surw {
            seed,
            rng: Rng::new(seed),
            learned: BTreeMap::new(),
            toucher: BTreeMap::new(),
            shared: BTreeSet::new(),
            counts: BTreeMap::new(),
            focus: Focus::Shared,
            remaining: Vec::new(),
        }
    }

    fn in_focus(&self, object: ObjectIndex) -> bool {
        match self.focus {
            Focus::Shared => self.shared.contains(&object) || !self.toucher.contains_key(&object),
            Focus::One(o) => o == object,
        }
    }

    fn matters(&self, call: Option<CoopCall>) -> bool {
        Access::of(call).is_some_and(|a| self.in_focus(a.object))
    }

    /// A thread's weight: its events left, at least 1 (a thread the
    /// estimate says is done, or one never seen, can still run).
    fn weight(&self, thread: ThreadIndex) -> u64 {
        self.remaining.get(thread as usize).copied().unwrap_or(0).max(1)
    }
}

impl Strategy for Surw {
    fn begin(&mut self, index: u64) -> bool {
        self.rng = Rng::new(run_seed(self.seed, index));
        self.counts.clear();
        self.focus = if self.shared.is_empty() || self.rng.below(2) == 0 {
            Focus::Shared
        } else {
            let at = self.rng.below(self.shared.len() as u64) as usize;
            Focus::One(*self.shared.iter().nth(at).expect("at < len"))
        };
        self.remaining.clear();
        for (&(thread, object), &n) in &self.learned {
            if self.in_focus(object) {
                let at = thread as usize;
                if at >= self.remaining.len() {
                    self.remaining.resize(at + 1, 0);
                }
                self.remaining[at] += n;
            }
        }
        true
    }

    /// Only for choices that are not events (which waiter a notify wakes,
    /// which ready operation a select takes): uniform.
    fn choose(&mut self, runnable: &[ThreadIndex], _current: Option<ThreadIndex>) -> ThreadIndex {
        runnable[self.rng.below(runnable.len() as u64) as usize]
    }

    fn choose_next(
        &mut self,
        runnable: &[ThreadIndex],
        current: Option<ThreadIndex>,
        next: NextCall<'_>,
    ) -> ThreadIndex {
        if let Some(c) = current {
            if !self.matters(next(c)) {
                return c;
            }
        }
        let total: u64 = runnable.iter().map(|&t| self.weight(t)).sum();
        let mut draw = self.rng.below(total);
        for &t in runnable {
            let w = self.weight(t);
            if draw < w {
                return t;
            }
            draw -= w;
        }
        runnable[runnable.len() - 1]
    }

    fn ran(&mut self, thread: ThreadIndex, call: Option<CoopCall>) {
        let Some(access) = Access::of(call) else { return };
        *self.counts.entry((thread, access.object)).or_insert(0) += 1;
        if self.in_focus(access.object) {
            if let Some(left) = self.remaining.get_mut(thread as usize) {
                *left = left.saturating_sub(1);
            }
        }
    }

    fn end(&mut self, _steps: u64) {
        for (&(thread, object), &n) in &self.counts {
            let most = self.learned.entry((thread, object)).or_insert(0);
            *most = (*most).max(n);
            if *self.toucher.entry(object).or_insert(thread) != thread {
                self.shared.insert(object);
            }
        }
    }

    fn name(&self) -> String {
        "surw".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reprise_recorder::trace::model::Op;

    #[track_caller]
    fn call(op: Op, object: u32) -> Option<CoopCall> {
        Some(CoopCall { op: Some(op), object: Some(object), location: std::panic::Location::caller() })
    }

    /// One schedule where thread 1 stores to object 7 `long` times and
    /// thread 2 once; both also touch their own object (10 + t).
    fn teach(surw: &mut Surw, index: u64, long: u64) {
        surw.begin(index);
        for _ in 0..long {
            surw.ran(1, call(Op::AtomicStore, 7));
        }
        surw.ran(2, call(Op::AtomicStore, 7));
        surw.ran(1, call(Op::AtomicStore, 11));
        surw.ran(2, call(Op::AtomicStore, 12));
        surw.end(0);
    }

    #[test]
    fn threads_are_picked_in_proportion_to_their_remaining_events() {
        let mut surw = Surw::new(3);
        teach(&mut surw, 0, 9);
        assert_eq!(surw.shared.iter().copied().collect::<Vec<_>>(), vec![7]);
        let next = |_| call(Op::AtomicStore, 7);
        let mut ones = 0;
        for index in 1..2001 {
            surw.begin(index);
            // Both foci weigh the shared object only: 9 events to 1.
            assert_eq!((surw.weight(1), surw.weight(2)), (9, 1));
            ones += u64::from(surw.choose_next(&[1, 2], None, &next) == 1);
        }
        assert!((1600..=1990).contains(&ones), "thread 1 picked {ones} of 2000 times, expected about 1800");
    }

    #[test]
    fn an_event_out_of_focus_is_not_a_choice_point_and_counts_go_down() {
        let mut surw = Surw::new(4);
        teach(&mut surw, 0, 3);
        surw.begin(1);
        // Thread 1's own object is touched by nobody else: out of focus.
        let next = |t| if t == 1 { call(Op::AtomicStore, 11) } else { call(Op::AtomicStore, 7) };
        for _ in 0..50 {
            assert_eq!(surw.choose_next(&[1, 2], Some(1), &next), 1);
        }
        let before = surw.weight(1);
        surw.ran(1, call(Op::AtomicStore, 7));
        assert_eq!(surw.weight(1), (before - 1).max(1));
    }
}
