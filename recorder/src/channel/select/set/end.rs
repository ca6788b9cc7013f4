//! A select's arm over a channel of any message type: what the select needs
//! of an end without knowing its `T`.

#[cfg(reprise_loom)]
use std::sync::Arc;

#[cfg(not(reprise_loom))]
use crossbeam_channel as cb;

#[cfg(not(reprise_loom))]
use crate::channel::flavor::{Flavor, Shared};
#[cfg(reprise_loom)]
use crate::channel::loom::{chan, Signal};
use crate::channel::{Receiver, Sender};

/// A channel end a select arm waits on, its message type erased.
#[cfg(not(reprise_loom))]
pub(super) trait End {
    /// The channel's identity.
    fn shared(&self) -> &Shared;
    /// Whether the channel was made in a replay (its messages are taken by id).
    fn replayed(&self) -> bool;
    /// Whether the channel was made outside any execution.
    fn outside(&self) -> bool;
    /// Adds this end's operation (receive or send) to crossbeam's `select`;
    /// its index there. Only for crossbeam ends; `None` for a timer on the
    /// explorer's virtual clock, which crossbeam cannot wait for.
    fn register<'a>(&'a self, select: &mut cb::Select<'a>) -> Option<usize>;
    /// Whether it is a timer channel (`after`, `at`, `tick`, `never`): its
    /// messages have no sender, and a select records the arm, then the
    /// timer's own receive.
    fn is_timer(&self) -> bool;
    /// A timer on the explorer's virtual clock: when its next message is
    /// due (`None`: never again, or not such a timer).
    fn timer_due(&self) -> Option<u64>;
}

/// Under loom: a channel end a select arm waits on, its type erased.
#[cfg(reprise_loom)]
pub(super) trait End {
    /// Whether the arm can go on now; if not, `signal` fires when that may
    /// change (see `Chan::watch`).
    fn watch(&self, signal: &Arc<Signal>, blocking: bool) -> bool;
    /// As `watch`, and if the arm can go on, claims it (see `Chan::claim`):
    /// its ticket.
    fn claim(&self, signal: &Arc<Signal>, blocking: bool) -> Option<u64>;
    /// Stops `signal` from firing for this end's channel.
    fn unwatch(&self, signal: &Arc<Signal>);
}

#[cfg(reprise_loom)]
impl<T> End for Receiver<T> {
    fn watch(&self, signal: &Arc<Signal>, blocking: bool) -> bool {
        chan(&self.flavor).watch(false, signal, blocking)
    }

    fn claim(&self, signal: &Arc<Signal>, blocking: bool) -> Option<u64> {
        chan(&self.flavor).claim(false, signal, blocking)
    }

    fn unwatch(&self, signal: &Arc<Signal>) {
        chan(&self.flavor).unwatch(signal);
    }
}

#[cfg(reprise_loom)]
impl<T> End for Sender<T> {
    fn watch(&self, signal: &Arc<Signal>, blocking: bool) -> bool {
        chan(&self.flavor).watch(true, signal, blocking)
    }

    fn claim(&self, signal: &Arc<Signal>, blocking: bool) -> Option<u64> {
        chan(&self.flavor).claim(true, signal, blocking)
    }

    fn unwatch(&self, signal: &Arc<Signal>) {
        chan(&self.flavor).unwatch(signal);
    }
}

#[cfg(not(reprise_loom))]
impl<T> End for Receiver<T> {
    fn shared(&self) -> &Shared {
        &self.shared
    }

    fn outside(&self) -> bool {
        self.flavor.outside()
    }

    fn replayed(&self) -> bool {
        match &self.flavor {
            Flavor::Timer(timer) => timer.replayed(),
            flavor => flavor.queue().is_some(),
        }
    }

    fn register<'a>(&'a self, select: &mut cb::Select<'a>) -> Option<usize> {
        match &self.flavor {
            Flavor::Timer(timer) => timer.crossbeam().map(|rx| select.recv(rx)),
            _ => Some(select.recv(self.cb())),
        }
    }

    fn is_timer(&self) -> bool {
        matches!(self.flavor, Flavor::Timer(_))
    }

    fn timer_due(&self) -> Option<u64> {
        match &self.flavor {
            Flavor::Timer(timer) => timer.ready_at(),
            _ => None,
        }
    }
}

#[cfg(not(reprise_loom))]
impl<T> End for Sender<T> {
    fn shared(&self) -> &Shared {
        &self.shared
    }

    fn outside(&self) -> bool {
        self.flavor.outside()
    }

    fn replayed(&self) -> bool {
        self.flavor.queue().is_some()
    }

    fn register<'a>(&'a self, select: &mut cb::Select<'a>) -> Option<usize> {
        Some(select.send(self.cb()))
    }

    fn is_timer(&self) -> bool {
        false
    }

    fn timer_due(&self) -> Option<u64> {
        None
    }
}

/// One arm of a select.
pub(super) struct Arm<'a> {
    /// The index `Select::recv`/`send` gave it.
    pub(super) index: usize,
    pub(super) end: &'a dyn End,
    /// The end's address: a completion must name this very end, as crossbeam
    /// asks.
    pub(super) address: usize,
    #[cfg_attr(reprise_loom, allow(dead_code))]
    pub(super) send: bool,
    /// Its index in the select's crossbeam twin (crossbeam ends only).
    #[cfg(not(reprise_loom))]
    pub(super) crossbeam: Option<usize>,
}

#[cfg(not(reprise_loom))]
impl Arm<'_> {
    /// Whether its operation can go on now: a message or room, or the
    /// channel is disconnected. Crossbeam ends only.
    pub(super) fn ready(&self) -> bool {
        if self.end.is_timer() {
            return self.end.timer_due().is_some_and(|due| due <= crate::rt::coop::now());
        }
        // An explored rendezvous's send pairs only with a waiting receiver.
        if self.send && crate::channel::explore::no_taker(self.end.shared()) {
            return false;
        }
        let mut one = cb::Select::new();
        self.end.register(&mut one).is_some() && one.try_ready().is_ok()
    }
}
