//! What one thread's recorded outcome depends on in other threads, and what it
//! makes happen for them: the orderings a replay must reproduce.
//!
//! Both are derived from an [`Outcome`](super::Outcome) in one place
//! ([`Outcome::waits_for`](super::Outcome::waits_for),
//! [`Outcome::makes_happen`](super::Outcome::makes_happen)); the replay gate,
//! the explorer and the offline views ask those, never the raw fields.

use super::{ObjectIndex, ThreadIndex};

/// Which counter of an object a turn is taken on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TurnClass {
    /// Mutex acquisitions (lock, successful try_lock, condvar re-acquisition).
    Lock,
    /// Writes of an RwLock.
    Write,
    /// Stores and read-modify-writes of an atomic (its modification order).
    Store,
}

impl TurnClass {
    /// Every class, in a fixed order (an index into per-object counters).
    pub const ALL: [TurnClass; 3] = [TurnClass::Lock, TurnClass::Write, TurnClass::Store];
}

/// Something a thread must wait for before its recorded outcome can happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitFor {
    /// The object's turn numbered `number` (as recorded) is next.
    Turn {
        /// The object.
        object: ObjectIndex,
        /// Which of its counters.
        class: TurnClass,
        /// The recorded number of this turn.
        number: u64,
    },
    /// The turn numbered `number` has been taken (0: nothing to wait for).
    Taken {
        /// The object.
        object: ObjectIndex,
        /// Which of its counters.
        class: TurnClass,
        /// The recorded number of that turn.
        number: u64,
    },
    /// The RwLock's write `number` is next and at least `readers` read locks
    /// saw the write before it.
    WriteTurn {
        /// The RwLock.
        object: ObjectIndex,
        /// The recorded write number.
        number: u64,
        /// How many readers saw the previous write.
        readers: u64,
    },
    /// The message `(sender, seq)` has been sent.
    Message {
        /// The sending thread.
        sender: ThreadIndex,
        /// The sender's send count for that message.
        seq: u64,
    },
    /// The thread has exited.
    Exit(ThreadIndex),
    /// The message `(sender, seq)`, sent on a rendezvous channel, has been
    /// taken by a receiver: a replayed rendezvous send returns only then.
    /// No recorded outcome waits for it (see [`Happened::Received`]).
    Received {
        /// The sending thread.
        sender: ThreadIndex,
        /// The sender's send count for that message.
        seq: u64,
    },
    /// `taken` messages in all have been taken from the channel's replay
    /// queue: a replayed send into a queue that already holds many waits
    /// for room, unless no other thread can run (the watchdog then lets it
    /// go: a preference, never a reason to stall). No recorded outcome waits
    /// for it (see [`Happened::Dequeued`]).
    Room {
        /// The channel.
        object: ObjectIndex,
        /// How many messages must have been taken from it.
        taken: u64,
    },
    /// The lock (a mutex or an RwLock) has been let go more than `releases`
    /// times by the replay's threads: a replayed lock whose turn came while
    /// a thread before it still holds it waits here, where the watchdog sees it, rather
    /// than in the real lock, where a holder that never lets go (a forged
    /// or diverging trace) left only the time backstop to end the replay.
    /// No recorded outcome waits for it (see [`Happened::Released`]).
    Released {
        /// The lock.
        object: ObjectIndex,
        /// Its releases so far when the lock found it held.
        releases: u64,
    },
}

/// Something a thread made happen that others may wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Happened {
    /// A turn of the object's counter was taken.
    Turn {
        /// The object.
        object: ObjectIndex,
        /// Which counter.
        class: TurnClass,
    },
    /// A read lock of an RwLock was taken.
    Read(ObjectIndex),
    /// A message was sent.
    Sent {
        /// The sending thread.
        sender: ThreadIndex,
        /// Its send count.
        seq: u64,
    },
    /// A thread exited.
    Exited(ThreadIndex),
    /// A receiver took the message `(sender, seq)` from a rendezvous
    /// channel. Told by the replayed receive itself, not derived from an
    /// outcome: only a rendezvous's sender waits for it, and a thread's
    /// rendezvous messages are taken in its send order (it waits for each),
    /// so a per-sender high-water mark is enough.
    Received {
        /// The sending thread.
        sender: ThreadIndex,
        /// Its send count.
        seq: u64,
    },
    /// A replayed receive took a message from the channel's replay queue.
    /// Told by the receive itself; only [`WaitFor::Room`] waits for it.
    Dequeued(ObjectIndex),
    /// A replayed thread let go of the lock (a mutex's or an RwLock's
    /// unlock, or a condvar wait giving its mutex up), before the real guard
    /// drops. Told by the primitive
    /// itself; only [`WaitFor::Released`] waits for it.
    Released(ObjectIndex),
}

/// A turn an event takes on one of an object's counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Turn {
    /// The object.
    pub object: ObjectIndex,
    /// Which counter.
    pub class: TurnClass,
    /// The recorded number of the turn (from 1).
    pub number: u64,
}
