//! The trace's data model: what a thread's chunk stream holds.
//!
//! A chunk payload is a sequence of [`Record`]s belonging to one thread. Table
//! records ([`Record::Thread`], [`Record::Object`], [`Record::Site`]) are written
//! the first time their subject appears, so a file cut anywhere still describes
//! itself. Site ids are per thread: site 3 of thread 1 and site 3 of thread 2 are
//! different places.

use serde::{Deserialize, Serialize};

mod captured_panic;
mod dependency;
mod outcome;
pub mod sensitive;

pub use captured_panic::CapturedPanic;
pub use dependency::{Happened, Turn, TurnClass, WaitFor};
pub use outcome::{BadOutcome, Outcome, Received, Sent, OUTSIDE_MESSAGE};

/// A thread's logical index within one execution (0 is the root thread).
pub type ThreadIndex = u32;

/// An object's (channel, lock, atomic, condvar) index within one execution.
pub type ObjectIndex = u32;

/// A call site's index within one thread's site table.
pub type SiteIndex = u32;

/// "No thread": the parent of the root thread.
pub const NO_THREAD: ThreadIndex = u32::MAX;

/// What a primitive call did. The outcome fields `a`, `b`, `c` of an [`Event`]
/// mean what each variant's doc says; unused fields are zero and not encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(u8)]
pub enum Op {
    /// The thread began running. No outcome.
    ThreadStart = 0,
    /// The thread finished. `a`: 1 if it panicked.
    ThreadExit = 1,
    /// Spawned a thread. `a`: the child's index.
    Spawn = 2,
    /// Joined a thread. `a`: the joined thread's index; `b`: 1 if it had panicked.
    Join = 3,
    /// Sent on a channel. `a`: this thread's send count (the message id is
    /// `(this thread, a)`); `b`: 0 sent, 1 full, 2 disconnected.
    Send = 4,
    /// A blocking receive. Outcome as [`Op::TryRecv`].
    Recv = 5,
    /// A non-blocking receive. `a`: sender thread + 1, or 0 when no message
    /// came; `b`: the sender's send count, or when `a == 0` the reason: 1 empty,
    /// 2 timed out, 3 disconnected.
    TryRecv = 6,
    /// A receive with a timeout. Outcome as [`Op::TryRecv`].
    RecvTimeout = 7,
    /// A select over several receivers; the event's object is the receiver that
    /// was chosen. Outcome as [`Op::TryRecv`], plus `c`: the chosen arm.
    /// With bit 32 of `c` set, a send arm: `a`, `b` as [`Op::Send`]; with bit
    /// 33 set, a `ready` call that named the arm (`a`, `b` zero).
    Select = 8,
    /// Locked a mutex. `a`: its acquisition number (from 1).
    Lock = 9,
    /// Tried to lock a mutex. `a`: its acquisition number (they start at 1),
    /// or 0 for WouldBlock.
    TryLock = 10,
    /// Unlocked a mutex. No outcome.
    Unlock = 11,
    /// Took a read lock. `a`: how many writes had completed before it.
    ReadLock = 12,
    /// Took a write lock. `a`: its write number; `b`: how many read locks saw
    /// the previous write.
    WriteLock = 13,
    /// Tried a read lock. `a`: as [`Op::ReadLock`] + 1, or 0 for WouldBlock.
    TryReadLock = 14,
    /// Tried a write lock. `a`: as [`Op::WriteLock`] + 1, or 0 for WouldBlock;
    /// `b`: as [`Op::WriteLock`].
    TryWriteLock = 15,
    /// Released a read lock. No outcome.
    ReadUnlock = 16,
    /// Released a write lock. No outcome.
    WriteUnlock = 17,
    /// Waited on a condvar. `a`: the mutex's re-acquisition number; `b`: 1 if it
    /// timed out; `c`: the mutex's object index.
    CondWait = 18,
    /// Notified a condvar. `a`: 0 notify_one, 1 notify_all.
    Notify = 19,
    /// Loaded an atomic. `a`: the number of the store it read (0 = the initial
    /// value); `b`: the value.
    AtomicLoad = 20,
    /// Stored to an atomic. `a`: this store's number (from 1).
    AtomicStore = 21,
    /// A read-modify-write (swap, fetch_add, fetch_sub). `a`: its store number;
    /// `b`: the previous value.
    AtomicRmw = 22,
    /// compare_exchange (strong or weak). `a`: the store number written when
    /// it succeeded, else the number of the store read; `b`: the value seen;
    /// `c`: 1 on success.
    AtomicCas = 23,
    /// Read the monotonic clock. `a`: nanoseconds since the execution started.
    Now = 24,
    /// Read the wall clock. `a`: nanoseconds since the Unix epoch.
    SystemNow = 25,
    /// Slept. `a`: the requested duration in nanoseconds.
    Sleep = 26,
    /// Drew a random number. `a`: the value.
    Random = 27,
    /// Captured an external value. `a`: its length in bytes; the bytes follow
    /// as a [`Record::Blob`].
    Capture = 28,
    /// The thread panicked. `a`: the message length; the message follows as a
    /// [`Record::Blob`].
    Panic = 29,
    /// Parked the thread (`thread::park`, `park_timeout`); the event's object
    /// is the thread's parker. `a`: how many unparks of it had been made when
    /// the park returned (more than the previous park saw: woken by unpark
    /// number `a`; as many: a spurious return or a timeout).
    Park = 30,
    /// Unparked a thread; the event's object is its parker. `a`: this
    /// unpark's number among that parker's (from 1).
    Unpark = 31,
    /// A receive from a timer channel (`after`, `at`, `tick`, `never`). `a`:
    /// the instant it returned, in nanoseconds since the execution started,
    /// + 1; or 0 when none came, and then `b`: 1 empty, 2 timed out.
    TimerRecv = 32,
    /// Captured a sensitive value ([`crate::capture::capture_sensitive`]).
    /// `a`: the stored blob's length; the blob follows as a [`Record::Blob`],
    /// sealed or redacted (see [`sensitive`]), never the value in clear.
    CaptureSensitive = 33,
    /// Read a [`Tracked`](crate::tracked::Tracked) cell. `a`: this access's
    /// number among the cell's accesses (from 1): replay admits them in
    /// that order. An access is not synchronization: `reprise races` looks
    /// for accesses that nothing orders.
    TrackedRead = 34,
    /// Wrote a [`Tracked`](crate::tracked::Tracked) cell. `a`: as for
    /// [`Op::TrackedRead`].
    TrackedWrite = 35,
    /// An application's `tracing` event or span entry/exit, stored by
    /// [`crate::annotation`]'s layer. `a`: the text's length; the UTF-8 text
    /// follows as a [`Record::Blob`]. Replay checks it is made where it was.
    Annotation = 36,
}

impl Op {
    /// Every op, in discriminant order.
    pub const ALL: [Op; 37] = [
        Op::ThreadStart,
        Op::ThreadExit,
        Op::Spawn,
        Op::Join,
        Op::Send,
        Op::Recv,
        Op::TryRecv,
        Op::RecvTimeout,
        Op::Select,
        Op::Lock,
        Op::TryLock,
        Op::Unlock,
        Op::ReadLock,
        Op::WriteLock,
        Op::TryReadLock,
        Op::TryWriteLock,
        Op::ReadUnlock,
        Op::WriteUnlock,
        Op::CondWait,
        Op::Notify,
        Op::AtomicLoad,
        Op::AtomicStore,
        Op::AtomicRmw,
        Op::AtomicCas,
        Op::Now,
        Op::SystemNow,
        Op::Sleep,
        Op::Random,
        Op::Capture,
        Op::Panic,
        Op::Park,
        Op::Unpark,
        Op::TimerRecv,
        Op::CaptureSensitive,
        Op::TrackedRead,
        Op::TrackedWrite,
        Op::Annotation,
    ];

    /// The op with this discriminant, if any.
    pub fn from_u8(byte: u8) -> Option<Op> {
        Op::ALL.get(byte as usize).copied()
    }

    /// How many outcome fields (`a`, `b`, `c`) this op uses.
    #[inline]
    pub const fn arity(self) -> usize {
        ARITY[self as usize] as usize
    }

    /// Whether the event names an object (a channel, lock, condvar or atomic).
    #[inline]
    pub const fn has_object(self) -> bool {
        HAS_OBJECT[self as usize]
    }

    const fn arity_of(self) -> u8 {
        match self {
            Op::ThreadStart | Op::Unlock | Op::ReadUnlock | Op::WriteUnlock => 0,
            Op::ThreadExit
            | Op::Spawn
            | Op::Lock
            | Op::TryLock
            | Op::ReadLock
            | Op::TryReadLock
            | Op::Notify
            | Op::AtomicStore
            | Op::Now
            | Op::SystemNow
            | Op::Sleep
            | Op::Random
            | Op::Capture
            | Op::CaptureSensitive
            | Op::Panic
            | Op::Park
            | Op::Unpark
            | Op::TrackedRead
            | Op::TrackedWrite
            | Op::Annotation => 1,
            Op::Join
            | Op::TimerRecv
            | Op::Send
            | Op::Recv
            | Op::TryRecv
            | Op::RecvTimeout
            | Op::WriteLock
            | Op::TryWriteLock
            | Op::AtomicLoad
            | Op::AtomicRmw => 2,
            Op::Select | Op::CondWait | Op::AtomicCas => 3,
        }
    }

    const fn has_object_of(self) -> bool {
        !matches!(
            self,
            Op::ThreadStart
                | Op::ThreadExit
                | Op::Spawn
                | Op::Join
                | Op::Now
                | Op::SystemNow
                | Op::Sleep
                | Op::Random
                | Op::Capture
                | Op::CaptureSensitive
                | Op::Panic
                | Op::TimerRecv
                | Op::Annotation
        )
    }

    /// A short lowercase name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Op::ThreadStart => "thread-start",
            Op::ThreadExit => "thread-exit",
            Op::Spawn => "spawn",
            Op::Join => "join",
            Op::Send => "send",
            Op::Recv => "recv",
            Op::TryRecv => "try_recv",
            Op::RecvTimeout => "recv_timeout",
            Op::Select => "select",
            Op::Lock => "lock",
            Op::TryLock => "try_lock",
            Op::Unlock => "unlock",
            Op::ReadLock => "read",
            Op::WriteLock => "write",
            Op::TryReadLock => "try_read",
            Op::TryWriteLock => "try_write",
            Op::ReadUnlock => "read-unlock",
            Op::WriteUnlock => "write-unlock",
            Op::CondWait => "condvar-wait",
            Op::Notify => "notify",
            Op::AtomicLoad => "atomic-load",
            Op::AtomicStore => "atomic-store",
            Op::AtomicRmw => "atomic-rmw",
            Op::AtomicCas => "compare_exchange",
            Op::Now => "now",
            Op::SystemNow => "system-now",
            Op::Sleep => "sleep",
            Op::Random => "random",
            Op::Capture => "capture",
            Op::Panic => "panic",
            Op::Park => "park",
            Op::Unpark => "unpark",
            Op::TimerRecv => "timer-recv",
            Op::CaptureSensitive => "capture-sensitive",
            Op::TrackedRead => "tracked-read",
            Op::TrackedWrite => "tracked-write",
            Op::Annotation => "annotation",
        }
    }
}

/// [`Op::arity`] by discriminant: a table, since the recorder asks per event.
const ARITY: [u8; Op::ALL.len()] = {
    let mut table = [0; Op::ALL.len()];
    let mut i = 0;
    while i < Op::ALL.len() {
        table[i] = Op::ALL[i].arity_of();
        i += 1;
    }
    table
};

/// [`Op::has_object`] by discriminant.
const HAS_OBJECT: [bool; Op::ALL.len()] = {
    let mut table = [false; Op::ALL.len()];
    let mut i = 0;
    while i < Op::ALL.len() {
        table[i] = Op::ALL[i].has_object_of();
        i += 1;
    }
    table
};

/// One primitive call. Fixed size and `Copy`, so appending one allocates nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// What the call was.
    pub op: Op,
    /// The object it acted on (0 when `op.has_object()` is false).
    pub object: ObjectIndex,
    /// Where it was called from, in this thread's site table.
    pub site: SiteIndex,
    /// First outcome field (see [`Op`]).
    pub a: u64,
    /// Second outcome field.
    pub b: u64,
    /// Third outcome field.
    pub c: u64,
}

/// What kind of object an [`ObjectIndex`] names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum ObjectKind {
    /// A channel (both ends).
    Channel = 0,
    /// A `Mutex`.
    Mutex = 1,
    /// An `RwLock`.
    RwLock = 2,
    /// A `Condvar`.
    Condvar = 3,
    /// An atomic integer or bool.
    Atomic = 4,
    /// A thread's parker: the token `thread::park` waits for and
    /// `Thread::unpark` sets.
    Parker = 5,
    /// A [`Tracked`](crate::tracked::Tracked) cell.
    Tracked = 6,
}

impl ObjectKind {
    /// The kind with this discriminant, if any.
    pub fn from_u8(byte: u8) -> Option<ObjectKind> {
        [
            ObjectKind::Channel,
            ObjectKind::Mutex,
            ObjectKind::RwLock,
            ObjectKind::Condvar,
            ObjectKind::Atomic,
            ObjectKind::Parker,
            ObjectKind::Tracked,
        ]
        .get(byte as usize)
        .copied()
    }

    /// A short lowercase name for reports.
    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Channel => "channel",
            ObjectKind::Mutex => "mutex",
            ObjectKind::RwLock => "rwlock",
            ObjectKind::Condvar => "condvar",
            ObjectKind::Atomic => "atomic",
            ObjectKind::Parker => "parker",
            ObjectKind::Tracked => "tracked",
        }
    }
}

/// One item of a thread's chunk stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// A primitive call.
    Event(Event),
    /// Bytes that belong to the event just before (a captured value, a panic
    /// message).
    Blob(Vec<u8>),
    /// A thread table entry, written by the thread itself when it starts.
    Thread {
        /// Its index.
        index: ThreadIndex,
        /// Its parent's index ([`NO_THREAD`] for the root).
        parent: ThreadIndex,
        /// Which child of its parent it is (0-based).
        child: u32,
        /// Its name, possibly empty.
        name: String,
    },
    /// An object table entry, written by the thread that first used the object.
    Object {
        /// Its index.
        index: ObjectIndex,
        /// What it is.
        kind: ObjectKind,
        /// Where it was first used, in the writing thread's site table.
        site: SiteIndex,
    },
    /// A call-site table entry of the writing thread.
    Site {
        /// Its index in this thread's table.
        index: SiteIndex,
        /// Source file, as `Location::file` gives it.
        file: String,
        /// Line (1-based).
        line: u32,
        /// Column (1-based).
        column: u32,
    },
    /// A coarse wall-clock timestamp, milliseconds since the Unix epoch, written
    /// at the start of each chunk.
    Clock(u64),
}
