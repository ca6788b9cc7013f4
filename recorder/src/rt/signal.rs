//! SIGTERM and SIGINT during a recording: finish the trace (flush and end
//! marker), then end the process as the signal would have; every flight
//! recorder dumps first (the moments before a kill are what an incident
//! needs). SIGUSR1 makes every flight recorder dump (see [`crate::flight`])
//! and the process runs on; without a flight recorder it is handled as
//! SIGTERM is.
//!
//! reprise never takes a signal from a host that handles it: a handler is
//! installed only where the disposition is still the default, once per
//! process. The handler only writes the signal's number to a pipe (the one
//! thing it does, and async-signal-safe); a watcher thread reads it, finishes
//! every recording in progress, restores the default action and raises the
//! signal again, so the process ends with the usual status. A host that
//! handles the signal itself keeps control; the recording guard's drop
//! finishes the trace when the host ends the program.
//!
//! `std::process::exit` (libc's `exit`) during a recording finishes it too,
//! from an `atexit` handler registered with the first recording: the
//! exiting thread's own buffer first (it makes no more events), then every
//! recording in progress as a signal does, annotated `reprise.exit`. Before
//! it, only what the flusher had written survived: the events of the last
//! flush interval were lost, and a run that exited within its first
//! interval left a trace whose consistent prefix was empty.

#[cfg(unix)]
pub(crate) use imp::{forget_in_child, unwatch, watch};

/// The footer annotation of a recording that `std::process::exit` ended
/// while its threads ran: their logs end mid-run, as a signal's do, and
/// replay cuts the trace to its consistent prefix ("the trace ended").
pub const EXIT_ANNOTATION: &str = "reprise.exit";

/// Runs `f` when the process ends through `exit` (`std::process::exit`, or
/// `main` returning), before the process is gone: `reprise::main`'s replay
/// writes its report there when the replayed program exits the process
/// itself. Where there is no `atexit` (not unix), `f` never runs.
pub fn at_process_exit(f: extern "C" fn()) {
    #[cfg(unix)]
    // SAFETY: registers a plain `extern "C"` function with libc; it runs
    // on the exiting thread, and catches its own panics.
    unsafe {
        libc::atexit(f);
    }
    #[cfg(not(unix))]
    let _ = f;
}

#[cfg(not(unix))]
pub(crate) fn watch(_exec: &std::sync::Arc<crate::rt::exec::Execution>) {}

#[cfg(not(unix))]
pub(crate) fn unwatch(_exec: &std::sync::Arc<crate::rt::exec::Execution>) {}

#[cfg(unix)]
mod imp {
    use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
    use std::sync::{Arc, Once, Weak};
    use std::time::Duration;

    use parking_lot::Mutex;

    use crate::rt::exec::Execution;
    use crate::trace::format::Verdict;

    /// The signals whose default action ends the process before a trace is
    /// finished. `SIGUSR1` asks the flight recorders for a dump; in a
    /// process without one it ends the process as its default action does.
    const SIGNALS: [libc::c_int; 3] = [libc::SIGTERM, libc::SIGINT, libc::SIGUSR1];

    /// How long the watcher waits for a trace to be written before it lets
    /// the signal end the process anyway: a backstop, never reached while
    /// the writer works.
    const WRITE_BACKSTOP: Duration = Duration::from_secs(10);

    /// The pipe's write end, for the handler (-1 until installed).
    static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);
    static INSTALL: Once = Once::new();
    /// Recordings in progress.
    static ACTIVE: Mutex<Vec<Weak<Execution>>> = Mutex::new(Vec::new());

    /// Signals reprise handles (a bit per signal number), for a forked child
    /// to give back.
    static HANDLED: AtomicU64 = AtomicU64::new(0);

    /// In a child forked without exec: the signals reprise handles go back
    /// to their default action, and the handler writes nowhere. The pipe's
    /// reader is the parent's watcher thread: a SIGTERM to the child ended
    /// the parent. Async-signal-safe: atomics and `sigaction` only.
    pub(crate) fn forget_in_child() {
        PIPE_WRITE.store(-1, Ordering::Relaxed);
        let handled = HANDLED.load(Ordering::Relaxed);
        for signal in SIGNALS {
            if handled & (1 << signal) != 0 {
                // SAFETY: restores the default action, as sigaction(2) documents.
                unsafe {
                    let mut action: libc::sigaction = std::mem::zeroed();
                    action.sa_sigaction = libc::SIG_DFL;
                    libc::sigemptyset(&mut action.sa_mask);
                    libc::sigaction(signal, &action, std::ptr::null_mut());
                }
            }
        }
    }

    /// Finishes `exec`'s trace if a signal ends the process while it records.
    pub(crate) fn watch(exec: &Arc<Execution>) {
        ACTIVE.lock().push(Arc::downgrade(exec));
        INSTALL.call_once(install);
    }

    /// `exec` finished by itself.
    pub(crate) fn unwatch(exec: &Arc<Execution>) {
        ACTIVE.lock().retain(|w| w.strong_count() > 0 && !std::ptr::eq(w.as_ptr(), Arc::as_ptr(exec)));
    }

    extern "C" fn on_signal(signal: libc::c_int) {
        // SAFETY: `errno` is thread-local to the interrupted thread; saving
        // and restoring it keeps the interrupted code's view of it intact.
        // `write` on a pipe is async-signal-safe; the byte is the signal.
        unsafe {
            let errno = *errno_location();
            let byte = signal as u8;
            let fd = PIPE_WRITE.load(Ordering::Relaxed);
            if fd >= 0 {
                let _ = libc::write(fd, std::ptr::addr_of!(byte).cast(), 1);
            }
            *errno_location() = errno;
        }
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    unsafe fn errno_location() -> *mut libc::c_int {
        // SAFETY: always valid for the calling thread.
        unsafe { libc::__errno_location() }
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    unsafe fn errno_location() -> *mut libc::c_int {
        // SAFETY: always valid for the calling thread.
        unsafe { libc::__error() }
    }

    /// Whether `signal`'s disposition is the default one.
    fn is_default(signal: libc::c_int) -> bool {
        // SAFETY: a null new action only queries; `old` is a valid out-pointer.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(signal, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_DFL
        }
    }

    /// The `reprise.exit` annotation's value.
    const EXITED: &str = "the process exited (std::process::exit) while recording";

    extern "C" fn at_exit() {
        // A forked child's recordings are its parent's, and their writers
        // are not in this process (`rt/fork.rs`).
        if crate::rt::fork::is_forked_child() {
            return;
        }
        // Nothing may unwind out of an `extern "C"` function.
        let _ = std::panic::catch_unwind(|| {
            let active: Vec<Arc<Execution>> = ACTIVE.lock().iter().filter_map(Weak::upgrade).collect();
            if active.is_empty() {
                return;
            }
            crate::rt::current::borrow_if_free(|ctx| ctx.close_buffer());
            for exec in &active {
                exec.annotations.lock().push((super::EXIT_ANNOTATION.into(), EXITED.into()));
                crate::record::finish(exec, Verdict::Completed);
            }
            for exec in &active {
                if let Some(sink) = exec.sink() {
                    sink.clock.wait_written(WRITE_BACKSTOP);
                }
            }
        });
    }

    fn install() {
        // SAFETY: registers a plain `extern "C"` function, once per process.
        unsafe { libc::atexit(at_exit) };
        let wanted: Vec<libc::c_int> = SIGNALS.into_iter().filter(|&s| is_default(s)).collect();
        if wanted.is_empty() {
            return;
        }
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: `fds` has room for the two descriptors `pipe` writes.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return;
        }
        let [read, write] = fds;
        for fd in fds {
            // SAFETY: plain fcntl on descriptors we own; close-on-exec keeps
            // them out of the host's children.
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
        // SAFETY: as above; a full pipe must not block the handler.
        unsafe { libc::fcntl(write, libc::F_SETFL, libc::O_NONBLOCK) };
        PIPE_WRITE.store(write, Ordering::Relaxed);
        let spawned = std::thread::Builder::new().name("reprise-signals".into()).spawn(move || watcher(read));
        if spawned.is_err() {
            return;
        }
        for signal in wanted {
            // SAFETY: the handler only writes to a pipe; the action is zeroed
            // then filled as sigaction(2) documents. SA_RESTART keeps the
            // host's interrupted system calls going.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                if libc::sigaction(signal, &action, std::ptr::null_mut()) == 0 {
                    HANDLED.fetch_or(1 << signal, Ordering::Relaxed);
                }
            }
        }
    }

    fn watcher(read: libc::c_int) {
        loop {
            let mut byte = 0u8;
            // SAFETY: reads one byte into `byte`.
            let n = unsafe { libc::read(read, std::ptr::addr_of_mut!(byte).cast(), 1) };
            if n == 1 {
                let signal = libc::c_int::from(byte);
                if signal == libc::SIGUSR1 && !crate::flight::dump_all("SIGUSR1").is_empty() {
                    // Dumped: the process runs on.
                    continue;
                }
                finish_all_and_reraise(signal);
            } else if n == 0 {
                return;
            }
        }
    }

    fn finish_all_and_reraise(signal: libc::c_int) {
        let name = match signal {
            libc::SIGINT => "SIGINT",
            libc::SIGUSR1 => "SIGUSR1",
            _ => "SIGTERM",
        };
        // A flight recorder writes nothing unless it dumps: a service
        // killed while it hung left no trace of the hang.
        if signal != libc::SIGUSR1 {
            let _ = crate::flight::dump_all(name);
        }
        let active: Vec<Arc<Execution>> = ACTIVE.lock().iter().filter_map(Weak::upgrade).collect();
        for exec in &active {
            exec.annotations.lock().push(("reprise.signal".into(), name.into()));
            crate::record::finish(exec, Verdict::Completed);
        }
        for exec in &active {
            if let Some(sink) = exec.sink() {
                sink.clock.wait_written(WRITE_BACKSTOP);
            }
        }
        // SAFETY: restoring the default action, then raising the signal on
        // this thread: the process ends as it would have without reprise.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
    }
}
