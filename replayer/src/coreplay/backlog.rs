//! How many messages each channel holds in a coroutine replay, so that a
//! producer does not run ahead of its consumers by the whole trace.
//!
//! A replayed send never waits for room (the recording's capacity is not in
//! the trace, and waiting for it could deadlock: a replay may run a sender
//! ahead of where it sent in the recording), so round-robin slices let a
//! thread that sends more messages per slice than its consumers take pile
//! them up in the channel's replay queue: at 200,000 payments the
//! validator's queues held about 100,000 payments. A thread whose next
//! event would put a message into a channel already holding
//! [`BACKLOG_CAP`] is *deferred*: picked only when no other thread can
//! run. Deferring never blocks the replay (it prefers, it does not wait), so
//! it cannot deadlock or stall, and a schedule stays a function of the
//! trace.

use reprise_recorder::trace::model::{ObjectIndex, Outcome, Received, Sent, ThreadIndex};

use super::state::State;

/// Messages a channel holds before a send to it is deferred.
pub(crate) const BACKLOG_CAP: u32 = 1024;

impl State {
    /// Counts the message a matched event of the recording's `object` put
    /// into or took from its channel.
    #[inline]
    pub(super) fn note_backlog(&mut self, object: ObjectIndex, outcome: &Outcome) {
        match outcome {
            Outcome::Send(Sent::Delivered { .. })
            | Outcome::SelectSend { sent: Sent::Delivered { .. }, .. } => {
                *self.backlog.at(object) += 1;
            }
            _ => {
                if let Some(Received::Message { .. }) = outcome.received() {
                    let queued = self.backlog.at(object);
                    *queued = queued.saturating_sub(1);
                }
            }
        }
    }

    /// Whether `thread`'s next recorded event puts a message into a channel
    /// holding [`BACKLOG_CAP`] or more.
    #[inline]
    pub(super) fn crowds(&self, thread: ThreadIndex) -> bool {
        match self.recorded(thread) {
            Some((
                event,
                Some(
                    Outcome::Send(Sent::Delivered { .. })
                    | Outcome::SelectSend { sent: Sent::Delivered { .. }, .. },
                ),
            )) => self.backlog.get(event.object) >= BACKLOG_CAP,
            _ => false,
        }
    }
}

impl State {
    /// `next`, the pick, unless it is deferred and another thread can run:
    /// then the first such from `from` on, in index order, wrapping around.
    pub(super) fn uncrowded(&self, next: ThreadIndex, from: ThreadIndex) -> ThreadIndex {
        if !self.crowds(next) {
            return next;
        }
        let after = self.slots().map(|(t, _)| t).skip_while(|&t| t < from);
        let before = self.slots().map(|(t, _)| t).take_while(|&t| t < from);
        after.chain(before).find(|&t| t != next && self.can_run(t) && !self.crowds(t)).unwrap_or(next)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use reprise_recorder::{channel, sync::Mutex, thread};

    use super::BACKLOG_CAP;
    use crate::coreplay::tests::record_then_follow;

    const MESSAGES: usize = 20_000;

    /// A producer that sends one event per message into a bounded channel
    /// and a consumer that makes nine per message: round-robin slices let
    /// the producer run ahead. Returns the most messages the consumer saw
    /// queued, counting the one just taken (in a recording at most the
    /// capacity, 16, and that one).
    fn slow_consumer() -> usize {
        let (tx, rx) = channel::bounded::<usize>(16);
        let producer = thread::spawn(move || (0..MESSAGES).for_each(|i| tx.send(i).unwrap()));
        let total = Arc::new(Mutex::new(0usize));
        let mut most = 0;
        while let Ok(i) = rx.recv() {
            most = most.max(rx.len() + 1);
            for _ in 0..4 {
                *total.lock().unwrap() += i;
            }
        }
        producer.join().unwrap();
        most
    }

    #[test]
    fn a_producer_ahead_of_its_consumer_is_deferred_at_the_backlog_cap() {
        let (recorded, report) = record_then_follow("backlog", slow_consumer);
        assert!(recorded.unwrap() <= 17, "a recording holds at most the capacity, and the one just taken");
        let most = report.result.unwrap();
        assert!(most <= BACKLOG_CAP as usize + 1, "the channel held {most} messages in the replay");
    }

    /// A producer whose whole output waits in an unbounded channel until
    /// the root, which first joins it, takes it.
    fn drained_after_join() -> usize {
        let (tx, rx) = channel::unbounded::<usize>();
        let producer = thread::spawn(move || (0..5_000).for_each(|i| tx.send(i).unwrap()));
        producer.join().unwrap();
        rx.iter().count()
    }

    #[test]
    fn a_deferred_producer_runs_when_no_other_thread_can() {
        let (_, report) = record_then_follow("backlog-join", drained_after_join);
        assert_eq!(report.result, Some(5_000));
    }
}
