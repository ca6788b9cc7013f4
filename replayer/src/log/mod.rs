//! The trace as replay needs it, without holding it: each thread's stream
//! is decoded a chunk at a time from the file (see `thread.rs`); what stays in
//! memory is the chunk index, each thread's call-site table, the object
//! table and each counter's turn numbers as ranges (see `ranks.rs`). Memory is
//! O(threads × chunk + chunks + objects + sites), not O(events).

mod build;
mod ranks;
mod thread;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::Ordering;

use reprise_recorder::hook::gate::{SiteRef, TurnClass, WaitFor};
use reprise_recorder::trace::model::{Event, ObjectIndex, Op, Outcome, SiteIndex, ThreadIndex};
use reprise_recorder::trace::read::{ReadFileError, TraceFile};
use reprise_recorder::trace::stream::TraceEnd;

#[cfg(test)]
pub(crate) use build::from_events;
#[cfg(test)]
pub(crate) use build::from_thread_records;
pub(crate) use ranks::{impossible_turn, no_run_gives, turn_wait, Numbers, RankRanges, Ranks, Turns};
pub(crate) use thread::{Counters, ThreadLog, Window};

/// Every thread's log, and what replay derives from them.
#[derive(Debug, Default)]
pub struct ReplayLog {
    threads: BTreeMap<ThreadIndex, ThreadLog>,
    /// The indices the object table names, sorted.
    objects: Box<[ObjectIndex]>,
    ranks: Ranks,
    /// How many loads (and failed compare-exchanges) read each store, as
    /// the pass found them, then as a prefix cut kept them: a coroutine
    /// replay holds the next store until they were made.
    loads: Loads,
    counters: Counters,
    /// Set by the prefix cut: per sender, the messages the kept receives
    /// take. A rendezvous send whose message none of them takes (its
    /// receive was lost with the crash) is not waited on in replay.
    kept_receives: Option<HashMap<ThreadIndex, Numbers>>,
    /// Per thread, its first receive of a sender's message after a later
    /// message of the same sender on the same channel: no FIFO channel
    /// gives that order, so both replays report a divergence there.
    fifo: Fifo,
    /// Read locks per (RwLock, the write they saw), as the pass found them.
    reads: Loads,
}

/// Per thread: (event index, why) of its first receive out of FIFO order.
pub(crate) type Fifo = BTreeMap<ThreadIndex, (u64, String)>;

/// Loads per (atomic, store number read).
pub(crate) type Loads = crate::int_hash::IntMap<(ObjectIndex, u64), u64>;

/// The store a load or a failed compare-exchange read. A park reads its
/// parker's token like a load (an unpark is a store to it): the next unpark
/// must wait for the parks that saw the one before, or a park replayed late
/// sees one unpark more than it recorded.
pub(crate) fn read_store(outcome: &Outcome) -> Option<u64> {
    match *outcome {
        Outcome::AtomicLoad { store, .. } | Outcome::AtomicCas { store, succeeded: false, .. } => Some(store),
        Outcome::Park { unparks } => Some(unparks),
        _ => None,
    }
}

/// The turn an event takes, if it takes one: (object, class, number), from
/// its typed outcome (an event whose outcome does not decode takes none; the
/// reader refuses such events).
pub(crate) fn turn_of(e: &Event) -> Option<(ObjectIndex, TurnClass, u64)> {
    let turn = e.outcome().ok()?.turn(e.object)?;
    Some((turn.object, turn.class, turn.number))
}

/// A trace file indexed for replay: what it held beside its records, and
/// the log replay reads its threads' streams through.
#[derive(Debug)]
pub struct IndexedTrace {
    /// The header, footer, counts and damage, as a streaming read found them.
    pub end: TraceEnd,
    /// The log.
    pub log: ReplayLog,
}

impl IndexedTrace {
    /// Indexes the trace at `path` in one streaming pass.
    ///
    /// # Errors
    ///
    /// As [`read_trace_file`](reprise_recorder::trace::read::read_trace_file):
    /// the file cannot be read, or its header is not a readable trace.
    // The reader's one error type for a file, as `read_trace_file` returns
    // it; an index is opened once per replay, so its size costs nothing.
    #[allow(clippy::result_large_err)]
    pub fn open(path: &Path) -> Result<IndexedTrace, ReadFileError> {
        build::from_file(path)
    }

    /// Whether the file was read to its end marker with no damage.
    pub fn is_whole(&self) -> bool {
        self.end.is_whole()
    }
}

impl ReplayLog {
    /// Builds the log from a trace read whole.
    pub fn from_trace(trace: &TraceFile) -> ReplayLog {
        build::from_records(trace.threads.clone())
    }

    /// The position of turn `number` among the object's recorded turns
    /// (`None` in a log a replay took its ranks from: the replay moves them
    /// out rather than copying them).
    pub fn rank(&self, object: ObjectIndex, class: TurnClass, number: u64) -> Option<u64> {
        self.ranks.rank(object, class, number)
    }

    /// Why `thread`'s event `cursor`, a receive, takes a message out of the
    /// order its sender sent it on that channel (see [`Fifo`]), if it does.
    /// One branch when the trace has no such receive.
    #[inline]
    pub(crate) fn out_of_fifo(&self, thread: ThreadIndex, cursor: usize) -> Option<&str> {
        if self.fifo.is_empty() {
            return None;
        }
        self.fifo.get(&thread).filter(|(at, _)| *at == cursor as u64).map(|(_, why)| why.as_str())
    }

    /// Why the write turn `until` waits for more read locks of the write
    /// before it than the trace records (read before the cut, if any: ask
    /// only of a whole trace), if it does: no run ever lets it go. Looked
    /// up once a wait did not end at once, not per call.
    pub(crate) fn too_few_reads(&self, until: &WaitFor) -> Option<String> {
        let WaitFor::WriteTurn { object, number, readers } = *until else { return None };
        let before = number.checked_sub(1)?;
        let reads = self.reads.get(&(object, before)).copied().unwrap_or(0);
        (readers > reads).then(|| {
            format!(
                "write {number} of object #{object} waits for {readers} read locks of write {before}, and the trace records {reads}"
            )
        })
    }

    /// Whether any thread receives a message out of FIFO order.
    #[inline]
    pub(crate) fn any_out_of_fifo(&self) -> bool {
        !self.fifo.is_empty()
    }

    /// How many events all threads hold (after any cut).
    pub fn event_count(&self) -> u64 {
        self.threads.values().map(|t| t.len).sum()
    }

    /// How many events `thread` holds (after any cut).
    pub fn thread_len(&self, thread: ThreadIndex) -> usize {
        self.threads.get(&thread).map_or(0, |t| usize::try_from(t.len).unwrap_or(usize::MAX))
    }

    /// How many threads the trace holds.
    pub fn thread_count(&self) -> usize {
        self.threads.len()
    }

    /// The threads the trace holds, in order.
    pub fn thread_ids(&self) -> impl Iterator<Item = ThreadIndex> + '_ {
        self.threads.keys().copied()
    }

    /// How many objects the object table names.
    pub fn object_count(&self) -> usize {
        self.objects.len()
    }

    /// The indices of the objects the object table names, in order.
    pub fn object_indices(&self) -> impl Iterator<Item = ObjectIndex> + '_ {
        self.objects.iter().copied()
    }

    /// The read locks write turn `until` waits for. All those recorded when
    /// the write before it is in the trace (`before_in_trace`); otherwise
    /// (a `static` RwLock whose last write before this recording's first
    /// was another execution's) only those the trace holds: the rest were
    /// that execution's reads, which no replay of this trace makes.
    pub(crate) fn within_trace(&self, until: WaitFor, before_in_trace: bool) -> WaitFor {
        match until {
            WaitFor::WriteTurn { object, number, readers } if !before_in_trace && readers > 0 => {
                let before = number.saturating_sub(1);
                let held = self.reads.get(&(object, before)).copied().unwrap_or(0);
                WaitFor::WriteTurn { object, number, readers: readers.min(held) }
            }
            _ => until,
        }
    }

    /// How many loads (and failed compare-exchanges) of `object` read its
    /// store `store` in the recording.
    pub(crate) fn loads_of(&self, object: ObjectIndex, store: u64) -> u64 {
        self.loads.get(&(object, store)).copied().unwrap_or(0)
    }

    /// Decodes the chunk of `thread` holding event `cursor` into `w`, on the
    /// side (the thread's own window does not move): a coroutine replay
    /// keeps its windows itself. `false` past the kept events, or when the
    /// chunk cannot be read back (see [`read_failure`](Self::read_failure)).
    pub(crate) fn window_into(&self, thread: ThreadIndex, cursor: u64, w: &mut Window) -> bool {
        match self.threads.get(&thread) {
            Some(t) => t.window_into(thread, cursor, &self.counters, w),
            None => {
                w.clear();
                false
            }
        }
    }

    /// Every object counter with recorded turns, and the ranks of its turns,
    /// moved out of the log: a replay keeps them in its own per-object
    /// state, and a copy left here cost a table entry per counter (about 54
    /// bytes, a request's worth of a long-running service) for the
    /// replay's length. [`rank`](Self::rank) answers `None` after.
    pub(crate) fn take_turn_counters(
        &mut self,
    ) -> impl Iterator<Item = (ObjectIndex, TurnClass, RankRanges)> {
        std::mem::take(&mut self.ranks).into_counters()
    }

    /// Event `cursor` of `thread`, decoded from its chunk.
    pub fn event(&self, thread: ThreadIndex, cursor: usize) -> Option<Event> {
        self.threads.get(&thread)?.event(thread, cursor as u64, &self.counters)
    }

    /// The bytes attached to event `cursor` of `thread` (a captured value, a
    /// panic message), if any.
    pub fn blob(&self, thread: ThreadIndex, cursor: usize) -> Option<Vec<u8>> {
        self.threads.get(&thread)?.blob(thread, cursor as u64, &self.counters)
    }

    /// Event `cursor` of `thread` and its bytes by reference. The bytes stay
    /// in memory as long as the log does: use [`blob`](Self::blob) where an
    /// owned copy will do.
    pub fn event_and_blob(&self, thread: ThreadIndex, cursor: usize) -> Option<(Event, Option<&[u8]>)> {
        self.threads.get(&thread)?.pinned(thread, cursor as u64, &self.counters)
    }

    /// Call site `site` of `thread`'s table.
    pub fn site(&self, thread: ThreadIndex, site: SiteIndex) -> Option<&SiteRef> {
        self.threads.get(&thread)?.sites.get(site as usize)?.as_ref()
    }

    /// `thread`'s call-site table.
    pub(crate) fn sites(&self, thread: ThreadIndex) -> &[Option<SiteRef>] {
        self.threads.get(&thread).map_or(&[], |t| &t.sites)
    }

    /// Whether the recording saw `thread` finish (its last kept event is its exit).
    pub fn exited(&self, thread: ThreadIndex) -> bool {
        self.last_event(thread).is_some_and(|e| e.op == Op::ThreadExit)
    }

    /// The last kept event of `thread`.
    pub fn last_event(&self, thread: ThreadIndex) -> Option<Event> {
        self.threads.get(&thread)?.last
    }

    /// The most events one decoded chunk held: what a thread's window holds
    /// at most, whatever the trace's length.
    pub fn peak_window(&self) -> usize {
        self.counters.peak_window.load(Ordering::Relaxed)
    }

    /// How many ranges the rank tables hold: one per counter for a whole
    /// trace, whose turn numbers are dense; more only where numbers are missing.
    pub fn rank_ranges(&self) -> usize {
        self.ranks.ranges()
    }

    /// How many chunks have been decoded.
    pub fn chunks_decoded(&self) -> u64 {
        self.counters.decoded.load(Ordering::Relaxed)
    }

    /// The first chunk that could not be read back (the file changed or
    /// became unreadable during the replay): its thread's stream ends there.
    pub fn read_failure(&self) -> Option<&str> {
        self.counters.failure.get().map(String::as_str)
    }

    /// A thread's name for reports: `ledger-0 (thread 3)`.
    pub fn thread_label(&self, thread: ThreadIndex) -> String {
        match self.threads.get(&thread) {
            Some(t) if !t.name.is_empty() => {
                format!("`{}` (thread {thread})", reprise_recorder::trace::show::text(&t.name))
            }
            _ => format!("thread {thread}"),
        }
    }

    pub(crate) fn threads(&self) -> &BTreeMap<ThreadIndex, ThreadLog> {
        &self.threads
    }

    pub(crate) fn threads_mut(&mut self) -> &mut BTreeMap<ThreadIndex, ThreadLog> {
        &mut self.threads
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.counters
    }

    pub(crate) fn set_ranks(&mut self, ranks: Ranks) {
        self.ranks = ranks;
    }

    /// Forgets the loads per store: only a coroutine replay asks them (it
    /// holds a store until the loads of the one before were made), and the
    /// table grows with the trace's loads and parks, not its objects only.
    /// [`loads_of`](Self::loads_of) answers 0 after.
    pub(crate) fn forget_loads(&mut self) {
        self.loads = Loads::default();
    }

    /// After a prefix cut: the loads of each store that were kept.
    pub(crate) fn set_loads(&mut self, loads: Loads) {
        self.loads = loads;
    }

    pub(crate) fn set_kept_receives(&mut self, kept: HashMap<ThreadIndex, Numbers>) {
        self.kept_receives = Some(kept);
    }

    /// After a prefix cut, per sender, the messages its kept receives take
    /// (`None`: the log was not cut).
    pub(crate) fn kept_receives(&self) -> Option<&HashMap<ThreadIndex, Numbers>> {
        self.kept_receives.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reprise_recorder::trace::model::Op;

    #[test]
    fn a_log_of_a_trace_read_whole_shares_its_records_and_copies_none() {
        let event = |a| Event { op: Op::Capture, object: 0, site: 0, a, b: 0, c: 0 };
        let trace = crate::views::number::tests::trace_of(vec![(0..10).map(event).collect(), vec![event(1)]]);
        let log = ReplayLog::from_trace(&trace);
        for records in trace.threads.values() {
            assert_eq!(std::sync::Arc::strong_count(records), 2, "held by the trace and by the log");
        }
        assert_eq!(log.event(0, 9).map(|e| e.a), Some(9));
        drop(log);
        assert!(trace.threads.values().all(|records| std::sync::Arc::strong_count(records) == 1));
    }
}
