//! [`Select`]: crossbeam's select builder over channels of any message
//! types, with the channel's backends: crossbeam's own `Select` in off and
//! record mode (`crossbeam.rs`), the recorded arm in replay (`replay.rs`),
//! the scheduler's choice among the ready arms under the explorer
//! (`explore.rs`). The `select!` and `select_biased!` macros are built on it.

#[cfg(not(reprise_loom))]
mod crossbeam;
mod end;
#[cfg(not(reprise_loom))]
mod explore;
#[cfg(reprise_loom)]
mod loom;
#[cfg(not(reprise_loom))]
mod replay;
mod selected;

use std::fmt;
use std::panic::Location;
use std::time::Duration;

#[cfg(not(reprise_loom))]
use crossbeam_channel as cb;
pub use crossbeam_channel::{ReadyTimeoutError, SelectTimeoutError, TryReadyError, TrySelectError};

use super::super::wait::Wait;
use super::super::{Receiver, Sender};
#[cfg(not(reprise_loom))]
use crate::rt::mode::{self, Mode};
use crate::time::Instant;
use end::Arm;
pub use selected::SelectedOperation;

/// Waits on several channel operations, receives and sends over channels of
/// any message types, and completes one. Like [`crossbeam_channel::Select`];
/// each select and which operation it completed (with which message) is
/// recorded and replayed, and under the explorer every arm that is ready is
/// a choice it explores.
///
/// The operation a select returns must be completed at once, before the
/// thread calls another reprise primitive: the recording holds the select
/// as one event, written when the operation completes.
pub struct Select<'a> {
    arms: Vec<Arm<'a>>,
    next_index: usize,
    /// Under loom the lowest ready index always wins.
    #[cfg_attr(reprise_loom, allow(dead_code))]
    biased: bool,
    /// The same arms as a crossbeam select, for off and record mode (the
    /// crossbeam ends among them).
    #[cfg(not(reprise_loom))]
    twin: cb::Select<'a>,
}

/// Why a select came back without an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum NoArm {
    /// Nothing was ready and the select could not wait.
    Empty,
    /// The timeout passed (or the replay stopped).
    TimedOut,
}

impl<'a> Select<'a> {
    /// An empty select that picks among ready operations at random (under
    /// the explorer: each is explored). Like [`crossbeam_channel::Select::new`].
    pub fn new() -> Select<'a> {
        Select {
            arms: Vec::new(),
            next_index: 0,
            biased: false,
            #[cfg(not(reprise_loom))]
            twin: cb::Select::new(),
        }
    }

    /// An empty select that picks the first ready operation in the order
    /// they were added. Like [`crossbeam_channel::Select::new_biased`].
    pub fn new_biased() -> Select<'a> {
        Select {
            biased: true,
            #[cfg(not(reprise_loom))]
            twin: cb::Select::new_biased(),
            ..Select::new()
        }
    }

    fn add(&mut self, end: &'a dyn end::End, address: usize, send: bool) -> usize {
        let index = self.next_index;
        self.next_index += 1;
        #[cfg(not(reprise_loom))]
        let crossbeam = if end.replayed() { None } else { end.register(&mut self.twin) };
        self.arms.push(Arm {
            index,
            end,
            address,
            send,
            #[cfg(not(reprise_loom))]
            crossbeam,
        });
        index
    }

    /// Adds a send on `s`; its index. Like [`crossbeam_channel::Select::send`].
    pub fn send<T>(&mut self, s: &'a Sender<T>) -> usize {
        self.add(s, s as *const Sender<T> as usize, true)
    }

    /// Adds a receive on `r`; its index. Like
    /// [`crossbeam_channel::Select::recv`].
    pub fn recv<T>(&mut self, r: &'a Receiver<T>) -> usize {
        self.add(r, r as *const Receiver<T> as usize, false)
    }

    /// Removes the operation with this index. Like
    /// [`crossbeam_channel::Select::remove`].
    ///
    /// # Panics
    ///
    /// When no operation has this index (as crossbeam).
    pub fn remove(&mut self, index: usize) {
        assert!(index < self.next_index, "index out of bounds; {} >= {}", index, self.next_index);
        let at = self.arms.iter().position(|a| a.index == index).expect("no operation with this index");
        let _arm = self.arms.remove(at);
        #[cfg(not(reprise_loom))]
        if let Some(twin) = _arm.crossbeam {
            self.twin.remove(twin);
        }
    }

    /// Completes an operation that is ready now, if any. Like
    /// [`crossbeam_channel::Select::try_select`].
    ///
    /// # Errors
    ///
    /// When no operation is ready.
    #[track_caller]
    pub fn try_select(&mut self) -> Result<SelectedOperation<'a>, TrySelectError> {
        self.choose(Wait::No, Location::caller()).map_err(|_| TrySelectError)
    }

    /// Blocks until an operation is ready and selects it. Like
    /// [`crossbeam_channel::Select::select`].
    #[track_caller]
    pub fn select(&mut self) -> SelectedOperation<'a> {
        let location = Location::caller();
        // Only a stopped replay (the thread is unwinding) or a divergence
        // comes back without an operation; its completion fails.
        self.choose(Wait::Forever, location).unwrap_or_else(|_| SelectedOperation::stopped(self, location))
    }

    /// Like [`select`](Self::select), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// When no operation was ready in time.
    #[track_caller]
    pub fn select_timeout(&mut self, timeout: Duration) -> Result<SelectedOperation<'a>, SelectTimeoutError> {
        self.choose(Wait::Timeout(timeout), Location::caller()).map_err(|_| SelectTimeoutError)
    }

    /// Like [`select`](Self::select), waiting until `deadline` (reprise's
    /// [`Instant`]: read through reprise, so recorded and replayed).
    ///
    /// # Errors
    ///
    /// When no operation was ready in time.
    #[track_caller]
    pub fn select_deadline(
        &mut self,
        deadline: Instant,
    ) -> Result<SelectedOperation<'a>, SelectTimeoutError> {
        let timeout = deadline.saturating_duration_since(Instant::now());
        self.choose(Wait::Timeout(timeout), Location::caller()).map_err(|_| SelectTimeoutError)
    }

    /// The index of an operation that is ready now, without completing it.
    /// Like [`crossbeam_channel::Select::try_ready`]; recorded and replayed.
    ///
    /// # Errors
    ///
    /// When no operation is ready.
    #[track_caller]
    pub fn try_ready(&mut self) -> Result<usize, TryReadyError> {
        self.ready_in(Wait::No, Location::caller()).map_err(|_| TryReadyError)
    }

    /// Blocks until an operation is ready; its index. Like
    /// [`crossbeam_channel::Select::ready`].
    #[track_caller]
    pub fn ready(&mut self) -> usize {
        let first = self.arms.first().map_or(0, |a| a.index);
        self.ready_in(Wait::Forever, Location::caller()).unwrap_or(first)
    }

    /// Like [`ready`](Self::ready), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// When no operation was ready in time.
    #[track_caller]
    pub fn ready_timeout(&mut self, timeout: Duration) -> Result<usize, ReadyTimeoutError> {
        self.ready_in(Wait::Timeout(timeout), Location::caller()).map_err(|_| ReadyTimeoutError)
    }

    /// Like [`ready`](Self::ready), waiting until `deadline`.
    ///
    /// # Errors
    ///
    /// When no operation was ready in time.
    #[track_caller]
    pub fn ready_deadline(&mut self, deadline: Instant) -> Result<usize, ReadyTimeoutError> {
        let timeout = deadline.saturating_duration_since(Instant::now());
        self.ready_in(Wait::Timeout(timeout), Location::caller()).map_err(|_| ReadyTimeoutError)
    }

    #[cfg_attr(reprise_loom, allow(unused_variables))]
    fn choose(
        &mut self,
        wait: Wait,
        location: &'static Location<'static>,
    ) -> Result<SelectedOperation<'a>, NoArm> {
        #[cfg(reprise_loom)]
        return loom::select(self, wait, location);
        #[cfg(not(reprise_loom))]
        match self.mode() {
            Mode::Off => crossbeam::select(self, wait, location, false),
            Mode::Record => crossbeam::select(self, wait, location, true),
            Mode::Gated => replay::select(self, wait, location),
            Mode::Coop => explore::select(self, wait, location),
        }
    }

    #[cfg_attr(reprise_loom, allow(unused_variables))]
    fn ready_in(&mut self, wait: Wait, location: &'static Location<'static>) -> Result<usize, NoArm> {
        #[cfg(reprise_loom)]
        return loom::ready(self, wait);
        #[cfg(not(reprise_loom))]
        match self.mode() {
            Mode::Off => crossbeam::ready(self, wait, location, false),
            Mode::Record => crossbeam::ready(self, wait, location, true),
            Mode::Gated => replay::ready(self, wait, location),
            Mode::Coop => explore::ready(self, wait, location),
        }
    }

    /// The backend: passthrough if every arm is a channel made outside any
    /// execution, the replay's if any arm is a replay's channel (explore's
    /// under a coroutine replay), else the one of its crossbeam ends; with
    /// no arms, the thread's.
    #[cfg(not(reprise_loom))]
    fn mode(&self) -> Mode {
        if !self.arms.is_empty() && self.arms.iter().all(|a| a.end.outside()) {
            // Channels made outside any execution: no recording holds them.
            Mode::Off
        } else if self.arms.iter().any(|a| a.end.replayed()) {
            match mode::mode() {
                Mode::Coop if crate::rt::coop::follows_trace() => Mode::Coop,
                Mode::Gated | Mode::Off => Mode::Gated,
                // Another execution's replayed channel (see the flavor's mode).
                Mode::Record | Mode::Coop => super::super::flavor::foreign_replay_channel(),
            }
        } else if self.arms.is_empty() {
            mode::mode()
        } else {
            super::super::flavor::crossbeam_mode()
        }
    }

    /// The arm with this index.
    fn arm(&self, index: usize) -> Option<&Arm<'a>> {
        self.arms.iter().find(|a| a.index == index)
    }
}

impl Default for Select<'_> {
    fn default() -> Self {
        Select::new()
    }
}

#[cfg(not(reprise_loom))]
impl Clone for Select<'_> {
    fn clone(&self) -> Self {
        let mut twin = if self.biased { cb::Select::new_biased() } else { cb::Select::new() };
        let arms = self
            .arms
            .iter()
            .map(|a| Arm {
                index: a.index,
                end: a.end,
                address: a.address,
                send: a.send,
                crossbeam: a.crossbeam.and_then(|_| a.end.register(&mut twin)),
            })
            .collect();
        Select { arms, next_index: self.next_index, biased: self.biased, twin }
    }
}

impl fmt::Debug for Select<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Select { .. }")
    }
}
