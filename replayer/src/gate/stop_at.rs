//! `reprise replay FILE --stop-at EVENT`: each thread stops at the gate of
//! its first event numbered above EVENT (the numbers every view uses), and
//! once every thread has stopped or finished, the process says so with its
//! pid, ready for `gdb -p`. The stop can then move to a later event, or be
//! released so the replay runs on to its end ([`crate::gate::stop_commands`]
//! reads those commands).
//!
//! A paused thread stays counted as running: the watchdog must not take a
//! pause the user asked for for a stall. It sleeps in its own parker, so the
//! replay's stop (a divergence elsewhere) still wakes it; so does a move of
//! the stop, after which it looks at its (new) limit again.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use parking_lot::Mutex;
use reprise_recorder::trace::model::{Outcome, ThreadIndex};

use crate::gate::replay_gate::ReplayGate;
use crate::gate::stop_commands::{self, MoveRefused, StopHost};
use crate::gate::waiters::{sleep_until, Step};
use crate::views::Numbering;

/// Where each thread of a replay stops: built from the trace's numbering.
#[derive(Clone, Debug)]
pub struct StopAt {
    event: u64,
    /// Per thread: its index of its first event numbered above `event`
    /// (its length when it has none: it finishes), and that event's number.
    limits: Vec<(ThreadIndex, usize, Option<u64>)>,
    /// The threads that exist at `event` (the root, and each child whose
    /// spawn is numbered at or below it): each of them stops or finishes.
    existing: usize,
    /// How many events the trace has: a stop at or past it never comes.
    events: u64,
    /// The process that started this one and waits for it (`reprise replay
    /// FILE -- CMD`): a paused process ends with it.
    parent: Option<u32>,
    /// Who plans a later stop and ends the process, when the pause takes
    /// commands on stdin.
    host: Option<Arc<dyn StopHost>>,
}

impl StopAt {
    /// Stops every thread of the numbered trace after event `event`.
    pub fn new(numbering: &Numbering<'_>, event: u64) -> StopAt {
        let limits = numbering
            .threads()
            .map(|t| {
                let at = numbering.thread_position(t, event);
                (t, at as usize, numbering.global(t, at))
            })
            .collect();
        let mut existing: HashSet<ThreadIndex> = numbering.get(1).map(|n| n.thread).into_iter().collect();
        for n in numbering.iter().take(event as usize) {
            if let Ok(Outcome::Spawn { child }) = n.event.outcome() {
                existing.insert(child);
            }
        }
        StopAt { event, limits, existing: existing.len(), events: numbering.len(), parent: None, host: None }
    }

    /// Ends the paused process when `parent` (the `reprise` that ran it and
    /// waits for it) ends: a killed `reprise replay --stop-at N -- CMD` must
    /// not leave its program paused for good, with nobody to say so.
    pub fn ending_with_parent(mut self, parent: u32) -> StopAt {
        self.parent = Some(parent);
        self
    }

    /// Once paused, reads commands from stdin (run on, move the stop, quit;
    /// see [`StopHost`]): `host` plans the later stops and ends the process.
    pub fn taking_commands(mut self, host: Arc<dyn StopHost>) -> StopAt {
        self.host = Some(host);
        self
    }

    /// The event it stops after.
    pub fn event(&self) -> u64 {
        self.event
    }

    /// How many events the trace it was planned on has.
    pub fn events(&self) -> u64 {
        self.events
    }
}

/// A [`StopAt`] armed in one replay's gate.
#[derive(Debug)]
pub(crate) struct Pause {
    pub(super) host: Option<Arc<dyn StopHost>>,
    /// By thread slot: the index of the event it stops before;
    /// `usize::MAX` for none (a thread the numbering did not list, or a
    /// released stop). Atomic: read at every event, changed only while
    /// every thread is paused or finished.
    limits: Box<[AtomicUsize]>,
    /// Bumped when the stop moves or is released: a paused thread wakes
    /// when it changes.
    round: AtomicU64,
    /// Whether the process was announced paused once (the one-time setup).
    ever_announced: AtomicBool,
    round_state: Mutex<Round>,
    /// The gate this pause is armed in, for the command reader's thread.
    pub(super) gate: OnceLock<Weak<ReplayGate>>,
}

/// One stop: what it waits for and who reached it.
#[derive(Debug)]
struct Round {
    event: u64,
    events: u64,
    /// By thread slot: the number of the event it stops before.
    numbers: Box<[Option<u64>]>,
    /// How many threads exist at the event: each stops or finishes.
    expected: usize,
    settled: usize,
    /// Threads finished so far, in every round.
    finished: usize,
    announced: bool,
    /// Released: the replay runs on to its end, nothing pauses again.
    released: bool,
    /// The slots of the paused threads, to wake them.
    sleepers: Vec<usize>,
    /// One line per paused thread, for the announcement.
    paused: Vec<String>,
}

/// Where a pause is, for the command reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Threads run towards the stop.
    Running,
    /// Every thread stopped or finished at this event.
    Paused(u64),
    /// Released, or the replay stopped: no more commands.
    Over,
}

impl Pause {
    pub(crate) fn new(stop: &StopAt, slot_of: impl Fn(ThreadIndex) -> Option<usize>, slots: usize) -> Pause {
        // From the replay's start, not the pause's: a replay that never
        // reaches its pause (a thread waiting outside reprise's calls for
        // one paused) outlived a killed `reprise` (found by the thirteenth
        // hunt; `tests/stop_at.rs`).
        if let Some(parent) = stop.parent {
            end_with_parent(parent);
        }
        let limits: Box<[AtomicUsize]> = (0..slots).map(|_| AtomicUsize::new(usize::MAX)).collect();
        let mut numbers = vec![None; slots].into_boxed_slice();
        for &(thread, at, number) in &stop.limits {
            if let Some(slot) = slot_of(thread) {
                limits[slot].store(at, Ordering::Relaxed);
                numbers[slot] = number;
            }
        }
        Pause {
            host: stop.host.clone(),
            limits,
            round: AtomicU64::new(0),
            ever_announced: AtomicBool::new(false),
            round_state: Mutex::new(Round {
                event: stop.event,
                events: stop.events,
                numbers,
                expected: stop.existing,
                settled: 0,
                finished: 0,
                announced: false,
                released: false,
                sleepers: Vec::new(),
                paused: Vec::new(),
            }),
            gate: OnceLock::new(),
        }
    }
}

impl ReplayGate {
    /// Pauses `thread` while `cursor` is where it stops: until the stop
    /// moves past it, is released, or the replay stops.
    #[cold]
    pub(super) fn pause_if_stopping(&self, pause: &Pause, thread: ThreadIndex, cursor: usize) {
        let Some((at, slot)) = self.slot_at(thread) else { return };
        let at = at as usize;
        // A moved stop may still be this event (it is numbered above the
        // new one too): pause again, in the new round.
        while pause.limits[at].load(Ordering::SeqCst) == cursor {
            let what = self.expected_text(thread, cursor);
            let round = {
                let mut state = pause.round_state.lock();
                if state.released {
                    return;
                }
                let number = state.numbers[at].map_or_else(|| "?".to_string(), |n| format!("#{n}"));
                state
                    .paused
                    .push(format!("  {}: paused before {number}, {what}", self.log.thread_label(thread)));
                state.sleepers.push(at);
                // Read under the lock a move takes: a move after this
                // changes it, and wakes this thread.
                pause.round.load(Ordering::SeqCst)
            };
            self.settle(pause, false);
            let woken = sleep_until(&slot.parker, |_| {
                if self.aborted() {
                    Step::Done(false)
                } else if pause.round.load(Ordering::SeqCst) != round {
                    Step::Done(true)
                } else {
                    Step::Sleep
                }
            });
            if !woken {
                return;
            }
        }
    }

    /// Counts a thread that finished (before the stop, or after a release).
    pub(super) fn finished_before_stop(&self, pause: &Pause) {
        self.settle(pause, true);
    }

    /// Where `pause` is, for the command reader.
    pub(super) fn pause_phase(&self, pause: &Pause) -> Phase {
        let state = pause.round_state.lock();
        if state.released || self.aborted() {
            Phase::Over
        } else if state.announced {
            Phase::Paused(state.event)
        } else {
            Phase::Running
        }
    }

    /// How many events the trace of `pause`'s stop has.
    pub(super) fn pause_events(&self, pause: &Pause) -> u64 {
        pause.round_state.lock().events
    }

    /// Lets `pause`'s command reader reach the gate it is armed in (the
    /// reader outlives no replay: it holds the gate weakly).
    pub(crate) fn attach_pause(self: &Arc<Self>) {
        if let Some(pause) = &self.pause {
            let _ = pause.gate.set(Arc::downgrade(self));
        }
    }

    /// Moves the paused stop to `stop` (a later event): threads run on to
    /// their first event above it, and the process is announced again.
    pub(super) fn move_stop(&self, pause: &Pause, stop: &StopAt) -> Result<(), MoveRefused> {
        let mut state = pause.round_state.lock();
        if !state.announced || state.released {
            return Err(MoveRefused::NotPaused);
        }
        if stop.event <= state.event {
            return Err(MoveRefused::NotLater { asked: stop.event, current: state.event });
        }
        if stop.event >= state.events {
            return Err(MoveRefused::PastEnd { asked: stop.event, events: state.events });
        }
        // Every thread is paused or finished: none reads a limit now.
        for limit in pause.limits.iter() {
            limit.store(usize::MAX, Ordering::SeqCst);
        }
        state.numbers.iter_mut().for_each(|n| *n = None);
        for &(thread, at, number) in &stop.limits {
            if let Some(slot) = self.state.thread_index.get(thread) {
                pause.limits[slot].store(at, Ordering::SeqCst);
                state.numbers[slot] = number;
            }
        }
        state.event = stop.event;
        state.expected = stop.existing;
        // A finished thread stays finished: it counts at every stop.
        state.settled = state.finished;
        state.announced = false;
        state.paused.clear();
        let sleepers = std::mem::take(&mut state.sleepers);
        pause.round.fetch_add(1, Ordering::SeqCst);
        drop(state);
        self.wake_paused(&sleepers);
        Ok(())
    }

    /// Releases the pause: every thread runs on to the replay's end.
    pub(super) fn release_stop(&self, pause: &Pause) {
        let mut state = pause.round_state.lock();
        state.released = true;
        for limit in pause.limits.iter() {
            limit.store(usize::MAX, Ordering::SeqCst);
        }
        let sleepers = std::mem::take(&mut state.sleepers);
        pause.round.fetch_add(1, Ordering::SeqCst);
        drop(state);
        self.wake_paused(&sleepers);
    }

    fn wake_paused(&self, sleepers: &[usize]) {
        for &at in sleepers {
            if let Some(slot) = self.threads.slots.get(at) {
                slot.parker.unpark();
            }
        }
    }

    fn settle(&self, pause: &Pause, finished: bool) {
        let mut state = pause.round_state.lock();
        if finished {
            state.finished += 1;
        }
        if state.released {
            return;
        }
        state.settled += 1;
        if state.settled < state.expected || state.announced {
            return;
        }
        state.announced = true;
        let finished = state.finished;
        let event = state.event;
        let mut lines = state.paused.clone();
        drop(state);
        let first = !pause.ever_announced.swap(true, Ordering::SeqCst);
        if first {
            allow_any_tracer();
        }
        let pid = std::process::id();
        lines.sort();
        let after = match &pause.host {
            Some(_) => format!("; then {}", stop_commands::accepted(event)),
            None => " (the process stays paused until it is killed)".to_string(),
        };
        // The promised output of `--stop-at`, for the user at the terminal.
        eprintln!(
            "reprise: stopped at event {event}: {} threads paused, {finished} finished; pid {pid}\n{}\n\
             reprise: attach with `gdb -p {pid}`{after}",
            lines.len(),
            lines.join("\n")
        );
        if first {
            if let (Some(host), Some(gate)) = (&pause.host, pause.gate.get()) {
                stop_commands::start(Weak::clone(gate), Arc::clone(host));
            }
        }
    }
}

/// Has the kernel kill this process when `parent` ends, and kills it now if
/// `parent` ended already (this process was handed to init before the call).
#[allow(unsafe_code)]
fn end_with_parent(parent: u32) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl with PR_SET_PDEATHSIG takes plain integers and only
        // names the signal this process gets when its parent thread ends.
        let rc = unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) };
        if rc != 0 {
            tracing::debug!("prctl(PR_SET_PDEATHSIG) refused: {}", std::io::Error::last_os_error());
            return;
        }
        if std::os::unix::process::parent_id() != parent {
            eprintln!(
                "reprise: the `reprise replay` that ran this program has ended; ending the paused replay"
            );
            // SAFETY: raise sends a signal to this process; SIGKILL ends it,
            // as the parent's death would have.
            unsafe { libc::raise(libc::SIGKILL) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = parent;
}

/// Lets a debugger attach without root: Debian's Yama setting
/// (`ptrace_scope` 1) otherwise only lets a parent trace its children.
/// The crate's one `unsafe`: an FFI call std does not wrap.
#[allow(unsafe_code)]
fn allow_any_tracer() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl with PR_SET_PTRACER takes plain integers and changes
        // only which processes may trace this one.
        let rc = unsafe { libc::prctl(libc::PR_SET_PTRACER, libc::PR_SET_PTRACER_ANY, 0, 0, 0) };
        if rc != 0 {
            // No Yama (the call is refused): ptrace needs no permission then.
            tracing::debug!("prctl(PR_SET_PTRACER) refused: {}", std::io::Error::last_os_error());
        }
    }
}
