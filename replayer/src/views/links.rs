//! The arrows every view draws: from a send to the receive that took its
//! message, and from an unlock to the next lock of the same object (a
//! mutex's next turn, an RwLock's next write or read).

use std::collections::HashMap;

use reprise_recorder::trace::model::{ObjectIndex, Outcome, Received, Sent, ThreadIndex};

use super::number::Numbering;

/// What an arrow stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// A message, from its send to its receive.
    Message,
    /// A lock handed over, from an unlock to the next acquisition.
    Lock,
}

/// An arrow between two numbered events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    /// What it stands for.
    pub kind: LinkKind,
    /// The earlier event's number.
    pub from: u64,
    /// The later event's number.
    pub to: u64,
    /// The object it passed through (the channel, the lock).
    pub object: ObjectIndex,
}

/// Every arrow of the numbered trace, in the order of their `to` events.
pub fn links(numbering: &Numbering<'_>) -> Vec<Link> {
    let mut links = Vec::new();
    let mut sent: HashMap<(ThreadIndex, u64), (u64, ObjectIndex)> = HashMap::new();
    let mut released: HashMap<ObjectIndex, u64> = HashMap::new();
    for n in numbering.iter() {
        let e = n.event;
        let Ok(outcome) = e.outcome() else { continue };
        match outcome {
            Outcome::Send(Sent::Delivered { seq })
            | Outcome::SelectSend { sent: Sent::Delivered { seq }, .. } => {
                sent.insert((n.thread, seq), (n.number, e.object));
            }
            Outcome::Recv(Received::Message { sender, seq })
            | Outcome::TryRecv(Received::Message { sender, seq })
            | Outcome::RecvTimeout(Received::Message { sender, seq })
            | Outcome::Select { received: Received::Message { sender, seq }, .. } => {
                if let Some((from, object)) = sent.remove(&(sender, seq)) {
                    links.push(Link { kind: LinkKind::Message, from, to: n.number, object });
                }
            }
            Outcome::Unlock | Outcome::WriteUnlock => {
                released.insert(e.object, n.number);
            }
            Outcome::Lock { .. }
            | Outcome::TryLock { acquisition: Some(_) }
            | Outcome::WriteLock { .. }
            | Outcome::TryWriteLock { taken: Some(_) }
            | Outcome::ReadLock { .. }
            | Outcome::TryReadLock { writes_before: Some(_) }
            | Outcome::CondWait { .. } => {
                let object = match outcome {
                    Outcome::CondWait { mutex, .. } => mutex,
                    _ => e.object,
                };
                // A read lock does not take the lock away from other readers:
                // the writer's unlock stays the one they follow.
                let is_read = matches!(outcome, Outcome::ReadLock { .. } | Outcome::TryReadLock { .. });
                let from = if is_read { released.get(&object).copied() } else { released.remove(&object) };
                if let Some(from) = from {
                    links.push(Link { kind: LinkKind::Lock, from, to: n.number, object });
                }
            }
            _ => {}
        }
    }
    links
}
