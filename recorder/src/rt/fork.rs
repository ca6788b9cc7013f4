//! A process that forks without exec while reprise runs in it (a pre-fork
//! server, a sandboxed helper): a trace follows one process, so the child
//! runs its primitives plainly, neither recorded nor replayed, and leaves
//! the parent's signals, trace and replay report alone.
//!
//! Before this, the child kept the parent's signal handlers, whose pipe the
//! parent's watcher thread reads: a SIGTERM sent to the child ended the
//! parent (the watcher finished the parent's recording and raised the signal
//! in the parent) and the child lived on. A replayed child followed the
//! parent's trace, diverged, and wrote its verdict into the report the CLI
//! reads for the parent.
//!
//! The child handler runs between `fork` and the child's next instruction,
//! where only async-signal-safe calls are allowed: it stores flags and
//! restores signal dispositions, nothing else. The notice is written when
//! the child exits (`std::process::exit` or returning from `main`), so a
//! fork that goes on to exec (which runs no exit handler) says nothing.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set in a child process forked from one where reprise ran.
static FORKED: AtomicBool = AtomicBool::new(false);

/// Whether this process is a child forked (without exec) from a process in
/// which an execution had started: its primitives run plainly.
pub fn is_forked_child() -> bool {
    FORKED.load(Ordering::Relaxed)
}

/// Arranges for a forked child to leave reprise's state alone; once per
/// process, when the first execution starts.
pub(crate) fn watch() {
    #[cfg(unix)]
    imp::watch();
}

#[cfg(unix)]
mod imp {
    use std::sync::atomic::Ordering;
    use std::sync::Once;

    use super::FORKED;

    static WATCH: Once = Once::new();

    pub(super) fn watch() {
        WATCH.call_once(|| {
            // SAFETY: registers plain `extern "C"` functions with libc; the
            // fork handler makes only async-signal-safe calls, the exit
            // handler catches its own panics.
            unsafe {
                libc::pthread_atfork(None, None, Some(in_child));
                libc::atexit(at_exit);
            }
        });
    }

    extern "C" fn in_child() {
        FORKED.store(true, Ordering::Relaxed);
        crate::rt::signal::forget_in_child();
        crate::rt::context::forked_here();
    }

    extern "C" fn at_exit() {
        if !FORKED.load(Ordering::Relaxed) {
            return;
        }
        // Not `eprintln!`: stderr's lock may have been held by another of
        // the parent's threads when it forked, and is held forever here.
        let mut line = crate::rt::stderr_line::StderrLine::new();
        line.push(b"reprise: process ");
        // SAFETY: getpid cannot fail.
        line.number(u64::from(unsafe { libc::getpid() }.unsigned_abs()));
        line.push(b" was forked without exec from a recorded or replayed process: it ran unrecorded (a trace follows one process)\n");
        line.write();
    }
}
