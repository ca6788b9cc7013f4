//! Splitting a systematic search between machines: the schedule tree is
//! cut at its branching points. The shards that own a point's subtree share
//! its options: with at least as many shards as options, option j goes to
//! every k-th of them (from the j-th), else each option to one shard, in
//! turn. Once one shard owns a subtree it searches all of it. A schedule
//! that branched enough on its way belongs to exactly one shard; in a tree
//! too small for the shards, several may run the same one.

/// The shards owning a subtree: `size` of them, from `start`, every `stride`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shards {
    start: u64,
    stride: u64,
    size: u64,
}

impl Shards {
    /// All `n` shards: the owners of the whole tree.
    pub(crate) fn all(n: u64) -> Shards {
        Shards { start: 0, stride: 1, size: n.max(1) }
    }

    /// The owners of option `j` of the `k` a point offers.
    pub(crate) fn option(self, j: usize, k: usize) -> Shards {
        let (j, k) = (j as u64, k.max(1) as u64);
        if self.size >= k {
            Shards {
                start: self.start + j * self.stride,
                stride: self.stride * k,
                size: (self.size - j).div_ceil(k),
            }
        } else {
            Shards { start: self.start + (j % self.size) * self.stride, stride: self.stride, size: 1 }
        }
    }

    /// Whether `shard` is one of them.
    pub(crate) fn contains(self, shard: u64) -> bool {
        shard >= self.start
            && (shard - self.start).is_multiple_of(self.stride)
            && (shard - self.start) / self.stride < self.size
    }
}

#[cfg(test)]
mod tests {
    use super::Shards;

    /// Every path through points of the given widths has exactly one owner.
    fn owners(n: u64, widths: &[usize]) -> Vec<Vec<u64>> {
        let mut paths = vec![(Shards::all(n), Vec::new())];
        for &k in widths {
            paths = paths
                .into_iter()
                .flat_map(|(s, p)| {
                    (0..k).map(move |j| {
                        let mut p: Vec<usize> = p.clone();
                        p.push(j);
                        (s.option(j, k), p)
                    })
                })
                .collect();
        }
        paths.iter().map(|(s, _)| (0..n).filter(|&i| s.contains(i)).collect()).collect()
    }

    #[test]
    fn each_schedule_has_one_shard_and_each_shard_some() {
        for (widths, shards) in [(vec![2, 2, 2], vec![1, 2, 3, 4, 8]), (vec![3, 3], (1..=9).collect())] {
            for n in shards {
                let owners = owners(n, &widths);
                for o in &owners {
                    assert_eq!(o.len(), 1, "{n} shards, widths {widths:?}: {owners:?}");
                }
                for i in 0..n {
                    assert!(owners.iter().any(|o| o[0] == i), "{n} shards, {widths:?}: shard {i} has none");
                }
            }
        }
    }
}
