//! [`SelectedOperation`]: the operation a select chose, completed by the
//! caller with the end it names, in the backend that chose it.

use std::fmt;
use std::panic::Location;

#[cfg(not(reprise_loom))]
use crossbeam_channel as cb;

use super::Select;
#[cfg(not(reprise_loom))]
use super::{crossbeam, explore, replay};
use crate::channel::{Receiver, RecvError, SendError, Sender};
#[cfg(not(reprise_loom))]
use crate::rt::gated::GatedCall;
#[cfg(not(reprise_loom))]
use crate::trace::model::Outcome;

/// How the chosen operation completes.
pub(super) enum Chosen<'a> {
    /// Off and record mode: crossbeam's operation, recorded when `record`.
    #[cfg(not(reprise_loom))]
    Crossbeam { op: cb::SelectedOperation<'a>, record: bool },
    /// Replay: the recorded select and its outcome.
    #[cfg(not(reprise_loom))]
    Replay { call: GatedCall, outcome: Outcome },
    /// The explorer: the arm was ready when the scheduler chose it.
    #[cfg(not(reprise_loom))]
    Explore,
    /// A coroutine replay: the arm's outcome in the trace.
    #[cfg(not(reprise_loom))]
    Followed { outcome: Outcome },
    /// Under loom: the arm's operation, claimed when it was chosen (its
    /// message taken, or its room reserved) by this ticket.
    #[cfg(reprise_loom)]
    Loom { ticket: u64, end: std::marker::PhantomData<&'a ()> },
    /// The replay stopped or diverged: the completion fails.
    Stopped,
}

/// An operation a [`Select`] chose, to be completed with the end it was
/// added with. Like [`crossbeam_channel::SelectedOperation`].
///
/// # Panics
///
/// Dropped without being completed (as crossbeam's), or completed with
/// another end than the one selected.
#[must_use]
pub struct SelectedOperation<'a> {
    index: usize,
    address: usize,
    location: &'static Location<'static>,
    /// `None` once completed.
    chosen: Option<Chosen<'a>>,
}

impl<'a> SelectedOperation<'a> {
    /// The chosen operation of `select`'s arm `index`.
    pub(super) fn new(
        select: &Select<'a>,
        index: usize,
        location: &'static Location<'static>,
        chosen: Chosen<'a>,
    ) -> SelectedOperation<'a> {
        let address = select.arm(index).map_or(0, |a| a.address);
        SelectedOperation { index, address, location, chosen: Some(chosen) }
    }

    /// An operation whose completion fails: the replay stopped.
    pub(super) fn stopped(
        select: &Select<'a>,
        location: &'static Location<'static>,
    ) -> SelectedOperation<'a> {
        let index = select.arms.first().map_or(0, |a| a.index);
        SelectedOperation::new(select, index, location, Chosen::Stopped)
    }

    /// The index of the chosen operation (as `Select::recv`/`send` gave it).
    pub fn index(&self) -> usize {
        self.index
    }

    fn take(&mut self, address: usize, what: &str) -> Chosen<'a> {
        assert!(address == self.address, "passed a {what} that wasn't selected");
        self.chosen.take().unwrap_or(Chosen::Stopped)
    }

    /// Completes the chosen receive on `r`. Like
    /// [`crossbeam_channel::SelectedOperation::recv`].
    ///
    /// # Errors
    ///
    /// When the channel is empty and disconnected.
    ///
    /// # Panics
    ///
    /// When `r` is not the receiver that was selected.
    #[cfg_attr(reprise_loom, allow(unused_variables))]
    pub fn recv<T>(mut self, r: &Receiver<T>) -> Result<T, RecvError> {
        let (arm, location) = (self.index, self.location);
        match self.take(r as *const Receiver<T> as usize, "receiver") {
            #[cfg(reprise_loom)]
            Chosen::Loom { ticket, .. } => crate::channel::loom::take_claimed(r, ticket),
            #[cfg(not(reprise_loom))]
            Chosen::Crossbeam { op, record } => crossbeam::recv(op, record, arm, r, location),
            #[cfg(not(reprise_loom))]
            Chosen::Replay { call, outcome } => replay::recv(&call, outcome, r, location),
            #[cfg(not(reprise_loom))]
            Chosen::Explore => explore::recv(arm, r, location),
            #[cfg(not(reprise_loom))]
            Chosen::Followed { outcome } => explore::recv_followed(arm, outcome, r, location),
            Chosen::Stopped => Err(RecvError),
        }
    }

    /// Completes the chosen send of `msg` on `s`. Like
    /// [`crossbeam_channel::SelectedOperation::send`].
    ///
    /// # Errors
    ///
    /// Gives `msg` back when every receiver is gone.
    ///
    /// # Panics
    ///
    /// When `s` is not the sender that was selected.
    #[cfg_attr(reprise_loom, allow(unused_variables))]
    pub fn send<T>(mut self, s: &Sender<T>, msg: T) -> Result<(), SendError<T>> {
        let (arm, location) = (self.index, self.location);
        match self.take(s as *const Sender<T> as usize, "sender") {
            #[cfg(reprise_loom)]
            Chosen::Loom { ticket, .. } => crate::channel::loom::send_claimed(s, msg, ticket),
            #[cfg(not(reprise_loom))]
            Chosen::Crossbeam { op, record } => crossbeam::send(op, record, arm, s, msg, location),
            #[cfg(not(reprise_loom))]
            Chosen::Replay { call, outcome } => replay::send(&call, outcome, s, msg),
            #[cfg(not(reprise_loom))]
            Chosen::Explore => explore::send(arm, s, msg, location),
            #[cfg(not(reprise_loom))]
            Chosen::Followed { outcome } => explore::send_followed(arm, outcome, s, msg, location),
            Chosen::Stopped => Err(SendError(msg)),
        }
    }
}

impl Drop for SelectedOperation<'_> {
    fn drop(&mut self) {
        let Some(_chosen) = self.chosen.take() else { return };
        // crossbeam's own operation would panic as it drops: one panic, ours.
        #[cfg(not(reprise_loom))]
        if let Chosen::Crossbeam { op, .. } = _chosen {
            std::mem::forget(op);
        }
        if !crate::thread::panicking() {
            panic!("dropped `SelectedOperation` without completing the operation");
        }
    }
}

impl fmt::Debug for SelectedOperation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("SelectedOperation { .. }")
    }
}
