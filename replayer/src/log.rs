//! The trace as replay needs it: each thread's events in order, their blobs,
//! its call-site table, and for every object the recorded turn numbers.

use std::collections::{BTreeMap, HashMap};

use reprise_recorder::rt::gate::{SiteRef, TurnClass};
use reprise_recorder::trace::model::{Event, ObjectIndex, ObjectKind, Op, Record, SiteIndex, ThreadIndex};
use reprise_recorder::trace::read::TraceFile;

/// One thread's recorded life.
#[derive(Debug, Clone, Default)]
pub struct ThreadLog {
    /// Its name (may be empty).
    pub name: String,
    /// Its events in program order.
    pub events: Vec<Event>,
    /// Bytes attached to events, by event position.
    pub blobs: HashMap<usize, Vec<u8>>,
    /// Its call-site table.
    pub sites: Vec<Option<SiteRef>>,
}

impl ThreadLog {
    /// Whether the recording saw this thread finish.
    pub fn exited(&self) -> bool {
        self.events.last().is_some_and(|e| e.op == Op::ThreadExit)
    }
}

/// Every thread's log, and what replay derives from them.
#[derive(Debug, Clone, Default)]
pub struct ReplayLog {
    /// Logs by thread index.
    pub threads: BTreeMap<ThreadIndex, ThreadLog>,
    /// Object kinds by index, from the object table.
    pub objects: BTreeMap<ObjectIndex, ObjectKind>,
    /// For each object counter, its recorded turn numbers in order.
    ranks: HashMap<(ObjectIndex, TurnClass), Vec<u64>>,
}

/// The turn an event takes, if it takes one: (object, class, number).
pub(crate) fn turn_of(e: &Event) -> Option<(ObjectIndex, TurnClass, u64)> {
    match e.op {
        Op::Lock => Some((e.object, TurnClass::Lock, e.a)),
        Op::TryLock if e.a != 0 => Some((e.object, TurnClass::Lock, e.a)),
        Op::CondWait => Some((e.c as ObjectIndex, TurnClass::Lock, e.a)),
        Op::WriteLock => Some((e.object, TurnClass::Write, e.a)),
        Op::TryWriteLock if e.a != 0 => Some((e.object, TurnClass::Write, e.a - 1)),
        Op::AtomicStore | Op::AtomicRmw => Some((e.object, TurnClass::Store, e.a)),
        Op::AtomicCas if e.c == 1 => Some((e.object, TurnClass::Store, e.a)),
        _ => None,
    }
}

impl ReplayLog {
    /// Builds the log from a read trace.
    pub fn from_trace(trace: &TraceFile) -> ReplayLog {
        let mut log = ReplayLog::default();
        for (&index, records) in &trace.threads {
            let mut thread = ThreadLog::default();
            for record in records {
                match record {
                    Record::Event(e) => thread.events.push(*e),
                    // A long value is stored as consecutive blob records
                    // after its event: join them.
                    Record::Blob(bytes) => {
                        if let Some(last) = thread.events.len().checked_sub(1) {
                            thread.blobs.entry(last).or_default().extend_from_slice(bytes);
                        }
                    }
                    Record::Thread { name, .. } => thread.name = name.clone(),
                    Record::Object { index, kind, .. } => {
                        log.objects.insert(*index, *kind);
                    }
                    Record::Site { index, file, line, column } => {
                        let at = *index as usize;
                        // Indices come from the file: grow only as far as the
                        // records present can justify.
                        if at <= records.len() {
                            if thread.sites.len() <= at {
                                thread.sites.resize(at + 1, None);
                            }
                            thread.sites[at] =
                                Some(SiteRef { file: file.clone(), line: *line, column: *column });
                        }
                    }
                    Record::Clock(_) => {}
                }
            }
            log.threads.insert(index, thread);
        }
        log.index_turns();
        log
    }

    pub(crate) fn index_turns(&mut self) {
        self.ranks.clear();
        for thread in self.threads.values() {
            for e in &thread.events {
                if let Some((object, class, number)) = turn_of(e) {
                    self.ranks.entry((object, class)).or_default().push(number);
                }
            }
        }
        for numbers in self.ranks.values_mut() {
            numbers.sort_unstable();
            numbers.dedup();
        }
    }

    /// The position of turn `number` among the object's recorded turns.
    pub fn rank(&self, object: ObjectIndex, class: TurnClass, number: u64) -> Option<u64> {
        let numbers = self.ranks.get(&(object, class))?;
        numbers.binary_search(&number).ok().map(|r| r as u64)
    }

    /// The event `thread` recorded at position `cursor`, or `None` past its
    /// log's end.
    pub fn event(&self, thread: ThreadIndex, cursor: usize) -> Option<Event> {
        self.threads.get(&thread)?.events.get(cursor).copied()
    }

    /// The bytes attached to that event, if any.
    pub fn blob(&self, thread: ThreadIndex, cursor: usize) -> Option<&[u8]> {
        self.threads.get(&thread)?.blobs.get(&cursor).map(Vec::as_slice)
    }

    /// The call site `site` of `thread`'s table.
    pub fn site(&self, thread: ThreadIndex, site: SiteIndex) -> Option<&SiteRef> {
        self.threads.get(&thread)?.sites.get(site as usize)?.as_ref()
    }

    /// How many threads have a log.
    pub fn thread_count(&self) -> usize {
        self.threads.len()
    }

    /// The indices of the threads that have a log, in order.
    pub fn thread_indices(&self) -> impl Iterator<Item = ThreadIndex> + '_ {
        self.threads.keys().copied()
    }

    /// How many events `thread`'s log holds.
    pub fn thread_len(&self, thread: ThreadIndex) -> usize {
        self.threads.get(&thread).map_or(0, |t| t.events.len())
    }

    /// How many objects the object table names.
    pub fn object_count(&self) -> usize {
        self.objects.len()
    }

    /// The indices of the objects the object table names, in order.
    pub fn object_indices(&self) -> impl Iterator<Item = ObjectIndex> + '_ {
        self.objects.keys().copied()
    }

    /// Every object counter with recorded turns: the object, the counter,
    /// and its turn numbers, sorted and without repeats.
    pub fn turn_counters(&self) -> impl Iterator<Item = (ObjectIndex, TurnClass, &[u64])> + '_ {
        self.ranks.iter().map(|(&(object, class), numbers)| (object, class, numbers.as_slice()))
    }

    /// How many events all threads hold.
    pub fn event_count(&self) -> u64 {
        self.threads.values().map(|t| t.events.len() as u64).sum()
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
}
