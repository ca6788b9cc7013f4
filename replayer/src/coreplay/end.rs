//! How a coroutine replay ended, in the report types parallel replay uses:
//! a match with the verdict the run reached, the recorded deadlock or
//! livelock, the end of a cut trace, a stall, or a divergence.

use reprise_recorder::hook::coop::Resource;
use reprise_recorder::trace::format::{BlockedThread, Verdict};
use reprise_recorder::trace::model::{Op, ThreadIndex, WaitFor};

use super::counters::Pending;
use super::state::{State, Status};
use super::trace::FollowLog;
use crate::replay::ReplayReport;
use crate::report::{Divergence, ReplayOutcome, Stall, Stop, Waiting};

/// How the root thread ended.
pub(crate) enum RootEnd<R> {
    Returned(R),
    Panicked(Verdict),
    /// It did not finish: the replay stopped it.
    Stopped,
}

pub(crate) fn report<R>(
    st: &State,
    verdict: Option<&Verdict>,
    complete: bool,
    whole: bool,
    root: RootEnd<R>,
) -> ReplayReport<R> {
    let events = st.log.event_count();
    let replayed: u64 = st.slots().map(|(_, s)| s.cursor as u64).sum();
    let mut report = ReplayReport {
        result: None,
        outcome: ReplayOutcome::Matched,
        events,
        replayed,
        cut: 0,
        whole,
        reproduced: None,
        observed: None,
        peak_window: st.log.peak_window(),
    };
    // A chunk that could not be read back ended its thread's log early:
    // what the replay reached after that says nothing about the recording
    // (it looked like a thread that had already exited), as parallel replay
    // reports it.
    if let Some(failure) = st.log.log.read_failure() {
        report.outcome = ReplayOutcome::Diverged(Divergence::trace_unreadable(failure));
        return report;
    }
    if let Some(Stop::Diverged(d)) = &st.stop {
        report.outcome = ReplayOutcome::Diverged(d.clone());
        return report;
    }
    let unfinished: Vec<ThreadIndex> =
        st.slots().filter(|(_, s)| !matches!(s.status, Status::Finished)).map(|(t, _)| t).collect();
    // The root returned and the threads left are at the ends of their logs
    // (never joined: the recording dropped their later events once the body
    // returned and the trace was finished), as parallel replay ends too.
    let stuck_recording = verdict.is_some_and(Verdict::ended_stuck);
    let past_the_end = !stuck_recording
        && !matches!(root, RootEnd::Stopped)
        && unfinished.iter().all(|&t| matches!(st.slot(t).map(|s| &s.status), Some(Status::EndOfLog(_))));
    if unfinished.is_empty() || past_the_end {
        match root {
            RootEnd::Returned(value) => {
                report.result = Some(value);
                report.reproduced = Some(Verdict::Completed);
            }
            RootEnd::Panicked(verdict) => report.reproduced = Some(verdict),
            RootEnd::Stopped => {}
        }
        if let Some(divergence) = leftover(st).filter(|_| complete) {
            report.reproduced = None;
            report.outcome = ReplayOutcome::Diverged(divergence);
        }
        return report;
    }
    let waiting: Vec<ThreadIndex> = unfinished
        .iter()
        .copied()
        .filter(|&t| !matches!(st.slot(t).map(|s| &s.status), Some(Status::EndOfLog(_))))
        .collect();
    // A recording that ended in a deadlock or a livelock, or was cut, ends
    // while threads outside it still ran: what they wait for is past its end.
    let cut_like = !complete || stuck_recording;
    if !waiting.is_empty() && !cut_like {
        report.outcome = ReplayOutcome::Stalled(stall(st, &unfinished));
        return report;
    }
    report.cut = waiting
        .iter()
        .map(|&t| {
            let cursor = st.slot(t).map_or(0, |s| s.cursor);
            st.log.len(t).saturating_sub(cursor) as u64
        })
        .sum();
    match verdict {
        Some(Verdict::Deadlock { blocked }) => {
            for b in blocked {
                let at = st.slot(b.thread).map(|s| &s.status);
                let same = matches!(at, Some(Status::EndOfLog(call))
                    if call.op == Some(b.op) && call.location.line() == b.line && call.location.file() == b.file);
                if !same {
                    let actual = match at {
                        Some(Status::EndOfLog(call)) => {
                            format!("{} at {}", call.op.map_or("yield_now", Op::name), call.location)
                        }
                        Some(Status::Finished) => "the thread finished".into(),
                        Some(_) => "the thread waits for a recorded event".into(),
                        None => "not started".into(),
                    };
                    report.outcome = ReplayOutcome::Diverged(Divergence {
                        thread: st.log.thread_label(b.thread),
                        event: st.slot(b.thread).map_or(0, |s| s.cursor),
                        expected: format!("blocked in {} at {}:{}:{}", b.op.name(), b.file, b.line, b.column),
                        actual,
                        detail: "the recording deadlocked here; the replay stopped elsewhere".into(),
                    });
                    return report;
                }
            }
            report.reproduced = Some(reproduced_deadlock(st, blocked));
            report.outcome = ReplayOutcome::Deadlock(Verdict::Deadlock { blocked: blocked.clone() });
        }
        Some(livelock @ Verdict::Livelock { .. }) => {
            report.reproduced = Some(livelock.clone());
            report.outcome = ReplayOutcome::Livelock(livelock.clone());
        }
        _ if !complete => report.outcome = ReplayOutcome::TraceEnded { replayed },
        _ => report.outcome = ReplayOutcome::Stalled(stall(st, &unfinished)),
    }
    report
}

/// The deadlock the replay reached: every thread at the end of a log that
/// does not end in an exit, as the footer lists it or by its last event.
fn reproduced_deadlock(st: &State, listed: &[BlockedThread]) -> Verdict {
    let blocked = st
        .log
        .thread_ids()
        .filter(|&t| !st.log.exited(t) && st.slot(t).is_some_and(|s| s.cursor >= st.log.len(t)))
        .map(|thread| match listed.iter().find(|b| b.thread == thread) {
            Some(b) => b.clone(),
            None => {
                let last = st.log.log.last_event(thread);
                crate::replay::blocked_at(thread, last, last.and_then(|e| st.log.site(thread, e.site)))
            }
        })
        .collect();
    Verdict::Deadlock { blocked }
}

/// A thread that finished, or never started, with recorded events left.
fn leftover(st: &State) -> Option<Divergence> {
    for thread in st.log.thread_ids() {
        let cursor = st.slot(thread).map_or(0, |s| s.cursor);
        let len = st.log.len(thread);
        let Some(e) = (cursor < len).then(|| st.log.event(thread, cursor)).flatten() else { continue };
        let actual =
            if st.slot(thread).is_some() { "the thread finished" } else { "the thread was never started" };
        return Some(Divergence {
            thread: st.log.thread_label(thread),
            event: cursor,
            expected: st.log.describe(thread, &e),
            actual: actual.into(),
            detail: format!("{} recorded events were not replayed", len - cursor),
        });
    }
    None
}

/// The stall report: each unfinished thread and what it waits for.
fn stall(st: &State, unfinished: &[ThreadIndex]) -> Stall {
    let waiting = unfinished
        .iter()
        .map(|&t| {
            let Some(slot) = st.slot(t) else {
                let waits_for = "nothing: it was never started".into();
                return Waiting {
                    thread: st.log.thread_label(t),
                    event: 0,
                    call: "its start".into(),
                    waits_for,
                };
            };
            let call = slot
                .next
                .map(|c| format!("{} at {}", c.op.map_or("yield_now", Op::name), c.location))
                .unwrap_or_else(|| "its start".into());
            let waits_for = match &slot.status {
                Status::EndOfLog(_) => "nothing: its recorded events are used up".into(),
                Status::Blocked(on) => {
                    let on: Vec<String> = on
                        .iter()
                        .map(|r| match r {
                            Resource::Object(o) => format!("object {o} of this run"),
                            Resource::Thread(t) => st.log.thread_label(*t),
                        })
                        .collect();
                    format!("a change of {} (blocked in the primitive)", on.join(", "))
                }
                _ => st.pending(t).map_or_else(|| "nothing".into(), |p| describe(&st.log, &p)),
            };
            Waiting { thread: st.log.thread_label(t), event: slot.cursor, call, waits_for }
        })
        .collect();
    Stall { waiting, backstop: None }
}

fn describe(log: &FollowLog, pending: &Pending) -> String {
    match *pending {
        Pending::Wait(WaitFor::Turn { object, class, number }) => {
            format!("turn {number} ({class:?}) of object #{object}")
        }
        Pending::Wait(WaitFor::Taken { object, class, number }) => {
            format!("turn {number} ({class:?}) of object #{object} to be taken")
        }
        Pending::Wait(WaitFor::WriteTurn { object, number, readers }) => {
            format!("write {number} of rwlock #{object} after {readers} readers")
        }
        Pending::Wait(WaitFor::Message { sender, seq }) => {
            format!("message {seq} of {}", log.thread_label(sender))
        }
        Pending::Wait(WaitFor::Exit(thread)) => format!("{} to exit", log.thread_label(thread)),
        Pending::Wait(WaitFor::Received { sender, seq }) => {
            format!("message {seq} of {} to be taken (a rendezvous)", log.thread_label(sender))
        }
        Pending::Wait(WaitFor::Room { object, taken }) => {
            format!("room in channel #{object} ({taken} messages taken from it)")
        }
        Pending::Wait(WaitFor::Released { object, .. }) => format!("lock #{object} to be let go"),
        Pending::Loads { object, store } => format!("the loads of store {store} of atomic #{object}"),
        Pending::Spawn(child) => format!("thread {child} to be the next one spawned"),
        Pending::Held(object) => format!("lock #{object} to be free"),
    }
}
