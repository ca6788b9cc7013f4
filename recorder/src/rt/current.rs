//! Where this thread's context is kept, and the one way to borrow it.
//!
//! Every recorded event borrows the context once, so the borrow is on the
//! hot path. A `RefCell<Option<Box<ThreadCtx>>>` thread-local needs a
//! destructor, and std reaches such a thread-local through an out-of-line
//! accessor that checks its registration state, with `LocalKey::with` left
//! out of line around the whole record path. Here the hot path reads a
//! const thread-local pointer without a destructor instead: one load from
//! the thread's TLS block. A second, zero-sized thread-local with a
//! destructor owns nothing but the duty to free a context still installed
//! when the thread exits; it is touched only by [`install`].
//!
//! The pointer is swapped for [`IN_USE`] while a borrow runs, which is what
//! `RefCell`'s flag did: a second borrow on the same thread (a primitive
//! called from inside a record path) panics instead of aliasing.

use std::cell::Cell;
use std::ptr;

use super::context::ThreadCtx;

thread_local! {
    /// The installed context: null without one, [`IN_USE`] while borrowed,
    /// else a pointer from `Box::into_raw` that this module alone frees.
    static CURRENT: Cell<*mut ThreadCtx> = const { Cell::new(ptr::null_mut()) };
    /// Frees a context left installed at thread exit.
    static OWNER: Owner = const { Owner };
}

/// Stands in [`CURRENT`] while the context is borrowed. No allocation of a
/// `ThreadCtx` can sit at this address (the type's alignment, as an address).
const IN_USE: *mut ThreadCtx = ptr::dangling_mut();

struct Owner;

impl Drop for Owner {
    fn drop(&mut self) {
        // A thread-local destructor that runs later sees no context.
        let left = CURRENT.replace(ptr::null_mut());
        if left != IN_USE && !left.is_null() {
            // SAFETY: `left` came from `Box::into_raw` in `install` and was
            // swapped out of `CURRENT` above, so nothing else frees or
            // borrows it.
            drop(unsafe { Box::from_raw(left) });
        }
    }
}

/// Puts the borrowed pointer back when the borrow ends, unwinding included.
struct Restore(*mut ThreadCtx);

impl Drop for Restore {
    #[inline(always)]
    fn drop(&mut self) {
        CURRENT.set(self.0);
    }
}

/// Runs `f` on the context, `None` (without calling it) when the thread has
/// none. Panics when the context is already borrowed further up the stack.
#[inline(always)]
pub(crate) fn borrow<R>(f: impl FnOnce(&mut ThreadCtx) -> R) -> Option<R> {
    let ptr = CURRENT.replace(IN_USE);
    if ptr == IN_USE || ptr.is_null() {
        CURRENT.set(ptr);
        if ptr == IN_USE {
            already_borrowed();
        }
        return None;
    }
    let _restore = Restore(ptr);
    // SAFETY: `ptr` came from `Box::into_raw` in `install`, and is freed only
    // by `take` or `Owner::drop`, each after swapping it out of `CURRENT`.
    // While `f` runs, `CURRENT` holds `IN_USE`, so no other borrow, `take`
    // or `install` on this thread reaches it (they panic), and no other
    // thread reads this thread's `CURRENT`: the `&mut` is unique.
    Some(f(unsafe { &mut *ptr }))
}

/// Runs `f` on the context if the thread has one that is not borrowed:
/// safe where a borrow may be live further up the stack (a panic hook).
pub(crate) fn peek<R>(f: impl FnOnce(&ThreadCtx) -> R) -> Option<R> {
    let ptr = CURRENT.try_with(Cell::get).ok()?;
    if ptr == IN_USE || ptr.is_null() {
        return None;
    }
    let _restore = Restore(CURRENT.replace(IN_USE));
    // SAFETY: as in `borrow`; `IN_USE` keeps any other borrow out while `f`
    // runs.
    Some(f(unsafe { &*ptr }))
}

/// [`borrow`], but `None` rather than a panic when the context is in use
/// further up the stack, and after the thread's locals are gone: for code
/// that may run anywhere (an `atexit` handler).
pub(crate) fn borrow_if_free<R>(f: impl FnOnce(&mut ThreadCtx) -> R) -> Option<R> {
    let ptr = CURRENT.try_with(Cell::get).ok()?;
    if ptr == IN_USE || ptr.is_null() {
        return None;
    }
    borrow(f)
}

/// Installs `ctx`, dropping a context installed before.
pub(crate) fn install(ctx: Box<ThreadCtx>) {
    // Registers the destructor; a thread already past its thread-locals'
    // destruction leaks the context at exit rather than failing here.
    let _ = OWNER.try_with(|_| ());
    let before = CURRENT.replace(Box::into_raw(ctx));
    if before == IN_USE {
        CURRENT.set(before);
        already_borrowed();
    }
    if !before.is_null() {
        // SAFETY: `before` came from `Box::into_raw` and was swapped out of
        // `CURRENT` above.
        drop(unsafe { Box::from_raw(before) });
    }
}

/// Removes the context and hands it back.
pub(crate) fn take() -> Option<Box<ThreadCtx>> {
    let ptr = CURRENT.replace(ptr::null_mut());
    if ptr == IN_USE {
        CURRENT.set(ptr);
        already_borrowed();
    }
    // SAFETY: a non-null pointer here came from `Box::into_raw` and was
    // swapped out of `CURRENT` above.
    (!ptr.is_null()).then(|| unsafe { Box::from_raw(ptr) })
}

#[cold]
#[inline(never)]
fn already_borrowed() -> ! {
    panic!("reprise: a primitive was called while this thread's context was in use (a reprise call from inside another)")
}

#[cfg(test)]
mod tests {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::Arc;

    use super::*;
    use crate::rt::context::root_seed;
    use crate::rt::exec::{ExecKind, Execution, RecordSink};

    /// An untraced execution (no buffer to flush) and a context of it.
    fn context() -> (Arc<Execution>, Box<ThreadCtx>) {
        let (to_writer, _) = crossbeam_channel::unbounded();
        let (_, recycled) = crossbeam_channel::bounded(1);
        let sink = RecordSink {
            to_writer,
            recycled,
            seed: 1,
            clock: crate::rt::flush::FlushClock::new(false),
            handover: std::time::Duration::ZERO,
        };
        let exec = Execution::new_coop(ExecKind::Record(sink), false);
        let ctx = Box::new(ThreadCtx::new(root_seed(&exec, "t")));
        (exec, ctx)
    }

    #[test]
    fn a_borrow_inside_a_borrow_panics_and_the_outer_one_still_has_the_context() {
        std::thread::spawn(|| {
            let (_exec, ctx) = context();
            install(ctx);
            let inner = borrow(|outer| {
                let inner = catch_unwind(AssertUnwindSafe(|| borrow(|_| ())));
                outer.sends += 1;
                inner
            });
            assert!(inner.expect("the context is installed").is_err(), "a nested borrow must not alias");
            assert_eq!(borrow(|ctx| ctx.sends), Some(1), "the outer borrow put the context back");
            assert!(take().is_some());
        })
        .join()
        .unwrap();
    }

    #[test]
    fn take_or_install_during_a_borrow_panics_and_leaves_the_context() {
        std::thread::spawn(|| {
            let (exec, ctx) = context();
            install(ctx);
            borrow(|_| {
                assert!(catch_unwind(take).is_err());
                let (_, other) = context();
                assert!(catch_unwind(AssertUnwindSafe(|| install(other))).is_err());
                assert!(peek(|_| ()).is_none(), "peek stays out of a live borrow");
            });
            assert_eq!(peek(|ctx| ctx.exec.id), Some(exec.id));
            assert!(take().is_some());
            assert!(take().is_none());
            assert!(borrow(|_| ()).is_none());
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_context_left_installed_is_dropped_when_its_thread_exits() {
        let exec = std::thread::spawn(|| {
            let (exec, ctx) = context();
            install(ctx);
            exec
        })
        .join()
        .unwrap();
        assert_eq!(Arc::strong_count(&exec), 1, "the context's hold on its execution went with the thread");
    }
}
