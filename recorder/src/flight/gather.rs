//! How the keeper takes a dump: it brings in what every thread holds (a
//! blocked thread's buffer flushed here, a running one's handed over at its
//! next event once the flush epoch moved), cuts each thread where it saw
//! the epoch move, and writes the rings as a trace.

use std::sync::atomic::Ordering;
use std::time::Instant;

use crossbeam_channel::RecvTimeoutError;

use crate::flight::dump::{self, DumpInfo};
use crate::flight::keeper::{Keeper, DUMP_NOTE, LATE_NOTE, PANIC_RESCAN, RUNNING_NOTE};
use crate::record::condvar_waits_annotation;
use crate::trace::format::{Footer, Verdict};
use crate::trace::model::ThreadIndex;

impl Keeper {
    /// Brings in what threads hold: blocked ones are flushed here, running
    /// ones hand over at their next event (moving the epoch tells them),
    /// waited for until each has or the handover time passed; a thread
    /// computing outside reprise that long is dumped up to its last chunk,
    /// and named in the dump ([`LATE_NOTE`]).
    /// `quiet`: a thread that will not hand over (it waits for this dump,
    /// or it exits).
    pub(super) fn gather(&mut self, quiet: Option<ThreadIndex>) {
        self.handed_over.clear();
        self.late.clear();
        self.condvar_waiters.clear();
        let cut = self.clock.tick();
        self.gather_epoch = Some(cut);
        let deadline = Instant::now() + self.handover;
        let mut running = self.exec.threads.lock().clone();
        running.retain(|t| Some(t.index) != quiet);
        loop {
            while let Ok(msg) = self.inbox.try_recv() {
                self.take(msg);
            }
            running.retain(|thread| {
                if thread.exited.load(Ordering::Acquire) || self.handed_over.contains(&thread.index) {
                    return false;
                }
                match thread.buf.as_ref().map(|buf| buf.try_lock()) {
                    // Blocked (or between events) before it saw the epoch
                    // move: all it holds was recorded before, and its buffer
                    // is ours to flush. Having seen it, it handed over then:
                    // its message is on the way.
                    Some(Some(mut guard)) if guard.seen() < cut => {
                        guard.flush();
                        // Blocked in a send whose message a receiver took
                        // (and recorded, maybe before its own cut): the
                        // send's event comes with its hand-over, as soon as
                        // it runs.
                        if thread.send_taken() {
                            return true;
                        }
                        // Cut inside its condvar wait, whose release of the
                        // mutex has no event of its own (see `condvar_waits`).
                        if thread.in_condvar_wait() {
                            self.condvar_waiters.push(thread.index);
                        }
                        self.handed_over.push(thread.index);
                        false
                    }
                    Some(_) => true,
                    None => false,
                }
            });
            // What the flushes above sent.
            while let Ok(msg) = self.inbox.try_recv() {
                self.take(msg);
            }
            let now = Instant::now();
            if running.is_empty() || self.finished.is_some() {
                return;
            }
            if now >= deadline {
                self.late = running.iter().map(|thread| thread.index).collect();
                self.late.sort_unstable();
                return;
            }
            match self.inbox.recv_timeout(PANIC_RESCAN.min(deadline - now)) {
                Ok(msg) => self.take(msg),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    /// The dump is written: what threads handed over after their cut goes
    /// to the rings now, in the order it came.
    pub(super) fn end_gather(&mut self) {
        self.gather_epoch = None;
        self.late.clear();
        for msg in std::mem::take(&mut self.held_aside) {
            self.take(msg);
        }
    }

    /// A dump taken while the run goes on.
    pub(super) fn dump(&mut self, verdict: Verdict, reason: &str) -> Result<DumpInfo, String> {
        let mut annotations = self.exec.annotations.lock().clone();
        let running = self.finished.is_none();
        if running {
            let waits = self.condvar_waits();
            annotations.extend(condvar_waits_annotation(&waits));
        }
        self.write(verdict, annotations, reason, running)
    }

    /// The threads the dump cuts inside a condvar wait: those the gathering
    /// took the buffer of while they waited. Each one's log in the dump
    /// ends in the wait, which gave its mutex up, though the wait's event
    /// comes only when it ends. Looked at when the dump was written
    /// instead, a waiter woken meanwhile held its buffer and was left out,
    /// and the replay cut the next holder's turns as taken from a holder
    /// that never let go (9 events of a mid-run dump under load,
    /// `tests/unlike_twelfth/killed.rs`).
    fn condvar_waits(&mut self) -> Vec<ThreadIndex> {
        let mut waits = self.condvar_waiters.clone();
        waits.sort_unstable();
        waits
    }

    pub(super) fn write(
        &mut self,
        verdict: Verdict,
        mut annotations: Vec<(String, String)>,
        reason: &str,
        running: bool,
    ) -> Result<DumpInfo, String> {
        annotations.retain(|(k, _)| k != DUMP_NOTE && k != RUNNING_NOTE && k != LATE_NOTE);

        annotations.push((DUMP_NOTE.into(), reason.into()));
        if running {
            annotations.push((RUNNING_NOTE.into(), "threads ran on after this dump".into()));
        }
        if !self.late.is_empty() {
            annotations.push((LATE_NOTE.into(), late_note(&self.late, self.handover)));
        }
        let footer = Footer { verdict, annotations, events: 0 };
        match dump::write(&self.path, self.header.clone(), footer, &self.rings) {
            Ok(info) => {
                self.end.dumps.push(info.clone());
                Ok(info)
            }
            Err(e) => {
                let reason = format!("cannot write the flight-recorder dump `{}`: {e}", self.path.display());
                // Straight to stderr, once per failed dump: the program runs on.
                crate::diagnostic::warn(&reason.to_string());
                self.end.failures.push(reason.clone());
                Err(reason)
            }
        }
    }
}

/// What [`LATE_NOTE`] says of `late`, the threads a dump gave up on after
/// `handover`.
fn late_note(late: &[ThreadIndex], handover: std::time::Duration) -> String {
    let threads: Vec<String> = late.iter().map(|t| t.to_string()).collect();
    format!(
        "thread(s) {} ran outside any reprise call past the handover time ({} ms): their events since \
         their last chunk handed over are not in this dump, and other threads' events on objects they \
         named there may name no object",
        threads.join(", "),
        handover.as_millis()
    )
}
