//! The replay gate: hands each thread its recorded events and holds it until
//! what its next outcome depends on has happened.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use reprise_recorder::rt::gate::{Aborted, Call, Gate, Happened, Recorded, SiteRef, TurnClass, WaitFor};
use reprise_recorder::trace::format::Verdict;
use reprise_recorder::trace::model::{ObjectIndex, Op, SiteIndex, ThreadIndex};

use crate::liveness::{Liveness, ParkSlot, Quiescence};
use crate::log::ReplayLog;
use crate::report::{Divergence, Stall, Stop, Waiting};

/// One call a replayed thread made, as the program made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    /// The operation.
    pub op: reprise_recorder::trace::model::Op,
    /// The object, when it has one.
    pub object: Option<ObjectIndex>,
    /// Where it was called from.
    pub site: SiteRef,
}

/// What a thread of the replay is doing, for the watchdog's reports.
#[derive(Clone, Debug)]
pub(crate) enum Status {
    Running,
    Waiting { until: WaitFor, call: Call, cursor: usize },
    EndOfLog { call: Call, cursor: usize },
    Finished,
}

#[derive(Debug, Default)]
struct State {
    taken: HashMap<(ObjectIndex, TurnClass), u64>,
    reads_since_write: HashMap<ObjectIndex, u64>,
    sent: HashMap<ThreadIndex, u64>,
    exited: HashMap<ThreadIndex, bool>,
    status: HashMap<ThreadIndex, Status>,
    /// What each waiting thread waits for: `happened` wakes only the threads
    /// whose wait it ends.
    waiting: HashMap<ThreadIndex, WaitFor>,
    stop: Option<Stop>,
}

/// The gate of one replay.
#[derive(Debug)]
pub struct ReplayGate {
    pub(crate) log: ReplayLog,
    /// The recording's verdict, when its trace was whole.
    pub(crate) recorded_verdict: Option<Verdict>,
    /// Whether the trace was cut (a crashed recording): running out of events
    /// then means the trace ended, not a divergence.
    pub(crate) trace_cut: bool,
    state: Mutex<State>,
    /// Wakes threads not in the log (they only park).
    wake: Condvar,
    /// One condvar per recorded thread: a wake-up goes to the thread whose
    /// wait ended, not to every waiting thread. Built once, then only read.
    wakers: HashMap<ThreadIndex, Condvar>,
    bound: Mutex<HashMap<ObjectIndex, usize>>,
    aborted: AtomicBool,
    pub(crate) progress: AtomicU64,
    /// What each thread did, when the replay keeps it (a re-recording).
    observed: Option<Mutex<BTreeMap<ThreadIndex, Vec<Observed>>>>,
    /// Each recorded thread's next event. Built once, then only read, so
    /// looking up a cursor takes no lock.
    cursors: HashMap<ThreadIndex, AtomicUsize>,
    /// How many threads are not parked: a stall is proven from it, not
    /// guessed from time.
    liveness: Liveness,
    /// Each recorded thread's parked mark. Built once, then only read.
    slots: HashMap<ThreadIndex, ParkSlot>,
}

impl ReplayGate {
    pub(crate) fn new(
        log: ReplayLog,
        recorded_verdict: Option<Verdict>,
        trace_cut: bool,
        observe: bool,
    ) -> ReplayGate {
        ReplayGate {
            observed: observe.then(|| Mutex::new(BTreeMap::new())),
            cursors: log.thread_ids().map(|t| (t, AtomicUsize::new(0))).collect(),
            wakers: log.thread_ids().map(|t| (t, Condvar::new())).collect(),
            slots: log.thread_ids().map(|t| (t, ParkSlot::new())).collect(),
            // The root, counted before it starts.
            liveness: Liveness::new(1),
            log,
            recorded_verdict,
            trace_cut,
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            bound: Mutex::new(HashMap::new()),
            aborted: AtomicBool::new(false),
            progress: AtomicU64::new(0),
        }
    }

    fn ready(&self, state: &State, until: &WaitFor) -> bool {
        let taken = |object, class| state.taken.get(&(object, class)).copied().unwrap_or(0);
        match *until {
            WaitFor::Turn { object, class, number } => match self.log.rank(object, class, number) {
                Some(rank) => taken(object, class) == rank,
                None => true,
            },
            WaitFor::Taken { number: 0, .. } => true,
            WaitFor::Taken { object, class, number } => match self.log.rank(object, class, number) {
                Some(rank) => taken(object, class) > rank,
                None => true,
            },
            WaitFor::WriteTurn { object, number, readers } => {
                let turn = match self.log.rank(object, TurnClass::Write, number) {
                    Some(rank) => taken(object, TurnClass::Write) == rank,
                    None => true,
                };
                turn && state.reads_since_write.get(&object).copied().unwrap_or(0) >= readers
            }
            WaitFor::Message { sender, seq } => state.sent.get(&sender).is_some_and(|&s| s >= seq),
            WaitFor::Exit(thread) => state.exited.get(&thread).copied().unwrap_or(false),
        }
    }

    /// Stops the replay with `stop` unless it already stopped; wakes everyone.
    pub(crate) fn stop(&self, stop: Stop) {
        let mut state = self.state.lock();
        if state.stop.is_none() {
            state.stop = Some(stop);
        }
        self.aborted.store(true, Ordering::Release);
        self.wake.notify_all();
        for waker in self.wakers.values() {
            waker.notify_all();
        }
    }

    pub(crate) fn stopped(&self) -> Option<Stop> {
        self.state.lock().stop.clone()
    }

    /// Each thread's status, for the watchdog.
    pub(crate) fn statuses(&self) -> Vec<(ThreadIndex, Status)> {
        let state = self.state.lock();
        let mut all: Vec<_> = state.status.iter().map(|(&t, s)| (t, s.clone())).collect();
        all.sort_by_key(|(t, _)| *t);
        all
    }

    /// What each thread did, if this replay kept it.
    pub(crate) fn take_observed(&self) -> Option<BTreeMap<ThreadIndex, Vec<Observed>>> {
        self.observed.as_ref().map(|o| std::mem::take(&mut *o.lock()))
    }

    /// Wakes the waiting threads whose waits have ended, counting each one
    /// running again before it can run.
    fn wake_ready(&self, state: &State) {
        for (thread, until) in &state.waiting {
            if self.ready(state, until) {
                if let Some(slot) = self.slots.get(thread) {
                    self.liveness.unpark(slot);
                }
                self.wakers.get(thread).unwrap_or(&self.wake).notify_one();
            }
        }
    }

    /// Whether every thread is parked with no wait satisfied, from the
    /// running count and the per-object counters.
    pub(crate) fn quiescence(&self) -> Quiescence {
        let state = self.state.lock();
        if state.stop.is_some() {
            return Quiescence::Busy;
        }
        self.liveness.check(|| state.waiting.values().any(|until| self.ready(&state, until)))
    }

    /// Wakes parked threads whose waits are satisfied: a wake-up that was
    /// lost, found by the watchdog. Never needed when the gate is right;
    /// without it such a thread would be reported as stalled.
    pub(crate) fn wake_satisfied(&self) {
        let state = self.state.lock();
        tracing::warn!("reprise replay: a thread's wait was satisfied but it was not woken; waking it");
        self.wake_ready(&state);
    }

    /// How many events `thread` has consumed.
    pub(crate) fn cursor(&self, thread: ThreadIndex) -> usize {
        self.cursors.get(&thread).map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// How many events all threads have consumed.
    pub(crate) fn consumed(&self) -> u64 {
        self.cursors.values().map(|c| c.load(Ordering::Relaxed) as u64).sum()
    }

    /// Builds the stall report from the current statuses: `backstop` when
    /// the time backstop fired rather than a proof from state.
    pub(crate) fn stall_report(
        &self,
        statuses: &[(ThreadIndex, Status)],
        backstop: Option<Duration>,
    ) -> Stall {
        let waiting = statuses
            .iter()
            .filter_map(|(t, s)| match s {
                Status::Running => Some(self.running_report(*t)),
                Status::Waiting { until, call, cursor } => Some(Waiting {
                    thread: self.log.thread_label(*t),
                    event: *cursor,
                    call: call.to_string(),
                    waits_for: describe_wait(&self.log, until),
                }),
                Status::EndOfLog { call, cursor } => Some(Waiting {
                    thread: self.log.thread_label(*t),
                    event: *cursor,
                    call: call.to_string(),
                    waits_for: "nothing: its recorded events are used up".into(),
                }),
                Status::Finished => None,
            })
            .collect();
        Stall { waiting, backstop }
    }

    /// A running thread, by the last reprise call it made: that call matched
    /// its recorded event, so the recorded site is where the program was.
    fn running_report(&self, thread: ThreadIndex) -> Waiting {
        let cursor = self.cursor(thread);
        let last = cursor.checked_sub(1).and_then(|at| self.recorded(thread, at));
        let call = match last {
            Some(r) => {
                let object = if r.event.op.has_object() {
                    format!(" of object #{}", r.event.object)
                } else {
                    String::new()
                };
                format!(
                    "{}{object} at {} (its last reprise call)",
                    r.event.op.name(),
                    self.site_text(thread, r.event.site)
                )
            }
            None => "no reprise call yet".into(),
        };
        Waiting {
            thread: self.log.thread_label(thread),
            event: cursor.saturating_sub(1),
            call,
            waits_for: "nothing reprise sees: running since that call (computing, stopped in a debugger, \
                        or blocked in a call reprise does not see)"
                .into(),
        }
    }

    fn set_status(&self, thread: ThreadIndex, status: Status) {
        self.state.lock().status.insert(thread, status);
    }

    /// The recorded site, as text.
    pub(crate) fn site_text(&self, thread: ThreadIndex, site: SiteIndex) -> String {
        self.site(thread, site).map(SiteRef::to_string).unwrap_or_else(|| format!("site #{site}"))
    }
}

fn describe_wait(log: &ReplayLog, until: &WaitFor) -> String {
    match *until {
        WaitFor::Turn { object, class, number } => format!("turn {number} ({class:?}) of object #{object}"),
        WaitFor::Taken { object, class, number } => {
            format!("turn {number} ({class:?}) of object #{object} to be taken")
        }
        WaitFor::WriteTurn { object, number, readers } => {
            format!("write {number} of rwlock #{object} after {readers} readers")
        }
        WaitFor::Message { sender, seq } => format!("message {seq} of {}", log.thread_label(sender)),
        WaitFor::Exit(thread) => format!("{} to exit", log.thread_label(thread)),
    }
}

impl Gate for ReplayGate {
    fn recorded(&self, thread: ThreadIndex, cursor: usize) -> Option<Recorded<'_>> {
        let (event, blob) = self.log.event_and_blob(thread, cursor)?;
        Some(Recorded { event, blob })
    }

    fn site(&self, thread: ThreadIndex, site: SiteIndex) -> Option<&SiteRef> {
        self.log.site(thread, site)
    }

    fn bind_object(&self, object: ObjectIndex, address: usize) -> bool {
        let mut bound = self.bound.lock();
        *bound.entry(object).or_insert(address) == address
    }

    fn wait(&self, thread: ThreadIndex, until: WaitFor, call: Call) -> Result<(), Aborted> {
        let mut state = self.state.lock();
        if state.stop.is_none() && self.ready(&state, &until) {
            return Ok(());
        }
        let cursor = self.cursor(thread).saturating_sub(1);
        state.status.insert(thread, Status::Waiting { until, call, cursor });
        state.waiting.insert(thread, until);
        let waker = self.wakers.get(&thread).unwrap_or(&self.wake);
        let unlisted = ParkSlot::new();
        let slot = self.slots.get(&thread).unwrap_or(&unlisted);
        let result = loop {
            if state.stop.is_some() {
                break Err(Aborted);
            }
            if self.ready(&state, &until) {
                state.status.insert(thread, Status::Running);
                break Ok(());
            }
            if !slot.is_parked() {
                // The liveness handshake: mark, leave the running count, then
                // check the wait again before sleeping. Again after a wake-up
                // that found the wait not over (its waker counted it in).
                self.liveness.park(slot);
                continue;
            }
            waker.wait(&mut state);
        };
        // Counted in by its waker already, unless it stopped waiting for
        // another reason (a stop, a spurious wake-up that found it ready).
        self.liveness.unpark(slot);
        state.waiting.remove(&thread);
        result
    }

    fn happened(&self, what: Happened) {
        let mut state = self.state.lock();
        match what {
            Happened::Turn { object, class } => {
                *state.taken.entry((object, class)).or_insert(0) += 1;
                if class == TurnClass::Write {
                    state.reads_since_write.insert(object, 0);
                }
            }
            Happened::Read(object) => *state.reads_since_write.entry(object).or_insert(0) += 1,
            Happened::Sent { sender, seq } => {
                let sent = state.sent.entry(sender).or_insert(0);
                *sent = (*sent).max(seq);
            }
            Happened::Exited(thread) => {
                state.exited.insert(thread, true);
            }
        }
        self.wake_ready(&state);
    }

    fn advanced(&self, thread: ThreadIndex, cursor: usize, call: &Call) {
        if let Some(c) = self.cursors.get(&thread) {
            c.store(cursor, Ordering::Relaxed);
        }
        if call.op == Op::Spawn {
            // The child is counted from its admitted spawn, before it exists:
            // a parent that spawns and then parks is not all there is.
            self.liveness.enter();
        }
        if let Some(observed) = &self.observed {
            let location = call.location;
            observed.lock().entry(thread).or_default().push(Observed {
                op: call.op,
                object: call.object,
                site: SiteRef {
                    file: location.file().to_string(),
                    line: location.line(),
                    column: location.column(),
                },
            });
        }
    }

    fn diverged(&self, thread: ThreadIndex, cursor: usize, call: Call, detail: String) -> Aborted {
        let expected = self
            .recorded(thread, cursor)
            .map(|r| {
                let object = if r.event.op.has_object() {
                    format!(" of object #{}", r.event.object)
                } else {
                    String::new()
                };
                format!("{}{object} at {}", r.event.op.name(), self.site_text(thread, r.event.site))
            })
            .unwrap_or_else(|| "no more events".to_string());
        self.stop(Stop::Diverged(Divergence {
            thread: self.log.thread_label(thread),
            event: cursor,
            expected,
            actual: call.to_string(),
            detail,
        }));
        Aborted
    }

    fn end_of_log(&self, thread: ThreadIndex, cursor: usize, call: Call) -> Aborted {
        let exited = self.log.exited(thread);
        if exited && !self.trace_cut {
            return self.diverged(
                thread,
                cursor,
                call,
                "the recording says this thread had already exited".into(),
            );
        }
        let mut state = self.state.lock();
        state.status.insert(thread, Status::EndOfLog { call, cursor });
        self.progress.fetch_add(1, Ordering::Relaxed);
        let waker = self.wakers.get(&thread).unwrap_or(&self.wake);
        // Parked for good: only the replay's stop ends this wait.
        let slot = ParkSlot::new();
        self.liveness.park(&slot);
        while state.stop.is_none() {
            waker.wait_for(&mut state, Duration::from_millis(250));
        }
        self.liveness.unpark(&slot);
        Aborted
    }

    fn thread_started(&self, thread: ThreadIndex) {
        self.set_status(thread, Status::Running);
    }

    fn thread_finished(&self, thread: ThreadIndex) {
        let mut state = self.state.lock();
        state.status.insert(thread, Status::Finished);
        state.exited.insert(thread, true);
        self.wake_ready(&state);
        self.liveness.leave();
    }

    fn is_aborted(&self) -> bool {
        self.aborted.load(Ordering::Acquire)
    }
}

/// How long the watchdog sleeps between looks at the gate's state.
const TICK: Duration = Duration::from_millis(20);

/// Watches `gate` until it stops or `done` says the root finished. A stall
/// is declared when the gate's state proves it (every thread parked, no wait
/// satisfied); `backstop`, when set, stops a replay that consumed no event
/// for that long, and says that it is not a proof.
pub(crate) fn watchdog(gate: &ReplayGate, done: &AtomicBool, backstop: Option<Duration>) {
    // Progress: events consumed, plus threads parking at the end of their logs.
    let progress_now = || gate.consumed() + gate.progress.load(Ordering::Relaxed);
    let mut last_progress = progress_now();
    let mut since = Instant::now();
    while !done.load(Ordering::Acquire) && gate.stopped().is_none() {
        std::thread::sleep(TICK);
        match gate.quiescence() {
            Quiescence::Stuck => {
                let statuses = gate.statuses();
                // Every thread finished: the root is returning, not stuck.
                if statuses.iter().all(|(_, s)| matches!(s, Status::Finished)) {
                    continue;
                }
                gate.stop(verdict_when_stuck(gate, &statuses));
                return;
            }
            Quiescence::Wakeable => gate.wake_satisfied(),
            Quiescence::Busy => {}
        }
        let progress = progress_now();
        if progress != last_progress {
            last_progress = progress;
            since = Instant::now();
            continue;
        }
        if let Some(limit) = backstop.filter(|&limit| since.elapsed() >= limit) {
            gate.stop(Stop::Stalled(gate.stall_report(&gate.statuses(), Some(limit))));
            return;
        }
    }
}

/// Every live thread is parked: what does that mean for this trace?
fn verdict_when_stuck(gate: &ReplayGate, statuses: &[(ThreadIndex, Status)]) -> Stop {
    if statuses.iter().any(|(_, s)| matches!(s, Status::Waiting { .. })) {
        return Stop::Stalled(gate.stall_report(statuses, None));
    }
    if let Some(Verdict::Deadlock { blocked }) = &gate.recorded_verdict {
        for b in blocked {
            let at = statuses.iter().find(|(t, _)| *t == b.thread).map(|(_, s)| s);
            let same = matches!(at, Some(Status::EndOfLog { call, .. })
                if call.op == b.op && call.location.line() == b.line && call.location.file() == b.file);
            if !same {
                let actual = match at {
                    Some(Status::EndOfLog { call, .. }) => call.to_string(),
                    Some(other) => format!("{other:?}"),
                    None => "not started".into(),
                };
                return Stop::Diverged(Divergence {
                    thread: gate.log.thread_label(b.thread),
                    event: gate.cursor(b.thread),
                    expected: format!("blocked in {} at {}:{}:{}", b.op.name(), b.file, b.line, b.column),
                    actual,
                    detail: "the recording deadlocked here; the replay stopped elsewhere".into(),
                });
            }
        }
        return Stop::Deadlock(blocked.clone());
    }
    if let Some(verdict @ Verdict::Livelock { .. }) = &gate.recorded_verdict {
        return Stop::Livelock(verdict.clone());
    }
    if gate.trace_cut {
        return Stop::TraceEnded;
    }
    Stop::Stalled(gate.stall_report(statuses, None))
}
