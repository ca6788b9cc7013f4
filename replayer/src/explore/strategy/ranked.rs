//! A set of threads ranked by a key (a PCT priority), with the top-ranked
//! one at hand: a tournament tree over thread indices, so that adding,
//! removing or re-ranking a thread costs O(log n) and finding the top costs
//! nothing, with no allocation once the tree has grown to the run's threads.
//! A strategy that picks the highest-priority runnable thread at every
//! scheduling point would otherwise scan them all each time.

use reprise_recorder::trace::model::ThreadIndex;

/// No thread, in a node of the tree.
const NONE: u32 = u32::MAX;

/// Threads ranked by `keys[thread]` (the caller's), ties broken by index.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ranked {
    /// Leaves at `size..2 * size`, one per thread index; each inner node
    /// holds the better of its two children. `NONE` where no thread is.
    nodes: Vec<u32>,
    size: usize,
}

impl Ranked {
    /// Empties the set, keeping its memory.
    pub(crate) fn clear(&mut self) {
        self.nodes.fill(NONE);
    }

    /// The top-ranked thread.
    pub(crate) fn top(&self) -> Option<ThreadIndex> {
        self.nodes.get(1).copied().filter(|&t| t != NONE)
    }

    /// Whether `thread` is in the set.
    pub(crate) fn contains(&self, thread: ThreadIndex) -> bool {
        (thread as usize) < self.size && self.nodes[self.size + thread as usize] != NONE
    }

    /// Puts `thread` in the set (`true`) or takes it out, or re-ranks it
    /// after its key changed.
    pub(crate) fn set(&mut self, thread: ThreadIndex, present: bool, keys: &[u64]) {
        let at = thread as usize;
        if at >= self.size {
            if !present {
                return;
            }
            self.grow(at + 1, keys);
        }
        let mut node = self.size + at;
        self.nodes[node] = if present { thread } else { NONE };
        while node > 1 {
            node /= 2;
            self.nodes[node] = better(self.nodes[2 * node], self.nodes[2 * node + 1], keys);
        }
    }

    /// Makes room for thread indices below `threads`, keeping the members.
    fn grow(&mut self, threads: usize, keys: &[u64]) {
        let size = threads.next_power_of_two().max(8);
        let members: Vec<u32> = self.nodes.get(self.size..).unwrap_or(&[]).to_vec();
        self.size = size;
        self.nodes.clear();
        self.nodes.resize(2 * size, NONE);
        self.nodes[size..size + members.len()].copy_from_slice(&members);
        for node in (1..size).rev() {
            self.nodes[node] = better(self.nodes[2 * node], self.nodes[2 * node + 1], keys);
        }
    }
}

/// The higher-ranked of two nodes.
fn better(a: u32, b: u32, keys: &[u64]) -> u32 {
    match (a, b) {
        (NONE, x) | (x, NONE) => x,
        _ => {
            let key = |t: u32| (keys.get(t as usize).copied().unwrap_or(0), t);
            if key(a) >= key(b) {
                a
            } else {
                b
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Ranked;

    #[test]
    fn the_top_is_the_member_with_the_highest_key_as_members_come_go_and_change() {
        let mut keys = vec![0u64; 40];
        let mut ranked = Ranked::default();
        let mut members: Vec<u32> = Vec::new();
        let mut x = 7u64;
        for round in 0..2000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let t = ((x >> 33) % 40) as u32;
            match (x >> 20) % 3 {
                0 => {
                    keys[t as usize] = (x >> 40) % 50;
                    if members.contains(&t) {
                        ranked.set(t, true, &keys);
                    }
                }
                1 if !members.contains(&t) => {
                    members.push(t);
                    ranked.set(t, true, &keys);
                }
                _ => {
                    members.retain(|&m| m != t);
                    ranked.set(t, false, &keys);
                }
            }
            let expected = members.iter().copied().max_by_key(|&m| (keys[m as usize], m));
            assert_eq!(ranked.top(), expected, "round {round}");
            assert!(members.iter().all(|&m| ranked.contains(m)));
        }
        ranked.clear();
        assert_eq!(ranked.top(), None);
    }
}
