//! Conflicting pairs: two events of different threads on one object whose
//! order matters (two lock turns, two takes from one channel, an atomic's
//! load and store, a `Tracked` cell's read and write, two sends to one
//! channel), each the latest such event
//! before the other.

use std::collections::HashMap;

use reprise_recorder::trace::model::{Event, ObjectIndex, Op, Outcome, Received};

use crate::views::number::Numbering;

use reprise_recorder::hook::coop::Served;

use super::flip::{Arms, At, Captures, Due};

/// One recorded event, by global number and by position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
    /// Its global number (from 1; the numbering every view uses).
    pub number: u64,
    /// Its thread and index among its thread's events.
    pub at: (u32, u64),
    /// The event.
    pub event: Event,
}

/// How an event touches its object, for deciding conflicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// Reads only: conflicts with writes.
    Read,
    /// Changes the object: conflicts with reads and writes.
    Write,
    /// Puts a message in a channel: its place in the queue is its order
    /// among the other sends.
    Enqueue,
    /// Takes a message: which one is its order among the other takes.
    Dequeue,
    /// Found the channel without a message (empty, timed out): a send
    /// before it would have given it one.
    Look,
    /// A select: conflicts with everything on the channel.
    Select,
}

impl Access {
    fn conflicts(self, other: Access) -> bool {
        use Access::*;
        match (self, other) {
            (Select, _) | (_, Select) => true,
            (Read | Write, Read | Write) => self == Write || other == Write,
            (Enqueue, Enqueue) | (Dequeue, Dequeue) => true,
            (Enqueue, Look) | (Look, Enqueue) => true,
            _ => false,
        }
    }
}

/// How `e` accesses its object, if it is one of the accesses `why` flips.
/// A message taken is not paired with its own send: that is cause and
/// effect, not a race; the race is between the sends (or the takes).
fn access(e: &Event) -> Option<Access> {
    match e.op {
        Op::Lock | Op::WriteLock => Some(Access::Write),
        Op::TryLock | Op::TryWriteLock if e.a > 0 => Some(Access::Write),
        Op::ReadLock => Some(Access::Read),
        Op::TryReadLock if e.a > 0 => Some(Access::Read),
        Op::Send => Some(Access::Enqueue),
        Op::Recv | Op::TryRecv | Op::RecvTimeout => match e.outcome() {
            Ok(Outcome::Recv(r) | Outcome::TryRecv(r) | Outcome::RecvTimeout(r)) => match r {
                Received::Message { .. } => Some(Access::Dequeue),
                _ => Some(Access::Look),
            },
            _ => None,
        },
        Op::Select => Some(Access::Select),
        Op::AtomicLoad | Op::TrackedRead => Some(Access::Read),
        Op::AtomicStore | Op::AtomicRmw | Op::AtomicCas | Op::TrackedWrite => Some(Access::Write),
        _ => None,
    }
}

/// Every conflicting pair `(earlier, later)` of the numbered trace, each
/// later event paired with the latest conflicting event of another thread
/// before it, in ascending order of the later event.
pub(crate) fn conflicting(numbering: &Numbering<'_>) -> Vec<(Placed, Placed)> {
    // Per object, its accesses so far: the latest per (thread, kind).
    let mut last: HashMap<ObjectIndex, Vec<(Placed, Access)>> = HashMap::new();
    let mut pairs = Vec::new();
    for n in numbering.iter() {
        let Some(kind) = access(n.event) else { continue };
        if n.forced {
            continue;
        }
        let placed = Placed { number: n.number, at: (n.thread, n.index), event: *n.event };
        let seen = last.entry(n.event.object).or_default();
        let partner = seen.iter().rev().find(|(p, k)| p.at.0 != n.thread && kind.conflicts(*k));
        if let Some((p, _)) = partner {
            pairs.push((*p, placed));
        }
        // Keep one entry per (thread, kind): the latest.
        seen.retain(|(p, k)| !(p.at.0 == n.thread && *k == kind));
        seen.push((placed, kind));
    }
    pairs
}

/// What the recording can serve a run, by (thread, event index), with the
/// event's place in the recorded order: captured values, and receives that
/// came back without a message (empty, timed out), which the explorer
/// would otherwise decide by its own clock.
pub(crate) fn captures(numbering: &Numbering<'_>) -> Captures {
    numbering
        .iter()
        .filter(|n| match n.event.outcome() {
            Ok(Outcome::Recv(r) | Outcome::TryRecv(r) | Outcome::RecvTimeout(r)) => {
                !matches!(r, Received::Message { .. })
            }
            // Clock readings and random numbers too: a failure can
            // depend on the time a thread read (how long it took, which a
            // timeout served from the trace does not advance) or on a
            // random draw, and the explorer's own would differ.
            _ => matches!(
                n.event.op,
                Op::Capture | Op::CaptureSensitive | Op::Now | Op::SystemNow | Op::Random
            ),
        })
        .filter_map(|n| {
            let outcome = n.event.outcome().ok()?;
            let blob = numbering.blob(n.thread, n.index).map(|b| b.into_owned());
            Some(((n.thread, n.index), ((n.number - 1) as usize, Served { outcome, blob })))
        })
        .collect()
}

/// The arm each recorded select took, by (thread, event index), with the
/// event's place in the recorded order (a select that took none, empty or
/// timed out, is left out).
pub(crate) fn arms(numbering: &Numbering<'_>) -> Arms {
    numbering
        .iter()
        .filter_map(|n| {
            let arm = match n.event.outcome().ok()? {
                Outcome::Select { arm, received: Received::Message { .. } | Received::Disconnected } => arm,
                Outcome::SelectSend { arm, .. }
                | Outcome::SelectReady { arm }
                | Outcome::SelectTimer { arm } => arm,
                _ => return None,
            };
            Some(((n.thread, n.index), ((n.number - 1) as usize, arm)))
        })
        .collect()
}

/// The virtual time of each recorded event that needs the clock there:
/// a timer's receive that got its instant (`TimerRecv` with `fired`), and
/// a select that took a timer arm (its timer's receive follows it in its
/// thread), with the event's place in the recorded order.
pub(crate) fn due(numbering: &Numbering<'_>) -> Due {
    numbering
        .iter()
        .filter_map(|n| {
            let fired = |e: &Event| match e.outcome().ok()? {
                Outcome::TimerRecv { fired, .. } => fired,
                _ => None,
            };
            let at = match n.event.outcome().ok()? {
                Outcome::TimerRecv { fired: Some(at), .. } => at,
                Outcome::SelectTimer { .. } => fired(numbering.at(n.thread, n.index + 1)?.event)?,
                _ => return None,
            };
            Some(((n.thread, n.index), ((n.number - 1) as usize, at)))
        })
        .collect()
}

/// The recorded order: every numbered event's position, by number.
pub(crate) fn order(numbering: &Numbering<'_>) -> Vec<At> {
    numbering.iter().map(|n| (n.thread, n.index)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::number::number;
    use reprise_recorder::sync::atomic::{AtomicU64, Ordering};
    use reprise_recorder::sync::Mutex;
    use reprise_recorder::trace::read::read_trace_file;
    use reprise_recorder::{record, thread, RecordConfig};
    use std::sync::Arc;

    /// The conflicting pairs of a recording of `program` (`name` names its
    /// temporary trace).
    fn pairs_of<R: Send + 'static>(name: &str, program: fn() -> R) -> Vec<(Placed, Placed)> {
        let path = std::env::temp_dir().join(format!("{name}-{}.trace", std::process::id()));
        record(&path, RecordConfig::new("pairs", "1"), program).unwrap();
        let trace = read_trace_file(&path).unwrap();
        std::fs::remove_file(&path).ok();
        conflicting(&number(&trace))
    }

    /// Two threads each lock one mutex and load one atomic.
    fn program() {
        let (m, a) = (Arc::new(Mutex::new(0)), Arc::new(AtomicU64::new(0)));
        let (m2, a2) = (Arc::clone(&m), Arc::clone(&a));
        let t = thread::spawn(move || {
            *m2.lock().unwrap() += 1;
            a2.load(Ordering::SeqCst)
        });
        *m.lock().unwrap() += 1;
        a.load(Ordering::SeqCst);
        t.join().unwrap();
    }

    /// Two threads send to one channel, the root takes both messages.
    fn two_senders() {
        let (tx, rx) = reprise_recorder::channel::unbounded::<u8>();
        let tx2 = tx.clone();
        let t = thread::spawn(move || tx2.send(1).unwrap());
        tx.send(2).unwrap();
        rx.recv().unwrap();
        rx.recv().unwrap();
        t.join().unwrap();
    }

    #[test]
    fn two_sends_to_one_channel_conflict_and_a_send_with_the_take_of_its_message_does_not() {
        let pairs = pairs_of("why-pairs-send", two_senders);
        let ops: Vec<(Op, Op)> = pairs.iter().map(|(a, b)| (a.event.op, b.event.op)).collect();
        assert_eq!(ops, [(Op::Send, Op::Send)], "{pairs:?}");
        assert_ne!(pairs[0].0.at.0, pairs[0].1.at.0);
    }

    /// Two threads read and write one `Tracked` cell, no lock.
    fn tracked_increments() {
        let cell = Arc::new(reprise_recorder::Tracked::new(0u64));
        let other = Arc::clone(&cell);
        let t = thread::spawn(move || other.set(other.get() + 1));
        cell.set(cell.get() + 1);
        t.join().unwrap();
    }

    #[test]
    fn a_tracked_cells_read_and_another_threads_write_conflict() {
        let pairs = pairs_of("why-pairs-tracked", tracked_increments);
        assert!(!pairs.is_empty(), "{pairs:?}");
        for (a, b) in &pairs {
            assert!(matches!(a.event.op, Op::TrackedRead | Op::TrackedWrite), "{pairs:?}");
            assert!(a.event.op == Op::TrackedWrite || b.event.op == Op::TrackedWrite, "two reads: {pairs:?}");
            assert_ne!(a.at.0, b.at.0);
        }
    }

    /// A select whose only other arm never gets a message takes its timer.
    fn select_a_timer() {
        use reprise_recorder::channel;
        let (_tx, rx) = channel::unbounded::<u8>();
        let timer = channel::after(std::time::Duration::from_millis(1));
        channel::select! {
            recv(rx) -> _ => {}
            recv(timer) -> _ => {}
        }
    }

    #[test]
    fn a_select_that_took_a_timer_arm_is_due_when_its_timer_fired() {
        let path = std::env::temp_dir().join(format!("why-due-{}.trace", std::process::id()));
        record(&path, RecordConfig::new("due", "1"), select_a_timer).unwrap();
        let trace = read_trace_file(&path).unwrap();
        std::fs::remove_file(&path).ok();
        let numbering = number(&trace);
        let fired = numbering.iter().find_map(|n| match n.event.outcome() {
            Ok(Outcome::TimerRecv { fired: Some(at), .. }) => Some(((n.thread, n.index), at)),
            _ => None,
        });
        let ((thread, index), at) = fired.expect("the timer's receive");
        assert!(at >= 1_000_000, "fired at {at}");
        let select = numbering.at(thread, index - 1).unwrap();
        assert_eq!(select.event.op, Op::Select);
        let due = due(&numbering);
        let place = |n: u64| (n - 1) as usize;
        assert_eq!(due.get(&(thread, index - 1)), Some(&(place(select.number), at)), "{due:?}");
        assert_eq!(due.get(&(thread, index)).map(|&(_, t)| t), Some(at), "{due:?}");
        assert_eq!(due.len(), 2, "{due:?}");
    }

    #[test]
    fn two_lock_turns_conflict_and_two_loads_do_not() {
        let pairs = pairs_of("why-pairs", program);
        let ops: Vec<(Op, Op)> = pairs.iter().map(|(a, b)| (a.event.op, b.event.op)).collect();
        assert_eq!(ops, [(Op::Lock, Op::Lock)], "{pairs:?}");
        let (a, b) = pairs[0];
        assert!(a.number < b.number && a.at.0 != b.at.0 && a.event.object == b.event.object);
    }
}
