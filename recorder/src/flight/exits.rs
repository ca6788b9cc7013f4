//! Which threads whose rings hold chunks have exited, in the order their
//! exits were seen, found at a cost that does not grow with the threads the
//! run ever started.
//!
//! Only the threads that hold chunks and were not seen exited are looked
//! at ([`Exits::watch`]); a thread leaves it when seen exited, and comes
//! back into the keeper's view only if it hands a chunk over again. They
//! are all looked at once for every [`SCAN_CREDIT`]-th of them chunks taken
//! (each chunk earns that many looks), and a chunk's own thread at each of
//! its chunks: a few looks per chunk whatever the threads alive, and an exit
//! is seen within a number of chunks that the threads alive bound. It was a
//! scan of every thread ever started for each chunk taken: a fan-in of
//! 2,000 short-lived threads took 1.5-2.1 s under the flight recorder
//! against 0.17 s recorded, its end waiting for the keeper.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::rt::exec::ThreadShared;
use crate::trace::model::ThreadIndex;

/// Looks at the watched threads a chunk earns: the whole watch is looked
/// at once the chunks taken since it last was earned as many as it holds.
const SCAN_CREDIT: usize = 4;

#[derive(Debug, Default)]
pub(crate) struct Exits {
    /// Every thread of the execution seen so far, by index: its list of
    /// threads is read from [`Self::read`] on, each entry once.
    shared: HashMap<ThreadIndex, Arc<ThreadShared>>,
    read: usize,
    /// Threads holding chunks, not seen exited (never the root), by index.
    watch: BTreeMap<ThreadIndex, Arc<ThreadShared>>,
    /// Threads seen exited.
    gone: HashSet<ThreadIndex>,
    /// Exited threads holding chunks, oldest exit seen first.
    pub(crate) order: VecDeque<ThreadIndex>,
    /// Looks earned since the watch was last looked at whole.
    credit: usize,
    /// Thread entries looked at or read (a test's measure of the work).
    pub(crate) visits: u64,
}

impl Exits {
    /// `thread`'s ring went from holding nothing to holding a chunk. `root`:
    /// the root thread, whose exit ends the run and which is never retired.
    pub(crate) fn holds(
        &mut self,
        threads: &Mutex<Vec<Arc<ThreadShared>>>,
        thread: ThreadIndex,
        root: ThreadIndex,
    ) {
        if thread == root {
            return;
        }
        if self.gone.contains(&thread) {
            // An exited thread handed a chunk over after its rings were
            // emptied: it holds again, and goes last.
            self.order.push_back(thread);
            return;
        }
        if let Some(shared) = self.find(threads, thread) {
            self.watch.insert(thread, shared);
        }
    }

    /// A chunk of `thread` was taken: moves the watched threads seen exited
    /// to [`Self::order`], all of them when the chunks earned it (by index,
    /// as a scan of the execution's threads did), else `thread` alone.
    pub(crate) fn look(&mut self, thread: ThreadIndex) {
        self.credit = self.credit.saturating_add(SCAN_CREDIT);
        if self.credit >= self.watch.len() {
            self.credit = 0;
            self.visits += self.watch.len() as u64;
            let order = &mut self.order;
            let gone = &mut self.gone;
            self.watch.retain(|&index, shared| {
                let exited = shared.exited.load(Ordering::Acquire);
                if exited {
                    order.push_back(index);
                    gone.insert(index);
                }
                !exited
            });
        } else if let Some(shared) = self.watch.get(&thread) {
            self.visits += 1;
            if shared.exited.load(Ordering::Acquire) {
                self.watch.remove(&thread);
                self.order.push_back(thread);
                self.gone.insert(thread);
            }
        }
    }

    /// Whether `thread` exited (a thread not known yet has not).
    pub(crate) fn exited(&mut self, threads: &Mutex<Vec<Arc<ThreadShared>>>, thread: ThreadIndex) -> bool {
        self.gone.contains(&thread)
            || self.find(threads, thread).is_some_and(|shared| shared.exited.load(Ordering::Acquire))
    }

    /// `thread`'s shared part, reading the threads registered since the
    /// last read when it is not known yet.
    fn find(
        &mut self,
        threads: &Mutex<Vec<Arc<ThreadShared>>>,
        thread: ThreadIndex,
    ) -> Option<Arc<ThreadShared>> {
        if let Some(shared) = self.shared.get(&thread) {
            return Some(Arc::clone(shared));
        }
        {
            let threads = threads.lock();
            for shared in threads.get(self.read..).unwrap_or_default() {
                self.visits += 1;
                self.shared.insert(shared.index, Arc::clone(shared));
            }
            self.read = threads.len();
        }
        self.shared.get(&thread).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn register(threads: &Mutex<Vec<Arc<ThreadShared>>>, index: ThreadIndex) -> Arc<ThreadShared> {
        let shared = Arc::new(ThreadShared::new(index, None));
        threads.lock().push(Arc::clone(&shared));
        shared
    }

    #[test]
    fn exits_are_ordered_as_seen_and_the_root_is_never_watched() {
        let threads = Mutex::new(Vec::new());
        let all: Vec<_> = (0..4).map(|i| register(&threads, i)).collect();
        let mut exits = Exits::default();
        for i in 0..4 {
            exits.holds(&threads, i, 0);
        }
        assert_eq!(exits.watch.len(), 3, "the root is not watched");
        all[0].exited.store(true, Ordering::Release);
        all[3].exited.store(true, Ordering::Release);
        exits.look(2);
        all[1].exited.store(true, Ordering::Release);
        exits.look(1);
        assert_eq!(exits.order, [3, 1]);
        assert!(exits.exited(&threads, 3) && !exits.exited(&threads, 2));
        // Retired (its rings emptied), then holding again: it goes last.
        exits.order.pop_front();
        exits.holds(&threads, 3, 0);
        assert_eq!(exits.order, [1, 3]);
    }

    #[test]
    fn an_exit_is_seen_within_the_chunks_the_threads_alive_bound() {
        let threads = Mutex::new(Vec::new());
        let all: Vec<_> = (0..100).map(|i| register(&threads, i)).collect();
        let mut exits = Exits::default();
        for i in 1..100 {
            exits.holds(&threads, i, 0);
            exits.look(i);
        }
        all[50].exited.store(true, Ordering::Release);
        let before = exits.visits;
        // Chunks of other threads only: the exit is seen by a whole look.
        let mut chunks = 0;
        while exits.order.is_empty() {
            exits.look(1);
            chunks += 1;
            assert!(chunks <= 99 / SCAN_CREDIT + 1, "thread 50's exit unseen after {chunks} chunks");
        }
        // One whole look (99 threads), one look at thread 1 for the others.
        assert!(
            exits.visits - before <= 99 + chunks as u64,
            "{} looks in {chunks} chunks",
            exits.visits - before
        );
    }
}
