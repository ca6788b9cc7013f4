//! Running a program under a recorded trace.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reprise_recorder::hook::gate::Gate;
use reprise_recorder::hook::gate::SiteRef;
use reprise_recorder::hook::run_gated_keyed;
use reprise_recorder::trace::format::{BlockedThread, Footer, Verdict};
use reprise_recorder::trace::model::sensitive::SealKey;
use reprise_recorder::trace::model::{Event, Op, ThreadIndex};
use reprise_recorder::trace::read::TraceFile;
use reprise_recorder::trace::window::Window;
use reprise_recorder::ReplayStopped;

use crate::backstop::stall_backstop_from_env;
use crate::gate::StopAt;
use crate::gate::{watchdog, Observed, ReplayGate, Status};
use crate::log::{IndexedTrace, ReplayLog};
use crate::prefix::cut_to_consistent_prefix_with;
use crate::report::{Divergence, ReplayOutcome, Stop};

/// How long a stopped replay waits for its root thread to unwind.
const UNWIND_GRACE: Duration = Duration::from_secs(2);

/// What a replay did.
#[derive(Debug)]
#[non_exhaustive]
pub struct ReplayReport<R> {
    /// What the replayed closure returned, when it returned.
    pub result: Option<R>,
    /// How the replay ended.
    pub outcome: ReplayOutcome,
    /// Events in the trace (after any cut).
    pub events: u64,
    /// Events the replay consumed.
    pub replayed: u64,
    /// Events dropped when cutting a damaged trace to a consistent prefix.
    pub cut: u64,
    /// Whether the trace was whole.
    pub whole: bool,
    /// The verdict the replayed run reached, when it followed the trace to its
    /// end (`None` when it diverged, stalled or ran out of trace): set it
    /// against the recording's with [`crate::compare::compare`].
    pub reproduced: Option<Verdict>,
    /// What each thread did during the replay, when
    /// [`ReplayOptions::observe`] asked for it: a re-recording of the replayed
    /// run's calls, to compare with the trace.
    pub observed: Option<BTreeMap<ThreadIndex, Vec<Observed>>>,
    /// The most events one thread's window held decoded at once: a chunk's
    /// worth, whatever the trace's length (see [`ReplayLog::peak_window`]).
    /// Replay on coroutines keeps a window per thread the same way.
    pub peak_window: usize,
}

/// How to replay.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ReplayOptions {
    /// Keep every call the replayed program makes (default: false).
    pub observe: bool,
    /// Stop a replay that consumed no event for this long, reporting each
    /// thread's last reprise call; `None`: never. A stall proven from the
    /// gate's state is reported at once whatever this says; this backstop
    /// is for a thread stuck where reprise cannot see it. Default:
    /// [`crate::STALL_BACKSTOP_ENV`] if set, else [`crate::DEFAULT_STALL_BACKSTOP`].
    pub stall_backstop: Option<Duration>,
    /// The key opening the trace's sensitive captures
    /// ([`reprise_recorder::capture_sensitive`]). Default: `REPRISE_KEY`
    /// (64 hex digits or a key file's path) if set and valid (a bad one is
    /// named on stderr), else `None`: a replay reaching a sensitive capture
    /// then stops, saying the key is needed.
    pub key: Option<SealKey>,
    /// Pause every thread after this event, for a debugger to attach
    /// (`reprise replay --stop-at`); the time backstop is off then.
    pub stop_at: Option<StopAt>,
}

impl Default for ReplayOptions {
    /// Reads [`crate::STALL_BACKSTOP_ENV`]; a value it cannot parse is named on
    /// stderr once and the default is used.
    fn default() -> ReplayOptions {
        ReplayOptions {
            observe: false,
            stall_backstop: stall_backstop_from_env(),
            key: key_from_env(),
            stop_at: None,
        }
    }
}

impl ReplayOptions {
    /// Options that keep every call the program makes.
    pub fn observing() -> ReplayOptions {
        ReplayOptions { observe: true, ..ReplayOptions::default() }
    }

    /// These options with `key` opening sensitive captures.
    pub fn key(mut self, key: SealKey) -> ReplayOptions {
        self.key = Some(key);
        self
    }

    /// These options with no key for sensitive captures, whatever
    /// `REPRISE_KEY` says.
    pub fn without_key(mut self) -> ReplayOptions {
        self.key = None;
        self
    }

    /// These options pausing every thread after `stop`'s event, with no time
    /// backstop: a pause the user asked for is not a stall.
    pub fn stop_at(mut self, stop: StopAt) -> ReplayOptions {
        self.stop_at = Some(stop);
        self.stall_backstop = None;
        self
    }

    /// These options with the time backstop set to `backstop` (`None`: never).
    pub fn with_stall_backstop(mut self, backstop: Option<Duration>) -> ReplayOptions {
        self.stall_backstop = backstop;
        self
    }
}

/// Re-executes `f` under `trace`: `f` runs as the root thread, and every
/// primitive call of every thread it spawns gets its recorded outcome.
///
/// A damaged trace (a crashed recording) is first cut to its largest
/// consistent prefix. The replay stops with a report on a divergence or a
/// stall (proven from the gate's state: every thread parked on an event no
/// thread can produce), or when its time backstop fires
/// ([`ReplayOptions::stall_backstop`]); threads it stops are unwound.
pub fn replay<F, R>(trace: &TraceFile, f: F) -> ReplayReport<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    replay_with(trace, &ReplayOptions::default(), f)
}

/// [`replay`] with options.
pub fn replay_with<F, R>(trace: &TraceFile, options: &ReplayOptions, f: F) -> ReplayReport<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    if let Some(refusal) = Window::refusal(&trace.header) {
        return not_started(ReplayOutcome::Refused(refusal), trace.events, trace.is_whole());
    }
    run(ReplayLog::from_trace(trace), trace.is_whole(), trace.footer.as_ref(), options, f)
}

/// The report of a replay refused before it started (see [`Window::refusal`]
/// and [`ReplayOutcome::OnUnwindingThread`]).
pub(crate) fn not_started<R>(outcome: ReplayOutcome, events: u64, whole: bool) -> ReplayReport<R> {
    ReplayReport {
        result: None,
        outcome,
        events,
        replayed: 0,
        cut: 0,
        whole,
        reproduced: None,
        observed: None,
        peak_window: 0,
    }
}

/// [`replay_with`] for a trace indexed from its file
/// ([`IndexedTrace::open`]): each thread's events are decoded a chunk at a
/// time as the replay reaches them, so the memory a replay takes does not
/// grow with the trace's length.
pub fn replay_indexed<F, R>(trace: IndexedTrace, options: &ReplayOptions, f: F) -> ReplayReport<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let whole = trace.is_whole();
    if let Some(refusal) = Window::refusal(&trace.end.header) {
        return not_started(ReplayOutcome::Refused(refusal), trace.log.event_count(), whole);
    }
    run(trace.log, whole, trace.end.footer.as_ref(), options, f)
}

/// What a trace's end says about replaying it, after [`prepare`] cut its
/// log where needed.
pub(crate) struct Prepared {
    /// The recording finished with every thread's events: nothing is
    /// missing from the log, so any event left unreplayed is a divergence.
    pub(crate) complete: bool,
    /// The recorded verdict, if the trace has a footer.
    pub(crate) verdict: Option<Verdict>,
    /// Events the cut dropped.
    pub(crate) cut: u64,
}

/// Cuts `log` to its largest consistent prefix unless the recording
/// finished with every thread's events; parallel and coroutine replay both
/// start here, so they replay the same events of a damaged trace.
pub(crate) fn prepare(log: &mut ReplayLog, whole: bool, footer: Option<&Footer>) -> Prepared {
    // A recording finished by a signal or by `std::process::exit`, or one
    // that could not take every thread's last events, ended while threads
    // still ran: like a crashed one, its threads' logs may end mid-run.
    // So did a flight-recorder dump taken while the run went on.
    let interrupted = footer.is_some_and(|footer| {
        footer.annotation("reprise.signal").is_some()
            || footer.annotation(reprise_recorder::EXIT_ANNOTATION).is_some()
            || footer.annotation("reprise.unflushed").is_some()
            || footer.annotation(reprise_recorder::flight::RUNNING_NOTE).is_some()
            || footer.annotation(reprise_recorder::STOPPED_ANNOTATION).is_some()
    });
    let complete = whole && !interrupted;
    let verdict = footer.map(|footer| footer.verdict.clone());
    // A proven deadlock also finishes the trace while threads outside the
    // cycle still run: a receive may be on disk whose send came after that
    // thread handed its buffer over. Cutting a consistent log changes nothing.
    let deadlocked = matches!(verdict, Some(Verdict::Deadlock { .. }));
    let mut waiting: HashSet<ThreadIndex> = match &verdict {
        Some(Verdict::Deadlock { blocked }) => {
            blocked.iter().filter(|b| b.op == Op::CondWait).map(|b| b.thread).collect()
        }
        _ => HashSet::new(),
    };
    // A trace whose logs end mid-run names its threads that were in a
    // condvar wait there.
    if let Some(waits) =
        footer.and_then(|footer| footer.annotation(reprise_recorder::CONDVAR_WAITS_ANNOTATION))
    {
        waiting.extend(waits.split(',').filter_map(|t| t.trim().parse::<ThreadIndex>().ok()));
    }
    // Threads that ran on after the recording's end hand their logs over
    // one after another: a later one's may hold an event that depended on
    // one an earlier one made after its own hand-over (a load of a store it
    // made). Such a trace is whole, and the cut finds where its logs agree.
    let ran_on =
        footer.is_some_and(|footer| footer.annotation(reprise_recorder::RAN_ON_ANNOTATION).is_some());
    let cut =
        if complete && !deadlocked && !ran_on { 0 } else { cut_to_consistent_prefix_with(log, &waiting) };
    Prepared { complete, verdict, cut }
}

fn run<F, R>(
    mut log: ReplayLog,
    whole: bool,
    footer: Option<&Footer>,
    options: &ReplayOptions,
    f: F,
) -> ReplayReport<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let Prepared { complete, verdict, cut } = prepare(&mut log, whole, footer);
    let events = log.event_count();
    let mut gate = ReplayGate::new(log, verdict, !complete, options.observe);
    if let Some(stop) = &options.stop_at {
        gate.arm(stop);
    }
    let gate = Arc::new(gate);
    gate.attach_pause();
    let _listed = crate::progress::list(&gate, events);
    let done = Arc::new(AtomicBool::new(false));

    let (tx, rx) = crossbeam_channel::bounded(1);
    let root_gate: Arc<dyn Gate> = Arc::clone(&gate) as Arc<dyn Gate>;
    let root_done = Arc::clone(&done);
    let key = options.key.clone();
    let spawned = std::thread::Builder::new().name("main".into()).spawn(move || {
        let result = run_gated_keyed(root_gate, key, f);
        root_done.store(true, Ordering::Release);
        let _ = tx.send(result);
    });
    if let Err(e) = spawned {
        return ReplayReport {
            result: None,
            outcome: ReplayOutcome::Stalled(crate::report::Stall {
                waiting: vec![crate::report::Waiting {
                    thread: "main".into(),
                    event: 0,
                    call: "spawn".into(),
                    waits_for: format!("an OS thread: {e}"),
                }],
                backstop: None,
            }),
            events,
            replayed: 0,
            cut,
            whole,
            reproduced: None,
            observed: None,
            peak_window: gate.log.peak_window(),
        };
    }
    let watched = Arc::clone(&gate);
    let watch_done = Arc::clone(&done);
    let backstop = options.stall_backstop;
    let watcher = std::thread::Builder::new()
        .name("reprise-watchdog".into())
        .spawn(move || watchdog(&watched, &watch_done, backstop));

    let root = loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(result) => break Some(result),
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break None,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                if gate.stopped().is_some() {
                    break rx.recv_timeout(UNWIND_GRACE).ok();
                }
            }
        }
    };
    if root.is_some() {
        settle(&gate, 0);
    }
    done.store(true, Ordering::Release);
    if let Ok(watcher) = watcher {
        watcher.thread().unpark();
        let _ = watcher.join();
    }

    let replayed = gate.consumed();
    let mut result = None;
    let mut reproduced = None;
    let outcome = match gate.stopped() {
        Some(stop) => {
            reproduced = reproduced_at_stop(&gate, &stop);
            outcome_of(stop, replayed)
        }
        None => {
            match root {
                Some(Ok(value)) => {
                    result = Some(value);
                    reproduced = Some(Verdict::Completed);
                }
                Some(Err(payload)) => {
                    debug_assert!(!payload.is::<ReplayStopped>());
                    let message = reprise_recorder::hook::panic::message(payload.as_ref());
                    reproduced = Some(Verdict::Panicked { thread: 0, message });
                }
                None => {}
            }
            match leftover(&gate) {
                Some(divergence) if complete => {
                    reproduced = None;
                    ReplayOutcome::Diverged(divergence)
                }
                _ => ReplayOutcome::Matched,
            }
        }
    };
    // Release threads still parked at the end of their logs.
    gate.stop(Stop::TraceEnded);
    // A chunk that could not be read back ended its thread's stream early:
    // whatever the replay reached then says nothing about the recording.
    let outcome = match gate.log.read_failure() {
        Some(failure) => {
            reproduced = None;
            ReplayOutcome::Diverged(Divergence::trace_unreadable(failure))
        }
        None => outcome,
    };
    let observed = gate.take_observed();
    let peak_window = gate.log.peak_window();
    ReplayReport { result, outcome, events, replayed, cut, whole, reproduced, observed, peak_window }
}

/// The verdict a replay reached when the gate stopped it at the end of the
/// trace. For a deadlock, the blocked threads are those the replay drove to
/// the end of a log that does not end in an exit; the gate has checked that
/// each thread the footer lists waits at its recorded call, and a thread the
/// footer leaves out shows here with the last call it replayed. (Statuses are
/// no witness: stopped threads unwind and change theirs.)
fn reproduced_at_stop(gate: &ReplayGate, stop: &Stop) -> Option<Verdict> {
    match stop {
        Stop::Deadlock(listed) => {
            let log = &gate.log;
            let blocked = log
                .thread_ids()
                .filter(|&t| !log.exited(t) && gate.cursor(t) >= log.thread_len(t))
                .map(|thread| match listed.iter().find(|b| b.thread == thread) {
                    Some(b) => b.clone(),
                    None => {
                        let last = log.last_event(thread);
                        blocked_at(thread, last, last.and_then(|e| log.site(thread, e.site)))
                    }
                })
                .collect();
            Some(Verdict::Deadlock { blocked })
        }
        Stop::Livelock(verdict) => Some(verdict.clone()),
        Stop::Diverged(_) | Stop::Stalled(_) | Stop::TraceEnded => None,
    }
}

fn outcome_of(stop: Stop, replayed: u64) -> ReplayOutcome {
    match stop {
        Stop::Diverged(d) => ReplayOutcome::Diverged(d),
        Stop::Stalled(s) => ReplayOutcome::Stalled(s),
        Stop::Deadlock(blocked) => ReplayOutcome::Deadlock(Verdict::Deadlock { blocked }),
        Stop::Livelock(verdict) => ReplayOutcome::Livelock(verdict),
        Stop::TraceEnded => ReplayOutcome::TraceEnded { replayed },
    }
}

/// How long [`settle`] waits at most for threads to replay what the trace
/// holds of them while another runs on outside reprise: a backstop, never
/// the verdict.
const SETTLE_BACKSTOP: Duration = Duration::from_secs(30);

/// After the root returned, waits until the threads it spawned and did not
/// join have replayed what the trace holds of them: one spawned just before
/// the root returned may not have started yet, and one still running may
/// have recorded events left. Judged too early, [`leftover`] would call a
/// late starter's events lost (a false divergence, likelier the busier the
/// machine), and a run still under way would be reported matched with
/// fewer events replayed than the trace holds (a stolen wake-up's trace
/// replayed 27 of its 29 events now and then, beside the test suite).
/// Decided from state: it returns once every thread with recorded events
/// left has finished or waits parked with nothing running that could end
/// its wait (a spawn the replay never reached counts no thread), or the
/// replay stopped; the pause between looks only sets how soon. `callers`:
/// how many of the running threads are the caller's own, which wait here
/// and will run no recorded event (a thread ending the process: see
/// [`crate::progress::settle_before_exit`]).
pub(crate) fn settle(gate: &ReplayGate, callers: u64) {
    // Time the process ran, not the wall clock, held while a debugger is
    // attached: a thread held at a breakpoint (gdb, SIGSTOP) past the
    // backstop would end the wait, and its events left be reported lost.
    let mut since = crate::backstop::RunningClock::start();
    while gate.stopped().is_none() && gate.running_threads() > callers {
        let ran = since.look();
        if since.due(ran, SETTLE_BACKSTOP) {
            return;
        }
        let statuses = gate.statuses();
        let log = &gate.log;
        let unfinished = log.thread_ids().any(|thread| {
            gate.cursor(thread) < log.thread_len(thread)
                && !statuses.iter().any(|(t, s)| *t == thread && matches!(s, Status::Finished))
        });
        if !unfinished {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn leftover(gate: &ReplayGate) -> Option<Divergence> {
    let statuses = gate.statuses();
    let log = &gate.log;
    for thread in log.thread_ids() {
        let cursor = gate.cursor(thread);
        let len = log.thread_len(thread);
        if cursor >= len {
            continue;
        }
        // Whatever the thread does now, the replay ends without its events:
        // once `settle` returned, no running thread is left to end its wait.
        let actual = match statuses.iter().find(|(t, _)| *t == thread).map(|(_, s)| s) {
            None => "the thread was never started".into(),
            Some(Status::Finished) => "the thread finished".into(),
            Some(Status::Waiting { call, .. }) => {
                format!("the thread still waited in {call} when the replay ended")
            }
            Some(Status::Running | Status::EndOfLog { .. }) => {
                "the thread was still running (outside reprise) when the replay ended".into()
            }
        };
        let expected = match log.event(thread, cursor) {
            Some(e) => format!("{} at {}", e.op.name(), gate.site_text(thread, e.site)),
            None => "an event that could not be read back".into(),
        };
        return Some(Divergence {
            thread: log.thread_label(thread),
            event: cursor,
            expected,
            actual,
            detail: format!("{} recorded events were not replayed", len - cursor),
        });
    }
    None
}

/// A thread of a replayed deadlock that the recording's verdict does not
/// list, as the verdict would: blocked in its last recorded call.
pub(crate) fn blocked_at(thread: ThreadIndex, last: Option<Event>, site: Option<&SiteRef>) -> BlockedThread {
    BlockedThread {
        thread,
        op: last.map_or(Op::ThreadStart, |e| e.op),
        object: last.map_or(0, |e| e.object),
        file: site.map(|s| s.file.clone()).unwrap_or_default(),
        line: site.map_or(0, |s| s.line),
        column: site.map_or(0, |s| s.column),
        waits_for: None,
    }
}

/// `REPRISE_KEY`'s key, if set and valid; a bad value is named on stderr.
fn key_from_env() -> Option<SealKey> {
    SealKey::from_env().unwrap_or_else(|e| {
        reprise_recorder::diagnostic::warn(&format!("{e}; replaying without a key"));
        None
    })
}
