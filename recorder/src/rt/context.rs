//! The thread-local context: which execution this thread belongs to and its
//! per-thread state. The hot path's "recording?" check is one read of it.

use std::cell::Cell;
use std::collections::HashMap;
use std::panic::Location;
use std::sync::Arc;

use parking_lot::lock_api::ArcMutexGuard;
use parking_lot::{Mutex, RawMutex};

use crate::rt::chunk::{ChunkBuf, CHUNK_TARGET, COOP_CHUNK_TARGET};
use crate::rt::coop;
use crate::rt::current;
use crate::rt::exec::{Blocked, ExecKind, Execution, ProgressMark, ThreadShared};
use crate::rt::gate::Gate;
use crate::rt::gated::SiteMatches;
use crate::rt::object::ObjectSlot;
use crate::rt::sites::SiteCache;
use crate::trace::model::{Event, ObjectIndex, ObjectKind, Op, Outcome, SiteIndex, ThreadIndex, NO_THREAD};

thread_local! {
    /// The mode of the context, kept apart so the hot path's check is one load of a
    /// const-initialized thread-local, without a borrow.
    static MODE: Cell<Mode> = const { Cell::new(Mode::Off) };
    // The context itself is in `current.rs`, boxed: the explorer moves a
    // thread's context off and on the OS thread at every switch, and a
    // pointer moves faster than the whole context.
    /// Set once a thread of an execution has left it (its body returned and
    /// its context went): a primitive it uses after that, from a
    /// thread-local's destructor, is outside the execution. Const and
    /// without a destructor, so it can be read while the thread's other
    /// thread-locals are being destroyed.
    static LEFT: Cell<bool> = const { Cell::new(false) };
}

/// What a primitive call should do on this thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Off,
    Record,
    Gated,
    /// Record, with threads as coroutines under the explorer's scheduler.
    Coop,
}

pub(crate) enum Role {
    Record {
        /// Held while the thread runs; `None` while it is blocked.
        buf: Option<ArcMutexGuard<RawMutex, ChunkBuf>>,
    },
    Gated {
        gate: Arc<dyn Gate>,
        cursor: usize,
        /// Set once this thread starts unwinding because the replay stopped:
        /// from then on its calls pass through.
        aborting: bool,
        /// Locations already matched to recorded sites.
        matched_sites: SiteMatches,
    },
}

impl std::fmt::Debug for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Role::Record { buf } => write!(f, "Record {{ running: {} }}", buf.is_some()),
            Role::Gated { cursor, aborting, .. } => {
                write!(f, "Gated {{ cursor: {cursor}, aborting: {aborting} }}")
            }
        }
    }
}

#[derive(Debug)]
pub(crate) struct ThreadCtx {
    pub(crate) exec: Arc<Execution>,
    pub(crate) index: ThreadIndex,
    pub(crate) shared: Arc<ThreadShared>,
    pub(crate) children: u32,
    pub(crate) sends: u64,
    pub(crate) random: u64,
    sites: SiteCache,
    pub(crate) role: Role,
    /// Values of `reprise::thread_local!` keys for this logical thread, by
    /// key address: under the explorer, threads share one OS thread and so
    /// its thread-locals.
    pub(crate) locals: HashMap<usize, Box<dyn std::any::Any>>,
    /// Under the explorer, the handle `thread::current` gives this logical
    /// thread (on OS threads, std's thread-local holds it).
    pub(crate) coop_thread: Option<crate::thread::Thread>,
}

#[inline]
pub(crate) fn mode() -> Mode {
    MODE.with(Cell::get)
}

fn mode_of(ctx: Option<&ThreadCtx>) -> Mode {
    if crate::rt::fork::is_forked_child() {
        return Mode::Off;
    }
    match ctx.map(|ctx| &ctx.role) {
        None | Some(Role::Gated { aborting: true, .. }) => Mode::Off,
        Some(Role::Record { .. }) if ctx.is_some_and(|c| c.exec.coop) => Mode::Coop,
        Some(Role::Record { .. }) => Mode::Record,
        Some(Role::Gated { .. }) => Mode::Gated,
    }
}

/// Sets this thread's mode until the next [`refresh_mode`] (see
/// [`crate::rt::coop::strand_every_call`]).
pub(crate) fn set_mode(mode: Mode) {
    MODE.with(|m| m.set(mode));
}

/// Re-reads the mode after the context's role changed.
pub(crate) fn refresh_mode() {
    let mode = current::borrow(|ctx| mode_of(Some(ctx))).unwrap_or(Mode::Off);
    MODE.with(|m| m.set(mode));
}

/// Runs `f` on this thread's context. Callers check [`mode`] first.
#[inline]
pub(crate) fn with<R>(f: impl FnOnce(&mut ThreadCtx) -> R) -> R {
    match current::borrow(f) {
        Some(r) => r,
        None => outside_the_replay(),
    }
}

/// Only an object made inside a replay routes a thread without a context to
/// [`with`] (its mode is the replay's, not the thread's).
#[cold]
#[inline(never)]
pub(crate) fn outside_the_replay() -> ! {
    // A coroutine unwound at its run's end that caught the unwind and came
    // back here: left where it is, never resumed, rather than panic again.
    crate::rt::coop::strand();
    panic!(
        "reprise: a thread outside the replay (not spawned by reprise::thread: std::thread::spawn?) \
         used a channel made inside it; spawn that thread with reprise::thread so that the replay runs it \
         (a channel kept in a static that a replay made first outlives that replay: make it before any \
         execution starts, so that it passes through in every mode)"
    )
}

/// Like [`with`], but `None` outside an execution.
#[inline]
pub(crate) fn try_with<R>(f: impl FnOnce(&mut ThreadCtx) -> R) -> Option<R> {
    current::borrow(f)
}

/// Under the flight recorder, notes that `object` of execution `exec` was
/// dropped in this thread's buffer (see [`ChunkBuf::push_dropped`]);
/// `false` when this thread cannot carry it: not recording `exec` under
/// the flight recorder, its context in use further up the stack, blocked,
/// or its buffer closed.
pub(crate) fn note_dropped(exec: u32, object: ObjectIndex) -> bool {
    current::borrow_if_free(|ctx| {
        let flight = ctx.exec.id == exec && ctx.in_flight();
        match &mut ctx.role {
            Role::Record { buf: Some(buf) } if flight => buf.push_dropped(object),
            _ => false,
        }
    })
    .unwrap_or(false)
}

/// The execution and thread index of this thread's context, if it has one
/// that is not in use: safe inside a panic hook, where the context may be
/// borrowed by the call that panicked.
pub(crate) fn current_ids() -> Option<(u32, ThreadIndex)> {
    current::peek(|ctx| (ctx.exec.id, ctx.index))
}

pub(crate) fn install(ctx: Box<ThreadCtx>) {
    let mode = mode_of(Some(&ctx));
    current::install(ctx);
    MODE.with(|m| m.set(mode));
    // An OS thread that runs one coroutine after another (the explorer's)
    // enters again after leaving.
    LEFT.with(|left| left.set(false));
}

/// The recording failed: this thread's later primitive calls take the off
/// path (its context stays, so guards taken while recording still drop).
pub(crate) fn stop_recording_here() {
    MODE.with(|m| {
        if m.get() == Mode::Record {
            m.set(Mode::Off);
        }
    });
}

/// In a child forked from this thread (see `rt/fork.rs`): its calls take
/// the off path from now on. Only a thread-local store: this runs where
/// only async-signal-safe calls are allowed.
pub(crate) fn forked_here() {
    let _ = MODE.try_with(|m| m.set(Mode::Off));
}

/// The thread leaves its execution for good: its context goes, and later
/// calls see [`has_left`].
pub(crate) fn leave() {
    if let Some(ctx) = take() {
        ctx.exec.unregister_thread(&ctx.shared);
    }
    LEFT.with(|left| left.set(true));
}

/// Whether this thread left an execution (see [`leave`]): it is running its
/// thread-locals' destructors, or about to end.
pub(crate) fn has_left() -> bool {
    LEFT.try_with(Cell::get).unwrap_or(true)
}

pub(crate) fn take() -> Option<Box<ThreadCtx>> {
    MODE.with(|m| m.set(Mode::Off));
    current::take()
}

/// What a new thread needs to join its parent's execution.
#[derive(Debug)]
pub(crate) struct ChildSeed {
    pub(crate) exec: Arc<Execution>,
    pub(crate) index: ThreadIndex,
    pub(crate) parent: ThreadIndex,
    pub(crate) child: u32,
    pub(crate) name: String,
}

impl ThreadCtx {
    /// Creates the context of a thread of `exec` and writes its table record.
    pub(crate) fn new(seed: ChildSeed) -> ThreadCtx {
        let ChildSeed { exec, index, parent, child, name } = seed;
        let (buf, role) = match &exec.kind {
            // An explorer's search run: no trace, so no buffer.
            ExecKind::Record(_) if !exec.traced => (None, Role::Record { buf: None }),
            ExecKind::Record(sink) => {
                let target = if exec.coop { COOP_CHUNK_TARGET } else { CHUNK_TARGET };
                let buf = Arc::new(Mutex::new(ChunkBuf::new(
                    index,
                    sink.to_writer.clone(),
                    sink.recycled.clone(),
                    target,
                    Arc::clone(&sink.clock),
                )));
                let mut guard = Mutex::lock_arc(&buf);
                guard.push_thread(index, parent, child, &name);
                (Some(buf), Role::Record { buf: Some(guard) })
            }
            ExecKind::Gated(gate) => (
                None,
                Role::Gated {
                    gate: Arc::clone(gate),
                    cursor: 0,
                    aborting: false,
                    matched_sites: SiteMatches::new(),
                },
            ),
        };
        let shared = Arc::new(ThreadShared::new(index, buf));
        exec.register_thread(Arc::clone(&shared));
        let random = match exec.sink() {
            Some(sink) => splitmix(sink.seed ^ (u64::from(index) << 32) ^ 0x5EED),
            None => 0,
        };
        ThreadCtx {
            exec,
            index,
            shared,
            children: 0,
            sends: 0,
            random,
            sites: SiteCache::new(),
            role,
            locals: HashMap::new(),
            coop_thread: None,
        }
    }

    /// The seed of this thread's next child (record mode: a fresh index).
    pub(crate) fn child_seed(&mut self, index: ThreadIndex, name: String) -> ChildSeed {
        let child = self.children;
        self.children += 1;
        ChildSeed { exec: Arc::clone(&self.exec), index, parent: self.index, child, name }
    }

    #[inline(always)]
    fn buf(&mut self) -> &mut ChunkBuf {
        match &mut self.role {
            Role::Record { buf: Some(guard) } => guard,
            _ => unreachable!("recording thread used its buffer while blocked"),
        }
    }

    #[inline(always)]
    fn site(&mut self, location: &'static Location<'static>) -> SiteIndex {
        match self.sites.cached(location) {
            Some(index) => index,
            None => self.site_uncached(location),
        }
    }

    /// A site past its table slot's neighbourhood, or new: new ones get
    /// their table record before the event that uses them.
    #[inline(never)]
    fn site_uncached(&mut self, location: &'static Location<'static>) -> SiteIndex {
        let (index, fresh) = self.sites.intern(location);
        if fresh {
            self.buf().push_site(index, location.file(), location.line(), location.column());
        }
        index
    }

    /// Record mode: appends one event.
    // Inlined into each primitive's record path: a call here cost about 25
    // instructions an event in register saves and the buffer's lookup
    // (callgrind, benches/callgrind.sh).
    #[inline(always)]
    pub(crate) fn record(
        &mut self,
        op: Op,
        object: ObjectIndex,
        location: &'static Location<'static>,
        outcome: [u64; 3],
    ) {
        if self.exec.coop {
            return self.made(op, object, location, outcome);
        }
        let site = self.site(location);
        let [a, b, c] = outcome;
        self.buf().push_event(&Event { op, object, site, a, b, c });
    }

    /// Explorer and coroutine replay: keeps the event unless the run keeps
    /// none (a coroutine replay checks each as it is made) or writes no
    /// trace (an explorer's search run), and tells the scheduler about it.
    /// Out of line: record mode never comes here.
    #[cold]
    fn made(&mut self, op: Op, object: ObjectIndex, location: &'static Location<'static>, outcome: [u64; 3]) {
        let [a, b, c] = outcome;
        // A run that keeps no events interns no sites either: the scheduler
        // is given the site by content.
        let kept = self.exec.traced && !self.exec.unkept.load(std::sync::atomic::Ordering::Relaxed);
        let site = if kept { self.site(location) } else { 0 };
        let event = Event { op, object, site, a, b, c };
        if kept {
            self.buf().push_event(&event);
        }
        let site = coop::Site { file: location.file(), line: location.line(), column: location.column() };
        coop::made(self.index, &event, site);
    }

    /// Record mode: appends the event of `outcome` on `object`.
    // Encoded at the call site, where the outcome's variant is known and its
    // encoding folds to a few moves.
    #[inline(always)]
    pub(crate) fn record_outcome(
        &mut self,
        outcome: Outcome,
        object: ObjectIndex,
        location: &'static Location<'static>,
    ) {
        self.record(outcome.op(), object, location, outcome.fields());
    }

    /// Record mode: appends an event whose site is known by content only.
    pub(crate) fn record_at_content(&mut self, op: Op, site: &(String, u32, u32), outcome: [u64; 3]) {
        let mut index = 0;
        if self.exec.traced {
            let fresh;
            (index, fresh) = self.sites.intern_content(&site.0, site.1, site.2);
            if fresh {
                self.buf().push_site(index, &site.0, site.1, site.2);
            }
        }
        let [a, b, c] = outcome;
        let event = Event { op, object: 0, site: index, a, b, c };
        if self.exec.traced && !self.exec.unkept.load(std::sync::atomic::Ordering::Relaxed) {
            self.buf().push_event(&event);
        }
        if self.exec.coop {
            coop::made(self.index, &event, coop::Site { file: &site.0, line: site.1, column: site.2 });
        }
    }

    /// Record mode: attaches bytes to the event just recorded.
    pub(crate) fn record_blob(&mut self, bytes: &[u8]) {
        if self.exec.traced {
            self.buf().push_blob(bytes);
        }
    }

    /// Record mode: the object's index, naming it on first use.
    #[inline]
    pub(crate) fn object(
        &mut self,
        slot: &ObjectSlot,
        kind: ObjectKind,
        location: &'static Location<'static>,
    ) -> ObjectIndex {
        match slot.get(self.exec.id) {
            Some(index) => index,
            None => self.name_object(slot, kind, location),
        }
    }

    #[cold]
    fn name_object(
        &mut self,
        slot: &ObjectSlot,
        kind: ObjectKind,
        location: &'static Location<'static>,
    ) -> ObjectIndex {
        let fresh = self.exec.allocate_object();
        let (index, is_new) = match slot.claim(self.exec.id, fresh) {
            Some(index) => (index, index == fresh),
            None => self.exec.foreign_object(slot.address()),
        };
        if is_new && self.exec.traced {
            let site = self.site(slot.created().unwrap_or(location));
            self.buf().push_object(index, kind, site);
        }
        index
    }

    /// Record mode: lets the monitor see this thread as blocked and take its
    /// buffer, until [`ThreadCtx::unblock`].
    #[cold]
    pub(crate) fn block(&mut self, op: Op, target: u32, location: &'static Location<'static>, timed: bool) {
        self.block_marked(op, target, location, timed, None);
    }

    /// Like [`ThreadCtx::block`], for a wait that any thread may end: with
    /// the object's progress counter as read before the failed attempt.
    #[cold]
    pub(crate) fn block_marked(
        &mut self,
        op: Op,
        target: u32,
        location: &'static Location<'static>,
        timed: bool,
        progress: Option<ProgressMark>,
    ) {
        {
            let mut state = self.shared.block.lock();
            state.blocked = Some(Blocked { op, target, location, timed, progress });
            state.epoch += 1;
        }
        if let Role::Record { buf } = &mut self.role {
            *buf = None;
        }
    }

    /// Under the flight recorder, before [`ThreadCtx::block_marked`] for a
    /// send: the send count of the message the thread is about to wait to
    /// hand over.
    #[cold]
    pub(crate) fn sending(&mut self, seq: u64) {
        let mut state = self.shared.block.lock();
        state.sending = Some(seq);
        state.taken = false;
    }

    /// This thread took message `seq` of `sender`, who was blocked sending
    /// it (the envelope says so). Under the flight recorder the sender's
    /// send is recorded only when it runs again, maybe after a dump moved
    /// the epoch, while this receive came before it: a dump gathering then
    /// must wait for the send rather than take the sender's buffer as all
    /// it holds (a dump held a rendezvous receive without its send, 3-4
    /// dumps in 12). Marked under the sender's block lock, before this
    /// receive's event looks at the epoch: a dump that moved the epoch
    /// before that look sees the mark when it takes the sender's buffer,
    /// and one that moved it after leaves this receive out.
    #[cold]
    #[inline(never)]
    pub(crate) fn took_from_blocked(&self, sender: ThreadIndex, seq: u64) {
        let Some(shared) = self.exec.threads.lock().iter().find(|t| t.index == sender).cloned() else {
            return;
        };
        let mut state = shared.block.lock();
        if state.sending == Some(seq) {
            state.taken = true;
        }
    }

    /// [`ThreadCtx::unblock`] after a send announced by
    /// [`ThreadCtx::sending`]: the buffer is taken back first, so a dump's
    /// gathering never sees the mark cleared while the buffer is free.
    #[cold]
    pub(crate) fn unblock_send(&mut self) {
        self.unblock();
        let mut state = self.shared.block.lock();
        state.sending = None;
        state.taken = false;
    }

    /// Under the flight recorder: this thread's panic asked for a dump (see
    /// [`ChunkBuf::watch_panic`]).
    pub(crate) fn watch_panic(&mut self) {
        if let Role::Record { buf: Some(buf) } = &mut self.role {
            buf.watch_panic();
        }
    }

    /// This thread records its own panic at its end: it did not catch it.
    pub(crate) fn end_panic_watch(&mut self) {
        if let Role::Record { buf: Some(buf) } = &mut self.role {
            buf.end_panic_watch();
        }
    }

    /// Whether this is a flight recorder's thread.
    pub(crate) fn in_flight(&self) -> bool {
        self.exec.sink().is_some_and(|sink| sink.clock.skips_at_cap)
    }

    #[cold]
    pub(crate) fn unblock(&mut self) {
        if let Role::Record { buf } = &mut self.role {
            if buf.is_none() {
                if let Some(shared_buf) = &self.shared.buf {
                    *buf = Some(Mutex::lock_arc(shared_buf));
                }
            }
        }
        self.shared.block.lock().blocked = None;
    }

    /// Record mode: the next value of this thread's seeded random source.
    pub(crate) fn next_random(&mut self) -> u64 {
        self.random = self.random.wrapping_add(0x9E37_79B9_7F4A_7C15);
        splitmix(self.random)
    }

    /// Record mode: flushes and closes this thread's buffer.
    pub(crate) fn close_buffer(&mut self) {
        if let Role::Record { buf: Some(guard) } = &mut self.role {
            guard.close();
        }
    }
}

/// The root thread's seed for a new execution.
pub(crate) fn root_seed(exec: &Arc<Execution>, name: &str) -> ChildSeed {
    ChildSeed {
        exec: Arc::clone(exec),
        index: exec.allocate_thread(),
        parent: NO_THREAD,
        child: 0,
        name: name.to_string(),
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
