//! Threads as coroutines: each explored thread runs on a stack of its own and
//! gives the OS thread back to the scheduler at every primitive call. A switch
//! costs tens of nanoseconds where a futex hand-off between OS threads costs
//! microseconds, and the explorer's worth is schedules per second.

use std::cell::Cell;
use std::ptr;

use corosensei::stack::{DefaultStack, Stack};
use corosensei::{Coroutine, CoroutineResult, Yielder};
use reprise_recorder::trace::model::ThreadIndex;

/// Stack size of an explored thread that did not ask for one: std's for a
/// spawned thread (`RUST_MIN_STACK`, else 2 MiB), so a program that recurses
/// within what std gives it does not overflow a coroutine. The pages are
/// mapped lazily: an unused stack costs address space, not memory.
fn default_stack_size() -> usize {
    static SIZE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *SIZE.get_or_init(|| std::env::var("RUST_MIN_STACK").ok().and_then(|s| s.parse().ok()).unwrap_or(2 << 20))
}

/// Usable bytes of `stack` (its guard page is below its limit).
fn usable(stack: &DefaultStack) -> usize {
    (stack.base().get() - stack.limit().get()).saturating_sub(super::overflow::page_size())
}

/// A stack of at least `size` bytes: the smallest in `pool` that is that
/// big (so that a small thread does not take the big stack a spawn
/// reserved), else a new one.
fn stack_of(size: usize, pool: &mut Vec<DefaultStack>) -> std::io::Result<DefaultStack> {
    let fits = pool.iter().enumerate().filter(|(_, s)| usable(s) >= size).min_by_key(|(_, s)| usable(s));
    match fits.map(|(at, _)| at) {
        Some(at) => Ok(pool.swap_remove(at)),
        None => DefaultStack::new(size),
    }
}

/// Makes sure `pool` has a stack of at least `size` bytes for a spawn about
/// to be made ([`reprise_recorder::rt::coop::Scheduler::reserve_stack`]).
pub(crate) fn reserve(size: usize, pool: &mut Vec<DefaultStack>) -> std::io::Result<()> {
    if !pool.iter().any(|s| usable(s) >= size) {
        pool.push(DefaultStack::new(size)?);
    }
    Ok(())
}

thread_local! {
    /// The yielder of the coroutine running on this OS thread, or null.
    static CURRENT: Cell<*const Yielder<(), ()>> = const { Cell::new(ptr::null()) };
    /// Set while [`Fiber::tear_down`] resumes a fiber: its scheduling point
    /// unwinds instead of returning.
    static TEAR_DOWN: Cell<bool> = const { Cell::new(false) };
}

/// The payload of the unwind [`Fiber::tear_down`] starts in a fiber: not a
/// panic of the program's (it is raised with `resume_unwind`, so no panic
/// hook sees it), and the fiber's root swallows it. Its fiber's yielder, as
/// an address (a payload is `Send`).
struct TornDown(usize);

impl Drop for TornDown {
    /// Dropped in its own fiber while the teardown runs: the program caught
    /// the unwind. Its next call to reprise strands it (see
    /// [`reprise_recorder::hook::coop::strand_every_call`]), also when it
    /// panicked anew before dropping it (`catch_unwind(..).expect(..)`):
    /// an outer loop catching that panic would otherwise call reprise in
    /// passthrough and could block for real. A `Drop` of that new panic's
    /// unwinding that calls reprise strands the fiber mid-unwind then,
    /// rather than let it block. The fiber's root dropping it so is
    /// harmless: the fiber ends there.
    fn drop(&mut self) {
        let own = CURRENT.with(Cell::get) as usize == self.0;
        if own && TEAR_DOWN.with(Cell::get) {
            reprise_recorder::hook::coop::strand_every_call();
        }
    }
}

/// A thread spawned but not yet made a fiber: its index, its name (if it
/// was given one), the stack size it asked for (if any), its body.
pub(crate) type Spawned = (ThreadIndex, Option<Box<str>>, Option<usize>, Box<dyn FnOnce()>);

/// One explored thread's coroutine.
pub(crate) struct Fiber {
    coroutine: Coroutine<(), (), (), DefaultStack>,
    /// Its stack's guard page, for the overflow report.
    guard: super::overflow::Guard,
    /// Its thread's name, which `guard` points to.
    _name: Option<Box<str>>,
    /// Its yielder, known once it first ran.
    yielder: std::rc::Rc<Cell<*const Yielder<(), ()>>>,
}

/// What a resumed fiber did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ran {
    /// It reached a scheduling point.
    Suspended,
    /// Its body returned.
    Finished,
}

impl Fiber {
    /// A fiber that will run thread `index`'s (`name`d) `body` on a stack of `size`
    /// bytes (the default when `None`, as std's), from `pool` if it has one
    /// that big. A stack that cannot be mapped ends the process, saying so
    /// (one a thread asked for was reserved when it was spawned, where the
    /// error is returned as std's `Builder::spawn` returns it).
    pub(crate) fn new(
        index: ThreadIndex,
        name: Option<Box<str>>,
        body: Box<dyn FnOnce()>,
        size: Option<usize>,
        pool: &mut Vec<DefaultStack>,
    ) -> Fiber {
        let size = size.unwrap_or_else(default_stack_size);
        let stack = stack_of(size, pool).unwrap_or_else(|e| {
            eprintln!("reprise: cannot map a stack of {size} bytes for thread {index}: {e}");
            std::process::abort()
        });
        super::overflow::arm();
        let page = super::overflow::page_size();
        let low = stack.limit().get();
        let (name_at, name_len) = name.as_deref().map_or((ptr::null(), 0), |n| (n.as_ptr(), n.len()));
        let guard = super::overflow::Guard {
            low,
            high: low + page,
            size: usable(&stack),
            thread: index,
            name_at,
            name_len,
        };
        let yielder = std::rc::Rc::new(Cell::new(ptr::null()));
        let known = std::rc::Rc::clone(&yielder);
        let coroutine = Coroutine::with_stack(stack, move |y: &Yielder<(), ()>, ()| {
            known.set(y as *const Yielder<(), ()>);
            CURRENT.with(|c| c.set(y as *const Yielder<(), ()>));
            if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
                if !payload.is::<TornDown>() {
                    std::panic::resume_unwind(payload);
                }
            }
        });
        Fiber { coroutine, guard, _name: name, yielder }
    }

    /// Runs the fiber until its next scheduling point or its end.
    pub(crate) fn resume(&mut self) -> Ran {
        let previous = CURRENT.with(|c| c.replace(self.yielder.get()));
        let outer = super::overflow::running(self.guard);
        let result = self.coroutine.resume(());
        super::overflow::running(outer);
        CURRENT.with(|c| c.set(previous));
        match result {
            CoroutineResult::Yield(()) => Ran::Suspended,
            CoroutineResult::Return(()) => Ran::Finished,
        }
    }

    /// Unwinds an unfinished fiber at its run's end, running its
    /// destructors with no context installed (the primitives pass
    /// through): its scheduling point raises [`TornDown`], which its root
    /// swallows. Whether it was unwound; `false`: it came back to a
    /// scheduling point (it caught the unwind and called reprise again, or
    /// a `Drop` blocked), and it is left there, never resumed, its stack
    /// never freed. Not corosensei's own forced unwind (dropping the
    /// coroutine): that one throws again at each scheduling point the fiber
    /// comes back to, and a loop that catches every panic never ends.
    ///
    /// Never call it on a fiber suspended while it unwinds: the unwind
    /// would start inside a `Drop` already running for a panic, and Rust
    /// aborts the process.
    pub(crate) fn tear_down(mut self) -> bool {
        if !self.coroutine.started() || self.coroutine.done() {
            // Dropping a coroutine that never ran drops its body unrun.
            return true;
        }
        TEAR_DOWN.with(|t| t.set(true));
        reprise_recorder::hook::coop::set_strand(Some(strand));
        let ran = self.resume();
        reprise_recorder::hook::coop::set_strand(None);
        TEAR_DOWN.with(|t| t.set(false));
        match ran {
            Ran::Finished => true,
            Ran::Suspended => {
                std::mem::forget(self);
                false
            }
        }
    }

    /// The fiber's stack, for reuse, once it has finished.
    pub(crate) fn into_stack(self) -> Option<DefaultStack> {
        self.coroutine.done().then(|| self.coroutine.into_stack())
    }
}

/// Gives the OS thread back to the scheduler. Called only from inside a
/// fiber (the scheduler's `switch` and `block`).
pub(crate) fn suspend() {
    let yielder = CURRENT.with(Cell::get);
    assert!(!yielder.is_null(), "reprise: a scheduling point outside an explored thread");
    // SAFETY: `CURRENT` holds the yielder of the fiber running now: `resume`
    // sets it to that fiber's yielder (recorded by the fiber itself when it
    // started) for exactly as long as the fiber runs, and we are inside that
    // fiber, so the yielder (which lives on the fiber's stack for the whole
    // body) is alive.
    unsafe { (*yielder).suspend(()) };
    if TEAR_DOWN.with(Cell::get) {
        std::panic::resume_unwind(Box::new(TornDown(yielder as usize)));
    }
}

/// [`reprise_recorder::hook::coop::set_strand`]'s hand-over while
/// [`Fiber::tear_down`] runs: a fiber calling reprise where it cannot go on
/// suspends, and its teardown leaves it.
fn strand() {
    if !CURRENT.with(Cell::get).is_null() {
        suspend();
    }
}
