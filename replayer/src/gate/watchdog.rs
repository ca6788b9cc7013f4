//! The replay's watchdog: it decides a stall from the gate's state (every
//! thread parked, no wait satisfied), keeps time only as a backstop, and
//! writes the stall report.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reprise_recorder::hook::gate::WaitFor;
use reprise_recorder::trace::format::Verdict;
use reprise_recorder::trace::model::ThreadIndex;

use crate::backstop::RunningClock;
use crate::gate::replay_gate::ReplayGate;
use crate::gate::status::Status;
use crate::liveness::Quiescence;
use crate::log::ReplayLog;
use crate::report::{Divergence, Stall, Stop, Waiting};

impl ReplayGate {
    /// Builds the stall report from the current statuses: `backstop` when
    /// the time backstop fired rather than a proof from state.
    pub(crate) fn stall_report(
        &self,
        statuses: &[(ThreadIndex, Status)],
        backstop: Option<Duration>,
    ) -> Stall {
        let waiting = statuses
            .iter()
            .filter_map(|(t, s)| match s {
                Status::Running => Some(self.running_report(*t)),
                Status::Waiting { until, call, cursor } => Some(Waiting {
                    thread: self.log.thread_label(*t),
                    event: *cursor,
                    call: call.to_string(),
                    waits_for: describe_wait(&self.log, until),
                }),
                Status::EndOfLog { call, cursor } => Some(Waiting {
                    thread: self.log.thread_label(*t),
                    event: *cursor,
                    call: call.to_string(),
                    waits_for: "nothing: its recorded events are used up".into(),
                }),
                Status::Finished => None,
            })
            .collect();
        Stall { waiting, backstop }
    }

    /// A running thread, by the last reprise call it made: that call matched
    /// its recorded event, so the recorded site is where the program was.
    fn running_report(&self, thread: ThreadIndex) -> Waiting {
        let cursor = self.cursor(thread);
        let call = match cursor.checked_sub(1) {
            Some(last) if self.log.event(thread, last).is_some() => {
                format!("{} (its last reprise call)", self.expected_text(thread, last))
            }
            _ => "no reprise call yet".into(),
        };
        Waiting {
            thread: self.log.thread_label(thread),
            event: cursor.saturating_sub(1),
            call,
            waits_for: "nothing reprise sees: running since that call (computing, stopped in a debugger, \
                        or blocked in a call reprise does not see)"
                .into(),
        }
    }
}

fn describe_wait(log: &ReplayLog, until: &WaitFor) -> String {
    match *until {
        WaitFor::Turn { object, class, number } => format!("turn {number} ({class:?}) of object #{object}"),
        WaitFor::Taken { object, class, number } => {
            format!("turn {number} ({class:?}) of object #{object} to be taken")
        }
        WaitFor::WriteTurn { object, number, readers } => {
            format!("write {number} of rwlock #{object} after {readers} readers")
        }
        WaitFor::Message { sender, seq } => format!("message {seq} of {}", log.thread_label(sender)),
        WaitFor::Exit(thread) => format!("{} to exit", log.thread_label(thread)),
        WaitFor::Received { sender, seq } => {
            format!("message {seq} of {} to be taken (a rendezvous)", log.thread_label(sender))
        }
        WaitFor::Room { object, taken } => {
            format!("room in channel #{object} ({taken} messages taken from it)")
        }
        WaitFor::Released { object, .. } => {
            format!("lock #{object} to be let go by the thread that holds it")
        }
    }
}

/// How long the watchdog sleeps between looks at the gate's state.
const TICK: Duration = Duration::from_millis(20);

/// Watches `gate` until it stops or `done` says the root finished. A stall
/// is declared when the gate's state proves it (every thread parked, no wait
/// satisfied); `backstop`, when set, stops a replay that consumed no event
/// for that long while the process ran and no debugger was attached, and
/// says that it is not a proof.
pub(crate) fn watchdog(gate: &ReplayGate, done: &AtomicBool, backstop: Option<Duration>) {
    // Progress: events consumed, plus threads parking at the end of their logs.
    let progress_now = || gate.consumed() + gate.progress.load(Ordering::Relaxed);
    let mut last_progress = progress_now();
    let mut idle = RunningClock::start();
    while !done.load(Ordering::Acquire) && gate.stopped().is_none() {
        // Parked, not asleep: the replay's end unparks it, so that joining
        // it does not wait for the rest of a tick.
        std::thread::park_timeout(TICK);
        let idle_for = idle.look();
        match gate.quiescence() {
            Quiescence::Stuck => {
                let statuses = gate.statuses();
                // Every thread finished: the root is returning, not stuck.
                // So too when the root finished and the threads left are at
                // the ends of their logs (a thread never joined, whose later
                // events the recording dropped once the body returned and
                // the trace was finished): the replay releases them once the
                // root's result is in.
                if statuses.iter().all(|(_, s)| matches!(s, Status::Finished))
                    || root_returning(gate, &statuses)
                {
                    continue;
                }
                // A send waiting for room waits by preference: with nothing
                // else able to run, it goes.
                let waits = statuses.iter().filter_map(|(_, s)| match s {
                    Status::Waiting { until, .. } => Some(until),
                    _ => None,
                });
                if gate.state.let_rooms_go(waits) {
                    gate.wake_satisfied();
                    continue;
                }
                gate.stop(verdict_when_stuck(gate, &statuses));
                return;
            }
            Quiescence::Wakeable => gate.wake_satisfied(),
            Quiescence::Busy => {}
        }
        let progress = progress_now();
        if progress != last_progress {
            last_progress = progress;
            idle.restart();
            continue;
        }
        if let Some(limit) = backstop.filter(|&limit| idle.due(idle_for, limit)) {
            gate.stop(Stop::Stalled(gate.stall_report(&gate.statuses(), Some(limit))));
            return;
        }
    }
}

/// Whether the root thread finished and every other thread is finished or
/// at the end of its log, in a recording that did not end stuck.
fn root_returning(gate: &ReplayGate, statuses: &[(ThreadIndex, Status)]) -> bool {
    !gate.recorded_verdict.as_ref().is_some_and(Verdict::ended_stuck)
        && statuses.iter().any(|(t, s)| *t == 0 && matches!(s, Status::Finished))
        && statuses.iter().all(|(_, s)| matches!(s, Status::Finished | Status::EndOfLog { .. }))
}

/// Every live thread is parked: what does that mean for this trace?
fn verdict_when_stuck(gate: &ReplayGate, statuses: &[(ThreadIndex, Status)]) -> Stop {
    let waits: Vec<&WaitFor> = statuses
        .iter()
        .filter_map(|(_, s)| match s {
            Status::Waiting { until, .. } => Some(until),
            _ => None,
        })
        .collect();
    // Only a rendezvous's senders wait, for takers whose receives a crash
    // lost (the prefix cut cannot tell a rendezvous send from another, and
    // the sender's send is on disk once it was taken; the gate lets such a
    // send return when no kept receive takes its message, so this is a
    // backstop): the trace ended.
    if gate.trace_cut && !waits.is_empty() && waits.iter().all(|u| matches!(u, WaitFor::Received { .. })) {
        return Stop::TraceEnded;
    }
    if !waits.is_empty() {
        return Stop::Stalled(gate.stall_report(statuses, None));
    }
    if let Some(Verdict::Deadlock { blocked }) = &gate.recorded_verdict {
        for b in blocked {
            let at = statuses.iter().find(|(t, _)| *t == b.thread).map(|(_, s)| s);
            let same = matches!(at, Some(Status::EndOfLog { call, .. })
                if call.op == b.op && call.location.line() == b.line && call.location.file() == b.file);
            if !same {
                let actual = match at {
                    Some(Status::EndOfLog { call, .. }) => call.to_string(),
                    Some(other) => format!("{other:?}"),
                    None => "not started".into(),
                };
                return Stop::Diverged(Divergence {
                    thread: gate.log.thread_label(b.thread),
                    event: gate.cursor(b.thread),
                    expected: format!("blocked in {} at {}:{}:{}", b.op.name(), b.file, b.line, b.column),
                    actual,
                    detail: "the recording deadlocked here; the replay stopped elsewhere".into(),
                });
            }
        }
        return Stop::Deadlock(blocked.clone());
    }
    if let Some(verdict @ Verdict::Livelock { .. }) = &gate.recorded_verdict {
        return Stop::Livelock(verdict.clone());
    }
    if gate.trace_cut {
        return Stop::TraceEnded;
    }
    Stop::Stalled(gate.stall_report(statuses, None))
}
