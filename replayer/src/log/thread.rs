//! One thread's recorded stream, decoded a chunk at a time: a window over
//! the chunk the thread is replaying, filled from the file through the
//! chunk index as the thread moves on. The window is the thread's own (its
//! lock is uncontended); a report that looks elsewhere decodes what it needs
//! on the side and leaves the window alone.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use reprise_recorder::rt::gate::SiteRef;
use reprise_recorder::trace::index::{ChunkFile, ChunkReadError, ChunkRef, ThreadChunks};
use reprise_recorder::trace::model::{Event, Record, ThreadIndex};

/// Where a thread's chunks are read from.
#[derive(Debug)]
pub(crate) enum Source {
    /// The trace file, through its chunk index.
    File(Arc<ChunkFile>),
    /// Records already in memory (a trace the caller read whole), cut into
    /// chunks of records by the index.
    Memory(Vec<Record>),
}

impl Source {
    fn records(&self, thread: ThreadIndex, chunk: &ChunkRef) -> Result<Cow<'_, [Record]>, ChunkReadError> {
        match self {
            Source::File(file) => file.read(thread, chunk).map(Cow::Owned),
            Source::Memory(records) => {
                let start = usize::try_from(chunk.offset).unwrap_or(usize::MAX).min(records.len());
                let end = start.saturating_add(chunk.len as usize).min(records.len());
                Ok(Cow::Borrowed(&records[start..end]))
            }
        }
    }
}

/// What the log counts about its windows, for tests and measurements.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// The most events one decoded chunk held at once.
    pub(crate) peak_window: AtomicUsize,
    /// How many chunks were decoded.
    pub(crate) decoded: AtomicU64,
    /// The first chunk that could not be read back, as text.
    pub(crate) failure: OnceLock<String>,
}

/// One decoded chunk: its events and the bytes attached to them.
#[derive(Debug, Default)]
struct Window {
    /// Which chunk of the thread it holds.
    chunk: Option<usize>,
    /// The thread's event index of its first event.
    first: u64,
    /// The ordinal of its first event with bytes.
    first_blob: u64,
    events: Vec<Event>,
    /// (position in `events`, bytes), by position.
    blobs: Vec<(usize, Vec<u8>)>,
}

impl Window {
    fn holds(&self, cursor: u64) -> bool {
        self.chunk.is_some() && cursor >= self.first && cursor - self.first < self.events.len() as u64
    }

    fn attach(&mut self, bytes: &[u8]) {
        let Some(last) = self.events.len().checked_sub(1) else { return };
        match self.blobs.last_mut() {
            Some((at, blob)) if *at == last => blob.extend_from_slice(bytes),
            _ => self.blobs.push((last, bytes.to_vec())),
        }
    }

    /// The index in `blobs` of the bytes of the event at `pos`.
    fn blob_at(&self, pos: usize) -> Option<usize> {
        self.blobs.binary_search_by_key(&pos, |(at, _)| *at).ok()
    }
}

/// One thread's recorded life, read lazily.
#[derive(Debug)]
pub(crate) struct ThreadLog {
    pub(crate) name: String,
    pub(crate) sites: Vec<Option<SiteRef>>,
    pub(crate) chunks: ThreadChunks,
    source: Source,
    /// Events kept: all of them, or fewer after a cut.
    pub(crate) len: u64,
    /// The last kept event.
    pub(crate) last: Option<Event>,
    window: Mutex<Window>,
    /// Bytes handed out by reference ([`ThreadLog::pinned_blob`]), by the
    /// ordinal of their event among those with bytes.
    pinned: Box<[OnceLock<Box<[u8]>>]>,
}

impl ThreadLog {
    pub(crate) fn new(
        name: String,
        sites: Vec<Option<SiteRef>>,
        chunks: ThreadChunks,
        source: Source,
    ) -> Self {
        let len = chunks.events;
        ThreadLog {
            name,
            sites,
            pinned: Box::default(),
            chunks,
            source,
            len,
            last: None,
            window: Mutex::new(Window::default()),
        }
    }

    /// Sets how many events are kept and what the last of them is; makes
    /// room for the bytes that may be handed out by reference.
    pub(crate) fn keep(&mut self, len: u64, last: Option<Event>) {
        self.len = len.min(self.chunks.events);
        self.last = last;
        let blobs = match self.len.checked_sub(1).and_then(|at| self.chunks.chunk_of(at)) {
            // Every event with bytes up to the last kept one's chunk.
            Some(k) => self.chunks.chunks.get(k + 1).map_or(self.chunks.blobs, |next| next.first_blob),
            None => 0,
        };
        self.pinned = (0..blobs).map(|_| OnceLock::new()).collect();
    }

    /// Decodes chunk `k` with the bytes its last event continues into.
    fn decode(&self, thread: ThreadIndex, k: usize, counters: &Counters) -> Result<Window, ChunkReadError> {
        let chunk = self.chunks.chunks[k];
        let mut w = Window {
            chunk: Some(k),
            first: chunk.first_event,
            first_blob: chunk.first_blob,
            events: Vec::with_capacity(chunk.events as usize),
            blobs: Vec::new(),
        };
        for record in self.source.records(thread, &chunk)?.iter() {
            match record {
                Record::Event(e) => w.events.push(*e),
                // Bytes before the chunk's first event belong to an earlier chunk's.
                Record::Blob(bytes) => w.attach(bytes),
                _ => {}
            }
        }
        if chunk.continued {
            'next: for later in &self.chunks.chunks[k + 1..] {
                for record in self.source.records(thread, later)?.iter() {
                    match record {
                        Record::Event(_) => break 'next,
                        Record::Blob(bytes) => w.attach(bytes),
                        _ => {}
                    }
                }
            }
        }
        counters.decoded.fetch_add(1, Ordering::Relaxed);
        counters.peak_window.fetch_max(w.events.len(), Ordering::Relaxed);
        Ok(w)
    }

    /// Runs `f` on the window holding event `cursor` and its position there.
    /// Moving forward moves the thread's window; looking back (a report)
    /// decodes on the side.
    fn with<R>(
        &self,
        thread: ThreadIndex,
        cursor: u64,
        counters: &Counters,
        f: impl FnOnce(&Window, usize) -> R,
    ) -> Option<R> {
        if cursor >= self.len {
            return None;
        }
        let mut w = self.window.lock();
        if w.holds(cursor) {
            return Some(f(&w, (cursor - w.first) as usize));
        }
        let k = self.chunks.chunk_of(cursor)?;
        let decoded = match self.decode(thread, k, counters) {
            Ok(decoded) => decoded,
            Err(e) => {
                let _ = counters.failure.set(error_chain(&e));
                return None;
            }
        };
        let pos = (cursor - decoded.first) as usize;
        match w.chunk {
            Some(held) if k <= held => Some(f(&decoded, pos)),
            _ => {
                *w = decoded;
                Some(f(&w, pos))
            }
        }
    }

    pub(crate) fn event(&self, thread: ThreadIndex, cursor: u64, counters: &Counters) -> Option<Event> {
        self.with(thread, cursor, counters, |w, pos| w.events.get(pos).copied())?
    }

    pub(crate) fn blob(&self, thread: ThreadIndex, cursor: u64, counters: &Counters) -> Option<Vec<u8>> {
        self.with(thread, cursor, counters, |w, pos| w.blob_at(pos).map(|i| w.blobs[i].1.clone()))?
    }

    /// The event at `cursor` and its bytes by reference: bytes handed out
    /// this way stay in memory as long as the log (the gate's interface
    /// lends them), so only events with bytes cost memory here.
    pub(crate) fn pinned(
        &self,
        thread: ThreadIndex,
        cursor: u64,
        counters: &Counters,
    ) -> Option<(Event, Option<&[u8]>)> {
        let (event, ordinal, bytes) = self.with(thread, cursor, counters, |w, pos| {
            let event = *w.events.get(pos)?;
            let Some(i) = w.blob_at(pos) else { return Some((event, None, None)) };
            let ordinal = w.first_blob + i as u64;
            let pinned = self.slot(ordinal).is_some_and(|slot| slot.get().is_some());
            let bytes = (!pinned).then(|| w.blobs[i].1.clone().into_boxed_slice());
            Some((event, Some(ordinal), bytes))
        })??;
        let Some(ordinal) = ordinal else { return Some((event, None)) };
        let slot = self.slot(ordinal)?;
        Some((event, Some(slot.get_or_init(|| bytes.unwrap_or_default()))))
    }

    fn slot(&self, ordinal: u64) -> Option<&OnceLock<Box<[u8]>>> {
        self.pinned.get(usize::try_from(ordinal).ok()?)
    }

    /// Visits the events before `upto` in order, a chunk at a time; stops
    /// early when `visit` says so. Returns how many events it visited, fewer
    /// than asked when a chunk cannot be read back (recorded in `counters`).
    pub(crate) fn scan(
        &self,
        thread: ThreadIndex,
        upto: u64,
        counters: &Counters,
        mut visit: impl FnMut(u64, &Event) -> bool,
    ) -> u64 {
        let mut at = 0;
        for chunk in &self.chunks.chunks {
            if at >= upto {
                break;
            }
            if chunk.events == 0 {
                continue;
            }
            let records = match self.source.records(thread, chunk) {
                Ok(records) => records,
                Err(e) => {
                    let _ = counters.failure.set(error_chain(&e));
                    return at;
                }
            };
            counters.peak_window.fetch_max(chunk.events as usize, Ordering::Relaxed);
            for record in records.iter() {
                if let Record::Event(e) = record {
                    if at >= upto || !visit(at, e) {
                        return at;
                    }
                    at += 1;
                }
            }
        }
        at
    }
}

/// An error and its causes, on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
