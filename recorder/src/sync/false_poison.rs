//! A lock released under the explorer while another of the run's threads is
//! suspended mid-unwind.
//!
//! std's guard poisons its lock when it drops while `thread::panicking()`,
//! which counts panics per OS thread. The explorer's threads share one OS
//! thread, so while one waits in a `Drop` during its unwind (for a lock
//! another holds) the count stays raised for the threads it lets run, and
//! each of their guards would poison its lock though none of them panicked.
//! std runs those threads on their own OS threads, where that never happens.

use crate::rt::coop;

/// Drops `guard`, a std guard of a lock whose flag `poisoned` reads and
/// `clear` clears, undoing the poison std sets only because another thread
/// unwinds (the lock was clean before, and this thread is not unwinding).
pub(crate) fn drop_guard<G>(guard: G, poisoned: impl Fn() -> bool, clear: impl FnOnce()) {
    let only_another_unwinds = std::thread::panicking() && !coop::panicking() && !poisoned();
    drop(guard);
    if only_another_unwinds {
        clear();
    }
}
