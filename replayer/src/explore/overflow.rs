//! A coroutine that overflows its stack faults on the stack's guard page,
//! which std's SIGSEGV handler does not know (it knows each OS thread's own
//! guard), so the process died of a bare SIGSEGV. A handler of our own, on
//! an alternate signal stack, recognizes a fault in the guard page of the
//! coroutine running on this OS thread, says which thread overflowed a stack
//! of what size and what to do, and aborts as std does; any other fault
//! goes to the handler that was there before (std's), so ordinary segfaults
//! and std's own overflow report are unchanged.
//!
//! Off the hot path: the handler is installed once, an OS thread's alternate
//! stack checked once, and a resume sets one thread-local.

use std::cell::Cell;

/// The guard page of the coroutine running on this OS thread, and whose it
/// is: what the handler reads (async-signal-safe: a `const` thread-local
/// with no destructor is a plain TLS slot).
#[derive(Clone, Copy)]
pub(crate) struct Guard {
    /// First byte of the guard page (0: no coroutine runs).
    pub(crate) low: usize,
    /// One past its last byte.
    pub(crate) high: usize,
    /// The usable stack's size in bytes.
    pub(crate) size: usize,
    /// The logical thread running on it.
    pub(crate) thread: u32,
    /// Its name's bytes (null: none), owned by the fiber, which outlives
    /// every resume.
    pub(crate) name_at: *const u8,
    pub(crate) name_len: usize,
}

impl Guard {
    pub(crate) const NONE: Guard =
        Guard { low: 0, high: 0, size: 0, thread: 0, name_at: std::ptr::null(), name_len: 0 };
}

thread_local! {
    static RUNNING: Cell<Guard> = const { Cell::new(Guard::NONE) };
}

/// Marks `guard` as the running coroutine's until the returned previous one
/// is put back with [`running`] again.
#[inline]
pub(crate) fn running(guard: Guard) -> Guard {
    RUNNING.with(|r| r.replace(guard))
}

/// The system's page size.
pub(crate) fn page_size() -> usize {
    #[cfg(unix)]
    {
        static PAGE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        // SAFETY: sysconf has no preconditions.
        *PAGE.get_or_init(|| usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096))
    }
    #[cfg(not(unix))]
    {
        4096
    }
}

/// Makes sure a coroutine's overflow on this OS thread is reported: the
/// handler installed (once per process) and this thread given an alternate
/// signal stack if it has none (once per thread).
pub(crate) fn arm() {
    #[cfg(unix)]
    imp::arm();
}

#[cfg(unix)]
mod imp {
    use std::cell::Cell;
    use std::ptr;
    use std::sync::OnceLock;

    use super::RUNNING;

    /// The handlers that were there before ours, for SIGSEGV and SIGBUS.
    static PREVIOUS: OnceLock<[libc::sigaction; 2]> = OnceLock::new();

    /// Size of an alternate signal stack we map: room for the handler and
    /// for std's, which may be chained to.
    const ALT_STACK: usize = 64 << 10;

    /// An alternate signal stack this thread was given by us, unmapped
    /// when the thread ends.
    struct AltStack {
        base: Cell<usize>,
        armed: Cell<bool>,
    }

    impl Drop for AltStack {
        fn drop(&mut self) {
            let base = self.base.get();
            if base != 0 {
                let off = libc::stack_t { ss_sp: ptr::null_mut(), ss_flags: libc::SS_DISABLE, ss_size: 0 };
                // SAFETY: disables this thread's alternate stack (ours), then
                // unmaps it: no handler can run on it any more.
                unsafe {
                    libc::sigaltstack(&off, ptr::null_mut());
                    libc::munmap(base as *mut libc::c_void, ALT_STACK + super::page_size());
                }
            }
        }
    }

    thread_local! {
        static ALT: AltStack = const { AltStack { base: Cell::new(0), armed: Cell::new(false) } };
    }

    pub(super) fn arm() {
        PREVIOUS.get_or_init(install);
        let _ = ALT.try_with(|alt| {
            if !alt.armed.replace(true) {
                alt.base.set(alternate_stack());
            }
        });
    }

    /// Installs the handler for SIGSEGV and SIGBUS; the previous ones.
    fn install() -> [libc::sigaction; 2] {
        // SAFETY: sigaction with a zeroed, then filled, struct; the handler
        // is async-signal-safe (see `on_fault`).
        unsafe {
            let mut ours: libc::sigaction = std::mem::zeroed();
            ours.sa_sigaction =
                on_fault as extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) as usize;
            ours.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut ours.sa_mask);
            let mut previous: [libc::sigaction; 2] = std::mem::zeroed();
            for (signal, previous) in [libc::SIGSEGV, libc::SIGBUS].into_iter().zip(previous.iter_mut()) {
                libc::sigaction(signal, ptr::null(), previous);
            }
            // Stored before the handler can run: it reads them.
            let stored = previous;
            for signal in [libc::SIGSEGV, libc::SIGBUS] {
                libc::sigaction(signal, &ours, ptr::null_mut());
            }
            stored
        }
    }

    /// Gives this thread an alternate signal stack if it has none (std gives
    /// one to the threads it starts, not to every thread): its base, or 0
    /// when it had one already or none could be mapped.
    fn alternate_stack() -> usize {
        let page = super::page_size();
        // SAFETY: queries, then sets, this thread's alternate stack to a
        // fresh mapping (a guard page below it) that outlives its use: it is
        // unset before it is unmapped (`AltStack::drop`).
        unsafe {
            let mut current: libc::stack_t = std::mem::zeroed();
            if libc::sigaltstack(ptr::null(), &mut current) != 0 || current.ss_flags & libc::SS_DISABLE == 0 {
                return 0;
            }
            let map = libc::mmap(
                ptr::null_mut(),
                ALT_STACK + page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if map == libc::MAP_FAILED {
                return 0;
            }
            libc::mprotect(map, page, libc::PROT_NONE);
            let stack =
                libc::stack_t { ss_sp: map.cast::<u8>().add(page).cast(), ss_flags: 0, ss_size: ALT_STACK };
            if libc::sigaltstack(&stack, ptr::null_mut()) != 0 {
                libc::munmap(map, ALT_STACK + page);
                return 0;
            }
            map as usize
        }
    }

    /// The handler: async-signal-safe (reads a thread-local slot and a
    /// static, formats into a buffer on its own stack, write(2), abort).
    extern "C" fn on_fault(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
        let address = unsafe { (*info).si_addr() } as usize;
        let guard = RUNNING.try_with(Cell::get).unwrap_or(super::Guard::NONE);
        if guard.low != 0 && (guard.low..guard.high).contains(&address) {
            report(guard);
            std::process::abort();
        }
        chain(signal, info, context);
    }

    /// Hands the fault to the handler that was there before ours; with none,
    /// restores the default action, so that returning faults again and the
    /// process dies of the signal as it would have.
    fn chain(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
        let at = usize::from(signal == libc::SIGBUS);
        let Some(previous) = PREVIOUS.get().map(|p| p[at]) else { return restore_default(signal) };
        let handler = previous.sa_sigaction;
        if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
            restore_default(signal);
        } else if previous.sa_flags & libc::SA_SIGINFO != 0 {
            // SAFETY: an SA_SIGINFO handler has this signature.
            let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                unsafe { std::mem::transmute(handler) };
            handler(signal, info, context);
        } else {
            // SAFETY: a plain handler has this signature.
            let handler: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(handler) };
            handler(signal);
        }
    }

    fn restore_default(signal: libc::c_int) {
        // SAFETY: sets the default action for `signal` (async-signal-safe).
        unsafe {
            let mut default: libc::sigaction = std::mem::zeroed();
            default.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(signal, &default, ptr::null_mut());
        }
    }

    /// Writes what overflowed and what to do to stderr, allocating nothing.
    fn report(guard: super::Guard) {
        let mut buf = reprise_recorder::hook::StderrLine::new();
        buf.push(b"\nreprise: thread ");
        buf.number(u64::from(guard.thread));
        if !guard.name_at.is_null() {
            // SAFETY: the running fiber's name, alive while it runs.
            let name = unsafe { std::slice::from_raw_parts(guard.name_at, guard.name_len) };
            buf.push(b" '");
            buf.push(name);
            buf.push(b"'");
        } else if guard.thread == 0 {
            buf.push(b" (main)");
        }
        buf.push(b" has overflowed its stack of ");
        buf.number(guard.size as u64);
        buf.push(b" bytes (it runs as a coroutine, under the explorer or a coroutine replay)\n");
        buf.push(b"reprise: give it a bigger one: `Builder::stack_size` for a thread that asks for one, ");
        buf.push(b"the RUST_MIN_STACK environment variable (bytes) for those that do not\n");
        buf.push(b"fatal runtime error: stack overflow, aborting\n");
        buf.write();
    }
}
