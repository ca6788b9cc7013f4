//! The run's scheduler as the primitives see it: the recorder's
//! `Scheduler` hook, through which a fiber switches, blocks, wakes others,
//! spawns, asks the time and a choice, and reports what it made.

use reprise_recorder::hook::coop::{self, CoopCall, Resource, Scheduler, Served, Woken};
use reprise_recorder::trace::model::{ObjectIndex, Op, Outcome, ThreadIndex};

use super::{advance_clock, side_choice, with_owners, RunScheduler};
use crate::explore::coroutine::suspend;
use crate::explore::run_failure::{FailureKind, Stuck};
use crate::explore::spare::Made;
use crate::unwinding::Unwinding;

impl RunScheduler {
    /// Tells the run's unwinding record what the running thread did; from
    /// a panic hook too, so never while the state is borrowed.
    fn tell_unwinding(&self, what: fn(&mut Unwinding, ThreadIndex)) {
        if let Ok(mut st) = self.state.try_borrow_mut() {
            if let Some(me) = st.running {
                what(&mut st.unwinding, me);
            }
        }
    }
}

fn is_lock_wait(op: Option<Op>) -> bool {
    matches!(op, Some(Op::Lock | Op::ReadLock | Op::WriteLock | Op::CondWait))
}

impl Scheduler for RunScheduler {
    fn switch(&self, call: CoopCall) {
        {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            let Some(me) = st.running else { return };
            if std::thread::panicking() && st.unwinding.unwinds_own(Some(me)) {
                // Switched out in a `Drop` during its unwind: the others may
                // run with the OS thread's panic count raised by it, and
                // must not be taken for unwinding themselves.
                st.unwinding.suspend(me, false);
            }
            if let Some(slot) = st.threads.get_mut(me) {
                slot.next = Some(call);
            }
            let yields = call.op.is_none();
            if yields && st.threads.alone(me) {
                // A yield with nothing else to run: a spin-wait for what a
                // sleeping thread will do. Real time passes while it spins,
                // so virtual time passes to the earliest timer; kept still,
                // the spinner kept the turn at every point (a strategy's
                // first option) and the run ended as a false livelock.
                if let Some((deadline, _)) = st.threads.earliest_timer() {
                    advance_clock(st, deadline);
                }
            }
            st.threads.set_yielded(me, st.yield_defers && yields, &mut *st.strategy);
        }
        suspend();
    }

    fn block(&self, on: &[Resource], deadline: Option<u64>, call: CoopCall) -> Woken {
        {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            let Some(me) = st.running else { return Woken::Changed };
            if std::thread::panicking() && st.unwinding.unwinds_own(Some(me)) {
                // Blocked in a `Drop` during its unwind: the others run with
                // the OS thread's panic count raised by it.
                st.unwinding.suspend(me, true);
            }
            st.threads.block(me, on, deadline, &mut *st.strategy);
            if let Some(slot) = st.threads.get_mut(me) {
                slot.next = Some(call);
            }
            if is_lock_wait(call.op) && st.failure.is_none() {
                if let Some(cycle) = self.lock_cycle(st, me) {
                    let stuck: Vec<Stuck> = cycle
                        .iter()
                        .map(|&t| Stuck { thread: t, call: st.threads.next(t), waits_for: None })
                        .collect();
                    let stuck = with_owners(stuck, st);
                    let partial = st.threads.any_runnable();
                    st.failure = Some(FailureKind::Deadlock { stuck, partial });
                }
            }
        }
        suspend();
        let st = self.state.borrow();
        st.running.and_then(|me| st.threads.get(me)).map_or(Woken::Changed, |s| s.woken)
    }

    fn wake(&self, on: Resource, all: bool) {
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        if all {
            return st.threads.wake_all(on, &mut *st.strategy);
        }
        let mut waiters = std::mem::take(&mut st.waiters);
        st.threads.waiters_of(on, &mut waiters);
        if !waiters.is_empty() {
            let chosen = if waiters.len() == 1 { waiters[0] } else { side_choice(st, &waiters, None) };
            st.threads.wake_one(chosen, &mut *st.strategy);
        }
        st.waiters = waiters;
    }

    fn spawn(&self, index: ThreadIndex, name: Option<&str>, stack: Option<usize>, body: Box<dyn FnOnce()>) {
        self.state.borrow_mut().spawned.push((index, name.map(Box::from), stack, body));
    }

    fn reserve_stack(&self, size: usize) -> std::io::Result<()> {
        crate::explore::coroutine::reserve(size, &mut self.state.borrow_mut().pool)
    }

    fn lock_held(&self, object: ObjectIndex, held: bool) {
        let mut st = self.state.borrow_mut();
        match (held, st.running) {
            (true, Some(me)) => {
                st.lock_owner.insert(object, me);
            }
            (false, _) => {
                st.lock_owner.remove(&object);
            }
            (true, None) => {}
        }
    }

    fn holds(&self, object: ObjectIndex) -> bool {
        self.state.borrow().lock_owner.contains_key(&object)
    }

    fn now(&self) -> u64 {
        self.state.borrow().clock
    }

    fn choose(&self, options: &[u32]) -> u32 {
        if let [only] = options {
            return *only;
        }
        let mut st = self.state.borrow_mut();
        // A select's arm the strategy knows (a recorded one), unless the
        // run follows a plan of its own.
        if let Some(me) = st.running.filter(|_| st.side_plan.is_none()) {
            if let Some(arm) = st.strategy.arm(me, options).filter(|a| options.contains(a)) {
                st.side.push(arm);
                return arm;
            }
        }
        side_choice(&mut st, options, None)
    }

    fn made(&self, thread: ThreadIndex, event: &reprise_recorder::trace::model::Event, site: coop::Site<'_>) {
        let mut st = self.state.borrow_mut();
        let slot = thread as usize;
        if st.made_by.len() <= slot {
            st.made_by.resize(slot + 1, 0);
        }
        st.made_by[slot] += 1;
        let step = st.log.len().saturating_sub(1);
        st.strategy.made(thread, event);
        if let Some(made) = &mut st.made {
            let site = format!("{}:{}", site.file, site.line);
            made.push(Made { step, thread, event: *event, site });
        }
    }

    fn recorded(&self, thread: ThreadIndex, op: reprise_recorder::trace::model::Op) -> Option<coop::Served> {
        let mut st = self.state.borrow_mut();
        if matches!(op, Op::Capture | Op::CaptureSensitive) {
            let at = st.made_by.get(thread as usize).copied().unwrap_or(0);
            let again = st.serve.as_ref().and_then(|s| s.get(&(thread, at))).filter(|s| s.outcome.op() == op);
            if let Some(served) = again {
                return Some(served.clone());
            }
        }
        st.strategy.served(thread, op)
    }

    fn captured(&self, thread: ThreadIndex, outcome: Outcome, blob: &[u8]) {
        let mut st = self.state.borrow_mut();
        // Its event was made: it is the thread's last.
        let at = st.made_by.get(thread as usize).copied().unwrap_or(0).saturating_sub(1);
        st.captured.insert((thread, at), Served { outcome, blob: Some(blob.to_vec()) });
    }

    fn unwinds_own(&self) -> bool {
        self.state.try_borrow_mut().map_or(true, |mut st| {
            let running = st.running;
            st.unwinding.unwinds_own(running)
        })
    }

    fn panic_started(&self) {
        self.tell_unwinding(Unwinding::panic_started);
    }

    fn panic_caught(&self) {
        self.tell_unwinding(Unwinding::panic_caught);
    }

    fn panicked(&self, thread: ThreadIndex, message: &str) {
        let mut st = self.state.borrow_mut();
        st.unwinding.ended_in_panic(thread);
        if st.failure.is_none() {
            st.failure = Some(FailureKind::Panic { thread, message: message.to_string() });
        }
    }
}
