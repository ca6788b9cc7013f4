//! What a replay derives from an outcome: the turn it takes on an object's
//! counter, what it waits for, and what it makes happen. One place, so that
//! the gate, the coroutine replay and the offline views agree.

use super::super::dependency::{Happened, Turn, TurnClass, WaitFor};
use super::super::{ObjectIndex, ThreadIndex};
use super::{Outcome, Received, Sent};

impl Outcome {
    /// The turn this outcome takes on one of `object`'s counters (the event's
    /// object; a condvar wait takes its mutex's), if it takes one.
    pub fn turn(&self, object: ObjectIndex) -> Option<Turn> {
        let turn = |object, class, number| Some(Turn { object, class, number });
        match *self {
            Outcome::Lock { acquisition } | Outcome::TryLock { acquisition: Some(acquisition) } => {
                turn(object, TurnClass::Lock, acquisition)
            }
            Outcome::CondWait { reacquisition, mutex, .. } => turn(mutex, TurnClass::Lock, reacquisition),
            Outcome::WriteLock { write, .. } | Outcome::TryWriteLock { taken: Some((write, _)) } => {
                turn(object, TurnClass::Write, write)
            }
            Outcome::AtomicStore { store }
            | Outcome::AtomicRmw { store, .. }
            | Outcome::AtomicCas { store, succeeded: true, .. } => turn(object, TurnClass::Store, store),
            // An unpark is a store to its parker's token, in the parker's
            // modification order.
            Outcome::Unpark { unpark } => turn(object, TurnClass::Store, unpark),
            // A tracked cell's accesses, reads too, in one order: the values
            // a read sees are this run's, so it must come where it came.
            Outcome::TrackedRead { access } | Outcome::TrackedWrite { access } => {
                turn(object, TurnClass::Store, access)
            }
            _ => None,
        }
    }

    /// The counter number this outcome holds, if any, as `(object, class,
    /// number)` (the event is on `object`; a condvar wait's number is its
    /// mutex's): its turn, or the turn it saw taken (a load's store, a read
    /// lock's writes, a park's unparks). Each outcome holds at most one.
    pub fn counter(&self, object: ObjectIndex) -> Option<(ObjectIndex, TurnClass, u64)> {
        let mut found = None;
        self.with_counter(object, |o, class, n| {
            found = Some((o, class, n));
            n
        });
        found
    }

    /// The same outcome with its counter number (see [`Outcome::counter`])
    /// replaced by `f(object, class, number)`.
    pub fn with_counter(
        self,
        object: ObjectIndex,
        f: impl FnOnce(ObjectIndex, TurnClass, u64) -> u64,
    ) -> Outcome {
        use TurnClass::{Lock, Store, Write};
        match self {
            Outcome::Lock { acquisition } => Outcome::Lock { acquisition: f(object, Lock, acquisition) },
            Outcome::TryLock { acquisition: Some(a) } => {
                Outcome::TryLock { acquisition: Some(f(object, Lock, a)) }
            }
            Outcome::CondWait { reacquisition, timed_out, mutex } => {
                Outcome::CondWait { reacquisition: f(mutex, Lock, reacquisition), timed_out, mutex }
            }
            Outcome::WriteLock { write, readers } => {
                Outcome::WriteLock { write: f(object, Write, write), readers }
            }
            Outcome::TryWriteLock { taken: Some((write, readers)) } => {
                Outcome::TryWriteLock { taken: Some((f(object, Write, write), readers)) }
            }
            Outcome::ReadLock { writes_before } => {
                Outcome::ReadLock { writes_before: f(object, Write, writes_before) }
            }
            Outcome::TryReadLock { writes_before: Some(w) } => {
                Outcome::TryReadLock { writes_before: Some(f(object, Write, w)) }
            }
            Outcome::AtomicLoad { store, value } => {
                Outcome::AtomicLoad { store: f(object, Store, store), value }
            }
            Outcome::AtomicStore { store } => Outcome::AtomicStore { store: f(object, Store, store) },
            Outcome::AtomicRmw { store, previous } => {
                Outcome::AtomicRmw { store: f(object, Store, store), previous }
            }
            Outcome::AtomicCas { store, seen, succeeded } => {
                Outcome::AtomicCas { store: f(object, Store, store), seen, succeeded }
            }
            Outcome::Park { unparks } => Outcome::Park { unparks: f(object, Store, unparks) },
            Outcome::Unpark { unpark } => Outcome::Unpark { unpark: f(object, Store, unpark) },
            Outcome::TrackedRead { access } => Outcome::TrackedRead { access: f(object, Store, access) },
            Outcome::TrackedWrite { access } => Outcome::TrackedWrite { access: f(object, Store, access) },
            other => other,
        }
    }

    /// What a receive got, a select's receive arm included (`None`: not a
    /// receive).
    pub fn received(&self) -> Option<Received> {
        match *self {
            Outcome::Recv(r)
            | Outcome::TryRecv(r)
            | Outcome::RecvTimeout(r)
            | Outcome::Select { received: r, .. } => Some(r),
            _ => None,
        }
    }

    /// What a replay waits for before this outcome can happen on `object`
    /// (the event's object), or `None` when it depends on no other thread.
    ///
    /// This is the one place that says it: the primitives' replay paths, the
    /// gate's reports and the prefix cut all ask here.
    pub fn waits_for(&self, object: ObjectIndex) -> Option<WaitFor> {
        if let Some(Turn { object, class, number }) = self.turn(object) {
            return Some(match *self {
                Outcome::WriteLock { readers, .. } | Outcome::TryWriteLock { taken: Some((_, readers)) } => {
                    WaitFor::WriteTurn { object, number, readers }
                }
                _ => WaitFor::Turn { object, class, number },
            });
        }
        if let Some(received) = self.received() {
            return match received {
                Received::Message { sender, seq } => Some(WaitFor::Message { sender, seq }),
                _ => None,
            };
        }
        match *self {
            Outcome::ReadLock { writes_before }
            | Outcome::TryReadLock { writes_before: Some(writes_before) } => {
                Some(WaitFor::Taken { object, class: TurnClass::Write, number: writes_before })
            }
            Outcome::AtomicLoad { store, .. } | Outcome::AtomicCas { store, succeeded: false, .. } => {
                Some(WaitFor::Taken { object, class: TurnClass::Store, number: store })
            }
            // A park returns once the unparks it saw have been made.
            Outcome::Park { unparks } => {
                Some(WaitFor::Taken { object, class: TurnClass::Store, number: unparks })
            }
            Outcome::Join { joined, .. } => Some(WaitFor::Exit(joined)),
            _ => None,
        }
    }

    /// What this outcome, made by `thread` on `object`, lets other threads'
    /// waits end on; `None` when nobody can wait for it.
    pub fn makes_happen(&self, thread: ThreadIndex, object: ObjectIndex) -> Option<Happened> {
        if let Some(Turn { object, class, .. }) = self.turn(object) {
            return Some(Happened::Turn { object, class });
        }
        match *self {
            Outcome::Send(Sent::Delivered { seq })
            | Outcome::SelectSend { sent: Sent::Delivered { seq }, .. } => {
                Some(Happened::Sent { sender: thread, seq })
            }
            Outcome::ReadLock { .. } | Outcome::TryReadLock { writes_before: Some(_) } => {
                Some(Happened::Read(object))
            }
            Outcome::ThreadExit { .. } => Some(Happened::Exited(thread)),
            // Told before the real guard drops.
            Outcome::Unlock | Outcome::ReadUnlock | Outcome::WriteUnlock => Some(Happened::Released(object)),
            _ => None,
        }
    }
}
