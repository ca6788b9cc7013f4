//! POS, partial order sampling (Yuan, Yang and Gu, "Partial order aware
//! concurrency sampling", CAV 2018): every pending event has a random
//! priority, the runnable thread whose next event has the highest one runs,
//! and when an event runs, the pending events that conflict with it get
//! fresh priorities. A thread's pending event is its next call, so a
//! priority belongs to a thread until it runs (its next event is a new one)
//! or a conflicting event runs. Redrawing only on conflicts is what samples
//! orders of conflicting events rather than interleavings: events that
//! commute do not spend the randomness.

use reprise_recorder::hook::coop::CoopCall;
use reprise_recorder::trace::model::ThreadIndex;

use super::conflict::Access;
use super::rng::{run_seed, Rng};
use super::{NextCall, Strategy};

/// Partial order sampling, reseeded per schedule from the search seed.
#[derive(Debug)]
pub struct Pos {
    seed: u64,
    rng: Rng,
    /// Per thread, the priority of its pending event; 0: none drawn yet.
    priority: Vec<u64>,
    /// The accesses made since the last choice, one per object (a write
    /// wins): the events whose conflicting pending events need new
    /// priorities. Usually one; several when threads ran alone meanwhile.
    ran: Vec<Access>,
}

impl Pos {
    /// POS seeded with `seed`.
    pub fn new(seed: u64) -> Pos {
        Pos { seed, rng: Rng::new(seed), priority: Vec::new(), ran: Vec::new() }
    }

    fn slot(&mut self, thread: ThreadIndex) -> &mut u64 {
        let at = thread as usize;
        if at >= self.priority.len() {
            self.priority.resize(at + 1, 0);
        }
        &mut self.priority[at]
    }
}

impl Strategy for Pos {
    fn begin(&mut self, index: u64) -> bool {
        self.rng = Rng::new(run_seed(self.seed, index));
        self.priority.clear();
        self.ran.clear();
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
        _current: Option<ThreadIndex>,
        next: NextCall<'_>,
    ) -> ThreadIndex {
        let mut best = (0, runnable[0]);
        for &t in runnable {
            let conflicted = !self.ran.is_empty()
                && Access::of(next(t)).is_some_and(|a| self.ran.iter().any(|r| r.conflicts(a)));
            let fresh = self.rng.next_u64() | 1;
            let slot = self.slot(t);
            if *slot == 0 || conflicted {
                *slot = fresh;
            }
            if *slot > best.0 {
                best = (*slot, t);
            }
        }
        self.ran.clear();
        best.1
    }

    fn ran(&mut self, thread: ThreadIndex, call: Option<CoopCall>) {
        *self.slot(thread) = 0;
        if let Some(access) = Access::of(call) {
            match self.ran.iter_mut().find(|r| r.object == access.object) {
                Some(r) => r.writes |= access.writes,
                None => self.ran.push(access),
            }
        }
    }

    fn name(&self) -> String {
        "pos".into()
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

    /// Thread 1 is about to read object 7; thread 2 to write object 9.
    fn pending(t: ThreadIndex) -> Option<CoopCall> {
        match t {
            1 => call(Op::AtomicLoad, 7),
            _ => call(Op::AtomicStore, 9),
        }
    }

    #[test]
    fn a_pending_event_keeps_its_priority_until_a_conflicting_event_runs() {
        let mut pos = Pos::new(5);
        pos.begin(0);
        let first = pos.choose_next(&[1, 2], None, &pending);
        let (p1, p2) = (pos.priority[1], pos.priority[2]);
        let other = if first == 1 { 2 } else { 1 };
        // Thread 3 writes an object nobody waits on: the priorities stay.
        pos.ran(3, call(Op::AtomicStore, 8));
        assert_eq!(pos.choose_next(&[1, 2], None, &pending), first);
        assert_eq!((pos.priority[1], pos.priority[2]), (p1, p2));
        // A write to object 7 conflicts with thread 1's pending read only.
        let mut redrawn = false;
        for _ in 0..64 {
            pos.ran(3, call(Op::AtomicStore, 7));
            pos.choose_next(&[1, 2], None, &pending);
            assert_eq!(pos.priority[2], p2, "thread 2's event does not conflict");
            redrawn |= pos.priority[1] != p1;
        }
        assert!(redrawn, "thread 1's priority is redrawn");
        // The thread that runs drops its priority: its next event is new.
        pos.ran(other, pending(other));
        assert_eq!(pos.priority[other as usize], 0);
    }

    #[test]
    fn the_same_seed_gives_the_same_choices() {
        let picks = |seed| {
            let mut pos = Pos::new(seed);
            let mut out = Vec::new();
            for index in 0..20 {
                pos.begin(index);
                let t = pos.choose_next(&[1, 2, 3], None, &pending);
                pos.ran(t, pending(t));
                out.push(t);
            }
            out
        };
        assert_eq!(picks(1), picks(1));
        assert_ne!(picks(1), picks(2));
    }
}
