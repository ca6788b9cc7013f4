//! Vector clocks over the numbered trace's synchronization: what each
//! event is known to come after.

/// A vector clock: per thread slot, how many of its events are known to
/// have happened before.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Clock(Vec<u64>);

impl Clock {
    /// Takes in everything `other` knows.
    pub(super) fn join(&mut self, other: &Clock) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (mine, theirs) in self.0.iter_mut().zip(&other.0) {
            *mine = (*mine).max(*theirs);
        }
    }

    /// Counts one more event of `slot`; returns its epoch (its count).
    pub(super) fn tick(&mut self, slot: usize) -> u64 {
        if self.0.len() <= slot {
            self.0.resize(slot + 1, 0);
        }
        self.0[slot] += 1;
        self.0[slot]
    }

    /// Whether the event `epoch` of `slot` happened before this clock's.
    pub(super) fn knows(&self, slot: usize, epoch: u64) -> bool {
        self.0.get(slot).is_some_and(|&seen| seen >= epoch)
    }
}

#[cfg(test)]
mod tests {
    use super::Clock;

    #[test]
    fn a_join_keeps_the_larger_count_of_each_thread() {
        let (mut a, mut b) = (Clock::default(), Clock::default());
        a.tick(0);
        a.tick(0);
        b.tick(1);
        assert!(!b.knows(0, 1));
        b.join(&a);
        assert!(b.knows(0, 2) && b.knows(1, 1) && !b.knows(0, 3));
    }
}
