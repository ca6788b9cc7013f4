//! The keeper of a flight recorder: the thread that takes the chunks the
//! recording's threads hand over (where a recording's writer would write
//! them) into the rings, and writes a dump when asked.
//!
//! It is the chunks' only consumer, so a dump sees every chunk handed over
//! before it was asked for: before writing, it moves the flush epoch (running
//! threads hand their buffers over at their next event), flushes the buffers
//! of threads blocked in a reprise call, and takes what is queued.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use crate::flight::config::FlightConfig;
use crate::flight::dump::DumpInfo;
use crate::flight::exits::Exits;
use crate::flight::ring::{ends_with_exit, Budget, Rings};
use crate::rt::chunk::{Block, CHUNK_CAPACITY};
use crate::rt::exec::Execution;
use crate::rt::flush::FlushClock;
use crate::rt::signal::EXIT_ANNOTATION;
use crate::rt::writer::WriterMsg;
use crate::trace::codec::EventEncoder;
use crate::trace::format::{Footer, Header, Verdict};
use crate::trace::model::{ObjectIndex, ThreadIndex};

/// The footer annotation naming what made a dump.
pub const DUMP_NOTE: &str = "reprise.flight.dump";
/// The footer annotation of a dump taken while the run went on: its threads'
/// logs may end mid-run, as a crashed recording's do.
pub const RUNNING_NOTE: &str = "reprise.flight.running";
/// The footer annotation of a dump whose gathering gave up on threads that
/// ran outside any reprise call past the handover time: what they recorded
/// since their last chunk handed over is not in it (their buffers were
/// theirs), so some of the others' events there may be on objects those
/// threads named and the dump does not.
pub const LATE_NOTE: &str = "reprise.flight.late";

/// What the keeper is asked to do.
#[derive(Debug)]
pub(crate) enum Request {
    /// Dump now (an API call, a signal, a panic the process will not
    /// survive), and say how it went. `requester`: the recorded thread
    /// waiting for the reply, whose buffer it flushed; `verdict`: the
    /// dump's (a run going on is `Completed` so far).
    Now {
        reason: String,
        requester: Option<ThreadIndex>,
        verdict: Verdict,
        reply: Sender<Result<DumpInfo, String>>,
    },
    /// A thread panicked: dump once it has recorded its panic and exited
    /// (or after the handover time, if it does not).
    Panic { thread: ThreadIndex, message: String },
}

/// How often a keeper waiting for a panicking thread looks at it again: a
/// re-check, not a verdict (the wait ends when the thread exits).
pub(super) const PANIC_RESCAN: Duration = Duration::from_millis(10);

/// The least a dump waits for a panicking thread to unwind to its exit: a
/// backstop for a thread that catches its panic and runs on; the wait ends
/// as soon as the thread exits.
const PANIC_WAIT: Duration = Duration::from_secs(5);

/// The root thread: its exit ends the run.
const ROOT: ThreadIndex = 0;

/// What the keeper did, for the caller of [`crate::flight`].
#[derive(Debug, Default)]
pub(crate) struct KeeperEnd {
    pub(crate) dumps: Vec<DumpInfo>,
    pub(crate) failures: Vec<String>,
    /// Thread entries the keeper looked at to find the threads that exited
    /// (a test's measure of its work per chunk).
    pub(crate) scan_visits: u64,
}

pub(crate) struct Keeper {
    pub(crate) exec: Arc<Execution>,
    pub(crate) clock: Arc<FlushClock>,
    pub(crate) path: PathBuf,
    pub(crate) header: Header,
    pub(crate) dump_at_end: bool,
    /// How many exited threads keep their rings.
    pub(crate) keep_exited: usize,
    pub(crate) handover: Duration,
    pub(crate) inbox: Receiver<WriterMsg>,
    pub(crate) requests: Receiver<Request>,
    /// Objects of the run that were dropped (see
    /// [`crate::flight::object_dropped`]).
    pub(crate) drops: Receiver<ObjectIndex>,
    pub(crate) recycle: Sender<Block>,
    pub(crate) rings: Rings,
    /// The run's end, when it came while a dump was being prepared.
    pub(crate) finished: Option<Box<Footer>>,
    /// Why the end must dump when its own verdict would not: a panic whose
    /// dump the run's end overtook (the program caught it and ended well).
    pub(crate) end_dumps_for: Option<String>,
    /// Threads that handed over all they recorded before the dump being
    /// gathered moved the epoch (to `gather_epoch`); what they hand over
    /// after that waits in `held_aside` until the dump is written, so that
    /// the dump cuts every thread where it saw the epoch move. Taking those
    /// later chunks into the rings while slower threads were waited for
    /// put, in about a third of a busy service's mid-run dumps, receives
    /// on reply channels that a worker named after its own hand-over: the
    /// dump held events on objects it did not name.
    pub(crate) handed_over: Vec<ThreadIndex>,
    /// While a dump gathers, the epoch it moved the clock to.
    pub(crate) gather_epoch: Option<u64>,
    pub(crate) held_aside: Vec<WriterMsg>,
    /// Threads that caught the panic whose dump was asked for (see
    /// [`WriterMsg::PanicCaught`]): the dump need not wait for their exit.
    pub(crate) caught: Vec<ThreadIndex>,
    /// The threads the dump being gathered took the buffer of while they
    /// waited on a condvar (see `Keeper::condvar_waits`).
    pub(crate) condvar_waiters: Vec<ThreadIndex>,
    /// The threads the dump being gathered gave up waiting for (see
    /// [`LATE_NOTE`]).
    pub(crate) late: Vec<ThreadIndex>,
    /// The threads holding chunks: those seen exited, in the order their
    /// exits were seen, and those watched for their exit.
    pub(crate) exits: Exits,
    /// Panics reported while the keeper waited for another panicking
    /// thread to exit, served next.
    pub(crate) later_panics: Vec<Request>,
    /// Encodes the raw blocks threads hand over.
    pub(crate) encoder: EventEncoder,
    pub(crate) payload: Vec<u8>,
    pub(crate) end: KeeperEnd,
    /// The threads whose events recorded before the last look at the
    /// names have not all reached the rings yet, each with the chunks it
    /// had handed over then; `None` before the first look.
    pub(crate) round: Option<Vec<(ThreadIndex, u64)>>,
    /// A look is under way (taking chunks within it looks no further).
    pub(crate) looking: bool,
    /// Test knob ([`crate::RecordConfig::stall_writer`]): takes nothing
    /// until the run ends, as a keeper that cannot keep up would.
    pub(crate) stall: bool,
}

/// The channels the keeper takes from and gives back to.
pub(crate) struct KeeperInputs {
    pub(crate) inbox: Receiver<WriterMsg>,
    pub(crate) requests: Receiver<Request>,
    pub(crate) drops: Receiver<ObjectIndex>,
    pub(crate) recycle: Sender<Block>,
}

impl Keeper {
    /// A keeper of `exec`'s chunks, with `config`'s budgets, dumping to `path`.
    pub(crate) fn new(
        exec: Arc<Execution>,
        clock: Arc<FlushClock>,
        path: &Path,
        config: &FlightConfig,
        inputs: KeeperInputs,
    ) -> Keeper {
        let KeeperInputs { inbox, requests, drops, recycle } = inputs;
        let record = &config.record;
        Keeper {
            exec,
            clock,
            path: path.to_path_buf(),
            header: record.header(),
            dump_at_end: config.dump_at_end,
            keep_exited: config.exited_threads,
            handover: record.handover_timeout,
            inbox,
            requests,
            drops,
            recycle,
            rings: Rings::new(Budget { events: config.events.max(1), bytes: config.bytes }),
            finished: None,
            end_dumps_for: None,
            handed_over: Vec::new(),
            gather_epoch: None,
            held_aside: Vec::new(),
            caught: Vec::new(),
            condvar_waiters: Vec::new(),
            late: Vec::new(),
            later_panics: Vec::new(),
            exits: Exits::default(),
            encoder: EventEncoder::new(),
            payload: Vec::new(),
            end: KeeperEnd::default(),
            round: None,
            looking: false,
            stall: record.stall_writer,
        }
    }

    /// Runs until the recording finishes.
    pub(crate) fn run(mut self) -> KeeperEnd {
        if self.stall {
            self.clock.wait_left_recording();
        }
        loop {
            if let Some(footer) = self.finished.take() {
                // A panic reported before the end and not served yet (the
                // select took the end first) still gets its dump: the end's.
                let later = std::mem::take(&mut self.later_panics);
                for request in later.into_iter().chain(self.requests.try_iter()) {
                    if let Request::Panic { thread, .. } = request {
                        self.end_dumps_for.get_or_insert_with(|| format!("panic in thread {thread}"));
                    }
                }
                self.finish(*footer);
                return self.ended();
            }
            if !self.later_panics.is_empty() {
                let request = self.later_panics.remove(0);
                self.serve(request);
                continue;
            }
            crossbeam_channel::select! {
                recv(self.inbox) -> msg => match msg {
                    Ok(msg) => self.take(msg),
                    // Every sender gone without a finish: nothing more can come.
                    Err(_) => {
                        self.clock.mark_written();
                        return self.ended();
                    }
                },
                recv(self.requests) -> request => {
                    if let Ok(request) = request {
                        self.serve(request);
                    }
                }
            }
        }
    }

    fn ended(mut self) -> KeeperEnd {
        self.end.scan_visits = self.exits.visits;
        self.end
    }

    pub(super) fn take(&mut self, msg: WriterMsg) {
        if let Some(cut) = self.gather_epoch {
            let seen = match &msg {
                WriterMsg::Chunk { thread, epoch, .. }
                | WriterMsg::Skipped { thread, epoch, .. }
                | WriterMsg::HandedOver { thread, epoch } => Some((*thread, *epoch)),
                WriterMsg::Finish { .. } | WriterMsg::PanicCaught { .. } => None,
            };
            if let Some((thread, _)) = seen.filter(|&(_, epoch)| epoch >= cut) {
                if self.handed_over.contains(&thread) {
                    self.held_aside.push(msg);
                    return;
                }
                self.handed_over.push(thread);
            }
        }
        match msg {
            WriterMsg::Chunk { thread, events, mut block, .. } => {
                // Taken: its bytes no longer count against its thread's
                // pending cap.
                block.written();
                // The names of objects dropped, that no chunk kept refers
                // to any more, are forgotten now and then.
                self.rings.dropped(block.dropped.drain(..));
                // The ring keeps the chunk encoded, a fraction of the raw
                // block, which goes back to the threads at once. Its tables
                // are found now, in the same pass over fixed-size records:
                // decoding the chunk when it is overwritten cost as much as
                // encoding it, for every chunk of a ring that wraps.
                let (payload, tables) = block.chunk_payload_and_tables(&mut self.encoder, &mut self.payload);
                let mut chunk = Block::holding(payload);
                chunk.last = block.last;
                let mut spare = vec![block];
                if self.rings.push(thread, events, chunk, tables, &mut spare) {
                    self.exits.holds(&self.exec.threads, thread, ROOT);
                }
                if self.rings.holding() > self.keep_exited {
                    // Exits in the order seen: the threads that exited
                    // longest ago are retired first (by index, the first
                    // spawned went first, a worker that ran the whole run
                    // among them). The root's exit ends the run: it stays.
                    // Only the threads holding chunks and not seen exited
                    // are looked at, a few per chunk (see `Exits`).
                    self.exits.look(thread);
                    self.rings.retire_exited(&mut self.exits.order, self.keep_exited, &mut spare);
                }
                // And those dropped where no recording thread could carry
                // them (see `flight::object_dropped`).
                self.rings.dropped(self.drops.try_iter());
                self.look();
                self.recycle_spare(spare);
            }
            WriterMsg::Skipped { thread, events, tables, dropped, .. } => {
                self.rings.dropped(dropped);
                let mut spare = Vec::new();
                self.rings.skipped(thread, events, &tables, &mut spare);
                self.recycle_spare(spare);
            }
            WriterMsg::HandedOver { .. } => {}
            WriterMsg::Finish { footer } => self.finished = Some(footer),
            WriterMsg::PanicCaught { thread } => self.caught.push(thread),
        }
    }

    /// Gives the full-size blocks of `spare` back to the threads.
    fn recycle_spare(&self, spare: Vec<Block>) {
        for mut block in spare {
            if block.bytes.len() == CHUNK_CAPACITY {
                block.len = 0;
                let _ = self.recycle.try_send(block);
            }
        }
    }

    /// Once the names kept from overwritten chunks grew enough, and every
    /// thread has handed over what it recorded before the last look (it
    /// handed a chunk over since, was flushed then, or exited), forgets the
    /// dropped objects heard of before that look ([`Rings::look`]); then
    /// starts the next round: the buffers of blocked threads are flushed
    /// here, and running threads are noted (each hands a chunk over when
    /// its block fills; moving the flush epoch for them made every thread
    /// hand over partial blocks at every look, and the peak grew). A
    /// thread's last events on an object can come long after the object's
    /// drop: its block waits while it is blocked or computing, and
    /// forgetting on a count of looks lost such names.
    fn look(&mut self) {
        if self.looking || !self.rings.wants_look() {
            return;
        }
        let settled = match &mut self.round {
            None => false,
            Some(waiting) => {
                let threads = self.exec.threads.lock().clone();
                let rings = &self.rings;
                waiting.retain(|&(index, pushed)| {
                    rings.pushed(index) <= pushed
                        && threads.iter().any(|t| t.index == index && !t.exited.load(Ordering::Acquire))
                });
                if !waiting.is_empty() {
                    return;
                }
                true
            }
        };
        self.looking = true;
        if settled {
            // A thread counted settled because it exited handed its last
            // chunk over before it said so, but that chunk may still be
            // queued behind the one being taken: it must be in the rings
            // before the names its events need are forgotten.
            self.take_queued();
        }
        self.rings.look(settled);
        // What was handed over before this look (a chunk taken later must
        // have been handed over after it): no more, or a program making
        // chunks as fast as they are taken would keep the keeper here.
        self.take_queued();
        let threads = self.exec.threads.lock().clone();
        let mut waiting = Vec::new();
        for thread in &threads {
            if thread.exited.load(Ordering::Acquire) {
                continue;
            }
            match thread.buf.as_ref().map(|buf| buf.try_lock()) {
                // Blocked (or between events): its events are all here once flushed.
                Some(Some(mut guard)) => guard.flush(),
                Some(None) => waiting.push(thread.index),
                None => {}
            }
        }
        // The flushes above, and what running threads handed over since.
        self.take_queued();
        // A blocked thread that handed over for the dump being gathered:
        // what it flushed is held aside until the dump is written, not in
        // the rings, so it is waited for like a running thread (settled
        // once that chunk is pushed), or the next look would forget names
        // its events need.
        for thread in &self.handed_over {
            let aside = self
                .held_aside
                .iter()
                .any(|msg| matches!(msg, WriterMsg::Chunk { thread: t, .. } if t == thread));
            if aside && !waiting.contains(thread) {
                waiting.push(*thread);
            }
        }
        self.round = Some(waiting.into_iter().map(|index| (index, self.rings.pushed(index))).collect());
        self.looking = false;
    }

    /// Takes the messages queued now, none sent after.
    fn take_queued(&mut self) {
        for _ in 0..self.inbox.len() {
            match self.inbox.try_recv() {
                Ok(msg) => self.take(msg),
                Err(_) => break,
            }
        }
    }

    fn serve(&mut self, request: Request) {
        match request {
            Request::Now { reason, requester, verdict, reply } => {
                self.gather(requester);
                let result = self.dump(verdict, &reason);
                self.end_gather();
                let _ = reply.send(result);
            }
            Request::Panic { thread, message } => {
                self.take_until(|keeper| keeper.exited(thread) || keeper.caught.contains(&thread));
                let caught = self.caught.contains(&thread) && !self.exited(thread);
                self.caught.retain(|&t| t != thread);
                if thread == ROOT && self.exited(ROOT) {
                    // The root's exit ends the run: its end is on the way.
                    self.take_until(|_| false);
                }
                if self.finished.is_none() {
                    // A thread that caught its panic runs on: it hands over
                    // at its next event, as any running thread.
                    self.gather(if caught { None } else { Some(thread) });
                }
                if self.finished.is_none() && (self.root_exit_taken() || self.root_exit_held()) {
                    // The root ended meanwhile (the program caught this
                    // panic and went on to its end) and its exit is in the
                    // rings: the run's end is on the way, and a dump
                    // holding the whole run must carry its verdict, not
                    // this panic's, or its replay reports a mismatch.
                    self.end_gather();
                    self.take_until(|_| false);
                }
                let reason = format!("panic in thread {thread}");
                if self.finished.is_some() {
                    self.end_gather();
                    // The run ended meanwhile: the end's dump holds it all,
                    // under the run's own verdict. A panic the program
                    // caught (a scope's, in a `catch_unwind`) ends no run:
                    // a dump calling it the verdict would make a replay of
                    // the whole run report a mismatch.
                    self.end_dumps_for = Some(reason);
                    return;
                }
                let _ = self.dump(Verdict::Panicked { thread, message }, &reason);
                self.end_gather();
            }
        }
    }

    /// Whether the root's exit is among the chunks held aside while a dump
    /// gathers (decoded here, at a panic's dump: the root's few chunks).
    fn root_exit_held(&self) -> bool {
        let mut encoder = EventEncoder::new();
        let mut work = Vec::new();
        self.held_aside.iter().any(|msg| match msg {
            WriterMsg::Chunk { thread: ROOT, block, .. } => {
                ends_with_exit(block.chunk_payload(&mut encoder, &mut work))
            }
            _ => false,
        })
    }

    /// Takes chunks until `done` holds (a panicking thread has exited, so
    /// its last chunk, with its panic event, is queued), the run finished, or
    /// the handover time passed. A dump asked for meanwhile is served at
    /// once: the one asking may be the panicking thread itself (a panic
    /// hook of the program's calling `flight_dump`), which exits only once
    /// answered; another panic waits its turn.
    fn take_until(&mut self, mut done: impl FnMut(&mut Keeper) -> bool) {
        let deadline = Instant::now() + self.handover.max(PANIC_WAIT);
        while self.finished.is_none() && !done(self) {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            crossbeam_channel::select! {
                recv(self.inbox) -> msg => match msg {
                    Ok(msg) => self.take(msg),
                    Err(_) => return,
                },
                recv(self.requests) -> request => match request {
                    Ok(request @ Request::Now { .. }) => self.serve(request),
                    Ok(request) => self.later_panics.push(request),
                    // No more requests can come: wait on the chunks alone.
                    Err(_) => {
                        if let Ok(msg) = self.inbox.recv_timeout(PANIC_RESCAN.min(deadline - now)) {
                            self.take(msg);
                        }
                    }
                },
                default(PANIC_RESCAN.min(deadline - now)) => {}
            }
        }
    }

    /// Whether the root's last chunk taken ends with its exit (decoded
    /// here, at a dump: one chunk).
    fn root_exit_taken(&self) -> bool {
        self.rings
            .threads
            .get(&ROOT)
            .and_then(|ring| ring.chunks.back())
            .is_some_and(|last| ends_with_exit(last.block.payload()))
    }

    fn exited(&mut self, thread: ThreadIndex) -> bool {
        self.exits.exited(&self.exec.threads, thread)
    }

    /// The run ended: dump if it ended badly or the config asks, and let
    /// those waiting for the trace go on.
    fn finish(&mut self, footer: Footer) {
        let reason = match &footer.verdict {
            Verdict::Panicked { .. } => Some("panic"),
            Verdict::Deadlock { .. } => Some("deadlock"),
            _ if self.end_dumps_for.is_some() => self.end_dumps_for.as_deref(),
            _ if self.dump_at_end => Some("end of the run"),
            // `std::process::exit` mid-run (a worker's fatal path): the
            // process is gone after this, so this is the last chance; a
            // dump written before (a panic's) is not replaced.
            _ if self.end.dumps.is_empty()
                && footer.annotations.iter().any(|(k, _)| k == EXIT_ANNOTATION) =>
            {
                Some("std::process::exit")
            }
            _ => None,
        };
        if let Some(reason) = reason.map(str::to_owned) {
            let _ = self.write(footer.verdict, footer.annotations, &reason, false);
        }
        self.clock.mark_written();
    }
}

#[cfg(test)]
mod tests;
