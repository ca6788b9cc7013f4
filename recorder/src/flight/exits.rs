//! Which threads whose rings hold chunks have exited, in the order their
//! exits were seen, found at a cost that does not grow with the threads the
//! run ever started, in memory that does not either.
//!
//! Only the threads that hold chunks and were not seen exited are looked
//! at ([`Exits::watch`]); a thread leaves it when seen exited, and comes
//! back into the keeper's view only if it hands a chunk over again (its
//! last one, taken after its exit was seen). They are all looked at once
//! for every [`SCAN_CREDIT`]-th of them chunks taken (each chunk earns that
//! many looks), and a chunk's own thread at each of its chunks: a few looks
//! per chunk whatever the threads alive, and an exit is seen within a number
//! of chunks that the threads alive bound. It was a scan of every thread
//! ever started for each chunk taken: a fan-in of 2,000 short-lived threads
//! took 1.5-2.1 s under the flight recorder against 0.17 s recorded, its
//! end waiting for the keeper.
//!
//! A thread is found in the execution's list of threads, which holds only
//! those that have not ended: one that handed a chunk over and is no longer
//! there has exited. Nothing here is kept per thread that exited (it kept
//! every thread's shared part, buffer included: 1.2 KB for each thread ever
//! started, under a program starting a thread per task).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
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
    /// Threads holding chunks, not seen exited (never the root), by index.
    watch: BTreeMap<ThreadIndex, Arc<ThreadShared>>,
    /// Threads found exited when their ring began holding: they join the
    /// next look's exits, in index order with them.
    found: BTreeSet<ThreadIndex>,
    /// Exited threads holding chunks, oldest exit seen first.
    pub(crate) order: VecDeque<ThreadIndex>,
    /// Looks earned since the watch was last looked at whole.
    credit: usize,
    /// Thread entries looked at (a test's measure of the work).
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
        match self.find(threads, thread) {
            Some(shared) if !shared.exited.load(Ordering::Acquire) => {
                self.watch.insert(thread, shared);
            }
            // Exited: its last chunk came after its exit, or after it left
            // the list. It goes with the next look's exits, by index: a
            // thread still watched may have exited before it (pushed at
            // once, a fan-in's thread 9 went before thread 8 and was
            // retired in its place).
            _ => {
                self.found.insert(thread);
                self.credit = usize::MAX;
            }
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
            let found = &mut self.found;
            self.watch.retain(|&index, shared| {
                let exited = shared.exited.load(Ordering::Acquire);
                if exited {
                    found.insert(index);
                }
                !exited
            });
            self.order.extend(std::mem::take(&mut self.found));
        } else if let Some(shared) = self.watch.get(&thread) {
            self.visits += 1;
            if shared.exited.load(Ordering::Acquire) {
                self.watch.remove(&thread);
                self.order.push_back(thread);
            }
        }
    }

    /// Whether `thread`, a thread that registered (it asks the keeper, or
    /// it is the root), exited.
    pub(crate) fn exited(&mut self, threads: &Mutex<Vec<Arc<ThreadShared>>>, thread: ThreadIndex) -> bool {
        if self.found.contains(&thread) {
            return true;
        }
        match self.watch.get(&thread).cloned().or_else(|| self.find(threads, thread)) {
            Some(shared) => shared.exited.load(Ordering::Acquire),
            None => true,
        }
    }

    /// `thread`'s shared part while it is in the execution's list: one look
    /// over the threads that have not ended.
    fn find(
        &mut self,
        threads: &Mutex<Vec<Arc<ThreadShared>>>,
        thread: ThreadIndex,
    ) -> Option<Arc<ThreadShared>> {
        let threads = threads.lock();
        self.visits += threads.len() as u64;
        threads.iter().find(|shared| shared.index == thread).cloned()
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
        assert!(exits.exited(&threads, 3));
        exits.look(2);
        assert_eq!(exits.order, [1, 3]);
    }

    /// A fan-in's thread 8 was watched (alive when its chunk came), thread
    /// 9 exited and left the list before its one chunk came: 9 went into
    /// the order at once, 8 after it at the look, and thread 9 was retired
    /// before 8 though it exited later.
    #[test]
    fn a_thread_found_exited_goes_with_the_next_looks_exits_by_index() {
        let threads = Mutex::new(Vec::new());
        let all: Vec<_> = (0..9).map(|i| register(&threads, i)).collect();
        let mut exits = Exits::default();
        exits.holds(&threads, 8, 0);
        all[8].exited.store(true, Ordering::Release);
        threads.lock().retain(|t| t.index != 8 && t.index != 7);
        drop(all);
        // Thread 9 is not in the list: it exited and left.
        exits.holds(&threads, 9, 0);
        exits.look(9);
        assert_eq!(exits.order, [8, 9]);
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
