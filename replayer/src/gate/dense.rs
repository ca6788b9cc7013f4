//! Dense positions for the sparse indices a trace names (threads, objects):
//! the gate keeps its per-thread and per-object state in plain slices
//! addressed by position, found without hashing.

/// No position: the index is not in the table.
const ABSENT: u32 = u32::MAX;

/// Direct tables are used while they waste at most this factor of slots
/// (plus a constant); a trace naming index 4,000,000,000 gets a sorted
/// search instead of a 16 GB table.
const DIRECT_SPREAD: usize = 4;
const DIRECT_SLACK: usize = 1024;

/// Maps each index of a set to its position in the set's sorted order.
#[derive(Debug, Default)]
pub(crate) struct DenseIndex {
    /// The indices, sorted and unique; position i holds index `keys[i]`.
    keys: Vec<u32>,
    /// `direct[index]` is its position, when the indices are compact
    /// enough for a table; empty otherwise.
    direct: Vec<u32>,
}

impl DenseIndex {
    /// The positions of `indices` (duplicates are fine).
    pub(crate) fn new(indices: impl IntoIterator<Item = u32>) -> DenseIndex {
        let mut keys: Vec<u32> = indices.into_iter().collect();
        keys.sort_unstable();
        keys.dedup();
        let direct = match keys.last() {
            Some(&max) if (max as usize) < keys.len() * DIRECT_SPREAD + DIRECT_SLACK => {
                let mut direct = vec![ABSENT; max as usize + 1];
                for (position, &key) in keys.iter().enumerate() {
                    direct[key as usize] = position as u32;
                }
                direct
            }
            _ => Vec::new(),
        };
        DenseIndex { keys, direct }
    }

    /// The position of `index`, if it is in the set.
    #[inline]
    pub(crate) fn get(&self, index: u32) -> Option<usize> {
        if self.direct.is_empty() {
            return self.keys.binary_search(&index).ok();
        }
        match self.direct.get(index as usize) {
            Some(&position) if position != ABSENT => Some(position as usize),
            _ => None,
        }
    }

    /// How many indices the set holds.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The index at `position`.
    pub(crate) fn index_at(&self, position: usize) -> u32 {
        self.keys[position]
    }
}

#[cfg(test)]
mod tests {
    use super::DenseIndex;

    #[test]
    fn compact_and_sparse_indices_get_the_same_positions() {
        let compact = DenseIndex::new([3, 0, 7, 3]);
        assert!(!compact.direct.is_empty(), "small indices use a table");
        let sparse = DenseIndex::new([3, 0, 7, u32::MAX - 1]);
        assert!(sparse.direct.is_empty(), "a huge index must not size a table");
        for index in [0, 3, 7] {
            assert_eq!(compact.get(index), sparse.get(index));
        }
        assert_eq!(compact.get(3), Some(1));
        assert_eq!(compact.index_at(2), 7);
        assert_eq!(compact.len(), 3);
        for absent in [1, 8, 1_000_000, u32::MAX] {
            assert_eq!(compact.get(absent), None);
        }
        assert_eq!(sparse.get(u32::MAX - 1), Some(3));
        assert_eq!(sparse.get(u32::MAX), None);
        assert_eq!(DenseIndex::new([]).get(0), None);
    }
}
