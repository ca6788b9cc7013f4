//! Replay's queue: messages by id, so that a receive takes exactly the
//! message its recording got, whatever order the queue holds.

use std::collections::VecDeque;

use parking_lot::Mutex;

use super::flavor::Envelope;
use crate::rt::gate::BACKLOG_CAP;
use crate::trace::model::ThreadIndex;

/// A replayed channel's messages, in send order: receives mostly take the
/// oldest one, in O(1).
pub(super) struct ReplayQueue<T> {
    held: Mutex<Held<T>>,
    /// As made: `Some(n)` by `bounded(n)`, `None` by `unbounded()`.
    capacity: Option<usize>,
}

/// What a replay queue holds, and how much it has given out.
struct Held<T> {
    items: VecDeque<Envelope<T>>,
    /// Messages taken so far.
    taken: u64,
    /// Set when a send waiting for room was let go with nothing else able
    /// to run: sends no longer wait until the queue is below the cap again.
    overflow: bool,
}

impl<T> ReplayQueue<T> {
    pub(super) fn new(capacity: Option<usize>) -> ReplayQueue<T> {
        ReplayQueue { held: Mutex::new(Held { items: VecDeque::new(), taken: 0, overflow: false }), capacity }
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
        self.held.lock().items.push_back(Envelope { sender, seq, value });
    }

    /// Takes the message `(sender, seq)`, if it is queued.
    pub(super) fn take(&self, sender: ThreadIndex, seq: u64) -> Option<T> {
        let mut held = self.held.lock();
        let at = held.items.iter().position(|e| e.sender == sender && e.seq == seq)?;
        let value = held.items.remove(at).map(|e| e.value)?;
        held.taken += 1;
        if held.items.len() < BACKLOG_CAP {
            held.overflow = false;
        }
        Some(value)
    }

    /// Whether the message `(sender, seq)` is still queued (not taken).
    pub(super) fn holds(&self, sender: ThreadIndex, seq: u64) -> bool {
        self.held.lock().items.iter().any(|e| e.sender == sender && e.seq == seq)
    }

    /// How many messages are queued (always 0 on a rendezvous, as
    /// crossbeam's: a message waiting there is still its sender's).
    pub(super) fn len(&self) -> usize {
        if self.is_rendezvous() {
            return 0;
        }
        self.held.lock().items.len()
    }

    /// How many messages must have been taken in all before a message sent
    /// now may go in: `None` while the queue is below [`BACKLOG_CAP`] (or is
    /// a rendezvous, or an earlier wait was let go); once it is full, until
    /// it has drained to half. Waiting only for one message's room made a
    /// producer ahead of its consumers sleep and wake once per message (a
    /// third of a 200,000-payment replay's sleeps); with the slack it does
    /// so once per half a queue.
    pub(super) fn room_needed(&self) -> Option<u64> {
        let held = self.held.lock();
        let len = held.items.len();
        if len < BACKLOG_CAP || self.is_rendezvous() || held.overflow {
            return None;
        }
        Some(held.taken + (len - BACKLOG_CAP / 2) as u64)
    }

    /// A send that waited until `taken` messages were taken returned: if
    /// fewer were, the replay let it go because nothing else could run, and
    /// sends go on without waiting until the queue is below the cap again.
    pub(super) fn room_waited(&self, taken: u64) {
        let mut held = self.held.lock();
        if held.taken < taken {
            held.overflow = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ReplayQueue, BACKLOG_CAP};

    #[test]
    fn a_full_queue_makes_its_producer_wait_until_it_drained_to_half() {
        let queue = ReplayQueue::new(None);
        for seq in 0..BACKLOG_CAP as u64 - 1 {
            queue.push(0, seq, ());
            assert_eq!(queue.room_needed(), None, "below the cap, a send goes in at once");
        }
        queue.push(0, BACKLOG_CAP as u64 - 1, ());
        for seq in 0..3 {
            assert!(queue.take(0, seq).is_some());
        }
        // 3 taken, CAP - 3 held: still under the cap.
        assert_eq!(queue.room_needed(), None);
        for seq in BACKLOG_CAP as u64..BACKLOG_CAP as u64 + 3 {
            queue.push(0, seq, ());
        }
        // Full again: the next send waits until half the queue was taken,
        // not for one message's room (one sleep per message, otherwise).
        assert_eq!(queue.room_needed(), Some(3 + (BACKLOG_CAP / 2) as u64));
        let rendezvous = ReplayQueue::<()>::new(Some(0));
        assert_eq!(rendezvous.room_needed(), None);
    }
}
