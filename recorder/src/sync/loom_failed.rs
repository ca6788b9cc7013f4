//! Under `--cfg reprise_loom`: whether loom itself failed the running
//! execution (a deadlock report, raised inside a blocking loom operation).
//! After that report the execution has no running thread and any loom
//! operation panics again, which while unwinding aborts the test process.
//! A user's panic caught inside the model (`catch_unwind`) leaves the
//! execution running: the drops it unwinds through (a channel end's, which
//! counts ends under a loom mutex) must still run their loom operations, or
//! the other side never sees the disconnection and loom reports a deadlock
//! that std would not have.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

std::thread_local! {
    /// Set when a panic unwound out of a blocking loom operation on this OS
    /// thread (loom runs all of a model's threads on the one that called
    /// it); cleared by [`fresh`].
    static FAILED: Cell<bool> = const { Cell::new(false) };
}

/// Held across a blocking loom operation: a panic unwinding out of it is
/// loom's report (no user code runs inside), and marks the execution failed.
pub(crate) struct Blocking(());

impl Blocking {
    pub(crate) fn enter() -> Blocking {
        Blocking(())
    }
}

impl Drop for Blocking {
    fn drop(&mut self) {
        if std::thread::panicking() {
            FAILED.set(true);
        }
    }
}

/// Forgets a failure of an earlier model on this OS thread (called when a
/// model makes a channel, before any of its ends can drop).
pub(crate) fn fresh() {
    if !std::thread::panicking() {
        FAILED.set(false);
    }
}

/// Runs `f`, a drop's loom operations: always when not unwinding; while
/// unwinding, only if loom has not failed the execution (a caught panic),
/// and then inside `catch_unwind` in case loom failed it where reprise did
/// not see (a blocking loom call the user made directly), so a second panic
/// is not an abort.
pub(crate) fn in_drop(f: impl FnOnce()) {
    if !std::thread::panicking() {
        f();
    } else if !FAILED.get() {
        let _ = panic::catch_unwind(AssertUnwindSafe(f));
    }
}

/// Set, on a lock's flag, when its guard is dropped while unwinding from a
/// panic that began under it (caught inside the model): loom's own lock is
/// poisoned then (std's rule: a guard taken while already unwinding does
/// not poison), and loom panics (`PoisonError`, inside loom) on its next
/// acquisition.
pub(crate) struct PoisonMark<'a> {
    poisoned: &'a AtomicBool,
    /// Whether the thread was unwinding when the guard was taken.
    unwinding: bool,
}

impl PoisonMark<'_> {
    pub(crate) fn new(poisoned: &AtomicBool) -> PoisonMark<'_> {
        PoisonMark { poisoned, unwinding: std::thread::panicking() }
    }
}

impl Drop for PoisonMark<'_> {
    fn drop(&mut self) {
        if !self.unwinding && std::thread::panicking() {
            self.poisoned.store(true, Ordering::Relaxed);
        }
    }
}

/// Fails the model, saying why, when `poisoned`: loom cannot lock its
/// `kind` again once a panic under its guard was caught (see [`PoisonMark`]).
#[track_caller]
pub(crate) fn refuse_poisoned(poisoned: &AtomicBool, kind: &str) {
    if poisoned.load(Ordering::Relaxed) {
        panic!(
            "reprise under loom: this {kind} was locked again after a panic under its guard was caught \
             inside the model (catch_unwind). loom's {kind} stays poisoned and cannot be locked again, \
             so recovering from poison (into_inner of the PoisonError, clear_poison) cannot be modelled \
             under loom; is_poisoned and the shell's into_inner/get_mut still report it"
        );
    }
}
