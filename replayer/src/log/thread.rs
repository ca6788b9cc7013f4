//! One thread's recorded stream, decoded a chunk at a time: a window over
//! the chunk the thread is replaying, filled from the file through the
//! chunk index as the thread moves on. The window is the thread's own (its
//! lock is uncontended); a report that looks elsewhere decodes what it needs
//! on the side and leaves the window alone.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use reprise_recorder::hook::gate::SiteRef;
use reprise_recorder::trace::index::{ChunkFile, ChunkReadError, ChunkRef, ThreadChunks};
use reprise_recorder::trace::model::{Event, Record, ThreadIndex};

/// Where a thread's chunks are read from.
#[derive(Debug)]
pub(crate) enum Source {
    /// The trace file, through its chunk index.
    File(Arc<ChunkFile>),
    /// Records already in memory (a trace the caller read whole, shared with
    /// it, not copied), cut into chunks of records by the index.
    Memory(Arc<Vec<Record>>),
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
pub(crate) struct Window {
    /// Which chunk of the thread it holds.
    chunk: Option<usize>,
    /// The thread's event index of its first event.
    pub(crate) first: u64,
    /// The ordinal of its first event with bytes.
    first_blob: u64,
    pub(crate) events: Vec<Event>,
    /// (position in `events`, bytes), by position.
    pub(crate) blobs: Vec<(usize, Vec<u8>)>,
}

impl Window {
    /// Empties it, keeping its buffers.
    pub(crate) fn clear(&mut self) {
        self.chunk = None;
        self.events.clear();
        self.blobs.clear();
    }

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
    pub(crate) fn blob_at(&self, pos: usize) -> Option<usize> {
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
    /// Bytes handed out by reference ([`ThreadLog::pinned`]), by the
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

    /// Decodes chunk `k`, with the bytes its last event continues into, into
    /// `w`, whose buffers are reused: a replay moving through a long trace
    /// allocates no new window per chunk.
    fn decode_into(
        &self,
        thread: ThreadIndex,
        k: usize,
        counters: &Counters,
        w: &mut Window,
    ) -> Result<(), ChunkReadError> {
        let chunk = self.chunks.chunks[k];
        w.chunk = None;
        w.first = chunk.first_event;
        w.first_blob = chunk.first_blob;
        w.events.clear();
        w.events.reserve(chunk.events as usize);
        w.blobs.clear();
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
        w.chunk = Some(k);
        counters.decoded.fetch_add(1, Ordering::Relaxed);
        counters.peak_window.fetch_max(w.events.len(), Ordering::Relaxed);
        Ok(())
    }

    /// Runs `f` on the window holding event `cursor` and its position there,
    /// moving the thread's window to it. A look elsewhere (a report) costs
    /// the thread one decode when it goes on; decoding such looks on the side
    /// instead left a window moved ahead of its thread there for good, and
    /// every event before it decoded a chunk of its own.
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
        match self.decode_into(thread, k, counters, &mut w) {
            Ok(()) => Some(f(&w, (cursor - w.first) as usize)),
            Err(e) => {
                let _ = counters.failure.set(error_chain(&e));
                None
            }
        }
    }

    /// Decodes the chunk holding event `cursor` into `w` (the caller's own
    /// window, its buffers reused; this thread's window does not move), its
    /// events cut at the kept length. `false`, with `w` empty, past the kept
    /// events or when the chunk cannot be read back.
    pub(crate) fn window_into(
        &self,
        thread: ThreadIndex,
        cursor: u64,
        counters: &Counters,
        w: &mut Window,
    ) -> bool {
        let decoded = match self.chunks.chunk_of(cursor) {
            Some(k) if cursor < self.len => self.decode_into(thread, k, counters, w),
            _ => {
                w.clear();
                return false;
            }
        };
        if let Err(e) = decoded {
            let _ = counters.failure.set(error_chain(&e));
            w.clear();
            return false;
        }
        let kept = usize::try_from(self.len - w.first).unwrap_or(usize::MAX);
        if w.events.len() > kept {
            w.events.truncate(kept);
            w.blobs.retain(|&(at, _)| at < kept);
        }
        true
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

#[cfg(test)]
mod tests {
    use super::*;
    use reprise_recorder::trace::index::ChunkIndexer;
    use reprise_recorder::trace::model::Op;

    fn ev(a: u64) -> Record {
        Record::Event(Event { op: Op::Capture, object: 0, site: 0, a, b: 0, c: 0 })
    }

    /// Thread 0's log over records held in memory, cut into chunks of these records.
    fn log_of(chunks: Vec<Vec<Record>>) -> ThreadLog {
        let mut indexer = ChunkIndexer::default();
        let mut offset = 0;
        for (seq, records) in chunks.iter().enumerate() {
            indexer.add(0, seq as u32, offset, records.len() as u32, records);
            offset += records.len() as u64;
        }
        let index = indexer.finish().remove(&0).unwrap();
        let len = index.events;
        let mut log =
            ThreadLog::new(String::new(), Vec::new(), index, Source::Memory(Arc::new(chunks.concat())));
        log.keep(len, None);
        log
    }

    fn held(log: &ThreadLog) -> Option<usize> {
        log.window.lock().chunk
    }

    /// A look ahead (the prefix cut reading a thread's last event) once left
    /// the window on the last chunk, and every event before it decoded its
    /// chunk again: a killed trace of 13 M events replayed in 7.5 minutes.
    #[test]
    fn the_window_goes_where_it_is_looked_at_and_a_look_ahead_costs_one_decode() {
        let log = log_of(vec![vec![ev(0), ev(1)], vec![ev(2), ev(3)], vec![ev(4)]]);
        let counters = Counters::default();
        let a = |cursor| log.event(0, cursor, &counters).map(|e| e.a);
        let decoded = || counters.decoded.load(Ordering::Relaxed);
        assert_eq!(a(2), Some(2));
        assert_eq!(held(&log), Some(1));
        assert_eq!(a(4), Some(4), "a look ahead");
        assert_eq!(held(&log), Some(2));
        let before = decoded();
        assert_eq!((0..6).map(a).collect::<Vec<_>>(), [Some(0), Some(1), Some(2), Some(3), Some(4), None]);
        assert_eq!(decoded() - before, 3, "each chunk decoded once on the way through");
        assert_eq!(held(&log), Some(2));
        assert_eq!(counters.peak_window.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn bytes_that_go_on_in_later_chunks_are_joined_and_leading_bytes_are_not_taken_twice() {
        let log = log_of(vec![
            vec![ev(0), Record::Blob(vec![1]), ev(1)],
            vec![Record::Blob(vec![2])],
            vec![Record::Blob(vec![3]), ev(2), Record::Blob(vec![4])],
        ]);
        let counters = Counters::default();
        assert_eq!(log.blob(0, 0, &counters), Some(vec![1]));
        assert_eq!(log.blob(0, 1, &counters), Some(vec![2, 3]));
        assert_eq!(log.blob(0, 2, &counters), Some(vec![4]));
        let (event, bytes) = log.pinned(0, 1, &counters).unwrap();
        assert_eq!((event.a, bytes), (1, Some(&[2u8, 3][..])));
        assert_eq!(log.pinned(0, 2, &counters).unwrap().1, Some(&[4u8][..]));
        assert_eq!(log.pinned(0, 1, &counters).unwrap().1, Some(&[2u8, 3][..]), "pinned once, lent again");
    }

    #[test]
    fn a_cut_log_ends_at_its_kept_length() {
        let mut log = log_of(vec![vec![ev(0), ev(1)], vec![ev(2), Record::Blob(vec![9])]]);
        log.keep(2, None);
        let counters = Counters::default();
        assert!(log.event(0, 2, &counters).is_none());
        assert!(log.pinned(0, 2, &counters).is_none());
        assert_eq!(log.scan(0, log.len, &counters, |_, _| true), 2);
        assert_eq!(log.scan(0, log.len, &counters, |at, _| at < 1), 1, "stops where told");
    }
}
