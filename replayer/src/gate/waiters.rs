//! What replayed threads wait on, and how they sleep: counters that only
//! grow, each with the threads waiting for it to reach a threshold; lists of
//! threads waiting on a condition over several counters; and a per-thread
//! parker.
//!
//! The protocol that loses no wake-up:
//!
//! - a waiter registers on the one key it waits for (its entry pushed and
//!   the key's pending count raised, both `SeqCst`), then checks its wait
//!   again, then sleeps in its own parker;
//! - a waker changes the key's counter (`SeqCst`), then reads the pending
//!   count with a read-modify-write: 0 means no waiter registered before the change, so any later
//!   waiter's re-check sees it; otherwise it takes the key's lock and wakes
//!   the waiters whose threshold the counter now reaches;
//! - a parker wakes on an epoch the sleeper read before its last check, so an
//!   unpark between that check and the sleep is not lost.
//!
//! A key nobody waits on costs the waker one load and no lock; a wait that is
//! already satisfied registers nothing. Model-checked under
//! `--cfg reprise_loom` (the tests at the end).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::PoisonError;

#[cfg(reprise_loom)]
use loom::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
#[cfg(reprise_loom)]
use loom::sync::{Condvar, Mutex, MutexGuard};
#[cfg(not(reprise_loom))]
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
#[cfg(not(reprise_loom))]
use std::sync::{Condvar, Mutex, MutexGuard};

/// Locks `mutex`, ignoring poison: the gate's own code does not panic while
/// holding these locks, and a replay must not fail for a program's panic.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A waker's read of a key's pending count, after it changed the key's
/// counter. A read-modify-write, not a load: it reads the latest count in
/// the count's modification order, so either it sees a waiter's
/// registration, or that registration read this (release) and so sees the
/// counter's change in its re-check. A plain load would need `SeqCst`'s
/// single total order for that, which loom does not model (it found this
/// wake-up lost with loads), and which this does not rely on.
#[inline]
fn read_pending(pending: &AtomicUsize) -> usize {
    pending.fetch_add(0, Ordering::SeqCst)
}

/// A thread waiting on a key: it is woken once the key's counter reaches
/// `threshold`, if it still waits with the same `ticket` (a thread takes a
/// new ticket for each registration, so a stale entry wakes nobody).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Waiter {
    pub(crate) threshold: u64,
    pub(crate) who: u32,
    pub(crate) ticket: u64,
}

/// A counter that only grows, and the threads waiting for it to reach a
/// value, lowest threshold first: a change wakes exactly the waiters it
/// satisfies, without looking at the others.
#[derive(Debug)]
pub(crate) struct Counter {
    value: AtomicU64,
    /// Entries in `waiters`; read without the lock by wakers.
    pending: AtomicUsize,
    waiters: Mutex<BinaryHeap<Reverse<Waiter>>>,
}

impl Default for Counter {
    fn default() -> Self {
        Counter {
            value: AtomicU64::new(0),
            pending: AtomicUsize::new(0),
            waiters: Mutex::new(BinaryHeap::new()),
        }
    }
}

impl Counter {
    /// Its value now.
    #[inline]
    pub(crate) fn get(&self) -> u64 {
        self.value.load(Ordering::SeqCst)
    }

    /// Adds one, then wakes the waiters that reached their threshold.
    #[inline]
    pub(crate) fn add_one(&self, wake: impl FnMut(Waiter)) {
        self.value.fetch_add(1, Ordering::SeqCst);
        self.notify(wake);
    }

    /// Raises it to at least `value`, then wakes as [`Counter::add_one`].
    #[inline]
    pub(crate) fn raise_to(&self, value: u64, wake: impl FnMut(Waiter)) {
        self.value.fetch_max(value, Ordering::SeqCst);
        self.notify(wake);
    }

    /// Registers `waiter`. The caller checks its wait again afterwards,
    /// before it sleeps.
    pub(crate) fn register(&self, waiter: Waiter) {
        let mut waiters = lock(&self.waiters);
        waiters.push(Reverse(waiter));
        self.pending.fetch_add(1, Ordering::SeqCst);
    }

    /// How many entries wait here (stale ones included).
    #[cfg(test)]
    pub(crate) fn registered(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }

    /// Pops the waiters whose threshold the counter reached and hands each
    /// to `wake`, under the key's lock.
    #[inline]
    fn notify(&self, mut wake: impl FnMut(Waiter)) {
        if read_pending(&self.pending) == 0 {
            return;
        }
        let mut waiters = lock(&self.waiters);
        let now = self.value.load(Ordering::SeqCst);
        while let Some(&Reverse(waiter)) = waiters.peek() {
            if waiter.threshold > now {
                break;
            }
            waiters.pop();
            self.pending.fetch_sub(1, Ordering::SeqCst);
            wake(waiter);
        }
    }
}

/// Threads waiting on a condition a counter's threshold cannot express (an
/// RwLock writer's turn and the reads since the last write): a change checks
/// each of them. Only writers of one RwLock register here, so it stays short.
#[derive(Debug)]
pub(crate) struct WaitList<T> {
    pending: AtomicUsize,
    entries: Mutex<Vec<(u32, u64, T)>>,
}

impl<T> Default for WaitList<T> {
    fn default() -> Self {
        WaitList { pending: AtomicUsize::new(0), entries: Mutex::new(Vec::new()) }
    }
}

impl<T: Copy> WaitList<T> {
    /// Registers thread `who` (with `ticket`) waiting for `what`.
    pub(crate) fn register(&self, who: u32, ticket: u64, what: T) {
        let mut entries = lock(&self.entries);
        entries.push((who, ticket, what));
        self.pending.fetch_add(1, Ordering::SeqCst);
    }

    /// How many entries wait here.
    #[cfg(test)]
    pub(crate) fn registered(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }

    /// After a change the waiters may depend on: removes and wakes each one
    /// whose condition now holds.
    #[inline]
    pub(crate) fn notify(&self, ready: impl Fn(&T) -> bool, mut wake: impl FnMut(Waiter)) {
        if read_pending(&self.pending) == 0 {
            return;
        }
        let mut entries = lock(&self.entries);
        let mut i = 0;
        while i < entries.len() {
            let (who, ticket, what) = entries[i];
            if ready(&what) {
                entries.swap_remove(i);
                self.pending.fetch_sub(1, Ordering::SeqCst);
                wake(Waiter { threshold: 0, who, ticket });
            } else {
                i += 1;
            }
        }
    }
}

/// One thread's bed: it sleeps until the epoch moves past the one it read
/// before its last look at its wait.
#[derive(Debug)]
pub(crate) struct Parker {
    epoch: Mutex<u64>,
    wake: Condvar,
}

impl Default for Parker {
    fn default() -> Self {
        Parker { epoch: Mutex::new(0), wake: Condvar::new() }
    }
}

impl Parker {
    /// The epoch now: read before checking the wait, passed to `park`.
    pub(crate) fn epoch(&self) -> u64 {
        *lock(&self.epoch)
    }

    /// Sleeps while the epoch is still `seen`.
    pub(crate) fn park(&self, seen: u64) {
        let mut epoch = lock(&self.epoch);
        while *epoch == seen {
            epoch = self.wake.wait(epoch).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Wakes whoever sleeps here (and makes the next `park` of an epoch read
    /// before this return at once).
    pub(crate) fn unpark(&self) {
        {
            let mut epoch = lock(&self.epoch);
            *epoch = epoch.wrapping_add(1);
        }
        // Outside the lock, so the woken thread does not wake into a held
        // mutex: the epoch, not the notification, is what it waits for.
        self.wake.notify_all();
    }
}

/// What one look at a wait decided.
#[derive(Debug)]
pub(crate) enum Step<R> {
    /// The wait is over with `R`.
    Done(R),
    /// Something changed (the thread marked itself parked): look again now.
    Again,
    /// Nothing to do but sleep until woken.
    Sleep,
}

/// Sleeps in `parker` until `look` is done. `look` gets whether the thread
/// slept since its last look (a woken waiter whose wait is not over was
/// popped from its key, and registers again).
pub(crate) fn sleep_until<R>(parker: &Parker, mut look: impl FnMut(bool) -> Step<R>) -> R {
    let mut slept = false;
    loop {
        let seen = parker.epoch();
        match look(slept) {
            Step::Done(result) => return result,
            Step::Again => slept = false,
            Step::Sleep => {
                parker.park(seen);
                slept = true;
            }
        }
    }
}

#[cfg(all(test, not(reprise_loom)))]
mod tests {
    use super::{Counter, WaitList, Waiter};

    fn waiter(threshold: u64, who: u32) -> Waiter {
        Waiter { threshold, who, ticket: 0 }
    }

    #[test]
    fn a_change_wakes_only_the_waiters_it_satisfies_lowest_first() {
        let counter = Counter::default();
        for (threshold, who) in [(3, 30), (1, 10), (2, 20), (2, 21)] {
            counter.register(waiter(threshold, who));
        }
        let mut woken = Vec::new();
        counter.add_one(|w| woken.push(w.who));
        assert_eq!(woken, [10]);
        woken.clear();
        counter.raise_to(2, |w| woken.push(w.who));
        woken.sort_unstable();
        assert_eq!(woken, [20, 21]);
        woken.clear();
        counter.raise_to(2, |w| woken.push(w.who));
        assert!(woken.is_empty(), "a change that reaches nobody's threshold wakes nobody");
        counter.add_one(|w| woken.push(w.who));
        assert_eq!(woken, [30]);
        assert_eq!(counter.get(), 3);
    }

    #[test]
    fn a_wait_list_wakes_each_waiter_once_when_its_condition_holds() {
        let list = WaitList::default();
        list.register(1, 7, 5u64);
        list.register(2, 8, 9u64);
        let mut woken = Vec::new();
        list.notify(|&need| need <= 5, |w| woken.push((w.who, w.ticket)));
        assert_eq!(woken, [(1, 7)]);
        list.notify(|&need| need <= 5, |w| woken.push((w.who, w.ticket)));
        assert_eq!(woken, [(1, 7)], "a woken waiter is no longer listed");
        list.notify(|_| true, |w| woken.push((w.who, w.ticket)));
        assert_eq!(woken, [(1, 7), (2, 8)]);
    }
}

#[cfg(all(test, reprise_loom))]
mod loom_tests {
    //! `RUSTFLAGS="--cfg reprise_loom" cargo test -p reprise-replayer --lib loom_tests`
    //!
    //! The gate's wait, as it runs it: register on the key, look again, mark
    //! the thread parked in the liveness count, look again, sleep; and its
    //! `happened`: raise the counter, wake the registered waiters it reaches
    //! (counting each back in before waking it). loom reports a lost wake-up
    //! as a deadlock (the waiter asleep with nobody left to wake it).

    use super::{sleep_until, Counter, Parker, Step, Waiter};
    use crate::liveness::{Liveness, ParkSlot, Quiescence};
    use loom::sync::Arc;
    use loom::thread;

    struct Shared {
        counter: Counter,
        parkers: [Parker; 2],
        slots: [ParkSlot; 2],
        live: Liveness,
    }

    fn shared(running: u64) -> Arc<Shared> {
        Arc::new(Shared {
            counter: Counter::default(),
            parkers: [Parker::default(), Parker::default()],
            slots: [ParkSlot::new(), ParkSlot::new()],
            live: Liveness::new(running),
        })
    }

    fn wait(s: &Shared, who: u32, threshold: u64) {
        let slot = &s.slots[who as usize];
        let mut ticket = 0;
        s.counter.register(Waiter { threshold, who, ticket });
        sleep_until(&s.parkers[who as usize], |slept| {
            if s.counter.get() >= threshold {
                return Step::Done(());
            }
            if slept {
                ticket += 1;
                s.counter.register(Waiter { threshold, who, ticket });
            }
            if !slot.is_parked() {
                s.live.park(slot);
                return Step::Again;
            }
            Step::Sleep
        });
        s.live.unpark(slot);
    }

    fn wake(s: &Shared) -> impl FnMut(Waiter) + '_ {
        |w| {
            s.live.unpark(&s.slots[w.who as usize]);
            s.parkers[w.who as usize].unpark();
        }
    }

    fn model(f: impl Fn() + Sync + Send + 'static) {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound.get_or_insert(2);
        builder.check(f);
    }

    #[test]
    fn a_waker_racing_a_registering_waiter_always_wakes_it() {
        model(|| {
            let s = shared(2);
            let waiter = {
                let s = Arc::clone(&s);
                thread::spawn(move || {
                    wait(&s, 0, 1);
                    s.live.leave();
                })
            };
            s.counter.add_one(wake(&s));
            assert_ne!(s.live.check(|| false), Quiescence::Stuck, "the waker is running");
            s.live.leave();
            waiter.join().unwrap();
            assert_eq!(s.live.snapshot().running(), 0, "every park was undone once");
        });
    }

    #[test]
    fn two_waiters_on_one_key_wake_in_turn_and_none_is_lost() {
        model(|| {
            let s = shared(3);
            let waiters: Vec<_> = [(0u32, 1u64), (1, 2)]
                .into_iter()
                .map(|(who, threshold)| {
                    let s = Arc::clone(&s);
                    thread::spawn(move || {
                        wait(&s, who, threshold);
                        s.live.leave();
                    })
                })
                .collect();
            s.counter.add_one(wake(&s));
            s.counter.add_one(wake(&s));
            s.live.leave();
            for waiter in waiters {
                waiter.join().unwrap();
            }
        });
    }

    #[test]
    fn a_waiter_whose_key_never_moves_is_a_proven_stall() {
        model(|| {
            let s = shared(1);
            let waiter = {
                let s = Arc::clone(&s);
                thread::spawn(move || {
                    wait(&s, 0, 1);
                    s.live.leave();
                })
            };
            loop {
                match s.live.check(|| s.counter.get() >= 1) {
                    Quiescence::Stuck => break,
                    Quiescence::Wakeable => panic!("nothing moved the key, yet the wait looked satisfied"),
                    Quiescence::Busy => thread::yield_now(),
                }
            }
            // The stall is reported; the replay's stop releases the waiter.
            s.counter.add_one(wake(&s));
            waiter.join().unwrap();
        });
    }
}
