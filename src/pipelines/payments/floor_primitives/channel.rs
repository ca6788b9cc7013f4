//! The floor's channel: crossbeam's, each message stamped with its sender's
//! number and send count, each call's outcome one logged word.

use crossbeam_channel as cb;

pub(crate) use cb::{RecvError, SendError, TryRecvError};

use super::log::{self, Op};

/// A stamped message: (sender's number << 32 | its send count, value).
type Stamped<T> = (u64, T);

/// The sending end.
pub(crate) struct Sender<T>(cb::Sender<Stamped<T>>);

/// The receiving end.
pub(crate) struct Receiver<T>(cb::Receiver<Stamped<T>>);

/// A channel of `capacity`, as crossbeam's `bounded`.
pub(crate) fn bounded<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let (sender, receiver) = cb::bounded(capacity);
    (Sender(sender), Receiver(receiver))
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender(self.0.clone())
    }
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for room; logs the send's count.
    pub(crate) fn send(&self, value: T) -> Result<(), SendError<T>> {
        let stamp = log::next_send_stamp();
        let result = self.0.send((stamp, value)).map_err(|SendError((_, value))| SendError(value));
        log::append(Op::Send, stamp);
        result
    }
}

impl<T> Receiver<T> {
    /// Receives a message, waiting for one; logs its stamp.
    pub(crate) fn recv(&self) -> Result<T, RecvError> {
        logged(self.0.recv(), |_| 0)
    }

    /// Receives a message if one is there; logs its stamp or that there
    /// was none.
    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        logged(self.0.try_recv(), |error| u64::from(error.is_disconnected()))
    }
}

/// Logs a receive's outcome: the stamp of the message taken, or what
/// `none` makes of the error.
#[inline(always)]
fn logged<T, E>(result: Result<Stamped<T>, E>, none: impl FnOnce(&E) -> u64) -> Result<T, E> {
    match result {
        Ok((stamp, value)) => {
            log::append(Op::Receive, stamp);
            Ok(value)
        }
        Err(error) => {
            log::append(Op::ReceiveNone, none(&error));
            Err(error)
        }
    }
}
