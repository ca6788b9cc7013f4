//! `std::sync::mpsc`: std's channel API over reprise's own channels
//! ([`crate::channel`]), so every send and receive is recorded, replayed and
//! explored as a channel's is. The error types are std's own, returned where
//! std returns them.
//!
//! As in std, a [`Receiver`] is not `Clone` (nor `Sync`); [`Sender`] and
//! [`SyncSender`] are both. `sync_channel(0)` is a rendezvous, as the
//! channel's `bounded(0)` is.

mod iter;

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

pub use std::sync::mpsc::{RecvError, RecvTimeoutError, SendError, TryRecvError, TrySendError};

use crate::channel;

pub use iter::{IntoIter, Iter, TryIter};

/// The sending half of an unbounded [`channel()`]. Like
/// [`std::sync::mpsc::Sender`].
pub struct Sender<T> {
    inner: channel::Sender<T>,
}

/// The sending half of a [`sync_channel`]. Like
/// [`std::sync::mpsc::SyncSender`].
pub struct SyncSender<T> {
    inner: channel::Sender<T>,
}

/// The receiving half. Like [`std::sync::mpsc::Receiver`]: one owner, not
/// `Clone`, not `Sync`.
pub struct Receiver<T> {
    inner: channel::Receiver<T>,
    /// std's receiver is `Send` but not `Sync`; so is this one.
    _not_sync: PhantomData<Cell<()>>,
}

/// An unbounded channel. Like [`std::sync::mpsc::channel`].
#[track_caller]
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = channel::unbounded();
    (Sender { inner: tx }, Receiver::new(rx))
}

/// A channel holding at most `bound` messages (`0`: a rendezvous). Like
/// [`std::sync::mpsc::sync_channel`].
#[track_caller]
pub fn sync_channel<T>(bound: usize) -> (SyncSender<T>, Receiver<T>) {
    let (tx, rx) = channel::bounded(bound);
    (SyncSender { inner: tx }, Receiver::new(rx))
}

impl<T> Sender<T> {
    /// Sends without blocking. Like [`std::sync::mpsc::Sender::send`].
    ///
    /// # Errors
    ///
    /// Gives the value back when the receiver is gone.
    #[track_caller]
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.inner.send(value).map_err(|e| SendError(e.into_inner()))
    }
}

impl<T> SyncSender<T> {
    /// Sends, blocking while the channel is full (on a rendezvous, until the
    /// receiver took the message). Like [`std::sync::mpsc::SyncSender::send`].
    ///
    /// # Errors
    ///
    /// Gives the value back when the receiver is gone.
    #[track_caller]
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.inner.send(value).map_err(|e| SendError(e.into_inner()))
    }

    /// Sends if there is room. Like [`std::sync::mpsc::SyncSender::try_send`].
    ///
    /// # Errors
    ///
    /// `Full` or `Disconnected`, each with the value.
    #[track_caller]
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.inner.try_send(value).map_err(|e| match e {
            channel::TrySendError::Full(v) => TrySendError::Full(v),
            channel::TrySendError::Disconnected(v) => TrySendError::Disconnected(v),
        })
    }
}

impl<T> Receiver<T> {
    fn new(inner: channel::Receiver<T>) -> Receiver<T> {
        Receiver { inner, _not_sync: PhantomData }
    }

    /// Receives, blocking until a message or disconnection. Like
    /// [`std::sync::mpsc::Receiver::recv`].
    ///
    /// # Errors
    ///
    /// When the channel is empty and every sender is gone.
    #[track_caller]
    pub fn recv(&self) -> Result<T, RecvError> {
        self.inner.recv().map_err(|channel::RecvError| RecvError)
    }

    /// Receives if a message is ready. Like
    /// [`std::sync::mpsc::Receiver::try_recv`].
    ///
    /// # Errors
    ///
    /// `Empty`, or `Disconnected` when empty and every sender is gone.
    #[track_caller]
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.inner.try_recv().map_err(|e| match e {
            channel::TryRecvError::Empty => TryRecvError::Empty,
            channel::TryRecvError::Disconnected => TryRecvError::Disconnected,
        })
    }

    /// Receives, waiting at most `timeout`. Like
    /// [`std::sync::mpsc::Receiver::recv_timeout`]; in replay, a recorded
    /// timeout returns at once.
    ///
    /// # Errors
    ///
    /// `Timeout`, or `Disconnected` when empty and every sender is gone.
    #[track_caller]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.inner.recv_timeout(timeout).map_err(|e| match e {
            channel::RecvTimeoutError::Timeout => RecvTimeoutError::Timeout,
            channel::RecvTimeoutError::Disconnected => RecvTimeoutError::Disconnected,
        })
    }

    /// Blocking receives until disconnection. Like
    /// [`std::sync::mpsc::Receiver::iter`].
    pub fn iter(&self) -> Iter<'_, T> {
        Iter::new(self)
    }

    /// The messages ready now. Like [`std::sync::mpsc::Receiver::try_iter`].
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter::new(self)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender { inner: self.inner.clone() }
    }
}

impl<T> Clone for SyncSender<T> {
    fn clone(&self) -> Self {
        SyncSender { inner: self.inner.clone() }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for SyncSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncSender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}
