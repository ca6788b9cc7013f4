//! The gate as the primitives see it: the recorder's `Gate` hook.

use std::sync::atomic::Ordering;

use reprise_recorder::hook::gate::{Aborted, Call, Gate, Happened, SiteRef, TurnClass, WaitFor};
use reprise_recorder::trace::model::{Event, ObjectIndex, Op, SiteIndex, ThreadIndex};

use crate::gate::replay_gate::ReplayGate;
use crate::gate::status::Status;
use crate::gate::waiters::{sleep_until, Step};
use crate::gate::Observed;
use crate::liveness::ParkSlot;
use crate::report::{Divergence, Stop};

/// The waiter position of a thread the trace does not name: its wake-ups go
/// to the shared bed.
const UNLISTED: u32 = u32::MAX;

/// Looks at a wait this many times, spinning, before a thread registers and
/// sleeps. A count, not a time: how long it lasts decides nothing. It never
/// yields the core: with a CPU-bound process beside the replay, one
/// `sched_yield` per wait hands the core to it for a whole slice, and
/// 1,000,000 payments (4 workers, 2 cores, two `yes` hogs) took over 40 s
/// with 100 spins and 1 yield, 6.9 s with 100 spins and none; unloaded, 3.5 s
/// against 2.9 s with 10 spins and 128 yields. Parking right away (no spin)
/// replays at about half the throughput, and spinning longer is slower too
/// (more threads than cores): 30, 100, 300, 1,000 and 3,000 spins took 3.9,
/// 3.7, 3.9, 4.8 and 7.5 s on an idle machine.
const PAUSES: u32 = 100;

/// The same for a wait for a lock's turn, which spinning rarely ends: the
/// turn is another thread's, and that thread is seldom on a core then (it
/// waits itself, or the two cores run others). Counted on 20,000 payments,
/// of the 3,900 turn waits not over at their first look, 300 ended while
/// spinning 100 times and 3,600 parked anyway (messages: 6,300 against
/// 2,900); 20 spins for turns replayed in 88-96 ms against 100-116 ms
/// (interleaved runs of one trace, 2 cores).
const TURN_PAUSES: u32 = 20;

impl ReplayGate {
    /// Stops the replay with a divergence at `thread`'s current event,
    /// whose recorded outcome no replay can give (`why`).
    #[cold]
    fn cannot_happen(&self, thread: ThreadIndex, call: Call, why: String) -> Aborted {
        let cursor = self.cursor(thread).saturating_sub(1);
        let recorded = self.log.event(thread, cursor).and_then(|e| e.outcome().ok());
        self.diverged(thread, cursor, call, crate::log::no_run_gives(recorded.as_ref(), &why))
    }

    /// The recorded call at `thread`'s event `cursor`, as text for a report.
    pub(crate) fn expected_text(&self, thread: ThreadIndex, cursor: usize) -> String {
        self.log
            .event(thread, cursor)
            .map(|event| {
                let object = if event.op.has_object() {
                    format!(" of object #{}", event.object)
                } else {
                    String::new()
                };
                format!("{}{object} at {}", event.op.name(), self.site_text(thread, event.site))
            })
            .unwrap_or_else(|| "no more events".to_string())
    }
}

impl Gate for ReplayGate {
    #[inline]
    fn event(&self, thread: ThreadIndex, cursor: usize) -> Option<Event> {
        if let Some(pause) = &self.pause {
            self.pause_if_stopping(pause, thread, cursor);
        }
        self.log.event(thread, cursor)
    }

    fn blob(&self, thread: ThreadIndex, cursor: usize) -> Option<&[u8]> {
        self.log.event_and_blob(thread, cursor)?.1
    }

    fn site(&self, thread: ThreadIndex, site: SiteIndex) -> Option<&SiteRef> {
        self.log.site(thread, site)
    }

    fn bind_object(&self, object: ObjectIndex, address: usize) -> bool {
        match self.state.object(object) {
            Some(state) => {
                match state.bound.compare_exchange(0, address, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => true,
                    Err(bound) => bound == address,
                }
            }
            None => *self.unnamed_bound.lock().entry(object).or_insert(address) == address,
        }
    }

    fn wait(&self, thread: ThreadIndex, until: WaitFor, call: Call) -> Result<(), Aborted> {
        let until = match until {
            WaitFor::WriteTurn { object, number, .. } => {
                let before_in_trace =
                    number > 1 && self.state.records_turn(object, TurnClass::Write, number - 1);
                self.log.within_trace(until, before_in_trace)
            }
            _ => until,
        };
        let strict = !self.trace_cut;
        if let Some(why) = self.state.impossible(&until, strict) {
            return Err(self.cannot_happen(thread, call, why));
        }
        if matches!(until, WaitFor::Message { .. }) && self.log.any_out_of_fifo() {
            let cursor = self.cursor(thread).saturating_sub(1);
            if let Some(why) = self.log.out_of_fifo(thread, cursor) {
                return Err(self.cannot_happen(thread, call, why.to_string()));
            }
        }
        // Most waits end within a hand-off or two of another thread: spin a
        // little (it may be running on another core) before registering and
        // sleeping, which costs a context switch on each side.
        let pauses = if matches!(until, WaitFor::Turn { .. }) { TURN_PAUSES } else { PAUSES };
        for _ in 0..pauses {
            if self.aborted() {
                break;
            }
            if self.state.ready(&until) {
                return Ok(());
            }
            std::hint::spin_loop();
        }
        let cursor = self.cursor(thread).saturating_sub(1);
        let listed = self.slot_at(thread);
        let slot = listed.map(|(_, slot)| slot);
        self.threads.set_status(thread, slot, Status::Waiting { until, call, cursor });
        let unlisted_mark = ParkSlot::new();
        let (who, parker, mark) = match listed {
            Some((at, slot)) => (at, &slot.parker, &slot.park),
            None => (UNLISTED, &self.threads.unlisted, &unlisted_mark),
        };
        let register = || {
            let ticket = slot.map_or(0, |slot| slot.next_ticket());
            self.state.register(who, ticket, &until);
        };
        register();
        let result = sleep_until(parker, |slept| {
            if self.aborted() {
                return Step::Done(Err(Aborted));
            }
            if self.state.ready(&until) {
                return Step::Done(Ok(()));
            }
            // Not over: another thread may have taken this very turn (on
            // the slow path only; after registering, so none is missed).
            if let Some(why) = self.state.impossible(&until, strict) {
                return Step::Done(Err(self.cannot_happen(thread, call, why)));
            }
            if let Some(why) = self.log.too_few_reads(&until).filter(|_| strict) {
                return Step::Done(Err(self.cannot_happen(thread, call, why)));
            }
            if slept {
                // Woken but not released (a waker popped it for a change
                // that did not end this wait, or a stale wake-up): wait on.
                register();
            }
            if !mark.is_parked() {
                // The liveness handshake: mark, leave the running count, then
                // check the wait again before sleeping. Again after a wake-up
                // that found the wait not over (its waker counted it in).
                self.liveness.park(mark);
                return Step::Again;
            }
            Step::Sleep
        });
        // Counted in by its waker already, unless it stopped waiting for
        // another reason (a stop, a stale wake-up that found it ready).
        self.liveness.unpark(mark);
        if result.is_ok() {
            self.threads.set_status(thread, slot, Status::Running);
        }
        result
    }

    #[inline]
    fn happened(&self, what: Happened) {
        self.state.happened(what, |waiter| self.wake(waiter));
    }

    fn stored(&self, object: ObjectIndex, store: u64, bits: u64) {
        self.state.stored(object, store, bits);
    }

    fn stored_bits(&self, object: ObjectIndex, store: u64) -> Option<u64> {
        self.state.stored_bits(object, store)
    }

    fn holder_releases(&self, object: ObjectIndex) -> Option<u64> {
        self.state.holder_releases(object)
    }

    fn advanced(&self, thread: ThreadIndex, cursor: usize, call: &Call) {
        let slot = self.slot(thread);
        if let Some(slot) = slot {
            slot.cursor.store(cursor, Ordering::Relaxed);
        }
        if call.op == Op::Spawn {
            // The child is counted from its admitted spawn, before it exists:
            // a parent that spawns and then parks is not all there is.
            self.liveness.enter();
        }
        if self.observe {
            let location = call.location;
            let observed = Observed {
                op: call.op,
                object: call.object,
                site: SiteRef {
                    file: location.file().to_string(),
                    line: location.line(),
                    column: location.column(),
                },
            };
            self.threads.observe(thread, slot, observed);
        }
    }

    fn diverged(&self, thread: ThreadIndex, cursor: usize, call: Call, detail: String) -> Aborted {
        self.stop(Stop::Diverged(Divergence {
            thread: self.log.thread_label(thread),
            event: cursor,
            expected: self.expected_text(thread, cursor),
            actual: call.to_string(),
            detail,
        }));
        Aborted
    }

    fn end_of_log(&self, thread: ThreadIndex, cursor: usize, call: Call) -> Aborted {
        let exited = (self.log.thread_len(thread).checked_sub(1))
            .and_then(|last| self.log.event(thread, last))
            .is_some_and(|event| event.op == Op::ThreadExit);
        if exited && !self.trace_cut {
            return self.diverged(
                thread,
                cursor,
                call,
                "the recording says this thread had already exited".into(),
            );
        }
        let slot = self.slot(thread);
        self.threads.set_status(thread, slot, Status::EndOfLog { call, cursor });
        self.progress.fetch_add(1, Ordering::Relaxed);
        // Done with what the trace holds of it: a `--stop-at` pause counts
        // it as finished. Counted as neither, it kept the pause from ever
        // being announced (a recording a worker's exit ended before another
        // thread's first event; about 1 in 25 loaded runs of
        // unlike_thirteenth::exits).
        if let Some(pause) = &self.pause {
            self.finished_before_stop(pause);
        }
        let parker = slot.map_or(&self.threads.unlisted, |slot| &slot.parker);
        // Parked for good: only the replay's stop ends this wait.
        let mark = ParkSlot::new();
        self.liveness.park(&mark);
        sleep_until(parker, |_| if self.aborted() { Step::Done(()) } else { Step::Sleep });
        self.liveness.unpark(&mark);
        Aborted
    }

    fn thread_started(&self, thread: ThreadIndex) {
        self.threads.set_status(thread, self.slot(thread), Status::Running);
    }

    fn thread_finished(&self, thread: ThreadIndex) {
        self.threads.set_status(thread, self.slot(thread), Status::Finished);
        self.state.exited(thread, |waiter| self.wake(waiter));
        self.liveness.leave();
        if let Some(pause) = &self.pause {
            self.finished_before_stop(pause);
        }
    }

    fn is_aborted(&self) -> bool {
        self.aborted()
    }
}
