//! A select's arm over a channel of any message type: what the select needs
//! of an end without knowing its `T`.

#[cfg(reprise_loom)]
use std::sync::Arc;

#[cfg(not(reprise_loom))]
use crossbeam_channel as cb;

#[cfg(not(reprise_loom))]
use crate::channel::flavor::Shared;
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
    /// Adds this end's operation (receive or send) to crossbeam's `select`;
    /// its index there. Only for crossbeam ends.
    fn register<'a>(&'a self, select: &mut cb::Select<'a>) -> usize;
}

/// Under loom: a channel end a select arm waits on, its type erased.
#[cfg(reprise_loom)]
pub(super) trait End {
    /// Whether the arm can go on now; if not, `signal` fires when that may
    /// change (see `Chan::watch`).
    fn watch(&self, signal: &Arc<Signal>) -> bool;
    /// Stops `signal` from firing for this end's channel.
    fn unwatch(&self, signal: &Arc<Signal>);
}

#[cfg(reprise_loom)]
impl<T> End for Receiver<T> {
    fn watch(&self, signal: &Arc<Signal>) -> bool {
        chan(&self.flavor).watch(false, signal)
    }

    fn unwatch(&self, signal: &Arc<Signal>) {
        chan(&self.flavor).unwatch(signal);
    }
}

#[cfg(reprise_loom)]
impl<T> End for Sender<T> {
    fn watch(&self, signal: &Arc<Signal>) -> bool {
        chan(&self.flavor).watch(true, signal)
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

    fn replayed(&self) -> bool {
        self.flavor.queue().is_some()
    }

    fn register<'a>(&'a self, select: &mut cb::Select<'a>) -> usize {
        select.recv(self.cb())
    }
}

#[cfg(not(reprise_loom))]
impl<T> End for Sender<T> {
    fn shared(&self) -> &Shared {
        &self.shared
    }

    fn replayed(&self) -> bool {
        self.flavor.queue().is_some()
    }

    fn register<'a>(&'a self, select: &mut cb::Select<'a>) -> usize {
        select.send(self.cb())
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
        // An explored rendezvous's send pairs only with a waiting receiver.
        if self.send && crate::channel::explore::no_taker(self.end.shared()) {
            return false;
        }
        let mut one = cb::Select::new();
        self.end.register(&mut one);
        one.try_ready().is_ok()
    }
}
