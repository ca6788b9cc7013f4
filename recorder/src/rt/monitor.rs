//! Deadlock detection while recording: a monitor thread looks for a cycle of
//! threads blocked on each other (lock -> owner, join -> joined thread) that
//! has not moved between two looks, or for every thread of the execution
//! blocked without a timeout (a channel nobody will serve) for a second.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::rt::exec::{Blocked, Execution, ThreadShared};
use crate::trace::format::{BlockedThread, Verdict};
use crate::trace::model::{Op, ThreadIndex};

/// How often the monitor looks.
pub(crate) const MONITOR_PERIOD: Duration = Duration::from_millis(100);

/// How many looks in a row must find every thread blocked, unchanged. Longer
/// than for a lock cycle: a thread outside the execution (a plain std thread)
/// might still be about to serve a channel.
const ALL_BLOCKED_LOOKS: u32 = 10;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Snapshot {
    /// Threads in the cycle with their block epochs.
    cycle: Vec<(ThreadIndex, u64)>,
}

/// Watches `exec` until it has a verdict; calls `on_deadlock` with the
/// deadlock verdict when it finds one.
pub(crate) fn run(exec: Arc<Execution>, on_deadlock: impl FnOnce(Verdict)) {
    let mut previous: Option<Snapshot> = None;
    let mut all_blocked: (Option<Snapshot>, u32) = (None, 0);
    loop {
        if exec.wait_verdict_for(MONITOR_PERIOD).is_some() {
            return;
        }
        let threads: Vec<Arc<ThreadShared>> = exec.threads.lock().clone();
        let current = find_cycle(&threads);
        if let Some(cycle) = current.as_ref().filter(|_| current == previous) {
            on_deadlock(verdict(&threads, cycle));
            return;
        }
        previous = current;
        let everyone = every_thread_blocked(&threads);
        all_blocked = match everyone {
            Some(s) if all_blocked.0.as_ref() == Some(&s) => (Some(s), all_blocked.1 + 1),
            other => (other, 1),
        };
        if let (Some(snapshot), ALL_BLOCKED_LOOKS) = &all_blocked {
            on_deadlock(verdict(&threads, snapshot));
            return;
        }
    }
}

fn blocked_of(thread: &ThreadShared) -> Option<Blocked> {
    if thread.exited.load(Ordering::Acquire) {
        return None;
    }
    *thread.blocked.lock()
}

/// Who `thread` waits for, if it is blocked on something a single thread holds.
fn waits_for(threads: &[Arc<ThreadShared>], thread: &ThreadShared) -> Option<ThreadIndex> {
    let blocked = blocked_of(thread)?;
    match blocked.op {
        Op::Join => Some(blocked.target),
        Op::Lock | Op::WriteLock | Op::ReadLock | Op::CondWait => threads
            .iter()
            .find(|other| other.index != thread.index && other.holds(blocked.target))
            .map(|other| other.index),
        _ => None,
    }
}

/// Every live thread, when all of them are blocked without a timeout.
fn every_thread_blocked(threads: &[Arc<ThreadShared>]) -> Option<Snapshot> {
    let mut cycle = Vec::new();
    for thread in threads {
        if thread.exited.load(Ordering::Acquire) {
            continue;
        }
        match blocked_of(thread) {
            Some(b) if !b.timed => cycle.push((thread.index, thread.block_epoch.load(Ordering::Relaxed))),
            _ => return None,
        }
    }
    (!cycle.is_empty()).then_some(Snapshot { cycle })
}

fn find_cycle(threads: &[Arc<ThreadShared>]) -> Option<Snapshot> {
    let by_index = |index: ThreadIndex| threads.iter().find(|t| t.index == index);
    for start in threads {
        let mut path: Vec<ThreadIndex> = vec![start.index];
        let mut at = Arc::clone(start);
        while let Some(next) = waits_for(threads, &at) {
            if let Some(position) = path.iter().position(|&t| t == next) {
                let mut cycle: Vec<(ThreadIndex, u64)> = path[position..]
                    .iter()
                    .filter_map(|&t| by_index(t))
                    .map(|t| (t.index, t.block_epoch.load(Ordering::Relaxed)))
                    .collect();
                cycle.sort_unstable();
                return Some(Snapshot { cycle });
            }
            path.push(next);
            at = Arc::clone(by_index(next)?);
        }
    }
    None
}

fn verdict(threads: &[Arc<ThreadShared>], snapshot: &Snapshot) -> Verdict {
    let in_cycle = |index: ThreadIndex| snapshot.cycle.iter().any(|&(t, _)| t == index);
    let mut blocked: Vec<BlockedThread> = threads
        .iter()
        .filter_map(|thread| {
            let b = blocked_of(thread)?;
            Some(BlockedThread {
                thread: thread.index,
                op: b.op,
                object: b.target,
                file: b.location.file().to_string(),
                line: b.location.line(),
                column: b.location.column(),
                waits_for: waits_for(threads, thread),
            })
        })
        .collect();
    // The cycle first, then the threads stuck behind it.
    blocked.sort_by_key(|b| (!in_cycle(b.thread), b.thread));
    Verdict::Deadlock { blocked }
}
