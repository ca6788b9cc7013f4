//! Vector clocks over the numbered trace's synchronization: what each
//! event is known to come after.

/// A vector clock: per thread slot, how many of its events are known to
/// have happened before. Sparse (slot, count) pairs in slot order, without
/// zeros: a dense vector grew to the slot of every thread it ticked, so a
/// trace of 100,000 threads that never met took 20 GB.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Clock(Vec<(usize, u64)>);

impl Clock {
    /// Takes in everything `other` knows.
    pub(super) fn join(&mut self, other: &Clock) {
        // Most joins bring no thread this clock has not seen: in place.
        let mut at = 0;
        let mut missing = false;
        for &(slot, count) in &other.0 {
            while self.0.get(at).is_some_and(|&(mine, _)| mine < slot) {
                at += 1;
            }
            match self.0.get_mut(at) {
                Some((mine, seen)) if *mine == slot => {
                    *seen = (*seen).max(count);
                    at += 1;
                }
                _ => missing = true,
            }
        }
        if !missing {
            return;
        }
        let mut merged = Vec::with_capacity(self.0.len() + other.0.len());
        let (mut a, mut b) = (self.0.iter().peekable(), other.0.iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(&&x), Some(&&y)) if x.0 == y.0 => {
                    a.next();
                    b.next();
                    (x.0, x.1.max(y.1))
                }
                (Some(&&x), Some(&&y)) if x.0 < y.0 => *a.next().unwrap_or(&x),
                (_, Some(&&y)) => *b.next().unwrap_or(&y),
                (Some(&&x), None) => *a.next().unwrap_or(&x),
                (None, None) => break,
            };
            merged.push(next);
        }
        self.0 = merged;
    }

    /// Counts one more event of `slot`; returns its epoch (its count).
    pub(super) fn tick(&mut self, slot: usize) -> u64 {
        match self.0.binary_search_by_key(&slot, |&(s, _)| s) {
            Ok(at) => {
                self.0[at].1 += 1;
                self.0[at].1
            }
            Err(at) => {
                self.0.insert(at, (slot, 1));
                1
            }
        }
    }

    /// Whether the event `epoch` of `slot` happened before this clock's.
    pub(super) fn knows(&self, slot: usize, epoch: u64) -> bool {
        self.0.binary_search_by_key(&slot, |&(s, _)| s).is_ok_and(|at| self.0[at].1 >= epoch)
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
