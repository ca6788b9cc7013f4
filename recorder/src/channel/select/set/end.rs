//! A select's arm over a channel of any message type: what the select needs
//! of an end without knowing its `T`.

use crossbeam_channel as cb;

use crate::channel::flavor::Shared;
use crate::channel::{Receiver, Sender};

/// A channel end a select arm waits on, its message type erased.
pub(super) trait End {
    /// The channel's identity.
    fn shared(&self) -> &Shared;
    /// Whether the channel was made in a replay (its messages are taken by id).
    fn replayed(&self) -> bool;
    /// Adds this end's operation (receive or send) to crossbeam's `select`;
    /// its index there. Only for crossbeam ends.
    fn register<'a>(&'a self, select: &mut cb::Select<'a>) -> usize;
}

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
    pub(super) send: bool,
    /// Its index in the select's crossbeam twin (crossbeam ends only).
    pub(super) crossbeam: Option<usize>,
}

impl Arm<'_> {
    /// Whether its operation can go on now: a message or room, or the
    /// channel is disconnected. Crossbeam ends only.
    pub(super) fn ready(&self) -> bool {
        let mut one = cb::Select::new();
        self.end.register(&mut one);
        one.try_ready().is_ok()
    }
}
