//! Cooperative mode, for the explorer: the program's threads run one at a
//! time as coroutines on one OS thread, and every primitive call is a point
//! where a scheduler (installed by reprise-replayer's explorer) chooses who
//! runs next. Calls are recorded exactly as in record mode, into memory, so a
//! failing schedule becomes a trace that parallel replay reproduces.
//!
//! Blocking is modeled, never done: a thread that cannot go on (a held lock,
//! an empty channel, an unfinished join) tells the scheduler what it waits
//! for and is not run until that changes.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::Location;
use std::rc::Rc;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};

use crate::rt::chunk::{Block, COOP_CHUNK_TARGET};
use crate::rt::context::{self, root_seed, ThreadCtx};
use crate::rt::exec::{ExecKind, Execution, RecordSink};
use crate::rt::writer::WriterMsg;
use crate::trace::codec::EventEncoder;
use crate::trace::model::{Event, ObjectIndex, Op, Outcome, ThreadIndex};

/// What a blocked thread waits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    /// A lock, channel or condvar changing state.
    Object(ObjectIndex),
    /// A thread finishing.
    Thread(ThreadIndex),
}

/// Why a blocked thread was let go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Woken {
    /// What it waited on changed: try again.
    Changed,
    /// Its deadline passed (in virtual time).
    TimedOut,
}

/// A call as the scheduler sees it: for reports and for naming where a
/// thread blocked or spun.
#[derive(Clone, Copy, Debug)]
pub struct CoopCall {
    /// The operation (`None` for `thread::yield_now`, which is not an event).
    pub op: Option<Op>,
    /// Its object, if it has one.
    pub object: Option<ObjectIndex>,
    /// Where it was called.
    pub location: &'static Location<'static>,
}

/// What the explorer's scheduler does for the primitives.
pub trait Scheduler {
    /// A scheduling point: the current thread is about to make `call`. The
    /// scheduler may run other threads before returning.
    fn switch(&self, call: CoopCall);

    /// The current thread cannot go on until `on` changes or, if given, the
    /// virtual clock reaches `deadline` (nanoseconds).
    fn block(&self, on: &[Resource], deadline: Option<u64>, call: CoopCall) -> Woken;

    /// `on` changed: its waiters (one, chosen by the strategy, or all) may run.
    fn wake(&self, on: Resource, all: bool);

    /// Starts thread `index` (named `name`, if it was) running `body`, on a
    /// stack of at least `stack` bytes when the program asked for one
    /// (`Builder::stack_size`).
    fn spawn(&self, index: ThreadIndex, name: Option<&str>, stack: Option<usize>, body: Box<dyn FnOnce()>);

    /// Makes ready a stack of at least `size` bytes for the next `spawn`
    /// that asks for one (`Builder::stack_size`), before the spawn is
    /// recorded: when it cannot be mapped, `Builder::spawn` returns the
    /// error, as std's does when the OS cannot make the thread.
    fn reserve_stack(&self, size: usize) -> std::io::Result<()> {
        let _ = size;
        Ok(())
    }

    /// The current thread took (`true`) or released (`false`) lock `object`,
    /// for the wait-for graph.
    fn lock_held(&self, object: ObjectIndex, held: bool);

    /// Whether a thread of this run holds the mutex `object` (as
    /// [`lock_held`](Scheduler::lock_held) last said). A lock that finds
    /// the mutex taken while none does waits in the OS for a holder outside
    /// the run (a static's, taken by another execution's thread or a plain
    /// std thread): no thread of the run could ever let it go.
    fn holds(&self, object: ObjectIndex) -> bool;

    /// The virtual clock, nanoseconds since the run started.
    fn now(&self) -> u64;

    /// Thread `thread` panicked with `message` (the run has failed).
    fn panicked(&self, thread: ThreadIndex, message: &str);

    /// Picks one of `options` (the arms of a `select` to try first): a choice
    /// of the schedule like any other, so the same seed makes the same one.
    fn choose(&self, options: &[u32]) -> u32;

    /// `thread` made `event` at `site`: a coroutine replay checks it against
    /// the recording and moves the thread's cursor past it. The explorer
    /// has nothing to check.
    fn made(&self, thread: ThreadIndex, event: &Event, site: Site<'_>) {
        let _ = (thread, event, site);
    }

    /// The current thread is about to make `call` while it unwinds from a
    /// panic, with no scheduling point (a panicking coroutine keeps the OS
    /// thread): a coroutine replay stops there, saying why, if the call's
    /// recorded turn is not next. The explorer runs it where it is.
    fn unwinding(&self, call: CoopCall) {
        let _ = call;
    }

    /// `thread`'s next recorded value cannot be given back (a sensitive
    /// capture that does not open, for `detail`): a coroutine replay stops
    /// there with `detail` as the reason. The explorer serves no values.
    fn refused(&self, thread: ThreadIndex, detail: &str) {
        let _ = (thread, detail);
    }

    /// Whether this scheduler follows a trace (a coroutine replay): channels
    /// made under it keep their messages by id, as in parallel replay.
    fn follows_trace(&self) -> bool {
        false
    }

    /// Whether a receive the replay follows takes message `seq` of
    /// `sender`. A rendezvous send waits for its taker only then: a cut
    /// trace (a crash, a flight dump) may keep the send and drop the
    /// receive, and parallel replay lets such a send return too. The
    /// explorer follows no trace: always.
    fn taken_later(&self, sender: ThreadIndex, seq: u64) -> bool {
        let _ = (sender, seq);
        true
    }

    /// The recorded outcome of `thread`'s next call, `op`, which the
    /// primitive returns instead of deciding it: the time, a random number,
    /// a captured value, what a non-blocking call found. `None`: decide as
    /// usual (the explorer decides everything itself).
    fn recorded(&self, thread: ThreadIndex, op: Op) -> Option<Served> {
        let _ = (thread, op);
        None
    }

    /// `thread` just made a capture (its event was made): the outcome and
    /// the bytes stored with it. The explorer keeps a run's captures, so
    /// that running its schedule again (to minimize it, to record its
    /// trace) gives back the values this run read.
    fn captured(&self, thread: ThreadIndex, outcome: Outcome, blob: &[u8]) {
        let _ = (thread, outcome, blob);
    }

    /// The OS thread's panic count is raised (`std::thread::panicking()`):
    /// whether by the running thread's own unwinding. std counts panics per
    /// OS thread, so under the explorer a thread suspended while it unwinds
    /// (blocked in a `Drop` on a lock another thread holds) leaves the
    /// count raised for the others it lets run. A coroutine replay never
    /// suspends an unwinding thread: always.
    fn unwinds_own(&self) -> bool {
        true
    }

    /// The running thread starts a panic (called from the panic hook).
    fn panic_started(&self) {}

    /// The running thread caught a panic (`reprise::panic::catch_unwind`).
    fn panic_caught(&self) {}
}

/// Where a call was made, by content: a panic's site is known only so.
#[derive(Clone, Copy, Debug)]
pub struct Site<'a> {
    /// Source file.
    pub file: &'a str,
    /// Line.
    pub line: u32,
    /// Column.
    pub column: u32,
}

/// A recorded outcome a coroutine replay hands back to a primitive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Served {
    /// The outcome.
    pub outcome: Outcome,
    /// The bytes recorded with it (a captured value).
    pub blob: Option<Vec<u8>>,
}

thread_local! {
    static SCHEDULER: RefCell<Option<Rc<dyn Scheduler>>> = const { RefCell::new(None) };
    /// Set while a scheduler unwinds its unfinished coroutines on this OS
    /// thread (see [`set_strand`]).
    static STRAND: Cell<Option<fn()>> = const { Cell::new(None) };
}

/// While a scheduler unwinds its unfinished coroutines at a run's end (no
/// context installed), `strand` is what a coroutine that calls reprise
/// where it cannot go on is handed to: one that caught the unwind and
/// went back to a channel made inside the run. `strand` gives the OS
/// thread back to the scheduler, which leaves that coroutine unresumed,
/// instead of the panic such a call makes outside a run, which a loop
/// catching every panic would catch and call again for ever. `None` when
/// the unwinding is over.
pub fn set_strand(strand: Option<fn()>) {
    STRAND.with(|s| s.set(strand));
    if strand.is_none() {
        context::refresh_mode();
    }
}

/// While [`set_strand`]'s `strand` is set: from now on every primitive call
/// on this OS thread takes its cooperative path, which, with no context
/// installed and no scheduler, reaches `strand`. For a coroutine that
/// caught its unwind and runs on: in passthrough its next call could block
/// for real on an object of the run that nothing will change again (a
/// channel whose other end it holds itself).
pub fn strand_every_call() {
    if STRAND.try_with(Cell::get).ok().flatten().is_some() {
        context::set_mode(context::Mode::Coop);
    }
}

/// Hands the running coroutine to [`set_strand`]'s `strand`, if a
/// scheduler is unwinding its coroutines; returns otherwise.
pub(crate) fn strand() {
    if let Some(strand) = STRAND.try_with(Cell::get).ok().flatten() {
        strand();
    }
}

/// Installs the scheduler for this OS thread (the explorer's).
pub fn install_scheduler(scheduler: Rc<dyn Scheduler>) {
    SCHEDULER.with(|s| *s.borrow_mut() = Some(scheduler));
}

/// Removes the scheduler of this OS thread.
pub fn remove_scheduler() {
    SCHEDULER.with(|s| s.borrow_mut().take());
}

/// The installed scheduler. Primitives call this only in cooperative mode.
/// A stack of `size` bytes (if asked for) for a thread about to be
/// spawned, or why it cannot be had ([`Scheduler::reserve_stack`]).
pub(crate) fn reserve_stack(size: Option<usize>) -> std::io::Result<()> {
    size.map_or(Ok(()), |size| scheduler().reserve_stack(size))
}

pub(crate) fn scheduler() -> Rc<dyn Scheduler> {
    if let Some(scheduler) = SCHEDULER.with(|s| s.borrow().clone()) {
        return scheduler;
    }
    // A coroutine that runs on after its run's end (see `strand_every_call`).
    strand();
    panic!("reprise: cooperative mode without a scheduler")
}

/// The one hook through which a primitive's cooperative path takes a value
/// from the trace under a coroutine replay (see [`Scheduler::recorded`]).
/// Callable inside `context::with`: it does not touch the thread's context.
pub(crate) fn recorded_outcome(thread: ThreadIndex, op: Op) -> Option<Served> {
    SCHEDULER.with(|s| s.borrow().as_ref().and_then(|s| s.recorded(thread, op)))
}

/// The thread the current thread's next recorded event joins under a
/// coroutine replay, and whether it had panicked, if it is a join (see
/// [`crate::rt::gated::next_join`]).
pub(crate) fn next_join() -> Option<(ThreadIndex, bool)> {
    match served(Op::Join) {
        Some(Outcome::Join { joined, panicked }) => Some((joined, panicked)),
        _ => None,
    }
}

/// [`recorded_outcome`] for the current thread, outside `context::with`:
/// the outcome alone.
pub(crate) fn served(op: Op) -> Option<Outcome> {
    let thread = context::with(|ctx| ctx.index);
    recorded_outcome(thread, op).map(|s| s.outcome)
}

/// [`Scheduler::taken_later`] of the installed scheduler (`true` without
/// one).
pub(crate) fn taken_later(sender: ThreadIndex, seq: u64) -> bool {
    SCHEDULER.with(|s| s.borrow().as_ref().is_none_or(|s| s.taken_later(sender, seq)))
}

/// Whether the installed scheduler follows a trace.
pub(crate) fn follows_trace() -> bool {
    SCHEDULER.with(|s| s.borrow().as_ref().is_some_and(|s| s.follows_trace()))
}

/// Tells the scheduler, if one is installed, that `thread` made `event`.
/// Called by the recording of every cooperative event.
pub(crate) fn made(thread: ThreadIndex, event: &Event, site: Site<'_>) {
    SCHEDULER.with(|s| {
        if let Some(s) = s.borrow().as_ref() {
            s.made(thread, event, site);
        }
    });
}

/// Tells the scheduler, if one is installed, that `thread` just made a
/// capture of `blob` with `outcome`.
pub(crate) fn captured(thread: ThreadIndex, outcome: Outcome, blob: &[u8]) {
    SCHEDULER.with(|s| {
        if let Some(s) = s.borrow().as_ref() {
            s.captured(thread, outcome, blob);
        }
    });
}

/// `std::thread::panicking()` for the running thread: under the explorer,
/// not when the OS thread's panic count is raised only by another thread
/// suspended while it unwinds ([`Scheduler::unwinds_own`]).
pub(crate) fn panicking() -> bool {
    std::thread::panicking() && if_installed(|s| s.unwinds_own()).unwrap_or(true)
}

/// Tells the installed scheduler, if any, that the running thread starts a
/// panic ([`Scheduler::panic_started`]).
pub(crate) fn panic_started() {
    if_installed(|s| s.panic_started());
}

/// Tells the installed scheduler, if any, that the running thread caught a
/// panic ([`Scheduler::panic_caught`]).
pub(crate) fn panic_caught() {
    if_installed(|s| s.panic_caught());
}

/// `f` on the installed scheduler; `None` without one, or where it cannot
/// be reached (the thread-local gone, or borrowed: a panic hook runs from
/// anywhere, and must not panic again).
fn if_installed<R>(f: impl FnOnce(&dyn Scheduler) -> R) -> Option<R> {
    SCHEDULER.try_with(|s| s.try_borrow().ok()?.as_deref().map(f)).ok().flatten()
}

/// A scheduling point for `op` (skipped while unwinding: a coroutine that
/// panics keeps the OS thread until it blocks or is done).
#[inline]
pub(crate) fn switch(op: Op, object: Option<ObjectIndex>, location: &'static Location<'static>) {
    let call = CoopCall { op: Some(op), object, location };
    if panicking() {
        scheduler().unwinding(call);
    } else {
        scheduler().switch(call);
    }
}

/// A scheduling point that is not an event (`thread::yield_now`).
pub(crate) fn yield_point(location: &'static Location<'static>) {
    if !panicking() {
        scheduler().switch(CoopCall { op: None, object: None, location });
    }
}

/// Names `slot`'s object in the current thread, then makes a scheduling
/// point for `op` on it.
#[inline]
pub(crate) fn switch_on(
    slot: &crate::rt::object::ObjectSlot,
    kind: crate::trace::model::ObjectKind,
    op: Op,
    location: &'static Location<'static>,
) -> ObjectIndex {
    let object = context::with(|ctx| ctx.object(slot, kind, location));
    switch(op, Some(object), location);
    object
}

/// The virtual clock.
pub(crate) fn now() -> u64 {
    scheduler().now()
}

/// Blocks the current thread on `on`. A deadline at the clock's end (a
/// timeout of `Duration::MAX`, or one too long for 64-bit nanoseconds,
/// saturated) is no deadline: crossbeam and std wait for good then, so no
/// time choice may fire it.
pub(crate) fn block(
    on: &[Resource],
    deadline: Option<u64>,
    op: Op,
    object: Option<ObjectIndex>,
    location: &'static Location<'static>,
) -> Woken {
    let deadline = deadline.filter(|&d| d != u64::MAX);
    scheduler().block(on, deadline, CoopCall { op: Some(op), object, location })
}

/// Wakes the waiters of `on`.
pub(crate) fn wake(on: Resource, all: bool) {
    scheduler().wake(on, all);
}

/// A thread's context while another coroutine runs.
pub struct SavedContext(Option<Box<ThreadCtx>>);

impl fmt::Debug for SavedContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SavedContext({:?})", self.0.as_ref().map(|c| c.index))
    }
}

impl SavedContext {
    /// Takes the running coroutine's context off the OS thread.
    pub fn save() -> SavedContext {
        SavedContext(context::take())
    }

    /// Puts a coroutine's context back before it resumes.
    pub fn restore(self) {
        if let Some(ctx) = self.0 {
            context::install(ctx);
        }
    }

    /// Flushes the buffered events of a thread that will not run again.
    pub fn close(mut self) {
        if let Some(ctx) = self.0.as_mut() {
            ctx.close_buffer();
        }
    }
}

/// One exploration run: an execution recorded into memory.
#[derive(Debug)]
pub struct CoopRun {
    exec: Arc<Execution>,
    inbox: Receiver<WriterMsg>,
    recycle: Sender<Block>,
}

/// A chunk a run recorded: its thread, sequence number, payload and event count.
#[derive(Debug, Clone)]
pub struct RecordedChunk {
    /// The thread.
    pub thread: ThreadIndex,
    /// Its chunk number within the thread.
    pub seq: u32,
    /// The encoded records.
    pub payload: Vec<u8>,
    /// Events in it.
    pub events: u32,
}

impl CoopRun {
    /// A fresh execution whose random source is seeded with `seed`.
    pub fn new(seed: u64) -> CoopRun {
        CoopRun::build(seed, true)
    }

    /// A fresh execution that writes no trace: its threads keep no chunk
    /// buffer and encode nothing, and the scheduler still hears of every
    /// event ([`Scheduler::made`]). For an explorer's search, which needs
    /// only a run's schedule and runs a failing one again, traced.
    pub fn untraced(seed: u64) -> CoopRun {
        CoopRun::build(seed, false)
    }

    /// Whether the run writes a trace (see [`CoopRun::untraced`]).
    pub fn is_traced(&self) -> bool {
        self.exec.traced
    }

    fn build(seed: u64, traced: bool) -> CoopRun {
        let (to_writer, inbox) = crossbeam_channel::unbounded();
        let (recycle, recycled) = crossbeam_channel::bounded(64);
        crate::rt::panic::install_hook();
        let exec = Execution::new_coop(
            ExecKind::Record(RecordSink {
                to_writer,
                recycled,
                seed,
                clock: crate::rt::flush::FlushClock::new(false),
                handover: std::time::Duration::ZERO,
            }),
            traced,
        );
        CoopRun { exec, inbox, recycle }
    }

    /// A fresh execution for the next run, traced or not as this one, on
    /// this run's channels: the chunks this run recorded are dropped and
    /// their blocks kept for the next run's threads. An explorer runs
    /// thousands of short runs, and making the channels and blocks anew for
    /// each cost more than a small run's scheduling.
    pub fn renew(self, seed: u64) -> CoopRun {
        self.discard_chunks();
        let Some(sink) = self.exec.sink() else { return CoopRun::build(seed, self.exec.traced) };
        let exec = Execution::new_coop(
            ExecKind::Record(RecordSink {
                to_writer: sink.to_writer.clone(),
                recycled: sink.recycled.clone(),
                seed,
                clock: crate::rt::flush::FlushClock::new(false),
                handover: std::time::Duration::ZERO,
            }),
            self.exec.traced,
        );
        CoopRun { exec, inbox: self.inbox, recycle: self.recycle }
    }

    /// Sets the key that seals (and, following a trace, opens) sensitive
    /// captures; without it, `REPRISE_KEY` is read at the first one.
    pub fn set_key(&self, key: Option<crate::trace::model::sensitive::SealKey>) {
        let _ = self.exec.sensitive_key.set(key);
    }

    /// The body of the root coroutine: runs `f` as thread 0.
    pub fn root<F>(&self, f: F) -> impl FnOnce() -> std::thread::Result<()>
    where
        F: FnOnce(),
    {
        let seed = root_seed(&self.exec, "main");
        move || crate::thread::run_thread(seed, f)
    }

    /// The notes the program left with [`crate::annotate`] (a digest).
    pub fn annotations(&self) -> Vec<(String, String)> {
        self.exec.annotations.lock().clone()
    }

    /// Hands `block` back for reuse, unless it is a chunk of its own sized to
    /// one long record (a large captured value): reused, it would be too
    /// small for a chunk.
    fn recycle(&self, mut block: Block) {
        // A reused block must start empty: a buffer appends after `len`.
        block.len = 0;
        if block.bytes.len() == Block::for_target(COOP_CHUNK_TARGET).bytes.len() {
            let _ = self.recycle.try_send(block);
        }
    }

    /// Stops encoding the run's events into chunks (call before it runs): a
    /// coroutine replay checks each event as it is made and keeps none, so
    /// encoding them is work thrown away. Call sites, captured bytes and
    /// object names are still written (rare, and they keep the chunks
    /// readable for anyone who looks).
    pub fn keep_no_events(&self) {
        self.exec.unkept.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Drops the chunks recorded so far, handing their blocks back: a run
    /// whose events are checked as they are made keeps none of them.
    pub fn discard_chunks(&self) {
        while let Ok(msg) = self.inbox.try_recv() {
            if let WriterMsg::Chunk { block, .. } = msg {
                self.recycle(block);
            }
        }
    }

    /// The chunks recorded so far, in the order threads handed them over.
    pub fn take_chunks(&self) -> Vec<RecordedChunk> {
        let mut chunks = Vec::new();
        let mut encoder = EventEncoder::new();
        let mut work = Vec::new();
        while let Ok(msg) = self.inbox.try_recv() {
            if let WriterMsg::Chunk { thread, seq, events, block, .. } = msg {
                let payload = block.chunk_payload(&mut encoder, &mut work).to_vec();
                chunks.push(RecordedChunk { thread, seq, payload, events });
                self.recycle(block);
            }
        }
        chunks
    }
}
