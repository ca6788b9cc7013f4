//! The replay gate: hands each thread its recorded events and holds it until
//! what its next outcome depends on has happened.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use reprise_recorder::rt::gate::{Aborted, Call, Gate, Happened, Recorded, SiteRef, TurnClass, WaitFor};
use reprise_recorder::trace::format::Verdict;
use reprise_recorder::trace::model::{ObjectIndex, SiteIndex, ThreadIndex};

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

/// What a thread of the replay is doing, for the watchdog.
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
            cursors: log.threads.keys().map(|&t| (t, AtomicUsize::new(0))).collect(),
            wakers: log.threads.keys().map(|&t| (t, Condvar::new())).collect(),
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

    /// Wakes the waiting threads whose waits have ended.
    fn wake_ready(&self, state: &State) {
        for (thread, until) in &state.waiting {
            if self.ready(state, until) {
                self.wakers.get(thread).unwrap_or(&self.wake).notify_one();
            }
        }
    }

    /// How many events `thread` has consumed.
    pub(crate) fn cursor(&self, thread: ThreadIndex) -> usize {
        self.cursors.get(&thread).map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// How many events all threads have consumed.
    pub(crate) fn consumed(&self) -> u64 {
        self.cursors.values().map(|c| c.load(Ordering::Relaxed) as u64).sum()
    }

    /// Builds the stall report from the current statuses.
    pub(crate) fn stall_report(&self, statuses: &[(ThreadIndex, Status)]) -> Stall {
        let waiting = statuses
            .iter()
            .filter_map(|(t, s)| match s {
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
                _ => None,
            })
            .collect();
        Stall { waiting }
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
        let log = self.log.threads.get(&thread)?;
        let event = *log.events.get(cursor)?;
        Some(Recorded { event, blob: log.blobs.get(&cursor).map(Vec::as_slice) })
    }

    fn site(&self, thread: ThreadIndex, site: SiteIndex) -> Option<&SiteRef> {
        self.log.threads.get(&thread)?.sites.get(site as usize)?.as_ref()
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
        let result = loop {
            if state.stop.is_some() {
                break Err(Aborted);
            }
            if self.ready(&state, &until) {
                state.status.insert(thread, Status::Running);
                break Ok(());
            }
            waker.wait(&mut state);
        };
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
        let exited = self.log.threads.get(&thread).is_some_and(|l| l.exited());
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
        while state.stop.is_none() {
            waker.wait_for(&mut state, Duration::from_millis(250));
        }
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
    }

    fn is_aborted(&self) -> bool {
        self.aborted.load(Ordering::Acquire)
    }
}

/// How long a replay may make no progress, with some thread waiting, before
/// the watchdog calls it a stall.
pub const STALL_TIMEOUT: Duration = Duration::from_millis(1500);

/// Watches `gate` until it stops or `done` says the root finished.
pub(crate) fn watchdog(gate: &ReplayGate, done: &AtomicBool) {
    // Progress: events consumed, plus threads parking at the end of their logs.
    let progress_now = || gate.consumed() + gate.progress.load(Ordering::Relaxed);
    let mut last_progress = progress_now();
    let mut since = Instant::now();
    let mut quiet_ticks = 0u32;
    while !done.load(Ordering::Acquire) && gate.stopped().is_none() {
        std::thread::sleep(Duration::from_millis(50));
        let progress = progress_now();
        if progress != last_progress {
            last_progress = progress;
            since = Instant::now();
            quiet_ticks = 0;
            continue;
        }
        quiet_ticks += 1;
        let statuses = gate.statuses();
        let live: Vec<&Status> =
            statuses.iter().map(|(_, s)| s).filter(|s| !matches!(s, Status::Finished)).collect();
        let none_running = !live.is_empty() && live.iter().all(|s| !matches!(s, Status::Running));
        let any_waiting = live.iter().any(|s| matches!(s, Status::Waiting { .. }));
        if none_running && quiet_ticks >= 2 {
            gate.stop(verdict_when_stuck(gate, &statuses, any_waiting));
            return;
        }
        if any_waiting && since.elapsed() >= STALL_TIMEOUT {
            gate.stop(Stop::Stalled(gate.stall_report(&statuses)));
            return;
        }
    }
}

/// Every live thread is parked: what does that mean for this trace?
fn verdict_when_stuck(gate: &ReplayGate, statuses: &[(ThreadIndex, Status)], any_waiting: bool) -> Stop {
    if any_waiting {
        return Stop::Stalled(gate.stall_report(statuses));
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
    Stop::Stalled(gate.stall_report(statuses))
}
