//! Replay's queue: messages by id, so that a receive takes exactly the
//! message its recording got, whatever order the queue holds.

use std::collections::VecDeque;

use parking_lot::Mutex;

use super::flavor::Envelope;
use crate::trace::model::ThreadIndex;

/// A replayed channel's messages, in send order: receives mostly take the
/// oldest one, in O(1).
pub(super) struct ReplayQueue<T> {
    items: Mutex<VecDeque<Envelope<T>>>,
    /// As made: `Some(n)` by `bounded(n)`, `None` by `unbounded()`.
    capacity: Option<usize>,
}

impl<T> ReplayQueue<T> {
    pub(super) fn new(capacity: Option<usize>) -> ReplayQueue<T> {
        ReplayQueue { items: Mutex::new(VecDeque::new()), capacity }
    }

    /// The channel's capacity, as crossbeam's `capacity()` gives it.
    pub(super) fn capacity(&self) -> Option<usize> {
        self.capacity
    }

    /// Whether it is a rendezvous channel (`bounded(0)`): its replayed send
    /// returns only once its message was taken.
    pub(super) fn is_rendezvous(&self) -> bool {
        self.capacity == Some(0)
    }

    /// Queues the message `(sender, seq)`.
    pub(super) fn push(&self, sender: ThreadIndex, seq: u64, value: T) {
        self.items.lock().push_back(Envelope { sender, seq, value });
    }

    /// Takes the message `(sender, seq)`, if it is queued.
    pub(super) fn take(&self, sender: ThreadIndex, seq: u64) -> Option<T> {
        let mut items = self.items.lock();
        let at = items.iter().position(|e| e.sender == sender && e.seq == seq)?;
        items.remove(at).map(|e| e.value)
    }

    /// Whether the message `(sender, seq)` is still queued (not taken).
    pub(super) fn holds(&self, sender: ThreadIndex, seq: u64) -> bool {
        self.items.lock().iter().any(|e| e.sender == sender && e.seq == seq)
    }

    /// How many messages are queued (always 0 on a rendezvous, as
    /// crossbeam's: a message waiting there is still its sender's).
    pub(super) fn len(&self) -> usize {
        if self.is_rendezvous() {
            return 0;
        }
        self.items.lock().len()
    }
}
