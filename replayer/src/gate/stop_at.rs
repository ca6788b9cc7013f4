//! `reprise replay FILE --stop-at EVENT`: each thread stops at the gate of
//! its first event numbered above EVENT (the numbers every view uses), and
//! once every thread has stopped or finished, the process says so with its
//! pid, ready for `gdb -p`.
//!
//! A paused thread stays counted as running: the watchdog must not take a
//! pause the user asked for for a stall. It sleeps in its own parker, so the
//! replay's stop (a divergence elsewhere) still wakes it.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use parking_lot::Mutex;
use reprise_recorder::trace::model::{Outcome, ThreadIndex};

use crate::gate::replay_gate::ReplayGate;
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
    /// The process that started this one and waits for it (`reprise replay
    /// FILE -- CMD`): a paused process ends with it.
    parent: Option<u32>,
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
        StopAt { event, limits, existing: existing.len(), parent: None }
    }

    /// Ends the paused process when `parent` (the `reprise` that ran it and
    /// waits for it) ends: a killed `reprise replay --stop-at N -- CMD` must
    /// not leave its program paused for good, with nobody to say so.
    pub fn ending_with_parent(mut self, parent: u32) -> StopAt {
        self.parent = Some(parent);
        self
    }

    /// The event it stops after.
    pub fn event(&self) -> u64 {
        self.event
    }
}

/// A [`StopAt`] armed in one replay's gate.
#[derive(Debug)]
pub(crate) struct Pause {
    event: u64,
    parent: Option<u32>,
    /// By thread slot: (its stop index, that event's number); `usize::MAX`
    /// for a thread the numbering did not list.
    limits: Box<[(usize, Option<u64>)]>,
    /// How many threads exist at the event: each stops or finishes.
    expected: usize,
    settled: AtomicUsize,
    finished: AtomicUsize,
    announced: AtomicBool,
    /// One line per paused thread, for the announcement.
    paused: Mutex<Vec<String>>,
}

impl Pause {
    pub(crate) fn new(stop: &StopAt, slot_of: impl Fn(ThreadIndex) -> Option<usize>, slots: usize) -> Pause {
        let mut limits = vec![(usize::MAX, None); slots].into_boxed_slice();
        for &(thread, at, number) in &stop.limits {
            if let Some(slot) = slot_of(thread) {
                limits[slot] = (at, number);
            }
        }
        let expected = stop.existing;
        Pause {
            event: stop.event,
            parent: stop.parent,
            limits,
            expected,
            settled: AtomicUsize::new(0),
            finished: AtomicUsize::new(0),
            announced: AtomicBool::new(false),
            paused: Mutex::new(Vec::new()),
        }
    }
}

impl ReplayGate {
    /// Pauses `thread` for good if `cursor` is where it stops.
    #[cold]
    pub(super) fn pause_if_stopping(&self, pause: &Pause, thread: ThreadIndex, cursor: usize) {
        let Some((at, slot)) = self.slot_at(thread) else { return };
        let (limit, number) = pause.limits[at as usize];
        if cursor != limit || limit == usize::MAX {
            return;
        }
        let what = self.expected_text(thread, cursor);
        let number = number.map_or_else(|| "?".to_string(), |n| format!("#{n}"));
        pause
            .paused
            .lock()
            .push(format!("  {}: paused before {number}, {what}", self.log.thread_label(thread)));
        self.settle(pause);
        sleep_until(&slot.parker, |_| if self.aborted() { Step::Done(()) } else { Step::Sleep });
    }

    /// Counts a thread that finished before the event.
    pub(super) fn finished_before_stop(&self, pause: &Pause) {
        pause.finished.fetch_add(1, Ordering::SeqCst);
        self.settle(pause);
    }

    fn settle(&self, pause: &Pause) {
        let settled = pause.settled.fetch_add(1, Ordering::SeqCst) + 1;
        if settled < pause.expected || pause.announced.swap(true, Ordering::SeqCst) {
            return;
        }
        allow_any_tracer();
        if let Some(parent) = pause.parent {
            end_with_parent(parent);
        }
        let pid = std::process::id();
        let finished = pause.finished.load(Ordering::SeqCst);
        let mut lines = pause.paused.lock().clone();
        lines.sort();
        // The promised output of `--stop-at`, for the user at the terminal.
        eprintln!(
            "reprise: stopped at event {}: {} threads paused, {finished} finished; pid {pid}\n{}\n\
             reprise: attach with `gdb -p {pid}` (the process stays paused until it is killed)",
            pause.event,
            lines.len(),
            lines.join("\n")
        );
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
