//! A recording thread's own event buffer: events are appended to it raw as
//! they happen ([`crate::rt::raw`]) and handed over a block at a time, to be
//! encoded as a chunk off the program's threads.
//!
//! The buffer is a fixed block with a length, not a `Vec`: an event is written
//! straight into the block's free tail, which always has room for one more,
//! so the hot path has no capacity check and no copy.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, Sender};

use crate::rt::flush::{ClockState, FlushClock};
use crate::rt::raw::{self, RAW_EVENT_MAX};
use crate::rt::writer::WriterMsg;
use crate::trace::codec::{self, EventEncoder};
use crate::trace::format::MAX_CHUNK_PAYLOAD;
use crate::trace::model::{Event, ObjectIndex, ObjectKind, Op, Outcome, SiteIndex, ThreadIndex};

/// A block is handed over once it holds this many raw bytes: about 3,700
/// events of the payments pipeline (17 raw bytes each), which encode to a
/// chunk of about 14 KiB.
pub(crate) const CHUNK_TARGET: usize = 64 * 1024;
/// Room for one more event after the target is reached.
pub(crate) const CHUNK_CAPACITY: usize = CHUNK_TARGET + RAW_EVENT_MAX;
/// The target of a thread's first block, unless a recycled one is at hand:
/// most threads of a spawn storm record a few events, and a program of
/// thousands of threads should not take a full block for each.
const FIRST_TARGET: usize = 4 * 1024;
/// The block target under the explorer: its runs are short and many, and a
/// thread's first block is allocated at every run.
pub(crate) const COOP_CHUNK_TARGET: usize = 4 * 1024;
/// A captured value or panic message longer than this is stored as several
/// consecutive blob records, each well inside a chunk's 1 MiB limit; readers
/// join them.
pub(crate) const BLOB_PIECE: usize = 256 * 1024;
/// The block of a closed buffer: room for one event, whose bytes are dropped.
const CLOSED_TARGET: usize = 32;
/// Blocks waiting for the writer (from every thread) from which a thread
/// encodes its blocks itself before handing them over: the writer is
/// behind, and what waits then takes a tenth of the memory, and the threads
/// that make the events pay for encoding them, as they did before events
/// were raw, rather than the recording reaching its pending cap.
const WRITER_BEHIND: usize = 8;

/// A chunk's bytes: a block and how much of it is used.
#[derive(Debug)]
pub(crate) struct Block {
    pub(crate) bytes: Box<[u8]>,
    pub(crate) len: usize,
    /// The pending count of the thread that handed the block over, which
    /// the writer lowers once the block is written.
    pub(crate) pending: Option<Arc<AtomicUsize>>,
    /// Whether the bytes are a chunk's payload already (a thread encoded
    /// them while the writer was behind) rather than raw records.
    pub(crate) encoded: bool,
    /// Under the flight recorder, the objects its thread dropped while it
    /// filled the block, after its own events on them (see
    /// [`ChunkBuf::push_dropped`]). A recycled block keeps the room.
    pub(crate) dropped: Vec<ObjectIndex>,
    /// The last block its thread's buffer hands over (it was closed: the
    /// thread exited, or the recording ended).
    pub(crate) last: bool,
}

impl Block {
    /// A block for chunks of `target` bytes.
    pub(crate) fn for_target(target: usize) -> Block {
        Block {
            bytes: vec![0; target + RAW_EVENT_MAX].into_boxed_slice(),
            len: 0,
            pending: None,
            encoded: false,
            dropped: Vec::new(),
            last: false,
        }
    }

    /// A block holding exactly `payload`, a chunk's encoded records.
    pub(crate) fn holding(payload: &[u8]) -> Block {
        Block {
            bytes: payload.into(),
            len: payload.len(),
            pending: None,
            encoded: true,
            dropped: Vec::new(),
            last: false,
        }
    }

    /// The chunk payload of this block: its bytes when already encoded,
    /// else its raw records encoded into `work` by `encoder`.
    pub(crate) fn chunk_payload<'a>(&'a self, encoder: &mut EventEncoder, work: &'a mut Vec<u8>) -> &'a [u8] {
        if self.encoded {
            return self.payload();
        }
        let (_, len) = raw::transcode(self.payload(), encoder, work);
        &work[..len]
    }

    /// [`Block::chunk_payload`] and, for a raw block, its table records
    /// ([`raw::table_records`]) found in the same pass; `None` for a block
    /// already encoded.
    pub(crate) fn chunk_payload_and_tables<'a>(
        &'a self,
        encoder: &mut EventEncoder,
        work: &'a mut Vec<u8>,
    ) -> (&'a [u8], Option<Vec<u8>>) {
        if self.encoded {
            return (self.payload(), None);
        }
        let mut tables = Vec::new();
        let (_, len) = raw::transcode_with_tables(self.payload(), encoder, work, &mut tables);
        (&work[..len], Some(tables))
    }

    /// The target this block was made for: it is handed over once it holds
    /// that many bytes.
    fn target(&self) -> usize {
        self.bytes.len().saturating_sub(RAW_EVENT_MAX)
    }

    /// The writer wrote this block: its bytes no longer count against its
    /// thread's pending cap.
    pub(crate) fn written(&mut self) {
        if let Some(pending) = self.pending.take() {
            pending.fetch_sub(self.len, Ordering::AcqRel);
        }
    }

    pub(crate) fn payload(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Room for the drops one block carries, made when the first comes.
const DROPS_PER_BLOCK: usize = 64;

#[derive(Debug)]
pub(crate) struct ChunkBuf {
    thread: ThreadIndex,
    seq: u32,
    block: Block,
    events_in_chunk: u32,
    /// Where the block's opening clock record ends: records past it and
    /// before the block's first event are table records (a name, a call
    /// site) made before that event.
    opened: usize,
    /// Table records and blobs are encoded here first (they are rare, and may
    /// be long), then copied in.
    scratch: Vec<u8>,
    to_writer: Sender<WriterMsg>,
    recycled: Receiver<Block>,
    /// Set once the trace is finished: later events have nowhere to go.
    closed: bool,
    /// Hand the block over once it holds this many bytes: the current
    /// block's target, 0 once closed.
    target: usize,
    /// The target of the blocks after the first.
    full_target: usize,
    /// The recording's flush clock, and the epoch this buffer last saw.
    clock: Arc<FlushClock>,
    /// The epoch last seen; bitwise negated while [`ChunkBuf::watch_panic`]
    /// watches (see [`ChunkBuf::seen`]).
    seen: u64,
    /// Under the flight recorder, this thread is unwinding from a panic:
    /// its next event looks at whether the panic was caught.
    panic_watch: bool,
    /// Bytes handed to the writer and not yet written.
    pending: Arc<AtomicUsize>,
    /// Encodes blocks here while the writer is behind, into `work`. Boxed
    /// when first needed: inline, its kilobyte of delta tables was most of
    /// what every thread's buffer kept after the thread exited (a program
    /// spawning a thread per task grew by it per thread).
    encoder: Option<Box<EventEncoder>>,
    work: Vec<u8>,
}

/// Whether `event` sent a message: a send, or a select's send arm.
fn is_send(event: Option<Event>) -> bool {
    event.is_some_and(|e| e.op == Op::Send || matches!(e.outcome(), Ok(Outcome::SelectSend { .. })))
}

impl ChunkBuf {
    /// The flush clock's epoch this buffer last saw.
    pub(crate) fn seen(&self) -> u64 {
        if self.panic_watch {
            !self.seen
        } else {
            self.seen
        }
    }

    /// Under the flight recorder: this thread's panic began (its hook asked
    /// for a dump). The dump waits for the thread to exit, with its panic;
    /// but a program that catches the panic runs on, and the dump waited
    /// its whole backstop (5 s), its window moving on meanwhile. The next
    /// event therefore takes the cold path (its epoch no longer matches
    /// `seen`, no cost on the hot path), where a thread no longer
    /// unwinding tells the keeper it caught its panic.
    pub(crate) fn watch_panic(&mut self) {
        if !self.closed && !self.panic_watch {
            self.panic_watch = true;
            self.seen = !self.seen;
        }
    }

    /// The thread's own end records its panic: nothing was caught.
    pub(crate) fn end_panic_watch(&mut self) {
        if self.panic_watch {
            self.panic_watch = false;
            self.seen = !self.seen;
        }
    }

    /// Where this buffer is: it moves with every event kept (a capture
    /// compares it around its read).
    pub(crate) fn mark(&self) -> (u32, u32) {
        (self.seq, self.events_in_chunk)
    }

    pub(crate) fn new(
        thread: ThreadIndex,
        to_writer: Sender<WriterMsg>,
        recycled: Receiver<Block>,
        target: usize,
        clock: Arc<FlushClock>,
    ) -> Self {
        clock.opened();
        let seen = clock.epoch();
        // Read after the epoch: a thread starting while the recording
        // finishes either sees the state change here or the epoch move later.
        let live = clock.state() == ClockState::Recording;
        // A block handed back is as good as a new one (the explorer's runs
        // start threads by the thousand).
        let block = recycled.try_recv().unwrap_or_else(|_| Block::for_target(target.min(FIRST_TARGET)));
        let mut buf = ChunkBuf {
            seen,
            panic_watch: false,
            clock,
            target: block.target(),
            full_target: target,
            thread,
            seq: 0,
            block,
            events_in_chunk: 0,
            opened: 0,
            scratch: Vec::new(),
            to_writer,
            recycled,
            closed: false,
            pending: Arc::new(AtomicUsize::new(0)),
            encoder: None,
            work: Vec::new(),
        };
        if !live {
            // Its events come after the end of the trace.
            buf.close();
        }
        buf
    }

    #[inline]
    fn begin_chunk_if_empty(&mut self) {
        if self.block.len == 0 {
            self.begin_chunk();
        }
    }

    #[cold]
    fn begin_chunk(&mut self) {
        if self.closed {
            // Nothing will be written: no clock read for it.
            return;
        }
        let unix_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
        // Not through `scratch`: it may hold the record this chunk starts with.
        let mut clock = Vec::with_capacity(16);
        codec::encode_clock(&mut clock, unix_ms);
        let end = raw::encoded_len(&clock);
        raw::put_encoded(&mut self.block.bytes[..end], &clock);
        self.block.len = end;
        self.opened = end;
    }

    // Inlined into each primitive's record path (it was until the record
    // became as long as its op: then a call cost about 8 instructions an
    // event; callgrind, benches/callgrind.sh).
    #[inline(always)]
    pub(crate) fn push_event(&mut self, event: &Event) {
        self.begin_chunk_if_empty();
        let at = self.block.len;
        // `len` stays at most the block's target between events, so the
        // window fits.
        let window: &mut [u8; RAW_EVENT_MAX] =
            (&mut self.block.bytes[at..at + RAW_EVENT_MAX]).try_into().expect("window of RAW_EVENT_MAX");
        self.block.len = at + raw::put_event(window, event);
        self.events_in_chunk += 1;
        // Before the block's own hand-over: the event that sees the epoch
        // move must not go with what came before it.
        let epoch = self.clock.epoch();
        if epoch != self.seen {
            self.on_epoch(epoch, at);
        }
        if self.block.len >= self.target {
            self.flush();
        }
    }

    /// The flusher (or a flight dump) moved the epoch: the buffered events
    /// are due at the writer (or the recording is finishing, or it failed).
    /// The event just pushed, from `at` on, is the first this thread made
    /// having seen the move.
    #[cold]
    fn on_epoch(&mut self, epoch: u64, at: usize) {
        if self.panic_watch {
            self.end_panic_watch();
            if std::thread::panicking() {
                // Still unwinding (a guard's drop): look again next time.
                if epoch != self.seen {
                    self.on_epoch(epoch, at);
                }
                self.watch_panic();
                return;
            }
            self.post(WriterMsg::PanicCaught { thread: self.thread });
            if epoch == self.seen {
                return;
            }
        }
        self.seen = epoch;
        match self.clock.state() {
            // A send is recorded once its message is in the channel, where
            // a receiver may take it, and record that, before this thread
            // sees the move: the send goes with what came before it, so
            // that a flight dump holding the receive holds the send (3-4
            // of 12 mid-run dumps of a rendezvous lacked it). A send whose
            // receive a dump lacks is one replay lets return.
            ClockState::Recording if is_send(raw::event_at(&self.block.bytes[..self.block.len], at)) => {
                self.flush()
            }
            ClockState::Recording => self.hand_over_before(at),
            ClockState::Closing => {
                if !self.closed {
                    self.clock.note_ran_on();
                }
                self.close();
            }
            ClockState::Capped => {
                // What this thread holds comes before the stop: keep it
                // (its own cap still applies), then run on unrecorded.
                self.close();
                if self.clock.may_go_off {
                    crate::rt::context::stop_recording_here();
                }
            }
            ClockState::Stopped => {
                self.mark_closed();
                self.block.len = 0;
                if self.clock.may_go_off {
                    // This thread's later calls take the off path.
                    crate::rt::context::stop_recording_here();
                }
            }
        }
    }

    /// Hands over what was recorded before the event at `at` (the last in
    /// the block), keeping that event for the next block; with nothing
    /// before it, says so. What this thread hands over having seen an epoch
    /// is then exactly what it recorded before seeing it: an event another
    /// thread made after seeing the epoch cannot come before it (it sees
    /// the epoch at its very next event), so a flight dump that takes each
    /// thread up to its hand-over holds no event that depends on one it
    /// lacks (a receive whose message's channel another thread named later,
    /// say).
    fn hand_over_before(&mut self, at: usize) {
        if self.closed {
            return;
        }
        // Nothing before the event but the block's clock: say so. A name
        // or a call site recorded before it (a receive names its channel,
        // then waits) goes first, with what came before: another thread
        // that used the object before its own cut needs that name in the
        // dump (a flight dump's names were missing once in about 500
        // loaded runs, the collector's `Object` record held aside with the
        // receive that saw the epoch move).
        if self.events_in_chunk <= 1 && at <= self.opened {
            self.post(WriterMsg::HandedOver { thread: self.thread, epoch: self.seen() });
            return;
        }
        let n = self.block.len - at;
        let mut event = [0u8; RAW_EVENT_MAX];
        event[..n].copy_from_slice(&self.block.bytes[at..at + n]);
        self.block.len = at;
        self.events_in_chunk -= 1;
        self.flush();
        if self.closed {
            return;
        }
        self.begin_chunk_if_empty();
        let to = self.block.len;
        self.block.bytes[to..to + n].copy_from_slice(&event[..n]);
        self.block.len = to + n;
        self.events_in_chunk += 1;
    }

    /// Copies the encoded record in `scratch` into the block, handing the
    /// block over first when it does not fit.
    fn push_scratch(&mut self) {
        if self.closed {
            return;
        }
        self.begin_chunk_if_empty();
        let n = raw::encoded_len(&self.scratch);
        if self.block.len + n > self.target {
            self.flush();
            self.begin_chunk();
        }
        if self.block.len + n <= self.target {
            let at = self.block.len;
            raw::put_encoded(&mut self.block.bytes[at..at + n], &self.scratch);
            self.block.len += n;
        } else {
            // Longer than a block (a large captured value): a block of its own.
            let mut own = Vec::with_capacity(self.block.len + n);
            own.extend_from_slice(self.block.payload());
            let at = own.len();
            own.resize(at + n, 0);
            raw::put_encoded(&mut own[at..], &self.scratch);
            self.block.len = 0;
            let dropped = std::mem::take(&mut self.block.dropped);
            self.send(Block {
                len: own.len(),
                bytes: own.into_boxed_slice(),
                pending: None,
                encoded: false,
                dropped,
                last: false,
            });
        }
        if self.block.len >= self.target {
            self.flush();
        }
    }

    /// Appends `bytes` to the event just pushed, as consecutive blob records
    /// of at most [`BLOB_PIECE`] bytes when it is long: any length is stored
    /// whole (a captured value must come back exactly in replay).
    pub(crate) fn push_blob(&mut self, bytes: &[u8]) {
        const _: () = assert!(BLOB_PIECE + 64 + CHUNK_CAPACITY < MAX_CHUNK_PAYLOAD as usize);
        let mut pieces = bytes.chunks(BLOB_PIECE);
        // An empty blob is one empty record, as before.
        let first = pieces.next().unwrap_or(&[]);
        for piece in std::iter::once(first).chain(pieces) {
            self.scratch.clear();
            codec::encode_blob(&mut self.scratch, piece);
            self.push_scratch();
        }
    }

    pub(crate) fn push_thread(&mut self, index: ThreadIndex, parent: ThreadIndex, child: u32, name: &str) {
        self.scratch.clear();
        codec::encode_thread(&mut self.scratch, index, parent, child, name);
        self.push_scratch();
    }

    pub(crate) fn push_object(&mut self, index: ObjectIndex, kind: ObjectKind, site: SiteIndex) {
        self.scratch.clear();
        codec::encode_object(&mut self.scratch, index, kind, site);
        self.push_scratch();
    }

    pub(crate) fn push_site(&mut self, index: SiteIndex, file: &str, line: u32, column: u32) {
        self.scratch.clear();
        codec::encode_site(&mut self.scratch, index, file, line, column);
        self.push_scratch();
    }

    /// Under the flight recorder: `object` was dropped on this thread. It
    /// goes to the keeper with the next block, after this thread's own
    /// events on it, so that the keeper can forget its name; no lock and
    /// no message per drop (a global lock and a channel send per drop cost
    /// a service making objects per request about 140 instructions a drop,
    /// and every thread dropping objects took the one lock). `false` once
    /// closed: nothing would carry it.
    pub(crate) fn push_dropped(&mut self, object: ObjectIndex) -> bool {
        if self.closed {
            return false;
        }
        let dropped = &mut self.block.dropped;
        if dropped.capacity() == 0 {
            // Once a block (and a recycled block keeps it): a push that
            // grew the list from nothing at every block cost more than the
            // rest of the drop (callgrind, examples/soak_service.rs).
            dropped.reserve(DROPS_PER_BLOCK);
        }
        dropped.push(object);
        true
    }

    /// Hands the buffered records to the writer as one chunk.
    pub(crate) fn flush(&mut self) {
        if self.block.len == 0 {
            return;
        }
        if self.closed {
            self.block.len = 0;
            return;
        }
        if self.to_writer.len() >= WRITER_BEHIND {
            // Encoded here, and the raw block kept for the next events.
            let encoder = self.encoder.get_or_insert_with(|| Box::new(EventEncoder::new()));
            let mut encoded = Block::holding(self.block.chunk_payload(encoder, &mut self.work));
            encoded.dropped = std::mem::take(&mut self.block.dropped);
            self.block.len = 0;
            self.send(encoded);
            return;
        }
        let fresh = self.recycled.try_recv().unwrap_or_else(|_| Block::for_target(self.full_target));
        self.target = fresh.target();
        let full = std::mem::replace(&mut self.block, fresh);
        self.send(full);
    }

    fn send(&mut self, mut block: Block) {
        if self.closed {
            return;
        }
        if self.clock.pending_cap != usize::MAX {
            // Once a chunk, never per event.
            let pending = self.pending.load(Ordering::Acquire) + block.len;
            if pending > self.clock.pending_cap {
                if self.clock.skips_at_cap {
                    self.skip(block);
                    return;
                }
                // The writer is behind: stop rather than grow or wait.
                self.clock.cap(self.thread, pending);
                self.mark_closed();
                return;
            }
            self.pending.fetch_add(block.len, Ordering::AcqRel);
            block.pending = Some(Arc::clone(&self.pending));
        }
        let msg = WriterMsg::Chunk {
            thread: self.thread,
            seq: self.seq,
            events: self.events_in_chunk,
            block,
            epoch: self.seen(),
        };
        self.post_block(msg);
    }

    /// Under the flight recorder, with the keeper behind: the block is
    /// dropped, neither kept nor waited for, and the keeper told how many
    /// events it held and the names it defined, which later events use.
    /// The thread's window then starts after it. Once per block at the cap.
    #[cold]
    fn skip(&mut self, mut block: Block) {
        let tables = if block.encoded {
            let mut tables = Vec::new();
            crate::flight::ring::encoded_tables(block.payload(), &mut tables);
            tables
        } else {
            raw::table_records(block.payload())
        };
        let msg = WriterMsg::Skipped {
            thread: self.thread,
            events: self.events_in_chunk,
            tables,
            epoch: self.seen(),
            dropped: std::mem::take(&mut block.dropped),
        };
        self.post_block(msg);
    }

    /// Sends the message of the block just handed over (written or
    /// skipped): the next block is the next chunk.
    fn post_block(&mut self, msg: WriterMsg) {
        self.post(msg);
        self.seq += 1;
        self.events_in_chunk = 0;
    }

    /// Sends `msg` to the writer (or keeper); once it is gone, nothing more
    /// is recorded here.
    fn post(&mut self, msg: WriterMsg) {
        if self.to_writer.send(msg).is_err() {
            self.mark_closed();
        }
    }

    /// Flushes what is buffered and accepts nothing more: later events are
    /// dropped quietly (a thread may go on calling primitives after the trace
    /// is finished).
    pub(crate) fn close(&mut self) {
        if self.closed {
            return;
        }
        // The last chunk; a small block takes its place, for events that
        // are encoded and dropped (a target of 0 drops each one at once).
        let mut last = std::mem::replace(&mut self.block, Block::for_target(CLOSED_TARGET));
        if last.len > 0 {
            last.last = true;
            self.send(last);
        }
        self.mark_closed();
    }

    /// Whether it accepts no more events.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    fn mark_closed(&mut self) {
        if !self.closed {
            self.closed = true;
            self.target = 0;
            self.clock.closed();
        }
    }
}

impl Drop for ChunkBuf {
    fn drop(&mut self) {
        // A buffer dropped unclosed (its execution was torn down) must not
        // keep a final flush waiting for it.
        self.mark_closed();
    }
}

#[cfg(test)]
mod tests;
