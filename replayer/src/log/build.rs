//! Building a [`ReplayLog`]: one pass over the records, chunk by chunk,
//! keeping the index, the tables and the turn numbers, not the events.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use reprise_recorder::hook::gate::SiteRef;
use reprise_recorder::trace::index::{index_trace_file, ChunkIndexer, ThreadChunks};
use reprise_recorder::trace::model::{Event, ObjectIndex, Outcome, Received, Record, ThreadIndex, TurnClass};
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
    /// The objects the object records name, in the order they came (sorted
    /// and deduplicated at the end): replay asks which objects there are,
    /// not their kinds, and a map cost 13.5 bytes an object against 4.
    objects: Vec<ObjectIndex>,
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
    /// Per (receiving thread, channel, sender): the highest send count of a
    /// message it received so far (see [`super::Fifo`]).
    received: IntMap<(ThreadIndex, ObjectIndex, ThreadIndex), u64>,
    /// Read locks per (RwLock, write they saw).
    reads: Loads,
    fifo: super::Fifo,
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
    /// Events seen so far.
    events: u64,
    last: Option<Event>,
}

impl Gather {
    fn visit(&mut self, thread: ThreadIndex, records: &[Record]) {
        let tables = self.threads.entry(thread).or_default();
        tables.records += records.len();
        // Kept once per visit: a copy per event cost 15 instructions of ~60.
        if let Some(last) = records.iter().rev().find_map(|r| match r {
            Record::Event(e) => Some(*e),
            _ => None,
        }) {
            tables.last = Some(last);
        }
        for record in records {
            match record {
                Record::Event(e) => {
                    let at = tables.events;
                    tables.events += 1;
                    let Ok(outcome) = e.outcome() else { continue };
                    if let Some(Received::Message { sender, seq }) = outcome.received() {
                        if seq != 0 {
                            let last = self.received.entry((thread, e.object, sender)).or_insert(0);
                            if seq < *last && !self.fifo.contains_key(&thread) {
                                let detail = format!(
                                    "this thread received message {seq} of thread {sender} from channel #{} after its message {}, out of FIFO order: one thread's messages leave a channel in the order it sent them",
                                    e.object, *last
                                );
                                self.fifo.insert(thread, (at, detail));
                            }
                            *last = (*last).max(seq);
                        }
                    }
                    if let Some(turn) = outcome.turn(e.object) {
                        let key = (turn.object, turn.class);
                        let pending = self.pending.entry(key).or_default();
                        pending.push(turn.number);
                        if pending.len() >= self.pending_limit {
                            self.turns.entry(key).or_default().extend(pending);
                        }
                    }
                    if let Outcome::ReadLock { writes_before }
                    | Outcome::TryReadLock { writes_before: Some(writes_before) } = outcome
                    {
                        *self.reads.entry((e.object, writes_before)).or_insert(0) += 1;
                    }
                    if let Some(store) = read_store(&outcome) {
                        *self.loads.entry((e.object, store)).or_insert(0) += 1;
                    }
                }
                Record::Thread { name, .. } => tables.name = name.clone(),
                Record::Object { index, .. } => self.objects.push(*index),
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

    /// Adds what a pass over later threads (disjoint from this one's)
    /// gathered. Both passes kept every turn number pending.
    fn merge(&mut self, later: Gather) {
        debug_assert!(
            self.turns.is_empty() && later.turns.is_empty(),
            "in-memory passes add turns at the end"
        );
        self.threads.extend(later.threads);
        self.objects.extend(later.objects);
        for (key, mut numbers) in later.pending {
            self.pending.entry(key).or_default().append(&mut numbers);
        }
        for (key, count) in later.loads {
            *self.loads.entry(key).or_insert(0) += count;
        }
        self.received.extend(later.received);
        for (key, count) in later.reads {
            *self.reads.entry(key).or_insert(0) += count;
        }
        self.fifo.extend(later.fifo);
    }

    /// The log, each thread's chunks read from `source`.
    fn into_log(
        self,
        mut chunks: BTreeMap<ThreadIndex, ThreadChunks>,
        mut source: impl FnMut(ThreadIndex) -> Source,
    ) -> ReplayLog {
        let mut turns = self.turns;
        for (key, mut pending) in self.pending {
            turns.entry(key).or_default().extend(&mut pending);
        }
        let mut objects = self.objects;
        objects.sort_unstable();
        objects.dedup();
        let mut log = ReplayLog {
            objects: objects.into_boxed_slice(),
            ranks: Ranks::new(turns),
            loads: self.loads,
            fifo: self.fifo,
            reads: self.reads,
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
/// The pass is split in two halves of the threads, the later half on a
/// second OS thread when one can be started: a million-payment trace's pass
/// took a tenth of its coroutine replay.
pub(super) fn from_records(threads: BTreeMap<ThreadIndex, Arc<Vec<Record>>>) -> ReplayLog {
    from_records_split(threads, PARALLEL_RECORDS)
}

/// [`from_records`], on two OS threads from `parallel` records on.
fn from_records_split(mut threads: BTreeMap<ThreadIndex, Arc<Vec<Record>>>, parallel: usize) -> ReplayLog {
    let (gather, chunks) = {
        let all: Vec<(ThreadIndex, &[Record])> = threads.iter().map(|(&t, r)| (t, r.as_slice())).collect();
        let total: usize = all.iter().map(|(_, r)| r.len()).sum();
        // The first threads holding about half the records, and the rest.
        let mut seen = 0;
        let split = all
            .iter()
            .position(|(_, r)| {
                seen += r.len();
                seen * 2 >= total
            })
            .map_or(all.len(), |at| at + 1);
        let (first, later) = all.split_at(split);
        std::thread::scope(|scope| {
            let helper = (!later.is_empty() && total >= parallel)
                .then(|| {
                    std::thread::Builder::new()
                        .name("reprise-log".into())
                        .spawn_scoped(scope, || gather_threads(later))
                        .ok()
                })
                .flatten();
            let (mut gather, mut chunks) = gather_threads(first);
            let (rest, rest_chunks) = match helper {
                Some(helper) => helper.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                None => gather_threads(later),
            };
            gather.merge(rest);
            chunks.extend(rest_chunks);
            (gather, chunks)
        })
    };
    gather.into_log(chunks, |thread| Source::Memory(threads.remove(&thread).unwrap_or_default()))
}

/// Records below which the pass is not worth a second thread.
const PARALLEL_RECORDS: usize = 1 << 16;

/// One pass over `threads`' records, cut into windows of `MEMORY_CHUNK`.
fn gather_threads(threads: &[(ThreadIndex, &[Record])]) -> (Gather, BTreeMap<ThreadIndex, ThreadChunks>) {
    let mut gather = Gather { pending_limit: usize::MAX, ..Gather::default() };
    let mut indexer = ChunkIndexer::default();
    for &(thread, records) in threads {
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
    (gather, indexer.finish())
}

/// A log of threads 0.. with these events, for tests.
#[cfg(test)]
pub(crate) fn from_events(threads: Vec<Vec<Event>>) -> ReplayLog {
    from_thread_records(
        threads.into_iter().map(|events| events.into_iter().map(Record::Event).collect()).collect(),
    )
}

/// A log of threads 0.. with these records (events and their blobs), for
/// tests.
#[cfg(test)]
pub(crate) fn from_thread_records(threads: Vec<Vec<Record>>) -> ReplayLog {
    let threads =
        threads.into_iter().enumerate().map(|(t, records)| (t as ThreadIndex, Arc::new(records))).collect();
    from_records(threads)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reprise_recorder::trace::model::{ObjectKind, Op, Outcome};

    /// Threads locking two mutexes in turn, their acquisition numbers
    /// interleaved across threads, with loads of an atomic and an object record each.
    fn threads(count: u32, locks: u64) -> BTreeMap<ThreadIndex, Arc<Vec<Record>>> {
        (0..count)
            .map(|t| {
                let mut records = vec![Record::Object { index: t % 2, kind: ObjectKind::Mutex, site: 0 }];
                for i in 0..locks {
                    let fields =
                        Outcome::Lock { acquisition: i / 2 * u64::from(count) + u64::from(t) + 1 }.fields();
                    let [a, b, c] = fields;
                    records.push(Record::Event(Event {
                        op: Op::Lock,
                        object: (i % 2) as u32,
                        site: 0,
                        a,
                        b,
                        c,
                    }));
                    let [a, b, c] = Outcome::AtomicLoad { store: i % 3, value: 0 }.fields();
                    records.push(Record::Event(Event { op: Op::AtomicLoad, object: 9, site: 0, a, b, c }));
                }
                (t, Arc::new(records))
            })
            .collect()
    }

    #[test]
    fn a_pass_split_over_two_threads_builds_the_log_one_pass_builds() {
        let one = from_records_split(threads(5, 300), usize::MAX);
        let two = from_records_split(threads(5, 300), 0);
        assert_eq!(one.event_count(), two.event_count());
        assert_eq!(one.thread_ids().collect::<Vec<_>>(), two.thread_ids().collect::<Vec<_>>());
        assert_eq!(one.objects, two.objects);
        assert_eq!(one.loads, two.loads);
        for object in 0..2 {
            for n in [1, 2, 375, 750, 751] {
                assert_eq!(one.rank(object, TurnClass::Lock, n), two.rank(object, TurnClass::Lock, n), "{n}");
            }
        }
        assert_eq!(two.rank_ranges(), 2, "each mutex's turns, from both halves, are one run");
        for thread in 0..5 {
            assert_eq!(one.last_event(thread), two.last_event(thread));
            assert_eq!(one.event(thread, 301), two.event(thread, 301));
        }
    }
}
