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
//! trace. Parallel replay does the same with a wait the watchdog lets go
//! (`WaitFor::Room`); `tests/backlog.rs` checks both.

use reprise_recorder::hook::gate;
use reprise_recorder::trace::model::{Happened, ObjectIndex, Outcome, Received, ThreadIndex};

use super::state::State;

/// Messages a channel holds before a send to it is deferred.
const BACKLOG_CAP: u32 = gate::BACKLOG_CAP as u32;

impl State {
    /// Counts the message a matched event of the recording's `object` put
    /// into its channel (`happened`, as `Counters::apply` derived it) or
    /// took from it.
    #[inline]
    pub(super) fn note_backlog(
        &mut self,
        object: ObjectIndex,
        outcome: &Outcome,
        happened: Option<Happened>,
    ) {
        if let Some(Happened::Sent { .. }) = happened {
            *self.backlog.at(object) += 1;
        } else if let Some(Received::Message { .. }) = outcome.received() {
            let queued = self.backlog.at(object);
            *queued = queued.saturating_sub(1);
        }
    }

    /// Whether `thread`'s next recorded event puts a message into a channel
    /// holding [`BACKLOG_CAP`] or more.
    #[inline]
    pub(super) fn crowds(&self, thread: ThreadIndex) -> bool {
        match self.recorded(thread) {
            Some((event, Some(outcome))) => {
                matches!(outcome.makes_happen(thread, event.object), Some(Happened::Sent { .. }))
                    && self.backlog.get(event.object) >= BACKLOG_CAP
            }
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
