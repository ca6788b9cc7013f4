//! A table keyed by the small indices a recorder gives out densely (objects,
//! threads): a `Vec` slot per index, so a lookup per replayed event is an
//! index, not a hash. An index read from a file can be anything, so past a
//! bound the entries go to a hash map instead of growing the `Vec` to it.

use crate::int_hash::IntMap;

/// Indices up to this one are held in the `Vec`.
const DENSE_BOUND: u32 = 1 << 20;

/// Values by index, `V::default()` where none was set.
#[derive(Debug, Default)]
pub(crate) struct Dense<V> {
    near: Vec<V>,
    far: IntMap<u32, V>,
}

impl<V: Copy + Default> Dense<V> {
    /// The value at `index` (the default when none was set).
    #[inline]
    pub(crate) fn get(&self, index: u32) -> V {
        match self.near.get(index as usize) {
            Some(v) => *v,
            None if index < DENSE_BOUND => V::default(),
            None => self.far.get(&index).copied().unwrap_or_default(),
        }
    }

    /// The value at `index`, to change.
    #[inline]
    pub(crate) fn at(&mut self, index: u32) -> &mut V {
        if index >= DENSE_BOUND {
            return self.far.entry(index).or_default();
        }
        let at = index as usize;
        if at >= self.near.len() {
            self.near.resize(at + 1, V::default());
        }
        &mut self.near[at]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_and_far_indices_read_back_and_unset_ones_are_the_default() {
        let mut table: Dense<u64> = Dense::default();
        *table.at(3) += 5;
        *table.at(u32::MAX) = 7;
        assert_eq!((table.get(3), table.get(u32::MAX), table.get(4), table.get(DENSE_BOUND)), (5, 7, 0, 0));
        assert_eq!(table.near.len(), 4, "a far index does not grow the vector");
    }
}
