//! The flush clock of a recording: how threads learn, without a syscall or a
//! lock per event, that their buffer is due at the writer.
//!
//! A flusher thread bumps a per-execution epoch every interval; a recording
//! thread compares it with the epoch it last saw after each event (one
//! relaxed load) and hands its buffer over when it changed. The same signal
//! carries the end of the recording (hand the buffer over and close it) and
//! a failed recording (drop what is buffered and stop paying for recording).
//! Threads blocked in a reprise call have released their buffer: the flusher
//! flushes those itself.

use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;
use parking_lot::{Condvar, Mutex};

use crate::rt::exec::Execution;
use crate::trace::model::ThreadIndex;

/// What a thread should do with its buffer when the epoch moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClockState {
    /// Hand the buffered events to the writer and go on recording.
    Recording,
    /// The recording is finishing: hand the events over and close the buffer.
    Closing,
    /// The recording failed: drop what is buffered, record nothing more.
    Stopped,
    /// A thread reached the pending cap: hand what is buffered over (within
    /// the cap), close the buffer and record nothing more. Final, except
    /// that a write failure after it still stops the recording.
    Capped,
}

/// A recording's flush epoch and state, shared by its threads' buffers.
#[derive(Debug)]
pub(crate) struct FlushClock {
    /// Read after every event by every thread; written by the flusher.
    epoch: CachePadded<AtomicU64>,
    state: AtomicU8,
    /// Buffers not yet closed; the final flush waits for this to reach 0.
    pub(crate) open: AtomicUsize,
    closed_lock: Mutex<()>,
    closed_signal: Condvar,
    /// Set by the writer once it is done with the file.
    written: Mutex<bool>,
    written_signal: Condvar,
    /// Whether a stopped recording turns its threads' mode off. Not under the
    /// explorer, whose coroutines share one OS thread's mode.
    pub(crate) may_go_off: bool,
    /// How many bytes a thread may have handed to the writer and not yet
    /// seen written ([`crate::RecordConfig::pending_cap`]).
    pub(crate) pending_cap: usize,
    /// What a thread at the pending cap does: stop the recording (`false`),
    /// or, under the flight recorder, hand over the names its block defined
    /// instead of the block, and go on (its window starts after the gap).
    pub(crate) skips_at_cap: bool,
    /// Why a thread stopped the recording at the pending cap: for the
    /// footer (`reprise.stopped`) and the caller.
    capped: std::sync::OnceLock<String>,
    /// Whether a thread recorded an event after the recording started to
    /// close (see [`crate::record::RAN_ON_ANNOTATION`]).
    ran_on: std::sync::atomic::AtomicBool,
    /// Signalled when the state leaves `Recording` (the stalled writer of a
    /// test waits for it).
    left_recording: Mutex<bool>,
    left_recording_signal: Condvar,
}

impl FlushClock {
    pub(crate) fn new(may_go_off: bool) -> Arc<FlushClock> {
        Arc::new(FlushClock {
            epoch: CachePadded::new(AtomicU64::new(0)),
            state: AtomicU8::new(ClockState::Recording as u8),
            open: AtomicUsize::new(0),
            closed_lock: Mutex::new(()),
            closed_signal: Condvar::new(),
            written: Mutex::new(false),
            written_signal: Condvar::new(),
            may_go_off,
            pending_cap: usize::MAX,
            skips_at_cap: false,
            capped: std::sync::OnceLock::new(),
            ran_on: std::sync::atomic::AtomicBool::new(false),
            left_recording: Mutex::new(false),
            left_recording_signal: Condvar::new(),
        })
    }

    /// A flight recorder's clock: a thread whose pending bytes reach `cap`
    /// (the keeper is behind) drops its block rather than stop recording.
    pub(crate) fn flight(cap: usize) -> Arc<FlushClock> {
        let mut clock = FlushClock::with_pending_cap(true, cap);
        if let Some(clock) = Arc::get_mut(&mut clock) {
            clock.skips_at_cap = true;
        }
        clock
    }

    /// A clock whose threads may each have `cap` bytes waiting for the writer.
    pub(crate) fn with_pending_cap(may_go_off: bool, cap: usize) -> Arc<FlushClock> {
        let mut clock = FlushClock::new(may_go_off);
        if let Some(clock) = Arc::get_mut(&mut clock) {
            clock.pending_cap = cap;
        }
        clock
    }

    /// A thread's pending data reached the cap: the recording stops (see
    /// [`Self::stop_early`]).
    #[cold]
    pub(crate) fn cap(&self, thread: crate::trace::model::ThreadIndex, pending: usize) {
        self.stop_early(format!(
            "pending cap: thread {thread} had {pending} bytes waiting for the writer (cap {} bytes; \
             RecordConfig::pending_cap or {}); the trace ends here",
            self.pending_cap,
            crate::record::PENDING_CAP_ENV,
        ));
    }

    /// The recording cannot go on (`reason`): it stops (every thread hands
    /// over what it holds and runs on unrecorded), the writer writes what
    /// it was handed, and the footer says why. Said once on stderr, by the
    /// first thread to get here.
    #[cold]
    pub(crate) fn stop_early(&self, reason: String) {
        if self.capped.set(reason.clone()).is_ok() {
            // Straight to stderr: it must be seen with no tracing subscriber.
            crate::diagnostic::warn(&format!(
                "recording stopped: {reason}; the program runs on without recording"
            ));
            tracing::error!(%reason, "reprise: recording stopped");
            self.enter(ClockState::Capped);
        }
    }

    /// Why the recording stopped early (the pending cap, object indexes
    /// used up), if it did.
    pub(crate) fn capped(&self) -> Option<&str> {
        self.capped.get().map(String::as_str)
    }

    /// A thread with an open buffer recorded an event once the recording
    /// was closing: it ran on past the end. Before its buffer's close, so
    /// the final flush, which waits for every close, sees it.
    pub(crate) fn note_ran_on(&self) {
        self.ran_on.store(true, Ordering::Release);
    }

    /// Whether [`Self::note_ran_on`] was called.
    pub(crate) fn ran_on(&self) -> bool {
        self.ran_on.load(Ordering::Acquire)
    }

    /// Waits until the state is no longer `Recording`.
    pub(crate) fn wait_left_recording(&self) {
        let mut left = self.left_recording.lock();
        while !*left {
            self.left_recording_signal.wait(&mut left);
        }
    }

    /// The current epoch: the hot path's one load.
    #[inline]
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Relaxed)
    }

    /// Moves the epoch: every thread hands its buffer over at its next
    /// event. Returns the new epoch.
    pub(crate) fn tick(&self) -> u64 {
        self.epoch.fetch_add(1, Ordering::Release) + 1
    }

    pub(crate) fn state(&self) -> ClockState {
        match self.state.load(Ordering::Acquire) {
            0 => ClockState::Recording,
            1 => ClockState::Closing,
            3 => ClockState::Capped,
            _ => ClockState::Stopped,
        }
    }

    /// Moves to `state` unless the recording already stopped (a failure is
    /// final; a cap is, but for a failure), and tells every thread.
    pub(crate) fn enter(&self, state: ClockState) {
        let _ = self.state.fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
            let fin = now == ClockState::Stopped as u8
                || (now == ClockState::Capped as u8 && state != ClockState::Stopped);
            (!fin).then_some(state as u8)
        });
        self.tick();
        if state != ClockState::Recording {
            *self.left_recording.lock() = true;
            self.left_recording_signal.notify_all();
        }
    }

    pub(crate) fn opened(&self) {
        self.open.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn closed(&self) {
        if self.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            let _guard = self.closed_lock.lock();
            self.closed_signal.notify_all();
        }
    }

    /// The writer is done: the trace is finished (or the recording stopped).
    pub(crate) fn mark_written(&self) {
        *self.written.lock() = true;
        self.written_signal.notify_all();
    }

    /// Waits until the writer is done, or `backstop` passed.
    pub(crate) fn wait_written(&self, backstop: Duration) {
        let deadline = Instant::now() + backstop;
        let mut written = self.written.lock();
        while !*written {
            if self.written_signal.wait_until(&mut written, deadline).timed_out() {
                return;
            }
        }
    }

    fn open_buffers(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }
}

/// How often the final flush looks again for a buffer a thread released
/// (it blocked) without closing it; only a re-check, not a verdict.
const HANDOVER_RESCAN: Duration = Duration::from_millis(20);

/// Asks every thread of `exec` to hand its buffer over and close it, closes
/// the buffers of blocked threads itself, and waits until every buffer is
/// closed or `timeout` passed: a thread computing outside reprise, or blocked
/// in a call reprise does not see, never makes the recording wait forever.
///
/// Returns how many buffers stayed open, and the threads whose buffers it
/// closed while they were in a condvar wait (their logs end at the wait).
pub(crate) fn hand_over_all(
    exec: &Execution,
    clock: &FlushClock,
    timeout: Duration,
) -> (usize, Vec<ThreadIndex>) {
    clock.enter(ClockState::Closing);
    let deadline = Instant::now() + timeout;
    let mut condvar_waits = Vec::new();
    loop {
        for thread in exec.threads.lock().iter() {
            if let Some(buf) = &thread.buf {
                if let Some(mut guard) = buf.try_lock() {
                    // Read holding the buffer: a waiter that woke takes it
                    // back before it clears its block, so the wait seen is
                    // the one its last recorded event led to. Only a buffer
                    // closed now: one closed earlier ends where it was.
                    if !guard.is_closed() && thread.in_condvar_wait() {
                        condvar_waits.push(thread.index);
                    }
                    guard.close();
                }
            }
        }
        let open = clock.open_buffers();
        let now = Instant::now();
        if open == 0 || now >= deadline {
            condvar_waits.sort_unstable();
            return (open, condvar_waits);
        }
        let mut guard = clock.closed_lock.lock();
        if clock.open_buffers() != 0 {
            let _ = clock.closed_signal.wait_for(&mut guard, HANDOVER_RESCAN.min(deadline - now));
        }
    }
}

/// The shortest flush interval the flusher honors.
const MIN_INTERVAL: Duration = Duration::from_millis(1);

/// The flusher of a recording: every `interval`, moves the epoch and writes
/// out the buffers of threads blocked in a reprise call. Returns once the
/// execution has its verdict.
pub(crate) fn run(exec: &Execution, clock: &FlushClock, interval: Duration) {
    // A zero interval must not make the flusher spin a core.
    let interval = interval.max(MIN_INTERVAL);
    loop {
        if exec.wait_verdict_for(interval).is_some() || clock.state() != ClockState::Recording {
            return;
        }
        clock.tick();
        let threads = exec.threads.lock().clone();
        for thread in threads {
            if thread.exited.load(Ordering::Acquire) {
                continue;
            }
            if let Some(buf) = &thread.buf {
                // Held by its thread while it runs: that thread flushes at
                // its next event.
                if let Some(mut guard) = buf.try_lock() {
                    guard.flush();
                }
            }
        }
    }
}
