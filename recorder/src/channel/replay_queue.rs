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
    /// now finds the queue below [`BACKLOG_CAP`]; `None` when it already
    /// is (or the queue is a rendezvous, or an earlier wait was let go).
    pub(super) fn room_needed(&self) -> Option<u64> {
        let held = self.held.lock();
        let over = held.items.len().checked_sub(BACKLOG_CAP)?;
        (!self.is_rendezvous() && !held.overflow).then(|| held.taken + over as u64 + 1)
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
