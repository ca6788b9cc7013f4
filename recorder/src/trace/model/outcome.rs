//! What each primitive call did, as typed values.
//!
//! An [`Event`] stores its outcome as up to three integers (`a`, `b`, `c`):
//! that is the trace's encoding, and it stays compact. Everything that reads
//! or writes an outcome goes through [`Outcome`] instead: the recorder builds
//! one and encodes it with [`Event::new`], replay, the explorer and the
//! offline views decode it with [`Event::outcome`], which refuses a
//! combination of fields no recorder writes. The encoding of each operation
//! is [`Outcome::fields`] and [`Outcome::decode`], side by side below.

use super::{Event, ObjectIndex, Op, SiteIndex, ThreadIndex};

mod channel;
mod waits;

pub use channel::{Received, Sent, OUTSIDE_MESSAGE};

/// The outcome of one primitive call, by operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The thread began running.
    ThreadStart,
    /// The thread finished.
    ThreadExit {
        /// Whether it panicked.
        panicked: bool,
    },
    /// Spawned a thread.
    Spawn {
        /// The child's index.
        child: ThreadIndex,
    },
    /// Joined a thread.
    Join {
        /// The joined thread.
        joined: ThreadIndex,
        /// Whether it had panicked.
        panicked: bool,
    },
    /// Sent on a channel.
    Send(Sent),
    /// A blocking receive.
    Recv(Received),
    /// A non-blocking receive.
    TryRecv(Received),
    /// A receive with a timeout.
    RecvTimeout(Received),
    /// A select over several receivers; the event's object is the chosen one.
    Select {
        /// The chosen arm.
        arm: u32,
        /// What it received.
        received: Received,
    },
    /// Locked a mutex.
    Lock {
        /// Its acquisition number (from 1).
        acquisition: u64,
    },
    /// Tried to lock a mutex.
    TryLock {
        /// Its acquisition number, or `None` for WouldBlock.
        acquisition: Option<u64>,
    },
    /// Unlocked a mutex.
    Unlock,
    /// Took a read lock.
    ReadLock {
        /// How many writes had completed before it.
        writes_before: u64,
    },
    /// Took a write lock.
    WriteLock {
        /// Its write number (from 1).
        write: u64,
        /// How many read locks saw the previous write.
        readers: u64,
    },
    /// Tried a read lock.
    TryReadLock {
        /// As [`Outcome::ReadLock`], or `None` for WouldBlock.
        writes_before: Option<u64>,
    },
    /// Tried a write lock.
    TryWriteLock {
        /// `(write, readers)` as [`Outcome::WriteLock`], or `None` for
        /// WouldBlock.
        taken: Option<(u64, u64)>,
    },
    /// Released a read lock.
    ReadUnlock,
    /// Released a write lock.
    WriteUnlock,
    /// Waited on a condvar.
    CondWait {
        /// The mutex's re-acquisition number.
        reacquisition: u64,
        /// Whether the wait timed out.
        timed_out: bool,
        /// The mutex's object index.
        mutex: ObjectIndex,
    },
    /// Notified a condvar.
    Notify {
        /// `notify_all` rather than `notify_one`.
        all: bool,
    },
    /// Loaded an atomic.
    AtomicLoad {
        /// The number of the store it read (0: the initial value).
        store: u64,
        /// The value read.
        value: u64,
    },
    /// Stored to an atomic.
    AtomicStore {
        /// This store's number (from 1).
        store: u64,
    },
    /// A read-modify-write (swap, fetch_add, ...).
    AtomicRmw {
        /// Its store number.
        store: u64,
        /// The previous value.
        previous: u64,
    },
    /// compare_exchange (strong or weak).
    AtomicCas {
        /// The store number written when it succeeded, else the number of
        /// the store read.
        store: u64,
        /// The value seen.
        seen: u64,
        /// Whether it succeeded.
        succeeded: bool,
    },
    /// Read the monotonic clock.
    Now {
        /// Nanoseconds since the execution started.
        nanos: u64,
    },
    /// Read the wall clock.
    SystemNow {
        /// Nanoseconds since the Unix epoch.
        nanos: u64,
    },
    /// Slept.
    Sleep {
        /// The requested duration in nanoseconds.
        nanos: u64,
    },
    /// Drew a random number.
    Random {
        /// The value.
        value: u64,
    },
    /// Captured an external value; its bytes follow as a blob.
    Capture {
        /// Its length in bytes.
        len: u64,
        /// The read panicked (and the program may have caught it): the blob
        /// is the panic's message, and a replay panics there with it.
        panicked: bool,
    },
    /// Captured a sensitive value; its sealed (or redacted) bytes follow
    /// as a blob.
    CaptureSensitive {
        /// The stored blob's length in bytes.
        len: u64,
        /// The read panicked: the blob is the panic's message, sealed as a
        /// value would be (a message may quote the value).
        panicked: bool,
    },
    /// The thread panicked; the message follows as a blob.
    Panic {
        /// The message's length in bytes.
        len: u64,
    },
    /// Parked; the event's object is the thread's parker.
    Park {
        /// How many unparks of the parker had been made when it returned.
        unparks: u64,
    },
    /// Unparked a thread; the event's object is its parker.
    Unpark {
        /// This unpark's number among the parker's (from 1): the parker's
        /// modification order, taken as a store turn.
        unpark: u64,
    },
    /// An annotation (an application's `tracing` event or span); its text
    /// follows as a blob.
    Annotation {
        /// The text's length in bytes.
        len: u64,
    },
    /// Read a tracked cell; the event's object is the cell.
    TrackedRead {
        /// This access's number among the cell's (from 1), taken as a store
        /// turn: replay admits reads and writes in the recorded order.
        access: u64,
    },
    /// Wrote a tracked cell; the event's object is the cell.
    TrackedWrite {
        /// As for [`Outcome::TrackedRead`].
        access: u64,
    },
    /// A select's send arm completed; the event's object is its channel.
    /// Stored as [`Op::Select`] with bit 32 of `c` set.
    SelectSend {
        /// The chosen arm.
        arm: u32,
        /// What the send did ([`Sent::Full`] never: a select sends only
        /// where there is room).
        sent: Sent,
    },
    /// A select's `ready` call named an arm; nothing was sent or received.
    /// Stored as [`Op::Select`] with bit 33 of `c` set.
    SelectReady {
        /// The ready arm.
        arm: u32,
    },
    /// A select's receive arm on a timer channel (`after`, `at`, `tick`)
    /// completed; the timer's own [`Outcome::TimerRecv`] follows. Stored as
    /// [`Op::Select`] with bits 32 and 33 of `c` set.
    SelectTimer {
        /// The chosen arm.
        arm: u32,
    },
    /// Received from a timer channel (`after`, `at`, `tick`, `never`).
    TimerRecv {
        /// The instant it returned, in nanoseconds since the execution
        /// started; `None`: none came.
        fired: Option<u64>,
        /// When none came: whether it timed out (else it found none ready).
        timed_out: bool,
    },
}

/// `c`'s bits above the arm that say which kind of select outcome it is.
const SELECT_SEND: u64 = 1 << 32;
const SELECT_READY: u64 = 2 << 32;
const SELECT_TIMER: u64 = 3 << 32;

/// Fields that no recorder writes for their operation: a damaged or forged
/// trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{op} with outcome fields ({a}, {b}, {c}): {why}", op = .op.name())]
pub struct BadOutcome {
    /// The operation.
    pub op: Op,
    /// The fields as stored.
    pub a: u64,
    /// The fields as stored.
    pub b: u64,
    /// The fields as stored.
    pub c: u64,
    /// What is wrong with them.
    pub why: &'static str,
}

fn flag(value: u64) -> Option<bool> {
    match value {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    }
}

/// The bit of a capture's length field saying its read panicked. Captures
/// have one field, and a length never reaches 2^63, so this keeps the
/// format's arity; a reader from before it shows such a capture as one of an
/// impossible length.
const CAPTURE_PANICKED: u64 = 1 << 63;

fn thread(value: u64) -> Option<ThreadIndex> {
    ThreadIndex::try_from(value).ok()
}

impl Outcome {
    /// The operation this is the outcome of.
    #[inline(always)]
    pub fn op(&self) -> Op {
        match self {
            Outcome::ThreadStart => Op::ThreadStart,
            Outcome::ThreadExit { .. } => Op::ThreadExit,
            Outcome::Spawn { .. } => Op::Spawn,
            Outcome::Join { .. } => Op::Join,
            Outcome::Send(_) => Op::Send,
            Outcome::Recv(_) => Op::Recv,
            Outcome::TryRecv(_) => Op::TryRecv,
            Outcome::RecvTimeout(_) => Op::RecvTimeout,
            Outcome::Select { .. } => Op::Select,
            Outcome::Lock { .. } => Op::Lock,
            Outcome::TryLock { .. } => Op::TryLock,
            Outcome::Unlock => Op::Unlock,
            Outcome::ReadLock { .. } => Op::ReadLock,
            Outcome::WriteLock { .. } => Op::WriteLock,
            Outcome::TryReadLock { .. } => Op::TryReadLock,
            Outcome::TryWriteLock { .. } => Op::TryWriteLock,
            Outcome::ReadUnlock => Op::ReadUnlock,
            Outcome::WriteUnlock => Op::WriteUnlock,
            Outcome::CondWait { .. } => Op::CondWait,
            Outcome::Notify { .. } => Op::Notify,
            Outcome::AtomicLoad { .. } => Op::AtomicLoad,
            Outcome::AtomicStore { .. } => Op::AtomicStore,
            Outcome::AtomicRmw { .. } => Op::AtomicRmw,
            Outcome::AtomicCas { .. } => Op::AtomicCas,
            Outcome::Now { .. } => Op::Now,
            Outcome::SystemNow { .. } => Op::SystemNow,
            Outcome::Sleep { .. } => Op::Sleep,
            Outcome::Random { .. } => Op::Random,
            Outcome::Capture { .. } => Op::Capture,
            Outcome::CaptureSensitive { .. } => Op::CaptureSensitive,
            Outcome::Panic { .. } => Op::Panic,
            Outcome::Park { .. } => Op::Park,
            Outcome::Unpark { .. } => Op::Unpark,
            Outcome::TrackedRead { .. } => Op::TrackedRead,
            Outcome::Annotation { .. } => Op::Annotation,
            Outcome::TrackedWrite { .. } => Op::TrackedWrite,
            Outcome::TimerRecv { .. } => Op::TimerRecv,
            Outcome::SelectSend { .. } | Outcome::SelectReady { .. } | Outcome::SelectTimer { .. } => {
                Op::Select
            }
        }
    }

    /// How many bytes follow the event as its blob, for the outcomes that
    /// carry one (a captured value, sealed or not; a panic message; an
    /// annotation). A blob can continue over several chunks, so a killed
    /// recording may keep the event and lose some of its bytes: this is
    /// what tells.
    pub fn blob_len(&self) -> Option<u64> {
        match *self {
            Outcome::Capture { len, .. }
            | Outcome::CaptureSensitive { len, .. }
            | Outcome::Panic { len }
            | Outcome::Annotation { len } => Some(len),
            _ => None,
        }
    }

    /// The stored fields `[a, b, c]`: the trace's encoding of this outcome.
    // Inlined so a recorder that names its outcome gets that variant's
    // encoding folded: the whole match costs tens of instructions per
    // recorded event (recorder/benches/channel.rs under callgrind).
    #[inline(always)]
    pub fn fields(&self) -> [u64; 3] {
        let opt = |n: Option<u64>| n.map_or(0, |n| n + 1);
        match *self {
            Outcome::ThreadStart | Outcome::Unlock | Outcome::ReadUnlock | Outcome::WriteUnlock => [0, 0, 0],
            Outcome::ThreadExit { panicked } => [u64::from(panicked), 0, 0],
            Outcome::Spawn { child } => [u64::from(child), 0, 0],
            Outcome::Join { joined, panicked } => [u64::from(joined), u64::from(panicked), 0],
            Outcome::Send(sent) => {
                let [a, b] = sent.fields();
                [a, b, 0]
            }
            Outcome::Recv(r) | Outcome::TryRecv(r) | Outcome::RecvTimeout(r) => {
                let [a, b] = r.fields();
                [a, b, 0]
            }
            Outcome::Select { arm, received } => {
                let [a, b] = received.fields();
                [a, b, u64::from(arm)]
            }
            // Acquisition numbers start at 1, so 0 is free for WouldBlock.
            Outcome::Lock { acquisition } => [acquisition, 0, 0],
            Outcome::TryLock { acquisition } => [acquisition.unwrap_or(0), 0, 0],
            Outcome::ReadLock { writes_before } => [writes_before, 0, 0],
            Outcome::WriteLock { write, readers } => [write, readers, 0],
            // A read may see 0 writes, so these shift by one.
            Outcome::TryReadLock { writes_before } => [opt(writes_before), 0, 0],
            Outcome::TryWriteLock { taken } => match taken {
                Some((write, readers)) => [write + 1, readers, 0],
                None => [0, 0, 0],
            },
            Outcome::CondWait { reacquisition, timed_out, mutex } => {
                [reacquisition, u64::from(timed_out), u64::from(mutex)]
            }
            Outcome::Notify { all } => [u64::from(all), 0, 0],
            Outcome::AtomicLoad { store, value } => [store, value, 0],
            Outcome::AtomicStore { store } => [store, 0, 0],
            Outcome::AtomicRmw { store, previous } => [store, previous, 0],
            Outcome::AtomicCas { store, seen, succeeded } => [store, seen, u64::from(succeeded)],
            Outcome::Now { nanos } | Outcome::SystemNow { nanos } | Outcome::Sleep { nanos } => [nanos, 0, 0],
            Outcome::Random { value } => [value, 0, 0],
            Outcome::Capture { len, panicked } | Outcome::CaptureSensitive { len, panicked } => {
                [if panicked { len | CAPTURE_PANICKED } else { len }, 0, 0]
            }
            Outcome::Panic { len } => [len, 0, 0],
            Outcome::Park { unparks } => [unparks, 0, 0],
            Outcome::Unpark { unpark } => [unpark, 0, 0],
            Outcome::TrackedRead { access } | Outcome::TrackedWrite { access } => [access, 0, 0],
            Outcome::Annotation { len } => [len, 0, 0],
            Outcome::TimerRecv { fired: Some(nanos), .. } => [nanos.saturating_add(1), 0, 0],
            Outcome::TimerRecv { fired: None, timed_out } => [0, 1 + u64::from(timed_out), 0],
            Outcome::SelectSend { arm, sent } => {
                let [a, b] = sent.fields();
                [a, b, SELECT_SEND | u64::from(arm)]
            }
            Outcome::SelectReady { arm } => [0, 0, SELECT_READY | u64::from(arm)],
            Outcome::SelectTimer { arm } => [0, 0, SELECT_TIMER | u64::from(arm)],
        }
    }

    /// The outcome `op` stored as `[a, b, c]`.
    ///
    /// # Errors
    ///
    /// When no recorder writes those fields for `op`.
    #[inline]
    pub fn decode(op: Op, [a, b, c]: [u64; 3]) -> Result<Outcome, BadOutcome> {
        let bad = |why| BadOutcome { op, a, b, c, why };
        // Fields an op does not use are not encoded, so they read as zero.
        let unused = match op.arity() {
            0 => a | b | c,
            1 => b | c,
            2 => c,
            _ => 0,
        };
        if unused != 0 {
            return Err(bad("a field this operation does not use is set"));
        }
        let received = || Received::decode(a, b).ok_or_else(|| bad("not a message and no reason"));
        let pos = |n: u64, why| if n == 0 { Err(bad(why)) } else { Ok(n) };
        Ok(match op {
            Op::ThreadStart => Outcome::ThreadStart,
            Op::ThreadExit => {
                Outcome::ThreadExit { panicked: flag(a).ok_or_else(|| bad("panicked is not 0 or 1"))? }
            }
            Op::Spawn => Outcome::Spawn { child: thread(a).ok_or_else(|| bad("not a thread index"))? },
            Op::Join => Outcome::Join {
                joined: thread(a).ok_or_else(|| bad("not a thread index"))?,
                panicked: flag(b).ok_or_else(|| bad("panicked is not 0 or 1"))?,
            },
            Op::Send => Outcome::Send(Sent::decode(a, b).ok_or_else(|| bad("unknown send result"))?),
            Op::Recv => Outcome::Recv(received()?),
            Op::TryRecv => Outcome::TryRecv(received()?),
            Op::RecvTimeout => Outcome::RecvTimeout(received()?),
            Op::Select => {
                let arm = (c & u64::from(u32::MAX)) as u32;
                match c & !u64::from(u32::MAX) {
                    0 => Outcome::Select { arm, received: received()? },
                    SELECT_SEND => match Sent::decode(a, b) {
                        Some(Sent::Full) | None => {
                            return Err(bad("a select's send is neither sent nor disconnected"))
                        }
                        Some(sent) => Outcome::SelectSend { arm, sent },
                    },
                    SELECT_READY if a == 0 && b == 0 => Outcome::SelectReady { arm },
                    SELECT_READY => return Err(bad("a ready arm with a message")),
                    SELECT_TIMER if a == 0 && b == 0 => Outcome::SelectTimer { arm },
                    SELECT_TIMER => return Err(bad("a timer arm with a message")),
                    _ => return Err(bad("arm out of range")),
                }
            }
            Op::Lock => Outcome::Lock { acquisition: pos(a, "acquisition numbers start at 1")? },
            Op::TryLock => Outcome::TryLock { acquisition: (a != 0).then_some(a) },
            Op::Unlock => Outcome::Unlock,
            Op::ReadLock => Outcome::ReadLock { writes_before: a },
            Op::WriteLock => Outcome::WriteLock { write: pos(a, "write numbers start at 1")?, readers: b },
            Op::TryReadLock => Outcome::TryReadLock { writes_before: a.checked_sub(1) },
            Op::TryWriteLock => match a {
                0 if b != 0 => return Err(bad("readers counted on a WouldBlock")),
                0 => Outcome::TryWriteLock { taken: None },
                1 => return Err(bad("write numbers start at 1")),
                a => Outcome::TryWriteLock { taken: Some((a - 1, b)) },
            },
            Op::ReadUnlock => Outcome::ReadUnlock,
            Op::WriteUnlock => Outcome::WriteUnlock,
            Op::CondWait => Outcome::CondWait {
                reacquisition: pos(a, "acquisition numbers start at 1")?,
                timed_out: flag(b).ok_or_else(|| bad("timed_out is not 0 or 1"))?,
                mutex: ObjectIndex::try_from(c).map_err(|_| bad("not an object index"))?,
            },
            Op::Notify => Outcome::Notify { all: flag(a).ok_or_else(|| bad("neither one nor all"))? },
            Op::AtomicLoad => Outcome::AtomicLoad { store: a, value: b },
            Op::AtomicStore => Outcome::AtomicStore { store: pos(a, "store numbers start at 1")? },
            Op::AtomicRmw => Outcome::AtomicRmw { store: pos(a, "store numbers start at 1")?, previous: b },
            Op::AtomicCas => {
                let succeeded = flag(c).ok_or_else(|| bad("success is not 0 or 1"))?;
                if succeeded && a == 0 {
                    return Err(bad("store numbers start at 1"));
                }
                Outcome::AtomicCas { store: a, seen: b, succeeded }
            }
            Op::Now => Outcome::Now { nanos: a },
            Op::SystemNow => Outcome::SystemNow { nanos: a },
            Op::Sleep => Outcome::Sleep { nanos: a },
            Op::Random => Outcome::Random { value: a },
            Op::Capture => {
                Outcome::Capture { len: a & !CAPTURE_PANICKED, panicked: a & CAPTURE_PANICKED != 0 }
            }
            Op::CaptureSensitive => {
                Outcome::CaptureSensitive { len: a & !CAPTURE_PANICKED, panicked: a & CAPTURE_PANICKED != 0 }
            }
            Op::Panic => Outcome::Panic { len: a },
            Op::Park => Outcome::Park { unparks: a },
            Op::Unpark => Outcome::Unpark { unpark: pos(a, "unpark numbers start at 1")? },
            Op::Annotation => Outcome::Annotation { len: a },
            Op::TrackedRead => Outcome::TrackedRead { access: pos(a, "access numbers start at 1")? },
            Op::TrackedWrite => Outcome::TrackedWrite { access: pos(a, "access numbers start at 1")? },
            Op::TimerRecv => match (a, b) {
                (0, 1) => Outcome::TimerRecv { fired: None, timed_out: false },
                (0, 2) => Outcome::TimerRecv { fired: None, timed_out: true },
                (0, _) => return Err(bad("no instant and no reason")),
                (a, 0) => Outcome::TimerRecv { fired: Some(a - 1), timed_out: false },
                _ => return Err(bad("an instant with a reason")),
            },
        })
    }
}

impl Event {
    /// The event of `outcome` on `object` at `site`.
    #[inline]
    pub fn new(outcome: Outcome, object: ObjectIndex, site: SiteIndex) -> Event {
        let [a, b, c] = outcome.fields();
        Event { op: outcome.op(), object, site, a, b, c }
    }

    /// This event's outcome, typed.
    ///
    /// # Errors
    ///
    /// When its fields are ones no recorder writes for its op.
    #[inline]
    pub fn outcome(&self) -> Result<Outcome, BadOutcome> {
        Outcome::decode(self.op, [self.a, self.b, self.c])
    }
}

#[cfg(test)]
mod tests;
