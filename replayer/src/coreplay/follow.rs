//! The scheduler of a coroutine replay: the explorer's fibers on one OS
//! thread, run in an order the trace allows. At each scheduling point it runs
//! a thread whose next recorded event can happen now, keeping the current one
//! when it can (fewer switches); every event a thread makes is checked
//! against its recorded one as it is made, and the values the recording got
//! from outside (time, random numbers, captures, what a non-blocking call
//! found) are served back from the trace.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use reprise_recorder::hook::coop::{self, CoopCall, Resource, SavedContext, Scheduler, Served, Site, Woken};
use reprise_recorder::trace::model::{Event, ObjectIndex, Op, Outcome, Received, ThreadIndex};

/// Up to this many threads a pick looks at each in turn; past it, only at
/// those not set aside (see `aside.rs`).
const FEW_THREADS: usize = 16;

/// Events made between two drops of the run's own recording.
const TICK_EVENTS: u64 = 4096;

/// Why a coroutine replay that answered a question by a guess does not
/// match: a thread asked whether it unwinds (`reprise::thread::panicking`,
/// or a guard deciding whether to poison its lock) beside another thread
/// suspended mid-unwind, after starting a panic of its own, and no catch
/// of that panic was seen to settle the answer.
const UNSURE: &str = "a thread asked whether it unwound from a panic while another thread was \
     suspended mid-unwind, after starting a panic of its own that no `reprise::panic::catch_unwind` was \
     seen to catch: the threads share the OS thread's panic count, so a coroutine replay cannot tell \
     whether it still unwinds (std's `catch_unwind` says nothing; reprise's does); replay this trace in \
     parallel, the default";

/// Scheduling points a thread goes on through before the others get a
/// turn. Running one thread as long as it can costs the fewest switches,
/// but a producer would then run ahead of its consumers by the whole trace,
/// its messages piling up in the channels' replay queues.
pub(super) const SLICE: u32 = 256;

use super::aside::{Aside, Key};
use super::counters::Counters;
use super::dense::Dense;
use super::state::{Slot, State, Status};
use super::trace::FollowLog;
use crate::explore::coroutine::{suspend, Fiber, Ran};
use crate::int_hash::IntSet;
use crate::report::{Divergence, Stop};
use crate::unwinding::Unwinding;

/// The scheduler of one coroutine replay.
pub(crate) struct Follow {
    pub(crate) state: RefCell<State>,
    /// Drops the run's own recording (its chunks are not kept): called
    /// every `TICK_EVENTS` events.
    tick: Box<dyn Fn()>,
    /// Set once the run is over and the unfinished fibers unwind: a root
    /// that ends now was stopped, it did not panic.
    tearing_down: Rc<Cell<bool>>,
    /// The events made so far, for a report written if a thread ends the
    /// process (see [`crate::progress::running`]).
    pub(crate) made: Arc<AtomicU64>,
}

impl Follow {
    /// A scheduler following `log`; `tearing_down` is set when the
    /// unfinished fibers start unwinding at the end.
    pub(crate) fn new(
        log: FollowLog,
        complete: bool,
        tick: Box<dyn Fn()>,
        tearing_down: Rc<Cell<bool>>,
    ) -> Rc<Follow> {
        Rc::new(Follow {
            tick,
            tearing_down,
            made: Arc::new(AtomicU64::new(0)),
            state: RefCell::new(State {
                log,
                counters: Counters::default(),
                threads: Vec::new(),
                blocked: Vec::new(),
                aside: Aside::default(),
                objects: Dense::default(),
                bound: IntSet::default(),
                shifts: std::collections::HashMap::new(),
                held: Dense::default(),
                running: None,
                last: None,
                slice: 0,
                stop: None,
                complete,
                pool: Vec::new(),
                spawned: Vec::new(),
                made: 0,
                backlog: Dense::default(),
                guess: None,
                // A replay starts only on an OS thread not unwinding.
                unwinding: Unwinding::new(false),
            }),
        })
    }

    /// Runs the program whose root thread is `root` until every thread has
    /// finished, the replay stopped, or no thread can go on.
    pub(crate) fn run(self: &Rc<Self>, root: Box<dyn FnOnce()>) {
        coop::install_scheduler(Rc::clone(self) as Rc<dyn Scheduler>);
        {
            let mut st = self.state.borrow_mut();
            st.spawned.push((0, None, None, root));
            st.counters.created = 1;
        }
        loop {
            self.start_spawned();
            let Some(pick) = self.pick() else { break };
            self.resume(pick);
        }
        self.judge_guesses();
        coop::remove_scheduler();
        self.teardown();
    }

    /// A replay that answered whether a thread unwinds by a guess no catch
    /// settled may have matched every event and still given the program
    /// another answer: it does not match.
    fn judge_guesses(&self) {
        let mut guard = self.state.borrow_mut();
        let st = &mut *guard;
        if let (None, Some((thread, cursor)), true) = (&st.stop, st.guess, st.unwinding.uncertain()) {
            let actual = "a question whether it unwinds".to_string();
            // `diverge` adds why, the guess being unsettled.
            Follow::diverge(st, thread, cursor, actual, "answered by a guess no catch settled".into());
        }
    }

    /// Runs `pick` until it suspends or finishes.
    fn resume(&self, pick: ThreadIndex) {
        let mut fiber = {
            let mut st = self.state.borrow_mut();
            let slot = st.slot_mut(pick).expect("picked thread exists");
            if let Some(ctx) = slot.ctx.take() {
                ctx.restore();
            }
            let fiber = slot.fiber.take().expect("a runnable thread has a fiber");
            st.running = Some(pick);
            st.unwinding.resume(pick);
            st.last = Some(pick);
            st.slice = 0;
            fiber
        };
        let ran = fiber.resume();
        let saved = SavedContext::save();
        let finished = {
            let mut st = self.state.borrow_mut();
            st.running = None;
            let slot = st.slot_mut(pick).expect("resumed thread exists");
            slot.ctx = Some(saved);
            match ran {
                Ran::Suspended => {
                    slot.fiber = Some(fiber);
                    if std::thread::panicking() && !st.unwinding.any_suspended() {
                        // The count is `pick`'s alone, and its suspension
                        // went by no path that said so (a `resume_unwind`
                        // calls no panic hook): kept from the teardown all
                        // the same, which would abort unwinding it again.
                        st.unwinding.suspend(pick, false);
                    }
                    false
                }
                Ran::Finished => {
                    slot.status = Status::Finished;
                    if let Some(stack) = fiber.into_stack() {
                        st.pool.push(stack);
                    }
                    st.counters.finished(pick);
                    st.unwinding.finished(pick);
                    st.aside.wake(Key::Exit(pick));
                    true
                }
            }
        };
        if finished {
            self.wake_all(Resource::Thread(pick));
        }
    }

    fn start_spawned(&self) {
        let mut st = self.state.borrow_mut();
        let spawned = std::mem::take(&mut st.spawned);
        for (index, name, stack, body) in spawned {
            let fiber = Fiber::new(index, name, body, stack, &mut st.pool);
            let at = index as usize;
            if st.threads.len() <= at {
                st.threads.resize_with(at + 1, || None);
            }
            let recorded = st.log.current(index, 0).map(|(e, o)| (*e, o.copied()));
            st.threads[at] = Some(Slot {
                fiber: Some(fiber),
                ctx: None,
                status: Status::Runnable,
                cursor: 0,
                recorded,
                next: None,
                overran: false,
            });
            st.aside.add(index);
        }
    }

    /// The next thread to run: the last one if it can go on, else the
    /// first that can after it, in index order, wrapping around. `None`:
    /// the replay stopped, or nothing can run.
    fn pick(&self) -> Option<ThreadIndex> {
        let mut st = self.state.borrow_mut();
        if st.stop.is_some() {
            return None;
        }
        if let Some(last) = st.last {
            if st.slice < SLICE && st.can_run(last) && !st.crowds(last) {
                return Some(last);
            }
        }
        let from = st.last.map_or(0, |last| last.saturating_add(1));
        if st.threads.len() <= FEW_THREADS {
            // Looking at a few threads costs less than keeping the sets.
            let after = st.slots().map(|(t, _)| t).skip_while(|&t| t < from);
            let before = st.slots().map(|(t, _)| t).take_while(|&t| t < from);
            let next = after.chain(before).find(|&t| st.can_run(t));
            if next.is_none() {
                st.stop_at_an_impossible_wait();
            }
            return next.map(|next| st.uncrowded(next, from));
        }
        if let Some(next) = st.pick_candidate(from) {
            return Some(st.uncrowded(next, from));
        }
        if st.stop.is_some() {
            return None;
        }
        // No candidate can run: every thread is looked at again before
        // the replay ends or is called stalled, so a wake-up the sets
        // missed costs time, never a false stall.
        let runnable = st.runnable();
        st.aside.reset(runnable.into_iter());
        let next = st.pick_candidate(from);
        if next.is_none() && st.stop.is_none() {
            st.stop_at_an_impossible_wait();
        }
        next.map(|next| st.uncrowded(next, from))
    }

    fn wake_all(&self, on: Resource) {
        let mut st = self.state.borrow_mut();
        if st.blocked.is_empty() {
            return;
        }
        let st = &mut *st;
        let threads = &mut st.threads;
        let aside = &mut st.aside;
        st.blocked.retain(|&t| {
            let Some(Some(slot)) = threads.get_mut(t as usize) else { return false };
            match &slot.status {
                Status::Blocked(waits) if waits.contains(&on) => {
                    slot.status = Status::Runnable;
                    aside.add(t);
                    false
                }
                Status::Blocked(_) => true,
                _ => false,
            }
        });
    }

    /// Unwinds every unfinished fiber (with no context installed, the
    /// primitives pass through while they unwind), except one suspended
    /// mid-unwind, which is left with the OS thread's panic count raised
    /// (unwinding it again would start a panic inside a `Drop` already
    /// running for one, which aborts the process): a later coroutine replay
    /// on this thread refuses to start
    /// ([`ReplayOutcome::OnUnwindingThread`]).
    /// A fiber that catches the unwind and calls reprise again is left too
    /// ([`Fiber::tear_down`]).
    ///
    /// [`ReplayOutcome::OnUnwindingThread`]: crate::ReplayOutcome::OnUnwindingThread
    fn teardown(&self) {
        self.tearing_down.set(true);
        let mut fibers = Vec::new();
        {
            let mut guard = self.state.borrow_mut();
            let st = &mut *guard;
            for (index, slot) in st.threads.iter_mut().enumerate() {
                let Some(slot) = slot else { continue };
                if let Some(ctx) = slot.ctx.take() {
                    ctx.close();
                }
                if let Some(fiber) = slot.fiber.take() {
                    if st.unwinding.suspended(index as ThreadIndex).is_some() {
                        std::mem::forget(fiber);
                    } else {
                        fibers.push(fiber);
                    }
                }
            }
        }
        // Newest first: a scoped thread borrows from its spawner's stack.
        while let Some(fiber) = fibers.pop() {
            fiber.tear_down();
        }
    }

    /// Whether the raised panic count is `me`'s own (see `unwinding.rs`),
    /// noting the first answer given by a guess: a catch seen later
    /// (reprise's) settles it; one that stays unsettled ends the replay
    /// unmatched ([`Follow::judge_guesses`]).
    fn unwinds_own_noting(st: &mut State, me: ThreadIndex) -> bool {
        if st.guess.is_none() && st.unwinding.would_guess(me) {
            let cursor = st.slot(me).map_or(0, |slot| slot.cursor);
            st.guess = Some((me, cursor));
        }
        st.unwinding.unwinds_own(Some(me))
    }

    /// Tells the run's unwinding record what the running thread did; from
    /// a panic hook too, so never while the state is borrowed.
    fn tell_unwinding(&self, what: fn(&mut Unwinding, ThreadIndex)) {
        if let Ok(mut st) = self.state.try_borrow_mut() {
            if let Some(me) = st.running {
                what(&mut st.unwinding, me);
            }
        }
    }

    /// Stops the replay at `thread`'s event `cursor`: it did `actual`.
    pub(super) fn diverge(
        st: &mut State,
        thread: ThreadIndex,
        cursor: usize,
        actual: String,
        detail: String,
    ) {
        if st.stop.is_some() {
            return;
        }
        // A guess still unsettled may be why it left the recorded path.
        let detail = if st.unwinding.uncertain() { format!("{detail}; {UNSURE}") } else { detail };
        let expected = st
            .log
            .event(thread, cursor)
            .map(|e| st.log.describe(thread, &e))
            .unwrap_or_else(|| "no more events".into());
        st.stop = Some(Stop::Diverged(Divergence {
            thread: st.log.thread_label(thread),
            event: cursor,
            expected,
            actual,
            detail,
        }));
    }
}

impl Scheduler for Follow {
    fn follows_trace(&self) -> bool {
        true
    }

    fn taken_later(&self, sender: ThreadIndex, seq: u64) -> bool {
        // Set by the prefix cut only: a whole trace keeps every receive.
        match self.state.borrow().log.log.kept_receives() {
            None => true,
            Some(kept) => kept.get(&sender).is_some_and(|numbers| numbers.contains(seq)),
        }
    }

    fn switch(&self, call: CoopCall) {
        {
            let mut guard = self.state.borrow_mut();
            let st = &mut *guard;
            let Some(me) = st.running else { return };
            let Some(slot) = st.slot_mut(me) else { return };
            slot.next = Some(call);
            let (cursor, overran) = (slot.cursor, slot.overran);
            let runnable = matches!(slot.status, Status::Runnable);
            let current = slot.recorded;
            let recorded = current.map(|(e, _)| e);
            // The thread that is running goes on when it can: fewer switches.
            if let (Some(op), Some((recorded, outcome)), false) = (call.op, current, overran) {
                st.slice += 1;
                if st.stop.is_none()
                    && st.slice < SLICE
                    && recorded.op == op
                    && runnable
                    && st.log.site_is(me, recorded.site, call.location)
                    && outcome.is_none_or(|o| st.pending_at(&call, &recorded, &o).is_none())
                    && !st.crowds(me)
                {
                    return;
                }
            }
            if let Some(op) = call.op {
                match recorded {
                    Some(_) if overran => {}
                    None if st.complete && st.log.exited(me) => {
                        let actual = st.describe_call(&call);
                        let detail = "the recording says this thread had already exited".into();
                        Follow::diverge(st, me, cursor, actual, detail);
                    }
                    Some(recorded)
                        if recorded.op != op || !st.log.site_is(me, recorded.site, call.location) =>
                    {
                        let actual = st.describe_call(&call);
                        let detail = format!("expected {}", st.log.describe(me, &recorded));
                        Follow::diverge(st, me, cursor, actual, detail);
                    }
                    None | Some(_) => {}
                }
                if overran || recorded.is_none() {
                    if let Some(slot) = st.slot_mut(me) {
                        slot.status = Status::EndOfLog(call);
                    }
                }
            }
        }
        // Stopped or parked at the end of its log: never resumed.
        suspend();
    }

    fn unwinding(&self, call: CoopCall) {
        {
            let mut guard = self.state.borrow_mut();
            let st = &mut *guard;
            let Some(me) = st.running else { return };
            if st.stop.is_some() {
                // A stopped replay's unwinding thread finishes its unwind
                // where it is, unless it may be no longer unwinding (the
                // stop's guess: it may have caught its panic and call on,
                // in a loop, for ever): left here then, never resumed, as
                // a stopped replay's threads are, and as one mid-unwind.
                if !st.unwinding.would_guess(me) {
                    return;
                }
            } else {
                // Its turn is next, or it has none: it goes on where it is.
                let Some((recorded, Some(outcome))) = st.slot(me).and_then(|slot| slot.recorded) else {
                    return;
                };
                if st.pending_at(&call, &recorded, &outcome).is_none() {
                    return;
                }
                if let Some(slot) = st.slot_mut(me) {
                    slot.next = Some(call);
                }
            }
            // Another thread's events come first: this one waits for its
            // turn mid-unwind, the others running with the OS thread's
            // panic count raised by it (see `unwinding.rs`).
            st.unwinding.suspend(me, false);
        }
        suspend();
    }

    fn block(&self, on: &[Resource], deadline: Option<u64>, call: CoopCall) -> Woken {
        {
            let mut st = self.state.borrow_mut();
            let Some(me) = st.running else { return Woken::Changed };
            if std::thread::panicking() && Follow::unwinds_own_noting(&mut st, me) {
                // Blocked in a `Drop` during its unwind: the others run
                // with the OS thread's panic count raised by it.
                st.unwinding.suspend(me, true);
            }
            let recorded = st.recorded(me).and_then(|(_, o)| o.copied());
            // Time is compressed and what a wait ended by is recorded: no
            // waiting on the clock, nor on a notify whose target the
            // recording's schedule chose (the mutex turn orders the wake-up).
            match (call.op, recorded) {
                (Some(Op::Sleep), _) => return Woken::TimedOut,
                // Only the wait for a notify: a wait to take the mutex back
                // blocks until its holder lets it go (were it to return at
                // once, the thread would try the lock again, forever).
                (Some(Op::CondWait), Some(Outcome::CondWait { timed_out, mutex, .. }))
                    if call.object.and_then(|o| st.bound_to(o)) != Some(mutex) =>
                {
                    return if timed_out { Woken::TimedOut } else { Woken::Changed };
                }
                (
                    Some(Op::Select | Op::RecvTimeout),
                    Some(
                        Outcome::Select { received: Received::TimedOut, .. }
                        | Outcome::RecvTimeout(Received::TimedOut),
                    ),
                ) if deadline.is_some() => return Woken::TimedOut,
                _ => {}
            }
            if let Some(slot) = st.slot_mut(me) {
                slot.status = Status::Blocked(on.to_vec());
                slot.next = Some(call);
                st.blocked.push(me);
            }
        }
        suspend();
        Woken::Changed
    }

    fn wake(&self, on: Resource, _all: bool) {
        // Every waiter looks again: the trace, not this wake-up, decides who
        // goes on.
        self.wake_all(on);
    }

    fn spawn(&self, index: ThreadIndex, name: Option<&str>, stack: Option<usize>, body: Box<dyn FnOnce()>) {
        let mut st = self.state.borrow_mut();
        st.spawned.push((index, name.map(Box::from), stack, body));
        st.counters.created += 1;
        st.aside.wake(Key::Spawn);
    }

    fn reserve_stack(&self, size: usize) -> std::io::Result<()> {
        crate::explore::coroutine::reserve(size, &mut self.state.borrow_mut().pool)
    }

    fn lock_held(&self, object: ObjectIndex, held: bool) {
        let mut st = self.state.borrow_mut();
        *st.held.at(object) = held;
        if !held {
            st.aside.wake(Key::Release);
        }
    }

    fn holds(&self, object: ObjectIndex) -> bool {
        *self.state.borrow_mut().held.at(object)
    }

    fn now(&self) -> u64 {
        // Every reading of the clock is served from the trace; this only
        // sets deadlines, which the trace's outcomes decide too.
        0
    }

    fn panicked(&self, thread: ThreadIndex, _message: &str) {
        // The panic is an event like any other: checked when it is
        // recorded. Here only its unwinding is noted.
        self.state.borrow_mut().unwinding.ended_in_panic(thread);
    }

    fn unwinds_own(&self) -> bool {
        self.state.try_borrow_mut().map_or(true, |mut st| match st.running {
            Some(me) => Follow::unwinds_own_noting(&mut st, me),
            None => true,
        })
    }

    fn panic_started(&self) {
        self.tell_unwinding(Unwinding::panic_started);
    }

    fn panic_caught(&self) {
        self.tell_unwinding(Unwinding::panic_caught);
    }

    fn choose(&self, options: &[u32]) -> u32 {
        let st = self.state.borrow();
        let recorded = st.running.and_then(|me| st.recorded(me)?.1.copied());
        match recorded {
            Some(
                Outcome::Select { arm, .. }
                | Outcome::SelectSend { arm, .. }
                | Outcome::SelectReady { arm }
                | Outcome::SelectTimer { arm },
            ) if options.contains(&arm) => arm,
            _ => options[0],
        }
    }

    fn made(&self, thread: ThreadIndex, event: &Event, site: Site<'_>) {
        let made = {
            let mut st = self.state.borrow_mut();
            if st.stop.is_none() {
                st.check(thread, event, site);
            }
            st.made += 1;
            st.made
        };
        // One thread writes it, only an exit handler reads it: no
        // ordering needed, and a relaxed store is a plain one.
        self.made.store(made, Ordering::Relaxed);
        if made.is_multiple_of(TICK_EVENTS) {
            (self.tick)();
        }
    }

    fn refused(&self, thread: ThreadIndex, detail: &str) {
        let mut st = self.state.borrow_mut();
        let Some(cursor) = st.slot(thread).map(|slot| slot.cursor) else { return };
        let actual = "a value that cannot be given back".to_string();
        Self::diverge(&mut st, thread, cursor, actual, detail.to_string());
    }

    fn recorded(&self, thread: ThreadIndex, op: Op) -> Option<Served> {
        let st = self.state.borrow();
        let slot = st.slot(thread)?;
        if st.stop.is_some() || slot.overran {
            return None;
        }
        let (event, outcome) = st.recorded(thread)?;
        // A different call is a divergence, reported when it is recorded.
        if event.op != op {
            return None;
        }
        let outcome = *outcome?;
        let blob = matches!(op, Op::Capture | Op::CaptureSensitive)
            .then(|| st.log.blob(thread, slot.cursor).map(<[u8]>::to_vec).unwrap_or_default());
        Some(Served { outcome, blob })
    }
}
