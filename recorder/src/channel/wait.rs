//! What a receive asks for, and why it can come back without a message.

use std::time::Duration;
#[cfg(not(reprise_loom))]
use std::time::Instant;

#[cfg(not(reprise_loom))]
use crate::trace::model::{Op, Outcome, Received};

/// How long a receive may wait.
#[derive(Clone, Copy, Debug)]
pub(super) enum Wait {
    /// Not at all (`try_recv`).
    No,
    /// Until a message comes or every sender is gone (`recv`).
    Forever,
    /// At most this long (`recv_timeout`); the explorer counts it in
    /// virtual time, loom times out at once (so reads no duration).
    Timeout(#[cfg_attr(reprise_loom, allow(dead_code))] Duration),
}

/// Why a receive gave no message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum NoMessage {
    /// The channel was empty and the receive could not wait.
    Empty,
    /// The timeout passed.
    TimedOut,
    /// Every sender was gone and the channel empty (or the replay stopped).
    Disconnected,
}

#[cfg(not(reprise_loom))]
impl Wait {
    /// The operation of a receive that waits like this.
    pub(super) fn op(self) -> Op {
        match self {
            Wait::No => Op::TryRecv,
            Wait::Forever => Op::Recv,
            Wait::Timeout(_) => Op::RecvTimeout,
        }
    }

    /// When a wait that starts now ends by itself: `None` for one that waits
    /// forever, also when its timeout is too far to name.
    pub(super) fn deadline(self) -> Option<Instant> {
        match self {
            Wait::Timeout(timeout) => Instant::now().checked_add(timeout),
            Wait::No | Wait::Forever => None,
        }
    }

    /// The outcome of a receive that waits like this and got `received`.
    pub(super) fn outcome(self, received: Received) -> Outcome {
        match self {
            Wait::No => Outcome::TryRecv(received),
            Wait::Forever => Outcome::Recv(received),
            Wait::Timeout(_) => Outcome::RecvTimeout(received),
        }
    }
}

#[cfg(not(reprise_loom))]
impl NoMessage {
    /// What a recording says of it.
    pub(super) fn received(self) -> Received {
        match self {
            NoMessage::Empty => Received::Empty,
            NoMessage::TimedOut => Received::TimedOut,
            NoMessage::Disconnected => Received::Disconnected,
        }
    }

    /// Why a recorded receive gave no message; `None` when it gave one.
    pub(super) fn of(received: Received) -> Option<NoMessage> {
        match received {
            Received::Message { .. } => None,
            Received::Empty => Some(NoMessage::Empty),
            Received::TimedOut => Some(NoMessage::TimedOut),
            Received::Disconnected => Some(NoMessage::Disconnected),
        }
    }
}

/// What a receive that returned `result` records, on the recording thread
/// `ctx`: as [`received`], and a message that a thread outside the
/// execution sent (numbered 0: off mode numbers nothing) is reported once
/// per execution, since no replay can give it back.
#[cfg(not(reprise_loom))]
#[inline]
pub(super) fn recorded<T>(
    ctx: &crate::rt::context::ThreadCtx,
    result: &Result<super::flavor::Envelope<T>, NoMessage>,
    location: &'static std::panic::Location<'static>,
) -> Received {
    if let Ok(e) = result {
        if e.seq == 0 {
            ctx.exec.note_outside_message(location);
        }
        if e.sender_blocked {
            ctx.took_from_blocked(e.sender, e.seq);
        }
    }
    received(result)
}

/// What a receive that returned `result` records.
#[cfg(not(reprise_loom))]
pub(super) fn received<T>(result: &Result<super::flavor::Envelope<T>, NoMessage>) -> Received {
    match result {
        Ok(e) => Received::Message { sender: e.sender, seq: e.seq },
        Err(reason) => reason.received(),
    }
}
