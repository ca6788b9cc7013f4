//! The trace as a coroutine replay follows it: each thread's events, blobs
//! and call sites, and the per-object orders its scheduling rules need.

use std::collections::BTreeMap;

use reprise_recorder::hook::gate::SiteRef;

use super::hash::IntMap;
use reprise_recorder::trace::model::{
    Event, ObjectIndex, Op, Outcome, Record, SiteIndex, ThreadIndex, TurnClass,
};
use reprise_recorder::trace::read::TraceFile;

/// One thread's recorded life.
#[derive(Debug, Default)]
pub(crate) struct ThreadLog {
    pub(crate) name: String,
    pub(crate) events: Vec<Event>,
    /// Bytes attached to events, by event position.
    pub(crate) blobs: IntMap<usize, Vec<u8>>,
    pub(crate) sites: Vec<Option<SiteRef>>,
}

impl ThreadLog {
    /// Whether the recording saw this thread finish.
    pub(crate) fn exited(&self) -> bool {
        self.events.last().is_some_and(|e| e.op == Op::ThreadExit)
    }
}

/// Every thread's log and the orders derived from it.
#[derive(Debug, Default)]
pub(crate) struct FollowLog {
    pub(crate) threads: BTreeMap<ThreadIndex, ThreadLog>,
    /// Each object counter's recorded turn numbers, sorted.
    ranks: IntMap<(ObjectIndex, TurnClass), Vec<u64>>,
    /// How many loads (and failed compare-exchanges) read each store: the
    /// next store waits for them, so each reads the value it read.
    pub(crate) loads_of: IntMap<(ObjectIndex, u64), u64>,
}

impl FollowLog {
    /// Builds the log from a read trace.
    pub(crate) fn from_trace(trace: &TraceFile) -> FollowLog {
        let mut log = FollowLog::default();
        for (&index, records) in &trace.threads {
            let mut thread = ThreadLog::default();
            for record in records {
                match record {
                    Record::Event(e) => thread.events.push(*e),
                    // A long value is stored as consecutive blob records.
                    Record::Blob(bytes) => {
                        if let Some(last) = thread.events.len().checked_sub(1) {
                            thread.blobs.entry(last).or_default().extend_from_slice(bytes);
                        }
                    }
                    Record::Thread { name, .. } => thread.name.clone_from(name),
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
                    Record::Object { .. } | Record::Clock(_) => {}
                }
            }
            log.threads.insert(index, thread);
        }
        log.index();
        log
    }

    fn index(&mut self) {
        for log in self.threads.values() {
            for e in &log.events {
                let Ok(outcome) = e.outcome() else { continue };
                if let Some(turn) = outcome.turn(e.object) {
                    self.ranks.entry((turn.object, turn.class)).or_default().push(turn.number);
                }
                if let Some(store) = read_store(&outcome) {
                    *self.loads_of.entry((e.object, store)).or_insert(0) += 1;
                }
            }
        }
        for numbers in self.ranks.values_mut() {
            numbers.sort_unstable();
            numbers.dedup();
        }
    }

    /// `thread`'s event number `cursor`.
    pub(crate) fn event(&self, thread: ThreadIndex, cursor: usize) -> Option<&Event> {
        self.threads.get(&thread)?.events.get(cursor)
    }

    /// The position of turn `number` among the object's recorded turns.
    pub(crate) fn rank(&self, object: ObjectIndex, class: TurnClass, number: u64) -> Option<u64> {
        let numbers = self.ranks.get(&(object, class))?;
        // Numbers are dense in a whole trace: turn n is at n - 1.
        let dense = number.checked_sub(1).filter(|&at| numbers.get(at as usize) == Some(&number));
        dense.or_else(|| numbers.binary_search(&number).ok().map(|r| r as u64))
    }

    /// The recorded turn just before turn number `rank` (0: none, the
    /// initial value).
    pub(crate) fn previous_turn(&self, object: ObjectIndex, class: TurnClass, rank: u64) -> u64 {
        let numbers = self.ranks.get(&(object, class));
        rank.checked_sub(1).and_then(|r| numbers?.get(r as usize).copied()).unwrap_or(0)
    }

    /// A recorded call site of `thread`.
    pub(crate) fn site(&self, thread: ThreadIndex, site: SiteIndex) -> Option<&SiteRef> {
        self.threads.get(&thread)?.sites.get(site as usize)?.as_ref()
    }

    /// The recorded site as text.
    pub(crate) fn site_text(&self, thread: ThreadIndex, site: SiteIndex) -> String {
        self.site(thread, site).map(SiteRef::to_string).unwrap_or_else(|| format!("site #{site}"))
    }

    /// How many events all threads hold.
    pub(crate) fn event_count(&self) -> u64 {
        self.threads.values().map(|t| t.events.len() as u64).sum()
    }

    /// A thread's name for reports: `ledger-0 (thread 3)`.
    pub(crate) fn thread_label(&self, thread: ThreadIndex) -> String {
        match self.threads.get(&thread) {
            Some(t) if !t.name.is_empty() => {
                format!("`{}` (thread {thread})", reprise_recorder::trace::show::text(&t.name))
            }
            _ => format!("thread {thread}"),
        }
    }

    /// A recorded event as reports show it: `recv of object #3 at file:1:2`.
    pub(crate) fn describe(&self, thread: ThreadIndex, event: &Event) -> String {
        let object =
            if event.op.has_object() { format!(" of object #{}", event.object) } else { String::new() };
        format!("{}{object} at {}", event.op.name(), self.site_text(thread, event.site))
    }
}

/// The store a load or a failed compare-exchange read.
pub(crate) fn read_store(outcome: &Outcome) -> Option<u64> {
    match *outcome {
        Outcome::AtomicLoad { store, .. } | Outcome::AtomicCas { store, succeeded: false, .. } => Some(store),
        _ => None,
    }
}
