//! Who is unwinding, when the run's threads share one OS thread's panic
//! count: the explorer's and a coroutine replay's.
//!
//! std counts panics per OS thread (`std::thread::panicking()`), and every
//! explored (or coroutine-replayed) thread runs on the one OS thread. A
//! thread that blocks in a `Drop` while it unwinds (on a lock another
//! thread holds), or reaches a scheduling point there (a channel's drop)
//! and is switched out, is suspended with that count raised, and the
//! threads it lets run would all read "panicking": their guards would
//! poison their locks, and `reprise::thread::panicking` would lie. This
//! keeps the answer per thread: with no thread suspended mid-unwind, the
//! running thread is the only one the count can be about; with one, the
//! running thread unwinds only if it started a panic since.
//! Whether such a thread has caught its panic by a later call, only
//! `reprise::panic::catch_unwind` says (std's says nothing): until its
//! catches balance its panics the answer is a guess (yes), right if they
//! come to balance or if the panic ends the thread; a run that guessed
//! otherwise is marked uncertain. A run that starts with the count raised
//! (an earlier run's teardown left a fiber mid-unwind on this OS thread,
//! never to end) is answered as beside a suspended unwinder, all along.

use reprise_recorder::trace::model::ThreadIndex;

/// The run's unwinding threads.
#[derive(Default)]
pub(crate) struct Unwinding {
    /// Threads suspended while they unwind, each with whether it blocked
    /// (`false`: switched out at a scheduling point, still runnable).
    suspended: Vec<(ThreadIndex, bool)>,
    /// Threads that started a panic while another was suspended mid-unwind.
    started: Vec<Panicker>,
    /// A guess may have been wrong.
    uncertain: bool,
    /// The count was raised before the run started, by no thread of it.
    raised_before: bool,
}

struct Panicker {
    thread: ThreadIndex,
    /// Panics it started since it was first counted.
    panics: u32,
    /// It was answered "unwinding" without knowing.
    guessed: bool,
    /// A panic ended it.
    ended_in_panic: bool,
}

impl Unwinding {
    /// A run's, on an OS thread whose panic count is raised already
    /// (`raised_before`) or not.
    pub(crate) fn new(raised_before: bool) -> Unwinding {
        Unwinding { raised_before, ..Unwinding::default() }
    }

    /// Whether the count may be about a thread other than the running one.
    fn shared(&self) -> bool {
        self.raised_before || !self.suspended.is_empty()
    }

    /// Whether the raised panic count is `running`'s own.
    pub(crate) fn unwinds_own(&mut self, running: Option<ThreadIndex>) -> bool {
        if !self.shared() {
            return true;
        }
        let Some(me) = running else { return true };
        match self.started.iter_mut().find(|p| p.thread == me) {
            Some(p) => {
                p.guessed = true;
                true
            }
            None => false,
        }
    }

    /// Whether [`Unwinding::unwinds_own`] would answer for `running` by a
    /// guess: another thread is suspended mid-unwind and `running` started
    /// a panic no seen catch balanced.
    pub(crate) fn would_guess(&self, running: ThreadIndex) -> bool {
        self.shared() && self.started.iter().any(|p| p.thread == running)
    }

    /// `thread` blocks (`blocked`) or is switched out while it unwinds: it
    /// stays suspended mid-unwind until it runs again.
    pub(crate) fn suspend(&mut self, thread: ThreadIndex, blocked: bool) {
        self.suspended.push((thread, blocked));
        // It unwinds: resumed while another is suspended too, it is among
        // the threads the raised count is about (not only those that
        // started a panic while one was suspended).
        if !self.started.iter().any(|p| p.thread == thread) {
            self.started.push(Panicker { thread, panics: 1, guessed: false, ended_in_panic: false });
        }
    }

    /// Whether any thread is suspended mid-unwind.
    pub(crate) fn any_suspended(&self) -> bool {
        !self.suspended.is_empty()
    }

    /// Whether `thread` is suspended mid-unwind: `Some(blocked)`.
    pub(crate) fn suspended(&self, thread: ThreadIndex) -> Option<bool> {
        self.suspended.iter().find(|&&(t, _)| t == thread).map(|&(_, blocked)| blocked)
    }

    /// `thread` runs again: it goes on unwinding, or blocks again and says so.
    pub(crate) fn resume(&mut self, thread: ThreadIndex) {
        self.suspended.retain(|&(t, _)| t != thread);
        if !self.shared() {
            // The count is the running thread's alone again; a guess made
            // meanwhile is judged when its thread ends.
            self.started.retain(|p| p.guessed);
        }
    }

    /// `thread` starts a panic.
    pub(crate) fn panic_started(&mut self, thread: ThreadIndex) {
        let shared = self.shared();
        match self.started.iter_mut().find(|p| p.thread == thread) {
            Some(p) => p.panics += 1,
            None if shared => {
                self.started.push(Panicker { thread, panics: 1, guessed: false, ended_in_panic: false });
            }
            None => {}
        }
    }

    /// `thread` caught a panic (through reprise's `catch_unwind`): once its
    /// catches balance the panics it started, it is known not to unwind,
    /// and the guesses made about it were right.
    pub(crate) fn panic_caught(&mut self, thread: ThreadIndex) {
        if let Some(at) = self.started.iter().position(|p| p.thread == thread) {
            let p = &mut self.started[at];
            p.panics = p.panics.saturating_sub(1);
            if p.panics == 0 {
                self.started.swap_remove(at);
            }
        }
    }

    /// `thread` ends by a panic it did not catch.
    pub(crate) fn ended_in_panic(&mut self, thread: ThreadIndex) {
        if let Some(p) = self.started.iter_mut().find(|p| p.thread == thread) {
            p.ended_in_panic = true;
        }
    }

    /// `thread` is done: its guesses were right if the one panic it started
    /// ended it.
    pub(crate) fn finished(&mut self, thread: ThreadIndex) {
        if let Some(at) = self.started.iter().position(|p| p.thread == thread) {
            let p = self.started.swap_remove(at);
            if p.guessed && !(p.panics == 1 && p.ended_in_panic) {
                self.uncertain = true;
            }
        }
    }

    /// Whether the run's verdict rests on a guess that may be wrong: one
    /// judged so, or one whose thread never ended.
    pub(crate) fn uncertain(&self) -> bool {
        self.uncertain || self.started.iter().any(|p| p.guessed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_resumed_mid_unwind_beside_another_suspended_one_still_unwinds() {
        let mut u = Unwinding::default();
        // 1 panics alone, blocks in a Drop; 2 panics, blocks in a Drop too.
        u.panic_started(1);
        u.suspend(1, true);
        u.panic_started(2);
        u.suspend(2, true);
        // 1 goes on unwinding while 2 waits.
        u.resume(1);
        assert!(u.unwinds_own(Some(1)), "1 is mid-unwind");
        assert!(!u.unwinds_own(Some(3)), "3 never panicked");
        // 1's panic ends it; 2 goes on alone.
        u.ended_in_panic(1);
        u.finished(1);
        u.resume(2);
        assert!(u.unwinds_own(Some(2)));
        assert!(!u.uncertain(), "1's answer was right: its one panic ended it");
    }

    #[test]
    fn a_thread_switched_out_mid_unwind_is_not_the_others_panic() {
        let mut u = Unwinding::default();
        u.panic_started(0);
        u.suspend(0, false);
        assert!(!u.unwinds_own(Some(1)), "1 runs beside 0's unwind, it does not unwind");
        assert_eq!(u.suspended(0), Some(false), "runnable, not blocked");
        assert_eq!(u.suspended(1), None);
        u.resume(0);
        assert!(u.unwinds_own(Some(0)));
        assert_eq!(u.suspended(0), None);
    }

    #[test]
    fn a_count_raised_before_the_run_is_nobody_s_until_a_thread_panics() {
        let mut u = Unwinding::new(true);
        assert!(!u.unwinds_own(Some(0)), "the count is an earlier run's");
        u.panic_started(1);
        assert!(u.unwinds_own(Some(1)));
        assert!(!u.unwinds_own(Some(0)));
        u.panic_caught(1);
        assert!(!u.unwinds_own(Some(1)), "caught");
        u.suspend(2, true);
        u.resume(2);
        assert!(!u.unwinds_own(Some(3)), "still raised by the earlier run");
    }

    #[test]
    fn only_a_thread_that_panicked_beside_a_suspended_unwinder_is_guessed() {
        let mut u = Unwinding::default();
        u.panic_started(1);
        assert!(!u.would_guess(1), "alone, the count is 1's own");
        u.suspend(1, true);
        u.panic_started(2);
        assert!(u.would_guess(2));
        assert!(!u.would_guess(3), "3 never panicked: a sure no");
        u.panic_caught(2);
        assert!(!u.would_guess(2), "its catch was seen");
    }

    #[test]
    fn with_no_thread_suspended_the_count_is_the_running_thread_s() {
        let mut u = Unwinding::default();
        u.panic_started(1);
        assert!(u.unwinds_own(Some(1)));
        assert!(u.unwinds_own(Some(2)));
        assert!(!u.uncertain());
    }

    #[test]
    fn beside_a_suspended_unwinder_only_a_thread_that_panicked_since_unwinds() {
        let mut u = Unwinding::default();
        u.suspend(0, true);
        assert!(!u.unwinds_own(Some(1)));
        u.panic_started(1);
        assert!(u.unwinds_own(Some(1)));
        assert!(!u.unwinds_own(Some(2)));
        u.resume(0);
        assert!(u.unwinds_own(Some(2)), "no one suspended: std's count is exact");
    }

    #[test]
    fn a_guess_is_right_when_the_one_panic_ends_its_thread() {
        let mut u = Unwinding::default();
        u.suspend(0, true);
        u.panic_started(1);
        assert!(u.unwinds_own(Some(1)));
        assert!(u.uncertain(), "undecided while the thread lives");
        u.ended_in_panic(1);
        u.finished(1);
        assert!(!u.uncertain());
    }

    #[test]
    fn a_guess_about_a_thread_that_ends_normally_or_panicked_twice_is_uncertain() {
        for panics in [1, 2] {
            let mut u = Unwinding::default();
            u.suspend(0, true);
            for _ in 0..panics {
                u.panic_started(1);
            }
            assert!(u.unwinds_own(Some(1)));
            if panics == 2 {
                u.ended_in_panic(1);
            }
            u.finished(1);
            assert!(u.uncertain(), "{panics} panics");
        }
    }

    #[test]
    fn a_seen_catch_settles_the_guesses_about_its_panic() {
        let mut u = Unwinding::default();
        u.suspend(0, true);
        u.panic_started(1);
        u.panic_started(1);
        assert!(u.unwinds_own(Some(1)));
        u.panic_caught(1);
        assert!(u.unwinds_own(Some(1)), "one of its two panics still unwinds");
        u.panic_caught(1);
        assert!(!u.unwinds_own(Some(1)), "both caught");
        u.finished(1);
        assert!(!u.uncertain());
    }

    #[test]
    fn an_unguessed_panicker_is_forgotten_once_no_one_is_suspended() {
        let mut u = Unwinding::default();
        u.suspend(0, true);
        u.panic_started(1);
        u.resume(0);
        u.finished(1);
        assert!(!u.uncertain());
        assert!(u.unwinds_own(Some(1)));
    }
}
