//! Each replayed thread's own slot: its cursor, its bed, its liveness mark,
//! and what it is doing for reports. Only its thread writes most of it; a
//! waker touches its parker and mark, the watchdog reads its status.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use parking_lot::Mutex;
use reprise_recorder::trace::model::ThreadIndex;

use crate::gate::status::Status;
use crate::gate::waiters::Parker;
use crate::gate::Observed;
use crate::liveness::ParkSlot;

/// One recorded thread's slot.
#[derive(Debug, Default)]
pub(crate) struct ThreadSlot {
    /// Its next event.
    pub(crate) cursor: AtomicUsize,
    pub(crate) parker: Parker,
    pub(crate) park: ParkSlot,
    /// Bumped at each registration of a wait: a waker holding an older
    /// ticket found a stale entry and wakes nobody.
    ticket: AtomicU64,
    /// `None` until it starts.
    status: Mutex<Option<Status>>,
    /// Its calls, when the replay keeps them.
    observed: Mutex<Vec<Observed>>,
}

impl ThreadSlot {
    /// A new ticket for the next registration.
    pub(crate) fn next_ticket(&self) -> u64 {
        self.ticket.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Whether `ticket` is the one its current wait registered with.
    pub(crate) fn holds(&self, ticket: u64) -> bool {
        self.ticket.load(Ordering::SeqCst) == ticket
    }
}

/// Every thread's slot, with a slower fallback for threads the trace does
/// not name (they only park at the end of their empty logs).
#[derive(Debug, Default)]
pub(crate) struct Threads {
    pub(crate) slots: Box<[ThreadSlot]>,
    /// The bed of threads without a slot, shared: its wake-ups go to all.
    pub(crate) unlisted: Parker,
    unlisted_status: Mutex<BTreeMap<ThreadIndex, Status>>,
    unlisted_observed: Mutex<BTreeMap<ThreadIndex, Vec<Observed>>>,
}

impl Threads {
    pub(crate) fn new(count: usize) -> Threads {
        Threads { slots: (0..count).map(|_| ThreadSlot::default()).collect(), ..Threads::default() }
    }

    /// Sets what `thread` (at `slot`, when it has one) is doing.
    pub(crate) fn set_status(&self, thread: ThreadIndex, slot: Option<&ThreadSlot>, status: Status) {
        match slot {
            Some(slot) => *slot.status.lock() = Some(status),
            None => {
                self.unlisted_status.lock().insert(thread, status);
            }
        }
    }

    /// Keeps a call `thread` made.
    pub(crate) fn observe(&self, thread: ThreadIndex, slot: Option<&ThreadSlot>, call: Observed) {
        match slot {
            Some(slot) => slot.observed.lock().push(call),
            None => self.unlisted_observed.lock().entry(thread).or_default().push(call),
        }
    }

    /// Every started thread's status, by thread index; `index_at` names the
    /// thread at a slot's position.
    pub(crate) fn statuses(&self, index_at: impl Fn(usize) -> ThreadIndex) -> Vec<(ThreadIndex, Status)> {
        let mut all: Vec<_> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(at, slot)| slot.status.lock().clone().map(|s| (index_at(at), s)))
            .collect();
        all.extend(self.unlisted_status.lock().iter().map(|(&t, s)| (t, s.clone())));
        all.sort_by_key(|(t, _)| *t);
        all
    }

    /// Every thread's kept calls (threads that made none are left out).
    pub(crate) fn take_observed(
        &self,
        index_at: impl Fn(usize) -> ThreadIndex,
    ) -> BTreeMap<ThreadIndex, Vec<Observed>> {
        let mut all = std::mem::take(&mut *self.unlisted_observed.lock());
        for (at, slot) in self.slots.iter().enumerate() {
            let calls = std::mem::take(&mut *slot.observed.lock());
            if !calls.is_empty() {
                all.insert(index_at(at), calls);
            }
        }
        all
    }
}
