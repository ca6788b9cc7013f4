//! Building a [`ReplayLog`]: one pass over the records, chunk by chunk,
//! keeping the index, the tables and the turn numbers, not the events.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use reprise_recorder::hook::gate::SiteRef;
use reprise_recorder::trace::index::{index_trace_file, ChunkIndexer};
use reprise_recorder::trace::model::{Event, ObjectIndex, ObjectKind, Record, ThreadIndex, TurnClass};
use reprise_recorder::trace::read::ReadFileError;

use super::thread::{Source, ThreadLog};
use super::{read_store, IndexedTrace, Loads, Ranks, ReplayLog, Turns};
use crate::int_hash::IntMap;

/// How many records of a trace held in memory one window decodes.
const MEMORY_CHUNK: usize = 4096;

/// What one pass gathers besides the chunk index.
#[derive(Debug, Default)]
struct Gather {
    threads: BTreeMap<ThreadIndex, Tables>,
    objects: BTreeMap<ObjectIndex, ObjectKind>,
    turns: Turns,
    /// Turn numbers not yet in `turns`, added in bulk (see `Numbers::extend`).
    pending: IntMap<(ObjectIndex, TurnClass), Vec<u64>>,
    /// How many numbers of one counter wait before they are added: a file's
    /// chunks come in recording order, so a bounded bulk finds runs; records
    /// in memory come a thread at a time, whose turns interleave with the
    /// other threads', so they wait to the end (memory the trace held
    /// whole already dwarfs).
    pending_limit: usize,
    loads: Loads,
}

/// How many turn numbers of one counter wait to be added in bulk.
const PENDING_TURNS: usize = 8192;

/// A thread's tables, as its records name them.
#[derive(Debug, Default)]
struct Tables {
    name: String,
    sites: Vec<Option<SiteRef>>,
    /// Records seen so far.
    records: usize,
    last: Option<Event>,
}

impl Gather {
    fn visit(&mut self, thread: ThreadIndex, records: &[Record]) {
        let tables = self.threads.entry(thread).or_default();
        tables.records += records.len();
        for record in records {
            match record {
                Record::Event(e) => {
                    tables.last = Some(*e);
                    let Ok(outcome) = e.outcome() else { continue };
                    if let Some(turn) = outcome.turn(e.object) {
                        let key = (turn.object, turn.class);
                        let pending = self.pending.entry(key).or_default();
                        pending.push(turn.number);
                        if pending.len() >= self.pending_limit {
                            self.turns.entry(key).or_default().extend(pending);
                        }
                    }
                    if let Some(store) = read_store(&outcome) {
                        *self.loads.entry((e.object, store)).or_insert(0) += 1;
                    }
                }
                Record::Thread { name, .. } => tables.name = name.clone(),
                Record::Object { index, kind, .. } => {
                    self.objects.insert(*index, *kind);
                }
                Record::Site { index, file, line, column } => {
                    let at = *index as usize;
                    // Indices come from the file: grow only as far as the
                    // records present can justify.
                    if at <= tables.records {
                        if tables.sites.len() <= at {
                            tables.sites.resize(at + 1, None);
                        }
                        tables.sites[at] = Some(SiteRef { file: file.clone(), line: *line, column: *column });
                    }
                }
                Record::Blob(_) | Record::Clock(_) => {}
            }
        }
    }

    /// The log, each thread's chunks read from `source`.
    fn into_log(
        self,
        mut chunks: BTreeMap<ThreadIndex, reprise_recorder::trace::index::ThreadChunks>,
        mut source: impl FnMut(ThreadIndex) -> Source,
    ) -> ReplayLog {
        let mut turns = self.turns;
        for (key, mut pending) in self.pending {
            turns.entry(key).or_default().extend(&mut pending);
        }
        let mut log = ReplayLog {
            objects: self.objects,
            ranks: Ranks::new(turns),
            loads: self.loads,
            ..ReplayLog::default()
        };
        for (thread, tables) in self.threads {
            let chunks = chunks.remove(&thread).unwrap_or_default();
            let len = chunks.events;
            let mut t = ThreadLog::new(tables.name, tables.sites, chunks, source(thread));
            t.keep(len, tables.last);
            log.threads.insert(thread, t);
        }
        log
    }
}

/// The log of a trace file, indexed in one streaming pass.
#[allow(clippy::result_large_err)] // As `IndexedTrace::open`.
pub(super) fn from_file(path: &Path) -> Result<IndexedTrace, ReadFileError> {
    let mut gather = Gather { pending_limit: PENDING_TURNS, ..Gather::default() };
    let indexed = index_trace_file(path, |thread, records| gather.visit(thread, records))?;
    let file = Arc::new(indexed.file);
    let log = gather.into_log(indexed.threads, |_| Source::File(Arc::clone(&file)));
    Ok(IndexedTrace { end: indexed.end, log })
}

/// The log of records already in memory, read through windows like a file's.
pub(super) fn from_records(mut threads: BTreeMap<ThreadIndex, Arc<Vec<Record>>>) -> ReplayLog {
    let mut gather = Gather { pending_limit: usize::MAX, ..Gather::default() };
    let mut indexer = ChunkIndexer::default();
    for (&thread, records) in &threads {
        for (seq, piece) in records.chunks(MEMORY_CHUNK).enumerate() {
            let offset = (seq * MEMORY_CHUNK) as u64;
            indexer.add(thread, seq as u32, offset, piece.len() as u32, piece);
            gather.visit(thread, piece);
        }
        if records.is_empty() {
            indexer.add(thread, 0, 0, 0, &[]);
            gather.visit(thread, &[]);
        }
    }
    gather.into_log(indexer.finish(), |thread| Source::Memory(threads.remove(&thread).unwrap_or_default()))
}

/// A log of threads 0.. with these events, for tests.
#[cfg(test)]
pub(crate) fn from_events(threads: Vec<Vec<Event>>) -> ReplayLog {
    let threads = threads
        .into_iter()
        .enumerate()
        .map(|(t, events)| (t as ThreadIndex, Arc::new(events.into_iter().map(Record::Event).collect())))
        .collect();
    from_records(threads)
}
