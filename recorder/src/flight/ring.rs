//! Each thread's ring of chunks: the last chunks its buffer handed over,
//! within the event and byte budgets, the oldest overwritten first.
//!
//! A chunk is self-contained (the codec's delta state restarts at each one),
//! so a window can start at any chunk boundary. What an overwritten chunk
//! defined (the thread's record, its call sites, the objects it named) is
//! kept apart, encoded, because later events still refer to it.

use std::collections::{BTreeMap, HashSet, VecDeque};

use crate::flight::retired::{kept_tables, Retired, Sites};
use crate::rt::chunk::Block;
use crate::trace::codec::{self, decode_chunk};
use crate::trace::model::{ObjectIndex, Op, Outcome, Record, ThreadIndex};

/// The least size of the overwritten chunks' tables at which the names of
/// dropped objects are looked for, to be forgotten; after each look, twice
/// what it left. Each look decodes the chunks kept, so it is done once per
/// this many bytes of new names (some 40,000 objects), not per chunk.
const FORGET_AT_LEAST: usize = 256 * 1024;

/// How much each thread keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Budget {
    /// Keep the fewest newest chunks that hold at least this many events.
    pub(crate) events: u64,
    /// Never keep more than this many bytes of chunks (the newest chunk is
    /// kept whatever its size).
    pub(crate) bytes: usize,
}

/// One chunk kept.
#[derive(Debug)]
pub(crate) struct Held {
    pub(crate) events: u32,
    pub(crate) block: Block,
    /// The table records the chunk holds, encoded, when the keeper found
    /// them in its raw block; `None`: they are read from the chunk when it
    /// is overwritten.
    pub(crate) tables: Option<Vec<u8>>,
}

/// One thread's ring.
#[derive(Debug, Default)]
pub(crate) struct ThreadRing {
    pub(crate) chunks: VecDeque<Held>,
    /// Events in `chunks`.
    pub(crate) events: u64,
    /// Memory `chunks` take (their blocks' capacity).
    pub(crate) bytes: usize,
    /// Events overwritten: the run's index of the first event kept.
    pub(crate) first_event: u64,
    /// Table records (thread, sites, objects) of the overwritten chunks, encoded.
    pub(crate) tables: Vec<u8>,
    /// Chunks overwritten.
    pub(crate) dropped_chunks: u64,
}

impl ThreadRing {
    /// Appends a chunk; returns the blocks it overwrote, for reuse.
    fn push(&mut self, held: Held, budget: Budget, spare: &mut Vec<Block>) {
        self.events += u64::from(held.events);
        self.bytes += held.block.bytes.len();
        self.chunks.push_back(held);
        while self.chunks.len() > 1 && self.over(budget) {
            let Some(old) = self.chunks.pop_front() else { break };
            self.events -= u64::from(old.events);
            self.bytes -= old.block.bytes.len();
            self.first_event += u64::from(old.events);
            self.dropped_chunks += 1;
            keep_tables(&old, &mut self.tables);
            spare.push(old.block);
        }
    }

    /// Whether the oldest chunk is no longer needed: the others hold the
    /// events asked for, or the ring is over its byte budget.
    fn over(&self, budget: Budget) -> bool {
        let oldest = self.chunks.front().map_or(0, |c| u64::from(c.events));
        self.events - oldest >= budget.events || self.bytes > budget.bytes
    }

    /// Drops every chunk (the thread exited long ago), keeping what they
    /// defined.
    fn retire(&mut self, spare: &mut Vec<Block>) {
        while let Some(old) = self.chunks.pop_front() {
            self.first_event += u64::from(old.events);
            self.dropped_chunks += 1;
            keep_tables(&old, &mut self.tables);
            spare.push(old.block);
        }
        self.events = 0;
        self.bytes = 0;
        // A retired ring stays for its tables, as long as the run: without
        // its chunks' room (about 300 bytes) for each thread ever retired.
        self.chunks = VecDeque::new();
        self.tables.shrink_to_fit();
    }

    /// Whether the ring holds the thread's records from its first one.
    pub(crate) fn whole(&self) -> bool {
        self.dropped_chunks == 0
    }
}

/// Copies the table records of an overwritten chunk: those found in its
/// raw block when it was kept, else those it decodes to. A chunk that does
/// not decode (it cannot: the recorder wrote it) contributes nothing.
fn keep_tables(old: &Held, tables: &mut Vec<u8>) {
    if let Some(found) = &old.tables {
        tables.extend_from_slice(found);
        return;
    }
    encoded_tables(old.block.payload(), tables);
}

/// Appends the table records (thread, sites, objects) of an encoded chunk
/// to `tables`, encoded. A chunk that does not decode (it cannot: the
/// recorder wrote it) contributes nothing.
pub(crate) fn encoded_tables(chunk: &[u8], tables: &mut Vec<u8>) {
    let Ok(records) = decode_chunk(chunk) else { return };
    let mut encoder = codec::EventEncoder::new();
    for record in records {
        if matches!(record, Record::Thread { .. } | Record::Site { .. } | Record::Object { .. }) {
            codec::encode_record(&mut encoder, tables, &record);
        }
    }
}

/// Every thread's ring.
#[derive(Debug)]
pub(crate) struct Rings {
    pub(crate) budget: Budget,
    pub(crate) threads: BTreeMap<ThreadIndex, ThreadRing>,
    /// Threads that exited long ago, their last chunk taken: what is left
    /// of their rings (see [`Retired`]).
    pub(crate) retired: BTreeMap<ThreadIndex, Retired>,
    /// Threads retired since the last look, whose tables still hold call
    /// sites nothing needs: shrunk at the next look, which decodes tables
    /// anyway, rather than one by one as they retire.
    fresh_retired: Vec<ThreadIndex>,
    /// Threads whose ring holds chunks.
    holding: usize,
    /// Objects the run dropped, heard of before the last look (see
    /// [`Rings::look`]), whose names may still be in the rings.
    dropped: HashSet<ObjectIndex>,
    /// Objects the run dropped, heard of since.
    recent: Vec<ObjectIndex>,
    /// The bytes of every ring's `tables`.
    table_bytes: usize,
    /// `table_bytes` at which [`Rings::look`] looks next.
    forget_at: usize,
}

impl Rings {
    pub(crate) fn new(budget: Budget) -> Rings {
        Rings {
            budget,
            threads: BTreeMap::new(),
            retired: BTreeMap::new(),
            fresh_retired: Vec::new(),
            holding: 0,
            dropped: HashSet::new(),
            recent: Vec::new(),
            table_bytes: 0,
            forget_at: FORGET_AT_LEAST,
        }
    }

    /// Objects the run dropped.
    pub(crate) fn dropped(&mut self, objects: impl IntoIterator<Item = ObjectIndex>) {
        self.recent.extend(objects);
    }

    /// Whether the names kept from overwritten chunks reached the size at
    /// which the keeper looks at them ([`Rings::look`]).
    pub(crate) fn wants_look(&self) -> bool {
        self.table_bytes >= self.forget_at
    }

    /// Makes the next chunk taken look at the names, however few.
    #[cfg(test)]
    pub(crate) fn look_soon(&mut self) {
        self.forget_at = 0;
    }

    /// Chunks `thread` handed over so far.
    pub(crate) fn pushed(&self, thread: ThreadIndex) -> u64 {
        match self.threads.get(&thread) {
            Some(ring) => ring.dropped_chunks + ring.chunks.len() as u64,
            None => self.retired.get(&thread).map_or(0, |retired| retired.dropped_chunks),
        }
    }

    /// A look at the names kept from overwritten chunks: with `settled`
    /// (every event recorded before the drops heard of up to the last look
    /// has reached the rings: the keeper's round, see `Keeper::look`),
    /// forgets the names of those dropped objects that no chunk kept refers
    /// to (a dump cannot need them: a dropped object has no later events).
    /// The drops heard of since wait for the next look. Objects alive keep
    /// their names however long ago they were made: a later event may name
    /// them.
    pub(crate) fn look(&mut self, settled: bool) {
        self.shrink_fresh_retired();
        let left = if settled { self.forget_old() } else { self.table_bytes };
        self.forget_at = (2 * left).max(FORGET_AT_LEAST);
        self.dropped.extend(self.recent.drain(..));
    }

    /// Keeps of the threads retired since the last look only the tables a
    /// dump may need (see [`kept_tables`]).
    fn shrink_fresh_retired(&mut self) {
        for thread in std::mem::take(&mut self.fresh_retired) {
            let Some(retired) = self.retired.get_mut(&thread) else { continue };
            let kept = kept_tables(&retired.tables, Sites::OfObjects, |_| false);
            self.table_bytes = self.table_bytes - retired.tables.len() + kept.len();
            retired.tables = kept.into_boxed_slice();
        }
    }

    /// Forgets the names of the objects dropped before the last look that
    /// no chunk kept refers to; the bytes of names left.
    fn forget_old(&mut self) -> usize {
        if self.dropped.is_empty() {
            return self.table_bytes;
        }
        let mut referenced = HashSet::new();
        for held in self.threads.values().flat_map(|ring| &ring.chunks) {
            let Ok(records) = decode_chunk(held.block.payload()) else { continue };
            for record in records {
                if let Record::Event(e) = record {
                    referenced.insert(e.object);
                    // A condvar wait's turn is its mutex's.
                    if let Some((object, _, _)) =
                        Outcome::decode(e.op, [e.a, e.b, e.c]).ok().and_then(|o| o.counter(e.object))
                    {
                        referenced.insert(object);
                    }
                }
            }
        }
        let mut total = 0;
        let dropped = &mut self.dropped;
        let mut forget = |index| !referenced.contains(&index) && dropped.remove(&index);
        for ring in self.threads.values_mut() {
            if ring.tables.is_empty() {
                continue;
            }
            // A live thread's later events use its call sites: all stay.
            let mut kept = kept_tables(&ring.tables, Sites::All, &mut forget);
            kept.shrink_to_fit();
            ring.tables = kept;
            total += ring.tables.len();
        }
        for retired in self.retired.values_mut() {
            let kept = kept_tables(&retired.tables, Sites::OfObjects, &mut forget);
            if kept.len() != retired.tables.len() {
                retired.tables = kept.into_boxed_slice();
            }
            total += retired.tables.len();
        }
        self.table_bytes = total;
        total
    }

    /// Empties the rings of the exited threads in `exit_order` (oldest
    /// exit first, each holding chunks) but the `keep` that exited last:
    /// memory stays bounded when a program spawns a thread per task. What
    /// their chunks defined and a dump may need stays. Threads retired
    /// leave `exit_order`. A thread whose last chunk taken was its buffer's
    /// last sends no more: what is left of it shrinks to a [`Retired`]
    /// (about a third of an emptied ring). One whose last chunk is still on
    /// its way (it said it exited after it handed that chunk over, which
    /// may still be queued) keeps an emptied ring, which that chunk goes to.
    pub(crate) fn retire_exited(
        &mut self,
        exit_order: &mut VecDeque<ThreadIndex>,
        keep: usize,
        spare: &mut Vec<Block>,
    ) {
        while exit_order.len() > keep {
            let Some(thread) = exit_order.pop_front() else { break };
            let Some(ring) = self.threads.get(&thread) else { continue };
            if ring.chunks.back().is_some_and(|held| held.block.last) {
                self.shrink_retired(thread, spare);
            } else {
                self.retire(thread, spare);
            }
        }
    }

    /// Replaces `thread`'s ring, its exit taken, by a [`Retired`].
    fn shrink_retired(&mut self, thread: ThreadIndex, spare: &mut Vec<Block>) {
        self.retire(thread, spare);
        let Some(ring) = self.threads.remove(&thread) else { return };
        let tables = ring.tables.into_boxed_slice();
        let retired = Retired { first_event: ring.first_event, dropped_chunks: ring.dropped_chunks, tables };
        self.retired.insert(thread, retired);
        self.fresh_retired.push(thread);
    }

    /// Empties `thread`'s ring (see [`ThreadRing::retire`]), counting what
    /// that changes; the ring.
    fn retire(&mut self, thread: ThreadIndex, spare: &mut Vec<Block>) -> &mut ThreadRing {
        let ring = self.threads.entry(thread).or_default();
        if !ring.chunks.is_empty() {
            self.holding -= 1;
        }
        let before = ring.tables.len();
        ring.retire(spare);
        self.table_bytes += ring.tables.len() - before;
        ring
    }

    /// `thread` dropped a block of `events` events at the pending cap (the
    /// keeper was behind), defining the table records `tables`: its ring's
    /// chunks come before that gap, so they go too, and its window starts
    /// after it. What they all defined stays.
    pub(crate) fn skipped(
        &mut self,
        thread: ThreadIndex,
        events: u32,
        tables: &[u8],
        spare: &mut Vec<Block>,
    ) {
        let ring = self.retire(thread, spare);
        ring.first_event += u64::from(events);
        ring.dropped_chunks += 1;
        ring.tables.extend_from_slice(tables);
        self.table_bytes += tables.len();
    }

    /// How many threads have chunks in their ring (counted as they change:
    /// a count over the rings cost as many steps as threads ever started,
    /// for each chunk taken).
    pub(crate) fn holding(&self) -> usize {
        self.holding
    }

    /// Keeps a chunk of `thread`, with its table records when they are
    /// known (see [`Held::tables`]); blocks it overwrote go to `spare`.
    /// Returns whether the thread's ring held nothing before.
    pub(crate) fn push(
        &mut self,
        thread: ThreadIndex,
        events: u32,
        block: Block,
        tables: Option<Vec<u8>>,
        spare: &mut Vec<Block>,
    ) -> bool {
        let budget = self.budget;
        if let Some(retired) = self.retired.remove(&thread) {
            // Cannot happen (a retired thread's last chunk held its exit);
            // if it did, its window goes on from where it was.
            let ring = ThreadRing {
                first_event: retired.first_event,
                dropped_chunks: retired.dropped_chunks,
                tables: retired.tables.into_vec(),
                ..ThreadRing::default()
            };
            self.threads.insert(thread, ring);
        }
        let ring = self.threads.entry(thread).or_default();
        let was_empty = ring.chunks.is_empty();
        let before = ring.tables.len();
        ring.push(Held { events, block, tables }, budget, spare);
        self.table_bytes += ring.tables.len() - before;
        if was_empty {
            self.holding += 1;
        }
        was_empty
    }
}

/// Whether the last event of the encoded `chunk` is its thread's exit.
pub(crate) fn ends_with_exit(chunk: &[u8]) -> bool {
    let Ok(records) = decode_chunk(chunk) else { return false };
    records.iter().rev().find_map(|r| match r {
        Record::Event(e) => Some(e.op == Op::ThreadExit),
        _ => None,
    }) == Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::codec::EventEncoder;
    use crate::trace::model::{Event, ObjectKind, Op};

    /// A chunk as a thread's buffer makes it: tables first when `first`,
    /// then `events` stores numbered from `from`.
    fn chunk(first: bool, from: u64, events: u32) -> Block {
        let mut out = Vec::new();
        codec::encode_clock(&mut out, 1);
        if first {
            codec::encode_thread(&mut out, 3, 0, 0, "worker");
            codec::encode_site(&mut out, 0, "src/w.rs", 1, 2);
            codec::encode_object(&mut out, 9, ObjectKind::Atomic, 0);
        }
        let mut enc = EventEncoder::new();
        for i in 0..u64::from(events) {
            enc.encode_event(
                &mut out,
                &Event { op: Op::AtomicStore, object: 9, site: 0, a: from + i + 1, b: 0, c: 0 },
            );
        }
        Block::holding(&out)
    }

    fn stores(block: &Block) -> Vec<u64> {
        decode_chunk(block.payload())
            .unwrap()
            .into_iter()
            .filter_map(|r| match r {
                Record::Event(e) => Some(e.a - 1),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_wrapped_ring_keeps_the_fewest_newest_chunks_holding_the_events_asked_for() {
        let mut rings = Rings::new(Budget { events: 250, bytes: usize::MAX });
        let mut spare = Vec::new();
        for n in 0..10u64 {
            rings.push(3, 100, chunk(n == 0, n * 100, 100), None, &mut spare);
        }
        let ring = &rings.threads[&3];
        assert_eq!(ring.chunks.len(), 3, "250 events need three chunks of 100");
        assert_eq!(ring.events, 300);
        assert_eq!(ring.first_event, 700);
        assert_eq!(ring.dropped_chunks, 7);
        assert_eq!(spare.len(), 7, "overwritten blocks are handed back for reuse");
        assert_eq!(stores(&ring.chunks[0].block)[0], 700);
        assert_eq!(*stores(&ring.chunks[2].block).last().unwrap(), 999);
        assert!(!ring.whole());
        let tables = decode_chunk(&ring.tables).unwrap();
        assert_eq!(tables.len(), 3, "the thread, its site and its object outlive their chunk: {tables:?}");
    }

    #[test]
    fn the_byte_budget_bounds_the_ring_but_keeps_the_newest_chunk() {
        let one = chunk(false, 400, 100).bytes.len();
        let mut rings = Rings::new(Budget { events: u64::MAX, bytes: 2 * one });
        let mut spare = Vec::new();
        for n in 0..5u64 {
            rings.push(0, 100, chunk(false, n * 100, 100), None, &mut spare);
        }
        assert_eq!(rings.threads[&0].chunks.len(), 2);
        assert!(rings.threads[&0].bytes <= 2 * one);
        let mut tiny = Rings::new(Budget { events: u64::MAX, bytes: 1 });
        tiny.push(0, 100, chunk(false, 0, 100), None, &mut spare);
        tiny.push(0, 100, chunk(false, 100, 100), None, &mut spare);
        assert_eq!(tiny.threads[&0].chunks.len(), 1, "the newest chunk stays");
        assert_eq!(tiny.threads[&0].first_event, 100);
    }

    #[test]
    fn the_rings_of_threads_that_exited_long_ago_are_emptied_but_their_names_stay() {
        let mut rings = Rings::new(Budget { events: 1000, bytes: usize::MAX });
        let mut spare = Vec::new();
        for thread in 0..5 {
            rings.push(thread, 100, chunk(true, 0, 100), None, &mut spare);
        }
        // Exited in this order: 4 first, 3 last.
        let mut order = VecDeque::from([4, 1, 2, 3]);
        rings.retire_exited(&mut order, 2, &mut spare);
        assert_eq!(rings.holding(), 3, "the live thread 0 and the last two exited");
        assert_eq!(order, [2, 3]);
        for (thread, kept) in [(0, true), (1, false), (2, true), (3, true), (4, false)] {
            let ring = &rings.threads[&thread];
            assert_eq!(!ring.chunks.is_empty(), kept, "thread {thread}");
            assert_eq!(ring.first_event, if kept { 0 } else { 100 });
            // What a retired ring stays for is its tables, for the whole
            // run: not the room its chunks took, for each thread ever retired.
            assert_eq!(ring.chunks.capacity() == 0, !kept, "thread {thread}");
        }
        assert_eq!(decode_chunk(&rings.threads[&1].tables).unwrap().len(), 3);
        assert_eq!(spare.len(), 2);
    }

    #[test]
    fn a_ring_within_its_budget_keeps_everything() {
        let mut rings = Rings::new(Budget { events: 1000, bytes: usize::MAX });
        let mut spare = Vec::new();
        for n in 0..4u64 {
            rings.push(1, 100, chunk(n == 0, n * 100, 100), None, &mut spare);
        }
        assert!(rings.threads[&1].whole());
        assert_eq!(rings.threads[&1].events, 400);
        assert!(spare.is_empty());
    }

    #[test]
    fn the_tables_found_in_a_raw_block_are_those_its_chunk_decodes_to() {
        use crate::rt::raw;
        fn put(raw_block: &mut Vec<u8>, record: &[u8]) {
            let at = raw_block.len();
            raw_block.resize(at + raw::encoded_len(record), 0);
            raw::put_encoded(&mut raw_block[at..], record);
        }
        let mut raw_block = Vec::new();
        let mut records = Vec::new();
        codec::encode_clock(&mut records, 5);
        put(&mut raw_block, &records);
        for encode in [
            &(|out: &mut Vec<u8>| codec::encode_thread(out, 2, 0, 1, "worker")) as &dyn Fn(&mut Vec<u8>),
            &|out| codec::encode_site(out, 4, "src/a.rs", 7, 9),
            &|out| codec::encode_blob(out, b"not a table"),
            &|out| codec::encode_object(out, 11, ObjectKind::Mutex, 4),
        ] {
            records.clear();
            encode(&mut records);
            put(&mut raw_block, &records);
            for n in 0..3 {
                raw::append_event(
                    &mut raw_block,
                    &Event { op: Op::Lock, object: 11, site: 4, a: n + 1, b: 0, c: 0 },
                );
            }
        }
        let mut payload = Vec::new();
        let (_, len) = raw::transcode(&raw_block, &mut EventEncoder::new(), &mut payload);
        let decoded = Held { events: 12, block: Block::holding(&payload[..len]), tables: None };
        let mut expected = Vec::new();
        keep_tables(&decoded, &mut expected);
        let found = raw::table_records(&raw_block);
        assert_eq!(found, expected);
        assert_eq!(decode_chunk(&found).unwrap().len(), 3, "the thread, the site and the object");
    }
}
