//! The replay hook: what a primitive asks of whoever forces the schedule.
//!
//! The recorder's primitives know three modes: passthrough, record, and "gated".
//! A gate is installed by another crate (reprise-replayer's replay gate; later
//! the explorer's scheduler). The primitive asks the gate for its thread's next
//! recorded event, checks that it is doing the same thing, waits for what the
//! recorded outcome depends on, performs the operation, and tells the gate what
//! it made happen so that other threads waiting on it can go.

use std::fmt;
use std::panic::Location;

use crate::trace::model::{Event, ObjectIndex, Op, SiteIndex, ThreadIndex};
pub use crate::trace::model::{Happened, TurnClass, WaitFor};

/// Messages a channel's replay queue holds before a replayed send into it
/// waits for its consumers (parallel replay: [`WaitFor::Room`]; coroutine
/// replay: its scheduler defers the sender). A replayed send never waits for
/// the recorded capacity, which the trace does not hold; without this, a
/// producer that runs ahead piles its messages up for the whole trace.
pub const BACKLOG_CAP: usize = 1024;

/// What a thread is doing: the call the gate is asked about.
#[derive(Clone, Copy, Debug)]
pub struct Call {
    /// The operation.
    pub op: Op,
    /// The object, when the operation has one.
    pub object: Option<ObjectIndex>,
    /// Where it was called from.
    pub location: &'static Location<'static>,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.op.name())?;
        if let Some(object) = self.object {
            write!(f, " of object #{object}")?;
        }
        write!(f, " at {}", self.location)
    }
}

/// Whether events of `op` carry bytes (a captured value, a panic message):
/// only for these does a gated call ask the gate for a blob and copy it.
pub fn carries_blob(op: Op) -> bool {
    matches!(op, Op::Capture | Op::CaptureSensitive | Op::Panic | Op::Annotation)
}

/// The replay was stopped (a divergence, a stall, a verdict): unwind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Aborted;

/// Where a recorded event's call site was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteRef {
    /// Source file.
    pub file: String,
    /// Line.
    pub line: u32,
    /// Column.
    pub column: u32,
}

impl SiteRef {
    /// Whether `location` is this site.
    pub fn matches(&self, location: &Location<'_>) -> bool {
        self.line == location.line() && self.column == location.column() && self.file == location.file()
    }
}

impl fmt::Display for SiteRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// The one seam between the primitives and whoever forces their outcomes.
///
/// Every method that can block returns `Err(Aborted)` once the gate has been
/// stopped; the primitive then unwinds its thread.
pub trait Gate: Send + Sync + fmt::Debug + 'static {
    /// The event recorded for `thread` at position `cursor` of its log, or
    /// `None` past its end. Called once per gated call: no lock, no
    /// allocation.
    fn event(&self, thread: ThreadIndex, cursor: usize) -> Option<Event>;

    /// The bytes attached to that event, if any. Asked only for the events
    /// of [`carries_blob`] operations.
    fn blob(&self, thread: ThreadIndex, cursor: usize) -> Option<&[u8]>;

    /// The call site `site` of `thread`'s table.
    fn site(&self, thread: ThreadIndex, site: SiteIndex) -> Option<&SiteRef>;

    /// Binds the program's object at `address` to the recorded `object` the
    /// first time the replay meets it. Returns false when that recorded object
    /// was already bound to another address (a divergence).
    fn bind_object(&self, object: ObjectIndex, address: usize) -> bool;

    /// Blocks `thread` until `until` holds. Returns at once, taking no lock,
    /// when it already holds.
    fn wait(&self, thread: ThreadIndex, until: WaitFor, call: Call) -> Result<(), Aborted>;

    /// Tells waiting threads that `what` happened: wakes only those whose
    /// wait it may end; takes no lock when nobody waits on it.
    fn happened(&self, what: Happened);

    /// The releases of the lock `object` (a mutex or an RwLock) so far, when
    /// a thread of the replay holds it (its acquisitions outnumber its
    /// releases); `None` when none does, so a holder of the real lock is
    /// outside the replay (a static another execution or a plain thread
    /// locked) and the lock waits for it in the OS.
    fn holder_releases(&self, object: ObjectIndex) -> Option<u64>;

    /// This replay's store number `store` of the atomic `object` wrote
    /// `bits` (integers and `bool`: addresses differ from run to run). Told
    /// before the store is announced, so a load that waited for it finds it.
    /// Store 0: the value changed without an event (`get_mut`), forget the
    /// last one.
    fn stored(&self, object: ObjectIndex, store: u64, bits: u64);

    /// The bits this replay's store number `store` of the atomic `object`
    /// wrote, while it is the last store told of (`None` once a later one
    /// was, or before it): a load compares them with the value the
    /// recording read, which replay hands back.
    fn stored_bits(&self, object: ObjectIndex, store: u64) -> Option<u64>;

    /// `thread` made `call`, which matched its recorded event and consumed it;
    /// `cursor` is now its next event.
    fn advanced(&self, thread: ThreadIndex, cursor: usize, call: &Call);

    /// `thread` did something other than its next recorded event: stop the
    /// replay with a report.
    fn diverged(&self, thread: ThreadIndex, cursor: usize, call: Call, detail: String) -> Aborted;

    /// `thread` has no recorded event left for `call`: park it until the
    /// replay's verdict is known.
    fn end_of_log(&self, thread: ThreadIndex, cursor: usize, call: Call) -> Aborted;

    /// `thread` started running.
    fn thread_started(&self, thread: ThreadIndex);

    /// `thread` finished (normally or by unwinding).
    fn thread_finished(&self, thread: ThreadIndex);

    /// Whether the replay has been stopped.
    fn is_aborted(&self) -> bool;
}
