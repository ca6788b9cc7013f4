//! A recording thread's own event buffer: events are encoded into it as they
//! happen and handed to the writer a chunk at a time.

use std::time::{SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, Sender};

use crate::rt::writer::WriterMsg;
use crate::trace::codec::{self, EventEncoder};
use crate::trace::model::{Event, ObjectIndex, ObjectKind, SiteIndex, ThreadIndex};

/// A chunk is handed to the writer once it holds this many bytes.
pub(crate) const CHUNK_TARGET: usize = 16 * 1024;
/// Room for the largest event after the target is reached, so encoding an
/// event never grows the buffer.
const CHUNK_CAPACITY: usize = CHUNK_TARGET + 256;

#[derive(Debug)]
pub(crate) struct ChunkBuf {
    thread: ThreadIndex,
    seq: u32,
    bytes: Vec<u8>,
    encoder: EventEncoder,
    events_in_chunk: u32,
    to_writer: Sender<WriterMsg>,
    recycled: Receiver<Vec<u8>>,
    /// Set once the trace is finished: later events have nowhere to go.
    closed: bool,
}

impl ChunkBuf {
    pub(crate) fn new(
        thread: ThreadIndex,
        to_writer: Sender<WriterMsg>,
        recycled: Receiver<Vec<u8>>,
    ) -> Self {
        ChunkBuf {
            thread,
            seq: 0,
            bytes: Vec::with_capacity(CHUNK_CAPACITY),
            encoder: EventEncoder::new(),
            events_in_chunk: 0,
            to_writer,
            recycled,
            closed: false,
        }
    }

    #[inline]
    fn begin_chunk_if_empty(&mut self) {
        if self.bytes.is_empty() {
            let unix_ms =
                SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
            codec::encode_clock(&mut self.bytes, unix_ms);
        }
    }

    #[inline]
    pub(crate) fn push_event(&mut self, event: &Event) {
        self.begin_chunk_if_empty();
        self.encoder.encode_event(&mut self.bytes, event);
        self.events_in_chunk += 1;
        if self.bytes.len() >= CHUNK_TARGET {
            self.flush();
        }
    }

    /// Appends `bytes` to the event just pushed. Long blobs may make a chunk
    /// bigger than the target; it is handed over right after.
    pub(crate) fn push_blob(&mut self, bytes: &[u8]) {
        self.begin_chunk_if_empty();
        codec::encode_blob(&mut self.bytes, bytes);
        if self.bytes.len() >= CHUNK_TARGET {
            self.flush();
        }
    }

    pub(crate) fn push_thread(&mut self, index: ThreadIndex, parent: ThreadIndex, child: u32, name: &str) {
        self.begin_chunk_if_empty();
        codec::encode_thread(&mut self.bytes, index, parent, child, name);
    }

    pub(crate) fn push_object(&mut self, index: ObjectIndex, kind: ObjectKind, site: SiteIndex) {
        self.begin_chunk_if_empty();
        codec::encode_object(&mut self.bytes, index, kind, site);
    }

    pub(crate) fn push_site(&mut self, index: SiteIndex, file: &str, line: u32, column: u32) {
        self.begin_chunk_if_empty();
        codec::encode_site(&mut self.bytes, index, file, line, column);
    }

    /// Hands the buffered records to the writer as one chunk.
    pub(crate) fn flush(&mut self) {
        if self.bytes.is_empty() {
            return;
        }
        if self.closed {
            self.bytes.clear();
            return;
        }
        let fresh = self.recycled.try_recv().unwrap_or_else(|_| Vec::with_capacity(CHUNK_CAPACITY));
        let full = std::mem::replace(&mut self.bytes, fresh);
        let msg = WriterMsg::Chunk {
            thread: self.thread,
            seq: self.seq,
            events: self.events_in_chunk,
            bytes: full,
        };
        if self.to_writer.send(msg).is_err() {
            self.closed = true;
        }
        self.seq += 1;
        self.events_in_chunk = 0;
        self.encoder.reset();
    }

    /// Flushes what is buffered and accepts nothing more.
    pub(crate) fn close(&mut self) {
        self.flush();
        self.closed = true;
    }
}
