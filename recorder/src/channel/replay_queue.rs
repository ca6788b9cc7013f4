//! Replay's queue: messages by id, so that a receive takes exactly the
//! message its recording got, whatever order the queue holds.

use std::collections::VecDeque;

use parking_lot::Mutex;

use super::flavor::Envelope;
use crate::rt::gate::BACKLOG_CAP;
use crate::trace::model::ThreadIndex;

/// Messages a queue at [`BACKLOG_CAP`] drains to before a send that waited
/// for room goes on.
const ROOM_LOW_WATER: usize = BACKLOG_CAP / 2;

/// A replayed channel's messages, in send order: receives mostly take the
/// oldest one, in O(1).
pub(super) struct ReplayQueue<T> {
    held: Mutex<Held<T>>,
    /// As made: `Some(n)` by `bounded(n)`, `None` by `unbounded()`.
    capacity: Option<usize>,
    /// The replay that made it (its execution's id): no other execution's
    /// trace speaks of it.
    exec: Option<u32>,
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
        let exec = crate::rt::context::try_with(|ctx| ctx.exec.id);
        ReplayQueue {
            held: Mutex::new(Held { items: VecDeque::new(), taken: 0, overflow: false }),
            capacity,
            exec,
        }
    }

    /// Whether the calling thread belongs to the replay that made the
    /// queue; `None` for a thread outside every execution.
    pub(super) fn is_callers(&self) -> Option<bool> {
        crate::rt::context::try_with(|ctx| Some(ctx.exec.id) == self.exec)
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
        self.held.lock().items.push_back(Envelope { sender, sender_blocked: false, seq, value });
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
    /// now may go: `None` while the queue is below [`BACKLOG_CAP`] (or it is
    /// a rendezvous, or an earlier wait was let go); at the cap, until the
    /// queue is down to [`ROOM_LOW_WATER`]. Waking the sender at the first
    /// message taken made producer and consumer take turns a message each,
    /// two context switches a message (about 1,000 parks a replay of 20,000
    /// payments, a fifth of all); drained to half, it parks once in 512.
    pub(super) fn room_needed(&self) -> Option<u64> {
        let held = self.held.lock();
        if held.items.len() < BACKLOG_CAP || self.is_rendezvous() || held.overflow {
            return None;
        }
        Some(held.taken + (held.items.len() - ROOM_LOW_WATER) as u64)
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
    use super::*;

    fn queue_of(len: usize) -> ReplayQueue<usize> {
        let queue = ReplayQueue::new(Some(64));
        (0..len).for_each(|i| queue.push(0, i as u64 + 1, i));
        queue
    }

    #[test]
    fn a_send_below_the_cap_waits_for_nothing() {
        assert_eq!(queue_of(BACKLOG_CAP - 1).room_needed(), None);
    }

    #[test]
    fn a_send_at_the_cap_waits_until_the_queue_is_down_to_the_low_water_mark() {
        let queue = queue_of(BACKLOG_CAP);
        assert_eq!(queue.room_needed(), Some((BACKLOG_CAP - ROOM_LOW_WATER) as u64));
        for seq in 1..=10 {
            queue.take(0, seq).unwrap();
        }
        // Below the cap now, but the wait above still counts to its mark.
        assert_eq!(queue.room_needed(), None);
        (0..10).for_each(|i| queue.push(0, BACKLOG_CAP as u64 + 1 + i, i as usize));
        assert_eq!(queue.room_needed(), Some(10 + (BACKLOG_CAP - ROOM_LOW_WATER) as u64));
    }

    #[test]
    fn a_send_let_go_at_the_cap_waits_no_more_until_the_queue_is_below_it() {
        let queue = queue_of(BACKLOG_CAP);
        queue.room_waited(1);
        assert_eq!(queue.room_needed(), None);
        queue.take(0, 1).unwrap();
        queue.push(0, BACKLOG_CAP as u64 + 1, 0);
        assert!(queue.room_needed().is_some());
    }

    #[test]
    fn a_rendezvous_never_waits_for_room() {
        let queue = ReplayQueue::new(Some(0));
        (0..BACKLOG_CAP).for_each(|i| queue.push(0, i as u64 + 1, i));
        assert_eq!(queue.room_needed(), None);
    }
}
