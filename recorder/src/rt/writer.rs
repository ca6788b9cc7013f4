//! The writer thread of a recording: it owns the file, encodes each block a
//! thread hands over into a chunk and writes it at once, so a crash loses
//! only what threads still held.
//!
//! When writing fails (disk full, an I/O error, the writer itself panicking)
//! the recording stops: the writer says so once on stderr, tells every thread
//! through the flush clock to drop its buffer and stop recording, and keeps
//! draining what threads still send, so none of them ever blocks on it.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use crate::rt::chunk::Block;
use crate::rt::flush::{ClockState, FlushClock};
use crate::trace::codec::EventEncoder;
use crate::trace::format::{Footer, Header};
use crate::trace::model::{ObjectIndex, ThreadIndex};
use crate::trace::write::TraceWriter;

/// What threads send to the writer.
#[derive(Debug)]
pub(crate) enum WriterMsg {
    Chunk {
        thread: ThreadIndex,
        seq: u32,
        events: u32,
        block: Block,
        /// The flush clock's epoch the thread had seen when it handed the
        /// block over (see [`WriterMsg::HandedOver`]).
        epoch: u64,
    },
    /// Under the flight recorder, a block its thread dropped at the pending
    /// cap (the keeper behind): how many events it held and the table
    /// records (thread, sites, objects) it defined, encoded.
    Skipped {
        thread: ThreadIndex,
        events: u32,
        tables: Vec<u8>,
        epoch: u64,
        /// The objects the thread dropped while it filled the block (see
        /// [`Block::dropped`]).
        dropped: Vec<ObjectIndex>,
    },
    /// A thread saw the epoch move with nothing recorded before the event
    /// that saw it. Every message says which epoch its thread had seen: the
    /// first a thread sends having seen a new epoch hands over all it
    /// recorded before it saw it, and nothing after (a flight dump's
    /// gathering cuts every thread there).
    HandedOver {
        thread: ThreadIndex,
        epoch: u64,
    },
    Finish {
        footer: Box<Footer>,
    },
    /// Under the flight recorder: a thread whose panic asked for a dump
    /// caught it and runs on (see [`ChunkBuf::watch_panic`]).
    ///
    /// [`ChunkBuf::watch_panic`]: crate::rt::chunk::ChunkBuf::watch_panic
    PanicCaught {
        thread: ThreadIndex,
    },
}

/// What the writer wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Chunks written.
    pub chunks: u64,
    /// Events in them.
    pub events: u64,
    /// Bytes in the file.
    pub bytes: u64,
}

/// How the writer ended: what it wrote, and why it stopped early, if it did
/// (the notice is already on stderr).
#[derive(Debug)]
pub(crate) struct WriterEnd {
    pub(crate) stats: WriterStats,
    pub(crate) stopped: Option<String>,
}

/// The trace file, optionally made to fail after a number of bytes (a test
/// knob for a disk filling up mid-recording).
#[derive(Debug)]
struct Target {
    file: File,
    budget: Option<u64>,
    /// Bytes written: the trace's size, also when the file is a pipe.
    written: u64,
}

impl Write for Target {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = match self.budget {
            None => buf.len(),
            Some(0) => return Err(io::Error::other("no space left on device (injected failure)")),
            Some(left) => buf.len().min(usize::try_from(left).unwrap_or(usize::MAX)),
        };
        let written = self.file.write(&buf[..n])?;
        if let Some(left) = &mut self.budget {
            *left -= written as u64;
        }
        self.written += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Where the writer reports a failure: the trace's path for the notice, and
/// the clock that stops the recording's threads.
#[derive(Debug)]
pub(crate) struct Stopper {
    pub(crate) path: String,
    pub(crate) clock: Arc<FlushClock>,
    /// Set by the recording's end when the writer is still behind after
    /// [`crate::RecordConfig::drain_timeout`]: it writes no more chunks, only
    /// the end marker.
    pub(crate) give_up: Arc<AtomicBool>,
    /// Set by the writer when it is done (the trace finished or stopped).
    pub(crate) done: Arc<AtomicBool>,
}

impl Stopper {
    /// Stops the recording: one notice on stderr, every thread told.
    fn stop(&self, why: &str) -> String {
        let reason = format!("cannot write the trace `{}`: {why}", self.path);
        // Straight to stderr: it must be seen with no tracing subscriber.
        crate::diagnostic::warn(&format!(
            "recording stopped: {reason}; the program runs on without recording"
        ));
        tracing::error!(%reason, "reprise: recording stopped");
        self.clock.enter(ClockState::Stopped);
        reason
    }
}

pub(crate) fn start(
    file: File,
    header: &Header,
    inbox: Receiver<WriterMsg>,
    recycle: Sender<Block>,
    fail_after: Option<u64>,
    stall: bool,
    stopper: Stopper,
) -> io::Result<JoinHandle<WriterEnd>> {
    let target = Target { file, budget: fail_after, written: 0 };
    let mut writer = TraceWriter::create(BufWriter::with_capacity(64 * 1024, target), header)?;
    writer.get_mut().flush()?;
    std::thread::Builder::new().name("reprise-writer".into()).spawn(move || {
        let mut stats = WriterStats::default();
        if stall {
            // The test knob: a writer that cannot keep up until the
            // recording stops or ends.
            stopper.clock.wait_left_recording();
        }
        let mut dropped = WriterStats::default();
        let ran = std::panic::catch_unwind(AssertUnwindSafe(|| {
            run(writer, &inbox, &recycle, &mut stats, (&stopper.give_up, &mut dropped))
        }));
        let end = match ran {
            Ok(Ok(bytes)) => {
                let stopped = (dropped.chunks > 0).then(|| {
                    let reason = fell_behind(&dropped);
                    crate::diagnostic::warn(&format!("recording stopped: {reason}"));
                    reason
                });
                WriterEnd { stats: WriterStats { bytes, ..stats }, stopped }
            }
            Ok(Err(Failed { error, finished })) => {
                let stopped = Some(stopper.stop(&error.to_string()));
                // Threads may still send: keep taking it so none blocks,
                // until the finish (which never comes twice: waiting for
                // another after a failed finish hung the recording's end).
                if !finished {
                    drain(&inbox);
                }
                WriterEnd { stats, stopped }
            }
            Err(_) => {
                let stopped = Some(stopper.stop("the trace writer panicked"));
                drain(&inbox);
                WriterEnd { stats, stopped }
            }
        };
        stopper.done.store(true, Ordering::Release);
        stopper.clock.mark_written();
        end
    })
}

/// Why a trace ends early when the writer gave up at the recording's end.
fn fell_behind(dropped: &WriterStats) -> String {
    format!(
        "the writer fell behind: at the recording's end {} chunks ({} events) handed over were still \
         waiting for it after RecordConfig::drain_timeout and were dropped; the trace ends here",
        dropped.chunks, dropped.events
    )
}

/// Takes messages until the recording finishes, writing nothing.
fn drain(inbox: &Receiver<WriterMsg>) {
    for msg in inbox.iter() {
        if matches!(msg, WriterMsg::Finish { .. }) {
            return;
        }
    }
}

/// A write that failed, and whether the recording's `Finish` was taken
/// already (nothing more will come).
struct Failed {
    error: io::Error,
    finished: bool,
}

/// Writes chunks until `Finish`; returns the file's length.
fn run(
    mut writer: TraceWriter<BufWriter<Target>>,
    inbox: &Receiver<WriterMsg>,
    recycle: &Sender<Block>,
    stats: &mut WriterStats,
    (give_up, dropped): (&AtomicBool, &mut WriterStats),
) -> Result<u64, Failed> {
    let failed = |error| Failed { error, finished: false };
    let mut encoder = EventEncoder::new();
    let mut payload = Vec::new();
    for msg in inbox.iter() {
        match msg {
            WriterMsg::Chunk { thread, seq, events, mut block, .. } => {
                if give_up.load(Ordering::Acquire) {
                    // The chunks still queued are each thread's last ones:
                    // dropping them all leaves every thread's log a prefix.
                    dropped.chunks += 1;
                    dropped.events += u64::from(events);
                    continue;
                }
                writer
                    .write_chunk(thread, seq, block.chunk_payload(&mut encoder, &mut payload))
                    .map_err(failed)?;
                writer.get_mut().flush().map_err(failed)?;
                block.written();
                stats.chunks += 1;
                stats.events += u64::from(events);
                if block.bytes.len() == crate::rt::chunk::CHUNK_CAPACITY {
                    block.len = 0;
                    let _ = recycle.try_send(block);
                }
            }
            // Only a flight recorder's threads skip a block (its keeper
            // takes them); a recording stops at its pending cap instead.
            WriterMsg::Skipped { .. } | WriterMsg::HandedOver { .. } | WriterMsg::PanicCaught { .. } => {}
            WriterMsg::Finish { mut footer } => {
                footer.events = stats.events;
                if dropped.chunks > 0 {
                    footer.annotations.retain(|(k, _)| k != crate::record::STOPPED_ANNOTATION);
                    footer.annotations.push((crate::record::STOPPED_ANNOTATION.into(), fell_behind(dropped)));
                }
                return finish(writer, &footer).map_err(|error| Failed { error, finished: true });
            }
        }
    }
    Err(failed(io::Error::other("the recording ended without finishing its trace")))
}

fn finish(writer: TraceWriter<BufWriter<Target>>, footer: &Footer) -> io::Result<u64> {
    let mut out = writer.finish(footer)?;
    out.flush()?;
    let target = out.into_inner().map_err(|e| e.into_error())?;
    match target.file.sync_all() {
        // A pipe, a FIFO or a socket (`--out /dev/stdout | ...`) has nothing
        // to sync: the trace is whole once written.
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => {}
        other => other?,
    }
    Ok(target.written)
}
