//! Threads as coroutines: each explored thread runs on a stack of its own and
//! gives the OS thread back to the scheduler at every primitive call. A switch
//! costs tens of nanoseconds where a futex hand-off between OS threads costs
//! microseconds, and the explorer's worth is schedules per second.

use std::cell::Cell;
use std::ptr;

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};

/// Stack size of an explored thread.
const STACK_SIZE: usize = 256 * 1024;

thread_local! {
    /// The yielder of the coroutine running on this OS thread, or null.
    static CURRENT: Cell<*const Yielder<(), ()>> = const { Cell::new(ptr::null()) };
}

/// One explored thread's coroutine.
pub(crate) struct Fiber {
    coroutine: Coroutine<(), (), (), DefaultStack>,
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
    /// A fiber that will run `body`, on a stack from `pool` if it has one.
    pub(crate) fn new(body: Box<dyn FnOnce()>, pool: &mut Vec<DefaultStack>) -> Fiber {
        let stack = pool.pop().unwrap_or_else(|| DefaultStack::new(STACK_SIZE).expect("a coroutine stack"));
        let yielder = std::rc::Rc::new(Cell::new(ptr::null()));
        let known = std::rc::Rc::clone(&yielder);
        let coroutine = Coroutine::with_stack(stack, move |y: &Yielder<(), ()>, ()| {
            known.set(y as *const Yielder<(), ()>);
            CURRENT.with(|c| c.set(y as *const Yielder<(), ()>));
            body();
        });
        Fiber { coroutine, yielder }
    }

    /// Runs the fiber until its next scheduling point or its end.
    pub(crate) fn resume(&mut self) -> Ran {
        let previous = CURRENT.with(|c| c.replace(self.yielder.get()));
        let result = self.coroutine.resume(());
        CURRENT.with(|c| c.set(previous));
        match result {
            CoroutineResult::Yield(()) => Ran::Suspended,
            CoroutineResult::Return(()) => Ran::Finished,
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
}
