//! Deadlock detection while recording, from proof only: a monitor thread
//! looks at the threads' block states and declares a deadlock only when what
//! it read proves that the blocked threads can never move again.
//!
//! # Why a verdict is sound
//!
//! Each thread publishes, under one lock, what it is blocked in and its
//! block epoch (bumped each time it blocks); it clears the state when the
//! call returns. While a thread is blocked it runs no code of its own, so its
//! held set (the mutexes and RwLock write locks it owns) cannot change. A
//! held-set slot is filled after the lock is taken and emptied before it is
//! released, so a lock listed there is owned.
//!
//! The monitor reads every thread twice (pass 1, then pass 2). A thread seen
//! blocked in both passes with the same epoch was blocked without a break
//! from its pass-1 read to its pass-2 read: an unblock then a new block would
//! have bumped the epoch, an unblock alone would have left the state empty.
//! Every pass-1 read comes before every pass-2 read, so at the instant `t`
//! between the passes every such thread was blocked, holding what it was
//! seen holding.
//!
//! * **A cycle of owned resources.** Thread A waits for B when A waits for a
//!   mutex or RwLock B holds as writer, joins B, or waits on a condvar whose
//!   mutex B holds (a notified waiter must take its mutex back before it
//!   returns). If at `t` every thread of a cycle is blocked and each one's
//!   resource is owned by the next, none can be released: releasing needs
//!   its owner to run, and every owner waits for another member. No thread
//!   outside the cycle can release a lock it does not own or end a thread.
//!   This holds whatever other threads (reprise's or not) do.
//! * **A closed world** ([`crate::RecordConfig::closed_world`]: every thread
//!   of the process is a reprise thread). Then a verdict also needs every live
//!   thread of the execution blocked at `t` without a timeout, the thread
//!   count unchanged over both passes (no thread being started), and each
//!   wait proven: a lock or join waits for a thread that is itself blocked;
//!   a channel or condvar-notification wait has the object's progress counter
//!   unchanged since the waiter read it before its failed attempt, read
//!   between the passes. Every operation that can end such a wait bumps the
//!   counter after it took effect, and its thread cannot be blocked between
//!   the operation and the bump; so at `t` every such operation done by then
//!   is counted, and an unchanged counter means none happened since the
//!   waiter looked. No thread outside the execution exists to act later.
//!   A `select` wait has no single object to count and never counts.
//!
//! Neither rule looks at how long anything took: time only decides how
//! often the monitor looks. A condvar's spurious wakeup is outside the
//! proof: a program whose waiter returns without a notification and acts as
//! if it had one is not deadlocked, and a closed-world verdict may call it so.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::rt::exec::{Blocked, Execution, HELD_SLOTS};
use crate::trace::format::{BlockedThread, Verdict};
use crate::trace::model::{Op, ThreadIndex};

/// How often the monitor looks.
pub(crate) const MONITOR_PERIOD: Duration = Duration::from_millis(100);

/// One thread as one pass read it: blocked, in `epoch`, holding `held`.
#[derive(Clone, Debug)]
struct Seen {
    blocked: Blocked,
    epoch: u64,
    held: [u32; HELD_SLOTS],
}

/// One pass: the blocked, live threads, and how many threads the execution
/// had given an index and registered when the pass began.
#[derive(Debug)]
struct Pass {
    blocked: HashMap<ThreadIndex, Seen>,
    live: usize,
    allocated: u32,
    registered: usize,
}

/// Watches `exec` until it has a verdict; calls `on_deadlock` with the
/// deadlock verdict when it proves one.
pub(crate) fn run(exec: Arc<Execution>, on_deadlock: impl FnOnce(Verdict)) {
    loop {
        if exec.wait_verdict_for(MONITOR_PERIOD).is_some() {
            return;
        }
        if let Some(verdict) = check(&exec) {
            on_deadlock(verdict);
            return;
        }
    }
}

/// Two passes over `exec`'s threads; the deadlock they prove, if any.
fn check(exec: &Execution) -> Option<Verdict> {
    decide(look(exec), exec.closed_world, || look(exec))
}

/// The proof itself, on the first pass and a way to take the second (taken
/// only after the progress counters were read).
fn decide(first: Pass, closed_world: bool, second: impl FnOnce() -> Pass) -> Option<Verdict> {
    let (members, whole_world) = match find_cycle(&first.blocked) {
        Some(cycle) => (cycle, false),
        None if closed_world => (all_stuck(&first)?, true),
        None => return None,
    };
    // Between the passes: the counters must show that nothing happened
    // since each waiter looked (see the module's comment).
    let quiet = |t: &ThreadIndex| first.blocked[t].blocked.progress.as_ref().is_none_or(|p| p.unchanged());
    if !members.iter().all(quiet) {
        return None;
    }
    let second = second();
    let unchanged = |t: &ThreadIndex| match (first.blocked.get(t), second.blocked.get(t)) {
        (Some(a), Some(b)) => a.epoch == b.epoch && a.held == b.held,
        _ => false,
    };
    if !members.iter().all(unchanged) {
        return None;
    }
    // No thread was started in between: the whole world was seen.
    if whole_world && (second.allocated, second.registered) != (first.allocated, first.registered) {
        return None;
    }
    Some(verdict(&first.blocked, &members))
}

fn look(exec: &Execution) -> Pass {
    let allocated = exec.allocated_threads();
    let (threads, registered) = exec.threads_and_registered();
    let mut blocked = HashMap::new();
    let mut live = 0;
    for thread in &threads {
        if thread.exited.load(Ordering::Acquire) {
            continue;
        }
        live += 1;
        let state = thread.block.lock();
        if let Some(b) = &state.blocked {
            // Read under the state's lock: the owner filled its held set
            // before it published the block.
            let held = std::array::from_fn(|i| thread.held[i].load(Ordering::Relaxed));
            blocked.insert(thread.index, Seen { blocked: b.clone(), epoch: state.epoch, held });
        }
    }
    Pass { blocked, live, allocated, registered: registered as usize }
}

/// Who `thread` waits for, when one thread owns what it waits on.
fn waits_for(blocked: &HashMap<ThreadIndex, Seen>, thread: ThreadIndex) -> Option<ThreadIndex> {
    let b = &blocked.get(&thread)?.blocked;
    match b.op {
        Op::Join => Some(b.target),
        Op::Lock | Op::WriteLock | Op::ReadLock | Op::CondWait => blocked
            .iter()
            .find(|(&other, seen)| other != thread && seen.held.contains(&(b.target + 1)))
            .map(|(&other, _)| other),
        _ => None,
    }
}

/// A cycle of blocked threads, each waiting for the next.
fn find_cycle(blocked: &HashMap<ThreadIndex, Seen>) -> Option<Vec<ThreadIndex>> {
    let mut starts: Vec<ThreadIndex> = blocked.keys().copied().collect();
    starts.sort_unstable();
    for start in starts {
        let mut path = vec![start];
        let mut at = start;
        while let Some(next) = waits_for(blocked, at) {
            if !blocked.contains_key(&next) {
                break;
            }
            if let Some(position) = path.iter().position(|&t| t == next) {
                let mut cycle = path.split_off(position);
                cycle.sort_unstable();
                return Some(cycle);
            }
            path.push(next);
            at = next;
        }
    }
    None
}

/// Closed world: every live thread, when each is blocked without a timeout
/// on something only another blocked thread could give it.
fn all_stuck(pass: &Pass) -> Option<Vec<ThreadIndex>> {
    let complete = pass.allocated as usize == pass.registered;
    if !complete || pass.live == 0 || pass.blocked.len() != pass.live {
        return None;
    }
    let proven = |(&thread, seen): (&ThreadIndex, &Seen)| {
        let b = &seen.blocked;
        if b.timed {
            return false;
        }
        match b.op {
            Op::Join => pass.blocked.contains_key(&b.target),
            Op::Lock | Op::WriteLock | Op::ReadLock => waits_for(&pass.blocked, thread).is_some(),
            // A condvar waiter whose mutex is held waits for the holder;
            // one whose mutex is free waits for a notification.
            Op::CondWait => waits_for(&pass.blocked, thread).is_some() || b.progress.is_some(),
            Op::Recv | Op::Send => b.progress.is_some(),
            _ => false,
        }
    };
    if !pass.blocked.iter().all(proven) {
        return None;
    }
    let mut all: Vec<ThreadIndex> = pass.blocked.keys().copied().collect();
    all.sort_unstable();
    Some(all)
}

fn verdict(blocked: &HashMap<ThreadIndex, Seen>, members: &[ThreadIndex]) -> Verdict {
    let mut listed: Vec<BlockedThread> = blocked
        .iter()
        .map(|(&thread, seen)| {
            let b = &seen.blocked;
            BlockedThread {
                thread,
                op: b.op,
                object: b.target,
                file: b.location.file().to_string(),
                line: b.location.line(),
                column: b.location.column(),
                waits_for: waits_for(blocked, thread),
            }
        })
        .collect();
    // The deadlocked threads first, then the threads stuck behind them.
    listed.sort_by_key(|b| (!members.contains(&b.thread), b.thread));
    Verdict::Deadlock { blocked: listed }
}

#[cfg(test)]
mod tests {
    use std::panic::Location;
    use std::sync::atomic::AtomicU64;

    use super::*;
    use crate::rt::exec::ProgressMark;

    fn blocked(op: Op, target: u32, progress: Option<ProgressMark>, timed: bool) -> Blocked {
        Blocked { op, target, location: Location::caller(), timed, progress }
    }

    fn seen(b: Blocked, epoch: u64, held: &[u32]) -> Seen {
        let mut slots = [0; HELD_SLOTS];
        for (slot, &object) in slots.iter_mut().zip(held) {
            *slot = object + 1;
        }
        Seen { blocked: b, epoch, held: slots }
    }

    fn pass(threads: Vec<(ThreadIndex, Seen)>, live: usize) -> Pass {
        let registered = live;
        Pass { blocked: threads.into_iter().collect(), live, allocated: registered as u32, registered }
    }

    /// Threads 0 and 1: each holds one mutex and waits for the other's.
    fn lock_cycle(epoch_of_1: u64, held_by_1: &[u32]) -> Pass {
        pass(
            vec![
                (0, seen(blocked(Op::Lock, 11, None, false), 4, &[10])),
                (1, seen(blocked(Op::Lock, 10, None, false), epoch_of_1, held_by_1)),
            ],
            2,
        )
    }

    #[test]
    fn a_lock_cycle_seen_the_same_in_both_passes_is_a_deadlock() {
        let verdict = decide(lock_cycle(7, &[11]), false, || lock_cycle(7, &[11]));
        let Some(Verdict::Deadlock { blocked }) = verdict else { panic!("{verdict:?}") };
        assert_eq!(blocked.iter().map(|b| b.waits_for).collect::<Vec<_>>(), vec![Some(1), Some(0)]);
    }

    #[test]
    fn a_lock_cycle_whose_thread_blocked_again_between_the_passes_is_not() {
        assert_eq!(decide(lock_cycle(7, &[11]), false, || lock_cycle(8, &[11])), None);
    }

    #[test]
    fn a_lock_cycle_whose_held_set_changed_between_the_passes_is_not() {
        assert_eq!(decide(lock_cycle(7, &[11]), false, || lock_cycle(7, &[11, 12])), None);
    }

    #[test]
    fn a_thread_gone_from_its_wait_in_the_second_pass_breaks_the_cycle() {
        let second = || pass(vec![(0, seen(blocked(Op::Lock, 11, None, false), 4, &[10]))], 2);
        assert_eq!(decide(lock_cycle(7, &[11]), false, second), None);
    }

    /// Thread 0 joins thread 1, which waits on a channel.
    fn join_and_recv(progress: &Arc<AtomicU64>, timed: bool, op: Op) -> Pass {
        pass(
            vec![
                (0, seen(blocked(Op::Join, 1, None, false), 1, &[])),
                (1, seen(blocked(op, 3, Some(ProgressMark::read(progress)), timed), 2, &[])),
            ],
            2,
        )
    }

    #[test]
    fn every_thread_waiting_on_a_quiet_channel_is_a_deadlock_only_in_a_closed_world() {
        let counter = Arc::new(AtomicU64::new(5));
        let again = || join_and_recv(&counter, false, Op::Recv);
        assert_eq!(decide(join_and_recv(&counter, false, Op::Recv), false, again), None);
        assert!(decide(join_and_recv(&counter, false, Op::Recv), true, again).is_some());
    }

    #[test]
    fn a_channel_that_progressed_since_its_waiter_looked_is_no_deadlock() {
        let counter = Arc::new(AtomicU64::new(5));
        let first = join_and_recv(&counter, false, Op::Recv);
        crate::rt::exec::bump(&counter);
        assert_eq!(decide(first, true, || join_and_recv(&counter, false, Op::Recv)), None);
    }

    #[test]
    fn timed_waits_and_selects_never_count_in_a_closed_world() {
        let counter = Arc::new(AtomicU64::new(0));
        let timed = || join_and_recv(&counter, true, Op::Recv);
        assert_eq!(decide(timed(), true, timed), None);
        let select = || join_and_recv(&counter, false, Op::Select);
        assert_eq!(decide(select(), true, select), None);
    }

    #[test]
    fn a_closed_world_with_a_thread_not_blocked_or_still_starting_is_no_deadlock() {
        let counter = Arc::new(AtomicU64::new(0));
        let running = || {
            let mut p = join_and_recv(&counter, false, Op::Recv);
            p.live = 3;
            p.registered = 3;
            p.allocated = 3;
            p
        };
        assert_eq!(decide(running(), true, running), None);
        let starting = || {
            let mut p = join_and_recv(&counter, false, Op::Recv);
            p.allocated = 3;
            p
        };
        assert_eq!(decide(starting(), true, starting), None);
        let started_between = || {
            let mut p = join_and_recv(&counter, false, Op::Recv);
            p.allocated = 3;
            p.registered = 3;
            p
        };
        assert_eq!(decide(join_and_recv(&counter, false, Op::Recv), true, started_between), None);
    }
}
