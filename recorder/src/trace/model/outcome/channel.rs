//! What a channel call did: a send's result, a receive's message or the
//! reason none came, with their encodings in an event's fields.

use std::fmt;

use super::thread;
use crate::trace::model::ThreadIndex;

/// What a receive got: a message, or why none came.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received {
    /// The message `(sender, seq)`: the sender's `seq`-th send.
    Message {
        /// The sending thread.
        sender: ThreadIndex,
        /// The sender's send count for that message.
        seq: u64,
    },
    /// The channel was empty (a non-blocking receive, a select's default).
    Empty,
    /// The timeout passed.
    TimedOut,
    /// Every sender was gone and the channel empty.
    Disconnected,
}

/// What a send did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    /// The message went in, as the sender's `seq`-th send.
    Delivered {
        /// The sender's send count (the message id is `(sender, seq)`).
        seq: u64,
    },
    /// A bounded channel was full (try_send, send_timeout).
    Full,
    /// Every receiver was gone.
    Disconnected,
    /// A timed send (`send_timeout`, `send_deadline`) found no room in
    /// time.
    TimedOut,
}
impl Received {
    #[inline(always)]
    pub(super) fn fields(self) -> [u64; 2] {
        match self {
            Received::Message { sender, seq } => [u64::from(sender) + 1, seq],
            Received::Empty => [0, 1],
            Received::TimedOut => [0, 2],
            Received::Disconnected => [0, 3],
        }
    }

    pub(super) fn decode(a: u64, b: u64) -> Option<Received> {
        match (a, b) {
            (0, 1) => Some(Received::Empty),
            (0, 2) => Some(Received::TimedOut),
            (0, 3) => Some(Received::Disconnected),
            (0, _) => None,
            (a, seq) => Some(Received::Message { sender: thread(a - 1)?, seq }),
        }
    }
}

impl Sent {
    #[inline(always)]
    pub(super) fn fields(self) -> [u64; 2] {
        match self {
            Sent::Delivered { seq } => [seq, 0],
            Sent::Full => [0, 1],
            Sent::Disconnected => [0, 2],
            Sent::TimedOut => [0, 3],
        }
    }

    pub(super) fn decode(a: u64, b: u64) -> Option<Sent> {
        match b {
            0 => Some(Sent::Delivered { seq: a }),
            1 => Some(Sent::Full),
            2 => Some(Sent::Disconnected),
            3 => Some(Sent::TimedOut),
            _ => None,
        }
    }
}

/// Why a replay cannot go past a receive whose recording got a message
/// from a thread outside the recording (numbered 0: a thread outside an
/// execution numbers nothing): the start of the divergence's detail.
pub const OUTSIDE_MESSAGE: &str = "the recording got here a message sent by a thread outside the \
     recording (not spawned by reprise::thread: std::thread::spawn? or from a thread-local's \
     destructor, after its thread's body returned), which no replay can give back";

impl Received {
    /// Whether it is a message that a thread outside the recording sent.
    pub fn from_outside(&self) -> bool {
        matches!(self, Received::Message { seq: 0, .. })
    }
}

impl fmt::Display for Received {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Received::Message { sender, seq } => write!(f, "message {seq} of thread {sender}"),
            Received::Empty => f.write_str("empty"),
            Received::TimedOut => f.write_str("timed out"),
            Received::Disconnected => f.write_str("disconnected"),
        }
    }
}
