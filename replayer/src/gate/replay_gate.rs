//! The gate of one replay: its log, its counters, its threads' slots, and
//! what the watchdog and the reports ask of them.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::Mutex;
use reprise_recorder::hook::gate::{SiteRef, WaitFor};
use reprise_recorder::trace::format::Verdict;
use reprise_recorder::trace::model::{ObjectIndex, SiteIndex, ThreadIndex};

use crate::gate::state::State;
use crate::gate::status::Status;
use crate::gate::stop_at::{Pause, StopAt};
use crate::gate::threads::{ThreadSlot, Threads};
use crate::gate::waiters::Waiter;
use crate::gate::Observed;
use crate::liveness::{Liveness, Quiescence};
use crate::log::ReplayLog;
use crate::report::Stop;

/// The gate of one replay.
#[derive(Debug)]
pub struct ReplayGate {
    pub(crate) log: ReplayLog,
    /// The recording's verdict, when its trace was whole.
    pub(crate) recorded_verdict: Option<Verdict>,
    /// Whether the trace was cut (a crashed recording): running out of events
    /// then means the trace ended, not a divergence.
    pub(crate) trace_cut: bool,
    pub(super) state: State,
    pub(super) threads: Threads,
    /// Bindings of objects the trace does not name (a divergence to be).
    pub(super) unnamed_bound: Mutex<HashMap<ObjectIndex, usize>>,
    stop: Mutex<Option<Stop>>,
    aborted: AtomicBool,
    pub(crate) progress: AtomicU64,
    /// Whether to keep what each thread did (a re-recording).
    pub(super) observe: bool,
    /// How many threads are not parked: a stall is proven from it, not
    /// guessed from time.
    pub(super) liveness: Liveness,
    /// Where threads pause for a debugger (`--stop-at`), when asked.
    pub(super) pause: Option<Pause>,
}

impl ReplayGate {
    pub(crate) fn new(
        mut log: ReplayLog,
        recorded_verdict: Option<Verdict>,
        trace_cut: bool,
        observe: bool,
    ) -> ReplayGate {
        let state = State::new(&mut log);
        // The gate waits on turns and messages, never on loads per store.
        log.forget_loads();
        let threads = Threads::new(state.thread_index.len());
        ReplayGate {
            log,
            recorded_verdict,
            trace_cut,
            state,
            threads,
            unnamed_bound: Mutex::new(HashMap::new()),
            stop: Mutex::new(None),
            aborted: AtomicBool::new(false),
            progress: AtomicU64::new(0),
            observe,
            // The root, counted before it starts.
            liveness: Liveness::new(1),
            pause: None,
        }
    }

    /// Pauses each thread at `stop` (see [`StopAt`]).
    pub(crate) fn arm(&mut self, stop: &StopAt) {
        self.pause = Some(Pause::new(stop, |t| self.state.thread_index.get(t), self.threads.slots.len()));
    }

    /// `thread`'s slot, if the trace names it.
    #[inline]
    pub(super) fn slot(&self, thread: ThreadIndex) -> Option<&ThreadSlot> {
        self.state.thread_index.get(thread).map(|at| &self.threads.slots[at])
    }

    /// `thread`'s slot and its position.
    #[inline]
    pub(super) fn slot_at(&self, thread: ThreadIndex) -> Option<(u32, &ThreadSlot)> {
        self.state.thread_index.get(thread).map(|at| (at as u32, &self.threads.slots[at]))
    }

    /// Wakes the thread of `waiter`, counting it running again before it can
    /// run, unless the entry is stale (the thread moved on to another wait).
    pub(super) fn wake(&self, waiter: Waiter) {
        match self.threads.slots.get(waiter.who as usize) {
            Some(slot) if slot.holds(waiter.ticket) => {
                self.liveness.unpark(&slot.park);
                slot.parker.unpark();
            }
            Some(_) => {}
            None => self.threads.unlisted.unpark(),
        }
    }

    /// Stops the replay with `stop` unless it already stopped; wakes everyone.
    pub(crate) fn stop(&self, stop: Stop) {
        {
            let mut current = self.stop.lock();
            if current.is_none() {
                *current = Some(stop);
            }
        }
        self.aborted.store(true, Ordering::SeqCst);
        for slot in self.threads.slots.iter() {
            slot.parker.unpark();
        }
        self.threads.unlisted.unpark();
    }

    pub(crate) fn stopped(&self) -> Option<Stop> {
        self.stop.lock().clone()
    }

    /// Whether the replay has been stopped.
    #[inline]
    pub(super) fn aborted(&self) -> bool {
        self.aborted.load(Ordering::SeqCst)
    }

    /// Each thread's status, for the watchdog.
    pub(crate) fn statuses(&self) -> Vec<(ThreadIndex, Status)> {
        self.threads.statuses(|at| self.state.thread_index.index_at(at))
    }

    /// What each thread did, if this replay kept it.
    pub(crate) fn take_observed(&self) -> Option<BTreeMap<ThreadIndex, Vec<Observed>>> {
        self.observe.then(|| self.threads.take_observed(|at| self.state.thread_index.index_at(at)))
    }

    /// The waits of the threads parked in one (a watchdog's look).
    fn parked_waits(&self) -> Vec<(ThreadIndex, WaitFor)> {
        self.statuses()
            .into_iter()
            .filter_map(|(thread, status)| match status {
                Status::Waiting { until, .. } => Some((thread, until)),
                _ => None,
            })
            .collect()
    }

    /// Whether every thread is parked with no wait satisfied, from the
    /// running count and the counters.
    /// How many of the replay's threads are not parked (spawned ones that
    /// have not started yet included).
    pub(crate) fn running_threads(&self) -> u64 {
        self.liveness.snapshot().running()
    }

    pub(crate) fn quiescence(&self) -> Quiescence {
        if self.aborted() {
            return Quiescence::Busy;
        }
        self.liveness.check(|| self.parked_waits().iter().any(|(_, until)| self.state.ready(until)))
    }

    /// Wakes parked threads whose waits are satisfied: a wake-up that was
    /// lost, found by the watchdog. Never needed when the gate is right;
    /// without it such a thread would be reported as stalled.
    pub(crate) fn wake_satisfied(&self) {
        tracing::warn!("reprise replay: a thread's wait was satisfied but it was not woken; waking it");
        for (thread, until) in self.parked_waits() {
            if self.state.ready(&until) {
                match self.slot(thread) {
                    Some(slot) => {
                        self.liveness.unpark(&slot.park);
                        slot.parker.unpark();
                    }
                    None => self.threads.unlisted.unpark(),
                }
            }
        }
    }

    /// How many events `thread` has consumed.
    pub(crate) fn cursor(&self, thread: ThreadIndex) -> usize {
        self.slot(thread).map_or(0, |s| s.cursor.load(Ordering::Relaxed))
    }

    /// How many events all threads have consumed.
    pub(crate) fn consumed(&self) -> u64 {
        self.threads.slots.iter().map(|s| s.cursor.load(Ordering::Relaxed) as u64).sum()
    }

    /// The recorded site, as text.
    pub(crate) fn site_text(&self, thread: ThreadIndex, site: SiteIndex) -> String {
        self.log.site(thread, site).map(SiteRef::to_string).unwrap_or_else(|| format!("site #{site}"))
    }
}
