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
}

impl<T> ReplayQueue<T> {
    pub(super) fn new() -> ReplayQueue<T> {
        ReplayQueue { items: Mutex::new(VecDeque::new()) }
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

    /// How many messages are queued.
    pub(super) fn len(&self) -> usize {
        self.items.lock().len()
    }
}
