//! An execution: one recording or one replay, shared by the threads it spawned.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};
use parking_lot::{Condvar, Mutex};

use crate::rt::chunk::ChunkBuf;
use crate::rt::gate::Gate;
use crate::rt::writer::WriterMsg;
use crate::trace::format::Verdict;
use crate::trace::model::{ObjectIndex, Op, ThreadIndex};

static NEXT_EXECUTION: AtomicU32 = AtomicU32::new(1);

/// Object indexes a recording gives before it stops (see
/// [`Execution::allocate_object`]): the rest of the 32-bit range is room for
/// the objects threads name before they see the stop.
pub(crate) const OBJECT_INDEX_LIMIT: ObjectIndex = u32::MAX - (1 << 20);

/// How many locks a thread's held-set tracks for deadlock detection.
pub(crate) const HELD_SLOTS: usize = 8;

/// A call a recording thread is blocked in, for the deadlock monitor.
#[derive(Clone, Debug)]
pub(crate) struct Blocked {
    pub(crate) op: Op,
    /// The object waited on, or for a join the thread joined.
    pub(crate) target: u32,
    pub(crate) location: &'static std::panic::Location<'static>,
    /// A wait with a timeout ends by itself: it is not part of a deadlock.
    pub(crate) timed: bool,
    /// For a wait that anyone may end (a channel, a condvar's notification):
    /// the object's progress counter as the thread read it before its last
    /// attempt. Only a closed-world recording keeps these counters.
    pub(crate) progress: Option<ProgressMark>,
}

/// A per-object count of the operations that can end a wait on it (sends,
/// receives and dropped ends of a channel; a condvar's notifications), kept
/// only in closed-world recordings: it is how the monitor proves that
/// nothing happened on the object since a waiter looked at it.
pub(crate) type Progress = Arc<AtomicU64>;

/// A waiter's reading of a [`Progress`] counter.
#[derive(Clone, Debug)]
pub(crate) struct ProgressMark {
    counter: Progress,
    seen: u64,
}

impl ProgressMark {
    /// Reads `counter`. Must come before the attempt whose failure makes the
    /// thread wait: an operation that could end the wait then either
    /// happened before this read (and the attempt saw it) or bumps the
    /// counter past `seen`.
    pub(crate) fn read(counter: &Progress) -> ProgressMark {
        ProgressMark { counter: Arc::clone(counter), seen: counter.load(Ordering::SeqCst) }
    }

    /// Whether nothing that could end the wait happened since [`Self::read`].
    pub(crate) fn unchanged(&self) -> bool {
        self.counter.load(Ordering::SeqCst) == self.seen
    }
}

/// Counts one operation on `counter`, after the operation took effect.
#[inline]
pub(crate) fn bump(counter: &Progress) {
    counter.fetch_add(1, Ordering::SeqCst);
}

/// What a thread is blocked in, if anything, and how many times it blocked:
/// kept under one lock so the monitor reads both at the same instant.
#[derive(Debug, Default)]
pub(crate) struct BlockState {
    pub(crate) blocked: Option<Blocked>,
    /// Bumped each time the thread blocks, so the monitor can tell one long
    /// wait from two waits that look alike.
    pub(crate) epoch: u64,
    /// Under the flight recorder: the send count of the send the thread is
    /// blocked in. Its event is recorded only once the thread runs again,
    /// after a receiver took the message (see [`ThreadShared::send_taken`]).
    pub(crate) sending: Option<u64>,
    /// A receiver took that send's message.
    pub(crate) taken: bool,
}

/// The part of a thread that other threads (the monitor) may look at.
#[derive(Debug)]
pub(crate) struct ThreadShared {
    pub(crate) index: ThreadIndex,
    /// The thread's record buffer; its owner holds the lock while it runs and
    /// lets go only while blocked, so the monitor can collect it on deadlock.
    pub(crate) buf: Option<Arc<Mutex<ChunkBuf>>>,
    pub(crate) block: Mutex<BlockState>,
    /// Mutexes and RwLock write locks held (object index + 1; 0 = free slot).
    pub(crate) held: [AtomicU32; HELD_SLOTS],
    pub(crate) exited: AtomicBool,
}

impl ThreadShared {
    /// Whether the thread is blocked in a send whose message a receiver has
    /// taken: its send's event is on its way, and a flight dump that holds
    /// the receive must hold the send too (read holding the thread's
    /// buffer, as a dump's gathering does).
    pub(crate) fn send_taken(&self) -> bool {
        let state = self.block.lock();
        state.blocked.is_some() && state.taken
    }

    /// Whether the thread is blocked in a condvar wait (its last recorded
    /// event led to it when read holding the thread's buffer).
    pub(crate) fn in_condvar_wait(&self) -> bool {
        self.block.lock().blocked.as_ref().is_some_and(|b| b.op == Op::CondWait)
    }

    pub(crate) fn new(index: ThreadIndex, buf: Option<Arc<Mutex<ChunkBuf>>>) -> Self {
        ThreadShared {
            index,
            buf,
            block: Mutex::new(BlockState::default()),
            held: Default::default(),
            exited: AtomicBool::new(false),
        }
    }

    #[inline]
    pub(crate) fn hold(&self, object: ObjectIndex) {
        for slot in &self.held {
            if slot.load(Ordering::Relaxed) == 0 {
                slot.store(object + 1, Ordering::Relaxed);
                return;
            }
        }
    }

    #[inline]
    pub(crate) fn release(&self, object: ObjectIndex) {
        for slot in &self.held {
            if slot.load(Ordering::Relaxed) == object + 1 {
                slot.store(0, Ordering::Relaxed);
                return;
            }
        }
    }
}

/// Where a recording's chunks go.
#[derive(Debug)]
pub(crate) struct RecordSink {
    pub(crate) to_writer: Sender<WriterMsg>,
    pub(crate) recycled: Receiver<crate::rt::chunk::Block>,
    pub(crate) seed: u64,
    /// Tells the threads' buffers when to flush, close or stop.
    pub(crate) clock: Arc<crate::rt::flush::FlushClock>,
    /// How long the final flush waits for running threads' buffers.
    pub(crate) handover: std::time::Duration,
}

/// What an execution does with primitive calls.
pub(crate) enum ExecKind {
    Record(RecordSink),
    Gated(Arc<dyn Gate>),
}

impl fmt::Debug for ExecKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecKind::Record(_) => f.write_str("Record"),
            ExecKind::Gated(gate) => write!(f, "Gated({gate:?})"),
        }
    }
}

/// One recording or replay.
#[derive(Debug)]
pub(crate) struct Execution {
    pub(crate) id: u32,
    pub(crate) start: Instant,
    pub(crate) kind: ExecKind,
    next_thread: AtomicU32,
    next_object: AtomicU32,
    /// Objects another execution named first (shared `static`s), by address.
    foreign_objects: Mutex<HashMap<usize, ObjectIndex>>,
    /// The threads that have not left the execution yet: a thread leaves
    /// it when its body ends, so that a program starting a thread per task
    /// does not grow the recording's memory by each one (its buffer is
    /// closed by then, its events handed over).
    pub(crate) threads: Mutex<Vec<Arc<ThreadShared>>>,
    /// Threads ever registered (counted under `threads`' lock): the
    /// deadlock monitor compares it with the threads given an index.
    registered: AtomicU32,
    /// Set when the execution has its verdict; the record caller waits on it.
    verdict: Mutex<Option<Verdict>>,
    verdict_set: Condvar,
    /// Key-value notes for the trace's footer (a digest, a verdict line).
    pub(crate) annotations: Mutex<Vec<(String, String)>>,
    /// Threads are coroutines under the explorer's scheduler.
    pub(crate) coop: bool,
    /// Every thread of the process that can end a wait belongs to this
    /// execution ([`crate::RecordConfig::closed_world`]).
    pub(crate) closed_world: bool,
    /// The key sealing or opening sensitive captures: set by the recording's
    /// config or the replay's options, else read from `REPRISE_KEY` at the
    /// first sensitive capture (never on an ordinary event's path).
    pub(crate) sensitive_key: std::sync::OnceLock<Option<crate::trace::model::sensitive::SealKey>>,
    /// Its events are checked as they are made and kept by no one (a
    /// coroutine replay): they are not encoded into chunks.
    pub(crate) unkept: AtomicBool,
    /// Its threads write a trace: chunk buffers, call sites, object names,
    /// events. `false` for an explorer's search runs, which need only their
    /// schedule (the explorer runs a failing one again, traced).
    pub(crate) traced: bool,
    /// A recorded thread received a message from a thread outside the
    /// execution, and was told so (once).
    outside_message_noted: AtomicBool,
}

impl Execution {
    pub(crate) fn new(kind: ExecKind) -> Arc<Self> {
        Self::build(kind, false, false, true)
    }

    /// A recording that declares a closed world (see [`Execution::closed_world`]).
    pub(crate) fn new_closed_world(kind: ExecKind) -> Arc<Self> {
        Self::build(kind, false, true, true)
    }

    /// An execution whose threads the explorer schedules; `traced`: whether
    /// they write a trace (see [`Execution::traced`]).
    pub(crate) fn new_coop(kind: ExecKind, traced: bool) -> Arc<Self> {
        Self::build(kind, true, false, traced)
    }

    fn build(kind: ExecKind, coop: bool, closed_world: bool, traced: bool) -> Arc<Self> {
        crate::rt::fork::watch();
        Arc::new(Execution {
            coop,
            closed_world,
            traced,
            id: NEXT_EXECUTION.fetch_add(1, Ordering::Relaxed),
            start: Instant::now(),
            kind,
            next_thread: AtomicU32::new(0),
            next_object: AtomicU32::new(0),
            foreign_objects: Mutex::new(HashMap::new()),
            outside_message_noted: AtomicBool::new(false),
            threads: Mutex::new(Vec::new()),
            registered: AtomicU32::new(0),
            verdict: Mutex::new(None),
            verdict_set: Condvar::new(),
            annotations: Mutex::new(Vec::new()),
            sensitive_key: std::sync::OnceLock::new(),
            unkept: AtomicBool::new(false),
        })
    }

    pub(crate) fn gate(&self) -> Option<&Arc<dyn Gate>> {
        match &self.kind {
            ExecKind::Gated(gate) => Some(gate),
            ExecKind::Record(_) => None,
        }
    }

    pub(crate) fn sink(&self) -> Option<&RecordSink> {
        match &self.kind {
            ExecKind::Record(sink) => Some(sink),
            ExecKind::Gated(_) => None,
        }
    }

    pub(crate) fn allocate_thread(&self) -> ThreadIndex {
        self.next_thread.fetch_add(1, Ordering::SeqCst)
    }

    /// How many threads were given an index: those registered plus those
    /// being started.
    pub(crate) fn allocated_threads(&self) -> u32 {
        self.next_thread.load(Ordering::SeqCst)
    }

    /// A new object's index. Past [`OBJECT_INDEX_LIMIT`] the recording
    /// stops: indexes are 32 bits, and one used twice would name two
    /// objects in one trace (a service making a million objects a second
    /// gets there in about an hour). Never wraps: the few objects named
    /// after the limit, before every thread saw the stop, still get indexes
    /// of their own.
    pub(crate) fn allocate_object(&self) -> ObjectIndex {
        let next = self.next_object.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_add(1));
        let index = next.unwrap_or_else(|at_max| at_max);
        if index >= OBJECT_INDEX_LIMIT {
            self.objects_used_up();
        }
        index
    }

    #[cold]
    fn objects_used_up(&self) {
        if let Some(sink) = self.sink() {
            sink.clock.stop_early(format!(
                "the recording named {OBJECT_INDEX_LIMIT} objects, as many as a trace's 32-bit object \
                 indexes allow with room for those being named; the trace ends here"
            ));
        }
    }

    /// Test knob: the next object gets index `next`.
    #[cfg(test)]
    pub(crate) fn skip_objects_to(&self, next: ObjectIndex) {
        self.next_object.store(next, Ordering::Relaxed);
    }

    /// The index of an object that another execution claimed first.
    pub(crate) fn foreign_object(&self, address: usize) -> (ObjectIndex, bool) {
        let mut map = self.foreign_objects.lock();
        if let Some(&index) = map.get(&address) {
            return (index, false);
        }
        let index = self.allocate_object();
        map.insert(address, index);
        (index, true)
    }

    /// A recorded thread received, at `location`, a message that a thread
    /// outside this execution sent (spawned with `std::thread`, or one whose
    /// recording stopped): the trace holds the receive, but no replay can
    /// give the message back. Said once per execution, as a warning: the
    /// program runs on and the recording goes on.
    #[cold]
    pub(crate) fn note_outside_message(&self, location: &'static std::panic::Location<'static>) {
        // A recording that stopped (a write failed, or the pending cap) has
        // threads running on unrecorded: their messages are this, and the
        // stop has been said already.
        let stopped = self.sink().is_some_and(|sink| {
            matches!(
                sink.clock.state(),
                crate::rt::flush::ClockState::Stopped | crate::rt::flush::ClockState::Capped
            )
        });
        if stopped || self.outside_message_noted.swap(true, Ordering::Relaxed) {
            return;
        }
        crate::diagnostic::warn(&format!(
            "the receive at {location} got a message from a thread outside this recording (spawned \
             with std::thread rather than reprise::thread? or a thread-local's destructor, which \
             runs after its thread's body returned): a replay cannot give it back and will \
             diverge there; spawn the sender with reprise::thread, and send before the body returns"
        ));
    }

    pub(crate) fn register_thread(&self, shared: Arc<ThreadShared>) {
        let mut threads = self.threads.lock();
        threads.push(shared);
        self.registered.fetch_add(1, Ordering::SeqCst);
    }

    /// The thread `shared` ended: it leaves the list of threads (one look
    /// over the threads still in it). Its shared part and buffer go with
    /// the last of its handles.
    pub(crate) fn unregister_thread(&self, shared: &Arc<ThreadShared>) {
        let mut threads = self.threads.lock();
        if let Some(at) = threads.iter().rposition(|t| Arc::ptr_eq(t, shared)) {
            threads.swap_remove(at);
        }
    }

    /// The threads still in the execution and how many were ever
    /// registered, read at one instant.
    pub(crate) fn threads_and_registered(&self) -> (Vec<Arc<ThreadShared>>, u32) {
        let threads = self.threads.lock();
        (threads.clone(), self.registered.load(Ordering::SeqCst))
    }

    /// Records the verdict if none is set yet; returns whether this call set it.
    pub(crate) fn set_verdict(&self, verdict: Verdict) -> bool {
        let mut slot = self.verdict.lock();
        if slot.is_some() {
            return false;
        }
        *slot = Some(verdict);
        self.verdict_set.notify_all();
        true
    }

    pub(crate) fn wait_verdict(&self) -> Verdict {
        let mut slot = self.verdict.lock();
        loop {
            if let Some(v) = slot.as_ref() {
                return v.clone();
            }
            self.verdict_set.wait(&mut slot);
        }
    }
}

impl Execution {
    /// Waits up to `timeout` for the verdict.
    pub(crate) fn wait_verdict_for(&self, timeout: std::time::Duration) -> Option<Verdict> {
        let mut slot = self.verdict.lock();
        if slot.is_none() {
            self.verdict_set.wait_for(&mut slot, timeout);
        }
        slot.clone()
    }
}

#[cfg(test)]
mod tests;
