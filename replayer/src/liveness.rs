//! Whether a replay can still make progress, decided from state: a count of
//! the replay's threads that are not parked, and the park/wake handshake that
//! keeps that count exact when a waker and a parker race.
//!
//! A stall is declared only when the count is 0 (every thread is parked) and
//! no parked thread's wait is satisfied. Time plays no part: a thread that
//! computes, sits at a breakpoint or is descheduled on a loaded machine is
//! counted as running, so it is never mistaken for a stall.
//!
//! The rules that make "the count is 0" mean "every thread is parked":
//!
//! - A thread is counted from before it can run: the root when the replay
//!   begins, a child when its parent's spawn is admitted (not when the child
//!   gets around to registering itself, or a parent that spawns and then
//!   parks would leave the count at 0 with the child about to run).
//! - A parker marks its slot, then leaves the count, then checks its wait
//!   again before sleeping: a waker that made the wait true before the mark
//!   was visible did not see it, so the parker must see the waker's change.
//! - Whoever clears a parked mark counts that thread back in, before the
//!   thread can run: a waker before it notifies, the watchdog repairing a
//!   lost wake-up, or the thread itself after a spurious wake-up or a stop.
//!   The mark is cleared by a swap, so each park is undone exactly once.
//! - The count shares one atomic word with a generation that every change
//!   bumps, so the watchdog can tell that the count stayed 0 (nothing ran)
//!   while it checked the parked threads' waits; a satisfied wait with the
//!   count at 0 is a lost wake-up or a parker in its re-check, never a stall.
//!
//! Only atomics: it works as it is under a gate with no lock, and under loom
//! (`--cfg reprise_loom`, see the model checks at the end).

#[cfg(reprise_loom)]
use loom::sync::atomic::{AtomicBool, AtomicU64, Ordering};
#[cfg(not(reprise_loom))]
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Bits of the word that hold the count of running threads; the rest hold
/// the generation, which may wrap (only its equality between two reads
/// matters, and 2^40 changes cannot happen between them).
const RUNNING_BITS: u32 = 24;
const ONE_RUNNING: u64 = 1;
const ONE_GENERATION: u64 = 1 << RUNNING_BITS;
const RUNNING_MASK: u64 = ONE_GENERATION - 1;

/// The running count of one replay, and its generation.
#[derive(Debug)]
pub(crate) struct Liveness {
    word: AtomicU64,
}

/// One thread's parked mark.
#[derive(Debug, Default)]
pub(crate) struct ParkSlot {
    parked: AtomicBool,
}

impl ParkSlot {
    /// A slot whose thread is not parked.
    pub(crate) fn new() -> ParkSlot {
        ParkSlot { parked: AtomicBool::new(false) }
    }

    /// Whether its thread is parked. A thread that was woken but finds its
    /// wait not over (a wake-up that raced another) sees its slot unparked
    /// and parks again; only the slot's own thread marks it, so that load
    /// cannot race a mark.
    pub(crate) fn is_parked(&self) -> bool {
        self.parked.load(Ordering::SeqCst)
    }
}

/// The count and generation at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Snapshot(u64);

impl Snapshot {
    /// Threads that are not parked.
    pub(crate) fn running(self) -> u64 {
        self.0 & RUNNING_MASK
    }
}

/// What the watchdog may conclude.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Quiescence {
    /// Some thread is running (or was, while the waits were checked).
    Busy,
    /// Every thread is parked, but some parked thread's wait is satisfied:
    /// a wake-up was lost, or a parker is about to see it. Wake it.
    Wakeable,
    /// Every thread is parked and no parked thread's wait is satisfied, and
    /// nothing ran while that was checked: no thread can ever go on.
    Stuck,
}

impl Liveness {
    /// A replay with `running` threads counted (its root, before it starts).
    pub(crate) fn new(running: u64) -> Liveness {
        Liveness { word: AtomicU64::new(running) }
    }

    /// The count and generation now.
    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot(self.word.load(Ordering::SeqCst))
    }

    /// A thread will run: counted from its parent's spawn, before it exists.
    pub(crate) fn enter(&self) {
        self.word.fetch_add(ONE_GENERATION + ONE_RUNNING, Ordering::SeqCst);
    }

    /// A counted thread finished.
    pub(crate) fn leave(&self) {
        // Adds the generation and subtracts one running thread in one step;
        // the count is at least 1 here, so no borrow reaches the generation.
        self.word.fetch_add(ONE_GENERATION.wrapping_sub(ONE_RUNNING), Ordering::SeqCst);
    }

    /// The calling thread is about to sleep in `slot`. It must check its wait
    /// again afterwards, and call [`Liveness::unpark`] on its own slot when it
    /// stops waiting for any reason.
    pub(crate) fn park(&self, slot: &ParkSlot) {
        // A swap, not a store: with every write of the mark a read-modify-
        // write, the marks are totally ordered and each unpark's swap reads
        // the latest park (loom 0.7 let a swap read past a plain store).
        slot.parked.swap(true, Ordering::SeqCst);
        self.leave();
    }

    /// Counts `slot`'s thread back in if it is parked; true if this call did.
    /// A waker calls it before notifying the thread, so the thread is never
    /// running uncounted.
    pub(crate) fn unpark(&self, slot: &ParkSlot) -> bool {
        if slot.parked.swap(false, Ordering::SeqCst) {
            self.enter();
            true
        } else {
            false
        }
    }

    /// Decides whether the replay is stuck. `satisfiable` says whether any
    /// parked thread's wait is satisfied, from the gate's counters.
    pub(crate) fn check(&self, satisfiable: impl FnOnce() -> bool) -> Quiescence {
        let before = self.snapshot();
        if before.running() > 0 {
            return Quiescence::Busy;
        }
        if satisfiable() {
            return Quiescence::Wakeable;
        }
        // Only a running thread changes the counters: if the count stayed 0
        // (same generation) the counters read above were the settled ones.
        if self.snapshot() != before {
            return Quiescence::Busy;
        }
        Quiescence::Stuck
    }
}

#[cfg(all(test, not(reprise_loom)))]
mod tests {
    use super::{Liveness, ParkSlot, Quiescence};

    #[test]
    fn a_park_is_undone_once_whoever_undoes_it() {
        let live = Liveness::new(1);
        let slot = ParkSlot::new();
        live.park(&slot);
        assert_eq!(live.snapshot().running(), 0);
        assert!(slot.is_parked());
        assert!(live.unpark(&slot), "the waker counts it back in");
        assert!(!live.unpark(&slot), "the woken thread does not count itself twice");
        assert_eq!(live.snapshot().running(), 1);
    }

    #[test]
    fn a_spawned_thread_keeps_the_replay_busy_while_its_parent_parks() {
        let live = Liveness::new(1);
        let parent = ParkSlot::new();
        live.enter(); // the spawn is admitted
        live.park(&parent);
        assert_eq!(live.check(|| false), Quiescence::Busy);
        live.leave(); // the child finished without waking its parent
        assert_eq!(live.check(|| false), Quiescence::Stuck);
        assert_eq!(live.check(|| true), Quiescence::Wakeable);
    }

    #[test]
    fn a_change_while_the_waits_are_checked_is_not_a_stall() {
        let live = Liveness::new(1);
        let slot = ParkSlot::new();
        live.park(&slot);
        // A spurious wake-up and re-park between the two looks.
        let verdict = live.check(|| {
            live.unpark(&slot);
            live.park(&slot);
            false
        });
        assert_eq!(verdict, Quiescence::Busy);
    }
}

#[cfg(all(test, reprise_loom))]
mod loom_tests {
    //! `RUSTFLAGS="--cfg reprise_loom" cargo test -p reprise-replayer --lib loom_tests`
    //!
    //! Each model has a parker that waits for a flag (its "recorded event"),
    //! spinning on its slot as a condvar would sleep, and a watchdog (the
    //! model's own thread) that looks once, at every point loom tries.

    use super::{Liveness, ParkSlot, Quiescence};
    use loom::sync::atomic::{AtomicBool, Ordering};
    use loom::sync::Arc;
    use loom::thread;

    struct Shared {
        live: Liveness,
        slot: ParkSlot,
        /// The parker's wait: "the message was sent".
        sent: AtomicBool,
        /// The watchdog stopped the replay (releases the parker).
        stopped: AtomicBool,
    }

    fn shared(running: u64) -> Arc<Shared> {
        Arc::new(Shared {
            live: Liveness::new(running),
            slot: ParkSlot::new(),
            sent: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
        })
    }

    /// The gate's wait: park, check again, sleep until unparked or stopped.
    fn wait_for_message(s: &Shared) {
        loop {
            if s.sent.load(Ordering::SeqCst) || s.stopped.load(Ordering::SeqCst) {
                break;
            }
            if !s.slot.is_parked() {
                // Mark, leave the count, then look again before sleeping.
                s.live.park(&s.slot);
                continue;
            }
            thread::yield_now();
        }
        s.live.unpark(&s.slot);
    }

    /// The gate's `happened`: make the event true, then wake its waiter.
    fn send(s: &Shared) {
        s.sent.store(true, Ordering::SeqCst);
        s.live.unpark(&s.slot);
    }

    fn look(s: &Shared) -> Quiescence {
        s.live.check(|| s.sent.load(Ordering::SeqCst))
    }

    fn model(f: impl Fn() + Sync + Send + 'static) {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound.get_or_insert(2);
        builder.check(f);
    }

    #[test]
    fn a_waker_racing_a_parker_is_never_a_stall() {
        model(|| {
            let s = shared(2);
            let parker = {
                let s = Arc::clone(&s);
                thread::spawn(move || {
                    wait_for_message(&s);
                    s.live.leave();
                })
            };
            let waker = {
                let s = Arc::clone(&s);
                thread::spawn(move || {
                    send(&s);
                    s.live.leave();
                })
            };
            assert_ne!(look(&s), Quiescence::Stuck, "a false stall");
            parker.join().unwrap();
            waker.join().unwrap();
            assert_eq!(s.live.snapshot().running(), 0, "every park was undone once");
        });
    }

    #[test]
    fn a_child_spawned_before_its_parent_parks_is_never_a_stall() {
        model(|| {
            let s = shared(1);
            let parent = {
                let s = Arc::clone(&s);
                thread::spawn(move || {
                    // The spawn is admitted: the child is counted before it runs.
                    s.live.enter();
                    let child = {
                        let s = Arc::clone(&s);
                        thread::spawn(move || {
                            send(&s);
                            s.live.leave();
                        })
                    };
                    wait_for_message(&s);
                    s.live.leave();
                    child.join().unwrap();
                })
            };
            assert_ne!(look(&s), Quiescence::Stuck, "a false stall");
            parent.join().unwrap();
        });
    }

    #[test]
    fn every_thread_parked_on_an_event_nobody_sends_is_a_stall() {
        model(|| {
            let s = shared(2);
            let parker = {
                let s = Arc::clone(&s);
                thread::spawn(move || {
                    wait_for_message(&s);
                    s.live.leave();
                })
            };
            let bystander = {
                let s = Arc::clone(&s);
                // Runs and finishes without sending.
                thread::spawn(move || s.live.leave())
            };
            bystander.join().unwrap();
            loop {
                match look(&s) {
                    Quiescence::Stuck => break,
                    Quiescence::Wakeable => panic!("nothing was sent, yet a wait looked satisfied"),
                    Quiescence::Busy => thread::yield_now(),
                }
            }
            assert!(s.slot.parked.load(Ordering::SeqCst), "the stall names a parked thread");
            s.stopped.store(true, Ordering::SeqCst);
            parker.join().unwrap();
        });
    }
}
