//! What a channel end holds, and which backend serves a call on it.

#[cfg(not(reprise_loom))]
use crossbeam_channel as cb;

use std::sync::Arc;

use crate::rt::mode::Mode;
#[cfg(not(reprise_loom))]
use crate::rt::{
    context::ThreadCtx,
    exec::{self, Progress, ProgressMark},
    mode,
    object::ObjectSlot,
};
#[cfg(not(reprise_loom))]
use crate::trace::model::ThreadIndex;

#[cfg(not(reprise_loom))]
use super::replay_queue::ReplayQueue;

/// A message with its id: the sending thread and that thread's send count
/// (both 0 in passthrough, which numbers nothing).
#[cfg(not(reprise_loom))]
pub(super) struct Envelope<T> {
    pub(super) sender: ThreadIndex,
    /// Under the flight recorder: the sender was shown blocked in this
    /// send, so its send is recorded only after a receiver took it (see
    /// [`crate::rt::context::ThreadCtx::took_from_blocked`]). In the
    /// padding after `sender`: the envelope does not grow.
    pub(super) sender_blocked: bool,
    pub(super) seq: u64,
    pub(super) value: T,
}

/// The channel behind an end.
pub(super) enum Flavor<T> {
    /// Off, record and explore mode: crossbeam's channel. Each end holds its
    /// own half; the explorer empties both when the end drops.
    #[cfg(not(reprise_loom))]
    Crossbeam {
        tx: Option<cb::Sender<Envelope<T>>>,
        rx: Option<cb::Receiver<Envelope<T>>>,
        /// Made outside any execution (see [`Flavor::outside`]).
        outside: bool,
    },
    /// Made inside a replay: a queue from which receives take messages by id.
    #[cfg(not(reprise_loom))]
    Replay(Arc<ReplayQueue<T>>),
    /// Under loom: a queue behind loom's mutex and condvars.
    #[cfg(reprise_loom)]
    Loom(Arc<super::loom::Chan<T>>),
    /// A timer's receiver (`after`, `at`, `tick`, `never`).
    #[cfg(not(reprise_loom))]
    Timer(super::timer::Timer<T>),
}

impl<T> Flavor<T> {
    /// Which backend serves a call on this end. A channel made in a replay
    /// stays the replay's in every thread that uses it (explore's, which
    /// follows the trace, under a coroutine replay); a crossbeam channel
    /// follows the calling thread's mode, except that a replay passes it
    /// through: it was made outside the replay, so no recording speaks of it.
    /// A channel made outside any execution passes through in every mode,
    /// recording included, so that record and replay agree on it.
    // The crossbeam arm inlined into every call site, the others out of
    // line: the whole match, called, was about 20 instructions a call (7.5
    // an event of the payments pipeline off; callgrind).
    #[cfg(not(reprise_loom))]
    #[inline(always)]
    pub(super) fn mode(&self) -> Mode {
        match self {
            Flavor::Crossbeam { outside: true, .. } => Mode::Off,
            Flavor::Crossbeam { .. } => crossbeam_mode(),
            _ => self.other_mode(),
        }
    }

    /// [`Flavor::mode`] of a replay's channel or a timer.
    #[cfg(not(reprise_loom))]
    #[inline(never)]
    fn other_mode(&self) -> Mode {
        match self {
            Flavor::Crossbeam { outside: true, .. } => Mode::Off,
            // Under a coroutine replay (explore mode) too: explore.rs hands
            // a replay channel to followed.rs.
            Flavor::Replay(queue) => match (mode::mode(), queue.is_callers()) {
                // A thread outside every execution (`context::with` says
                // so), or one of the replay's own that is unwinding.
                (Mode::Off, None | Some(true)) => Mode::Gated,
                (mode @ (Mode::Gated | Mode::Coop), Some(true)) => mode,
                _ => foreign_replay_channel(),
            },
            Flavor::Crossbeam { .. } => crossbeam_mode(),
            Flavor::Timer(timer) => timer.mode(),
        }
    }

    /// Under loom every call passes through to the loom backend.
    #[cfg(reprise_loom)]
    #[inline]
    pub(super) fn mode(&self) -> Mode {
        Mode::Off
    }

    /// [`Flavor::mode`] for dropping an end, which never panics: an end of
    /// another replay's channel drops as passthrough does (a panic there,
    /// while its thread unwinds from the use that panicked, aborted the
    /// process).
    #[inline]
    pub(super) fn drop_mode(&self) -> Mode {
        match self {
            #[cfg(not(reprise_loom))]
            Flavor::Replay(queue) if queue.is_callers() != Some(true) => Mode::Off,
            _ => self.mode(),
        }
    }

    /// How many messages are queued.
    pub(super) fn len(&self) -> usize {
        match self {
            #[cfg(not(reprise_loom))]
            Flavor::Replay(queue) => queue.len(),
            #[cfg(not(reprise_loom))]
            Flavor::Crossbeam { tx: Some(tx), .. } => tx.len(),
            #[cfg(not(reprise_loom))]
            Flavor::Crossbeam { rx: Some(rx), .. } => rx.len(),
            #[cfg(not(reprise_loom))]
            Flavor::Crossbeam { .. } => 0,
            #[cfg(not(reprise_loom))]
            Flavor::Timer(timer) => timer.len(),
            #[cfg(reprise_loom)]
            Flavor::Loom(chan) => chan.len(),
        }
    }

    /// The capacity the channel was made with (`None`: unbounded).
    pub(super) fn capacity(&self) -> Option<usize> {
        match self {
            #[cfg(not(reprise_loom))]
            Flavor::Replay(queue) => queue.capacity(),
            #[cfg(not(reprise_loom))]
            Flavor::Crossbeam { tx: Some(tx), .. } => tx.capacity(),
            #[cfg(not(reprise_loom))]
            Flavor::Crossbeam { rx: Some(rx), .. } => rx.capacity(),
            #[cfg(not(reprise_loom))]
            Flavor::Crossbeam { .. } => None,
            #[cfg(not(reprise_loom))]
            Flavor::Timer(timer) => timer.capacity(),
            #[cfg(reprise_loom)]
            Flavor::Loom(chan) => chan.capacity(),
        }
    }

    /// Whether the channel is full, as crossbeam says it (a rendezvous
    /// always is).
    pub(super) fn is_full(&self) -> bool {
        match self {
            #[cfg(not(reprise_loom))]
            Flavor::Crossbeam { tx: Some(tx), .. } => tx.is_full(),
            #[cfg(not(reprise_loom))]
            Flavor::Crossbeam { rx: Some(rx), .. } => rx.is_full(),
            _ => self.capacity().is_some_and(|cap| cap == 0 || self.len() >= cap),
        }
    }

    /// Whether `other` is an end of the same channel.
    pub(super) fn same(&self, other: &Flavor<T>) -> bool {
        match (self, other) {
            #[cfg(not(reprise_loom))]
            (Flavor::Replay(a), Flavor::Replay(b)) => Arc::ptr_eq(a, b),
            #[cfg(not(reprise_loom))]
            (Flavor::Crossbeam { tx: Some(a), .. }, Flavor::Crossbeam { tx: Some(b), .. }) => {
                a.same_channel(b)
            }
            #[cfg(not(reprise_loom))]
            (Flavor::Crossbeam { rx: Some(a), .. }, Flavor::Crossbeam { rx: Some(b), .. }) => {
                a.same_channel(b)
            }
            #[cfg(not(reprise_loom))]
            (Flavor::Timer(a), Flavor::Timer(b)) => a.same(b),
            #[cfg(reprise_loom)]
            (Flavor::Loom(a), Flavor::Loom(b)) => Arc::ptr_eq(a, b),
            #[cfg(not(reprise_loom))]
            _ => false,
        }
    }

    /// Another sending end of the same channel.
    pub(super) fn clone_sender(&self) -> Flavor<T> {
        match self {
            #[cfg(not(reprise_loom))]
            Flavor::Crossbeam { tx, outside, .. } => {
                Flavor::Crossbeam { tx: tx.clone(), rx: None, outside: *outside }
            }
            #[cfg(not(reprise_loom))]
            Flavor::Replay(queue) => Flavor::Replay(Arc::clone(queue)),
            // A timer has no sender.
            #[cfg(not(reprise_loom))]
            Flavor::Timer(timer) => Flavor::Crossbeam { tx: None, rx: None, outside: timer.outside() },
            #[cfg(reprise_loom)]
            Flavor::Loom(chan) => Flavor::Loom(chan.add_sender()),
        }
    }

    /// Another receiving end of the same channel.
    pub(super) fn clone_receiver(&self) -> Flavor<T> {
        match self {
            #[cfg(not(reprise_loom))]
            Flavor::Crossbeam { rx, outside, .. } => {
                Flavor::Crossbeam { tx: None, rx: rx.clone(), outside: *outside }
            }
            #[cfg(not(reprise_loom))]
            Flavor::Replay(queue) => Flavor::Replay(Arc::clone(queue)),
            #[cfg(not(reprise_loom))]
            Flavor::Timer(timer) => Flavor::Timer(timer.clone_timer()),
            #[cfg(reprise_loom)]
            Flavor::Loom(chan) => Flavor::Loom(chan.add_receiver()),
        }
    }

    /// Whether the channel was made outside any execution (by a thread
    /// neither recording, replaying nor explored): no recording holds its
    /// messages, whichever thread uses it, so every mode passes it through,
    /// as it passes through a socket. A replay could not give its messages
    /// back, since the replay does not make it either.
    #[cfg(not(reprise_loom))]
    pub(super) fn outside(&self) -> bool {
        match self {
            Flavor::Crossbeam { outside, .. } => *outside,
            Flavor::Timer(timer) => timer.outside(),
            Flavor::Replay(_) => false,
        }
    }

    /// The replay queue, if the channel was made in a replay.
    #[cfg(not(reprise_loom))]
    pub(super) fn queue(&self) -> Option<&ReplayQueue<T>> {
        match self {
            Flavor::Replay(queue) => Some(queue),
            Flavor::Crossbeam { .. } | Flavor::Timer(_) => None,
        }
    }
}

/// A channel made inside a replay, used by a thread of another execution
/// (a recording, an exploration, another replay): no trace speaks of it and
/// no backend but its replay's can serve it. It used to reach the replay
/// backend from a recording thread (an internal error, `unreachable!`) and
/// the explorer's (which reported the program's receive as disconnected: a
/// false finding). The program's call panics with what to do instead.
#[cfg(not(reprise_loom))]
#[cold]
#[inline(never)]
pub(super) fn foreign_replay_channel() -> ! {
    // A coroutine that runs on after its replay's end (see
    // `coop::strand_every_call`) is left there instead.
    crate::rt::coop::strand();
    panic!(
        "reprise: a channel made inside a replay was used by another execution (a recording, an \
         exploration or another replay of this process): it serves only the replay that made it. A \
         channel kept in a static (LazyLock, OnceLock) is made by the first execution that touches \
         it: make it before any execution starts (force it outside record/replay/explore) so that it \
         passes through in every mode, or make one per execution"
    )
}

/// Whether a channel made now is made outside any execution: off mode is a
/// thread outside one (or one whose recording stopped, which records no
/// more either).
#[cfg(not(reprise_loom))]
pub(super) fn made_outside() -> bool {
    mode::mode() == Mode::Off
}

/// The backend for a crossbeam end on this thread (see [`Flavor::mode`]).
#[cfg(not(reprise_loom))]
#[inline(always)]
pub(super) fn crossbeam_mode() -> Mode {
    match mode::mode() {
        Mode::Gated => Mode::Off,
        mode => mode,
    }
}

/// What both ends share: the channel's identity and its progress counter.
#[cfg(not(reprise_loom))]
pub(super) struct Shared {
    pub(super) slot: ObjectSlot,
    /// Sends, receives and dropped ends, counted in closed-world recordings
    /// for the deadlock monitor (and on every drop: drops are rare).
    pub(super) progress: Progress,
    /// Under the explorer, a `bounded(0)` runs on a crossbeam channel of
    /// one slot (its receivers wait in the scheduler, never inside
    /// crossbeam, so crossbeam's rendezvous would never pair): `Some` holds
    /// what makes it a rendezvous again (`explore.rs`).
    pub(super) rendezvous: Option<Rendezvous>,
}

/// An explored rendezvous's hand-off counters.
#[cfg(not(reprise_loom))]
#[derive(Debug)]
pub(super) struct Rendezvous {
    /// Its receiving ends alive: with none, a send is disconnected, not
    /// waiting for a taker (crossbeam's one slot says so once asked).
    pub(super) receivers: std::sync::atomic::AtomicUsize,
    /// Messages taken so far: a sender whose message went into the empty
    /// slot as the `n`-th waits until this passes `n`.
    pub(super) taken: std::sync::atomic::AtomicU64,
    /// Receivers blocked waiting, each by its wait's claim (a select waits
    /// on each of its rendezvous arms with one claim): a `try_send`, a
    /// timed send or a select's send arm pairs only with one whose claim
    /// is not taken, and a send that pairs takes it, so that a select
    /// waiting on two rendezvous pairs with one sender, as crossbeam's.
    pub(super) waiting: parking_lot::Mutex<Vec<Claim>>,
}

#[cfg(not(reprise_loom))]
impl Rendezvous {
    /// A new rendezvous's counters: one receiver, nothing taken or waiting.
    pub(super) fn new() -> Rendezvous {
        Rendezvous {
            receivers: std::sync::atomic::AtomicUsize::new(1),
            taken: std::sync::atomic::AtomicU64::new(0),
            waiting: parking_lot::Mutex::new(Vec::new()),
        }
    }

    /// Whether every receiving end is gone.
    pub(super) fn disconnected(&self) -> bool {
        self.receivers.load(std::sync::atomic::Ordering::Acquire) == 0
    }
}

/// A blocked receiver's claim: set once a sender paired with it.
#[cfg(not(reprise_loom))]
pub(crate) type Claim = std::sync::Arc<std::sync::atomic::AtomicBool>;

#[cfg(not(reprise_loom))]
impl Shared {
    #[track_caller]
    pub(super) fn new() -> Shared {
        Shared { slot: ObjectSlot::here(), progress: Progress::default(), rendezvous: None }
    }

    /// Record mode: counts an operation that can end a wait on the channel.
    #[inline]
    pub(super) fn progressed(&self, ctx: &ThreadCtx) {
        if ctx.exec.closed_world {
            exec::bump(&self.progress);
        }
    }

    /// Record mode: the mark a thread about to wait on the channel leaves
    /// for the deadlock monitor.
    pub(super) fn mark(&self, ctx: &ThreadCtx) -> Option<ProgressMark> {
        ctx.exec.closed_world.then(|| ProgressMark::read(&self.progress))
    }
}

/// The two ends of a new channel, holding `sender` and `receiver`.
#[cfg(not(reprise_loom))]
#[track_caller]
pub(super) fn ends<T>(sender: Flavor<T>, receiver: Flavor<T>) -> (super::Sender<T>, super::Receiver<T>) {
    ends_of(sender, receiver, Shared::new())
}

/// As [`ends`], sharing `shared`.
#[cfg(not(reprise_loom))]
pub(super) fn ends_of<T>(
    sender: Flavor<T>,
    receiver: Flavor<T>,
    shared: Shared,
) -> (super::Sender<T>, super::Receiver<T>) {
    let shared = Arc::new(shared);
    (
        super::Sender { shared: Arc::clone(&shared), flavor: sender },
        super::Receiver { shared, flavor: receiver },
    )
}

#[cfg(not(reprise_loom))]
impl<T> super::Sender<T> {
    /// The crossbeam sender, for the backends a crossbeam end is routed to.
    pub(super) fn cb(&self) -> &cb::Sender<Envelope<T>> {
        match &self.flavor {
            Flavor::Crossbeam { tx: Some(tx), .. } => tx,
            // Ends are emptied only as they drop, and replay ends go to replay.
            _ => unreachable!("a crossbeam sender without its channel"),
        }
    }
}

#[cfg(not(reprise_loom))]
impl<T> super::Receiver<T> {
    /// The crossbeam receiver, for the backends a crossbeam end is routed to.
    pub(super) fn cb(&self) -> &cb::Receiver<Envelope<T>> {
        match &self.flavor {
            Flavor::Crossbeam { rx: Some(rx), .. } => rx,
            // A select registers a timer's own crossbeam receiver (`set/end.rs`).
            _ => unreachable!("a crossbeam receiver without its channel"),
        }
    }
}
