//! Global event numbers: one number per event of a trace, from 1, in a
//! deterministic order consistent with happens-before (a receive after its
//! send, a lock after the previous unlock, a load after the store it read).
//! Every offline view names events by these numbers.
//!
//! The order is stored as runs (a stretch of one thread's consecutive
//! events with consecutive numbers), so a lookup either way is a binary
//! search and memory is proportional to the events at worst.
//!
//! ```
//! # use reprise_recorder::{record, thread, RecordConfig, channel};
//! # use reprise_recorder::trace::read::read_trace_file;
//! let path = std::env::temp_dir().join(format!("number-doc-{}.trace", std::process::id()));
//! record(&path, RecordConfig::new("doc", "1"), || {
//!     let (tx, rx) = channel::unbounded();
//!     let t = thread::spawn(move || tx.send(7).unwrap());
//!     let got = rx.recv().unwrap();
//!     t.join().unwrap();
//!     got
//! })
//! .unwrap();
//! let trace = read_trace_file(&path).unwrap();
//! let numbering = reprise_replayer::views::number(&trace);
//! assert_eq!(numbering.len(), trace.events);
//! let numbers: Vec<u64> = numbering.iter().map(|n| n.number).collect();
//! assert_eq!(numbers, (1..=trace.events).collect::<Vec<_>>());
//! # std::fs::remove_file(&path).ok();
//! ```

use std::borrow::Cow;

use reprise_recorder::trace::model::{Event, Record, ThreadIndex};
use reprise_recorder::trace::read::TraceFile;

use super::order::{order, Stream};

/// One event with its global number.
#[derive(Clone, Copy, Debug)]
pub struct Numbered<'t> {
    /// Its global number (from 1).
    pub number: u64,
    /// Its thread.
    pub thread: ThreadIndex,
    /// Its index among its thread's events (from 0).
    pub index: u64,
    /// The event.
    pub event: &'t Event,
    /// Whether it was placed without what it waited for being in the trace
    /// (a damaged trace): its number says nothing about its order.
    pub forced: bool,
}

/// A stretch of one thread's consecutive events with consecutive numbers.
#[derive(Clone, Copy, Debug)]
struct Run {
    slot: u32,
    /// The thread-local index of its first event.
    start: u64,
    /// The global number of its first event.
    first: u64,
    len: u64,
}

/// Every event of a trace with its global number (see the module docs).
pub struct Numbering<'t> {
    trace: &'t TraceFile,
    streams: Vec<Stream<'t>>,
    /// Per stream, the indices into `runs` of its runs, in order.
    runs_of: Vec<Vec<u32>>,
    runs: Vec<Run>,
    /// Global numbers of the forced events, ascending.
    forced: Vec<u64>,
    len: u64,
}

impl std::fmt::Debug for Numbering<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Numbering")
            .field("events", &self.len)
            .field("threads", &self.streams.len())
            .field("runs", &self.runs.len())
            .field("forced", &self.forced.len())
            .finish()
    }
}

/// Numbers every event of `trace`. Works on a damaged or cut trace too:
/// what is there is numbered, and events whose dependencies were lost are
/// [`Numbered::forced`].
pub fn number(trace: &TraceFile) -> Numbering<'_> {
    let mut streams: Vec<Stream<'_>> =
        trace.threads.iter().map(|(&t, records)| Stream::new(t, records)).collect();
    let mut runs: Vec<Run> = Vec::new();
    let mut runs_of: Vec<Vec<u32>> = vec![Vec::new(); streams.len()];
    let mut placed: Vec<u64> = vec![0; streams.len()];
    let mut forced = Vec::new();
    let mut next: u64 = 1;
    order(&mut streams, |slot, was_forced| {
        let index = placed[slot];
        placed[slot] += 1;
        if was_forced {
            forced.push(next);
        }
        match runs.last_mut() {
            Some(run) if run.slot as usize == slot && run.start + run.len == index => run.len += 1,
            _ => {
                runs_of[slot].push(runs.len() as u32);
                runs.push(Run { slot: slot as u32, start: index, first: next, len: 1 });
            }
        }
        next += 1;
    });
    Numbering { trace, streams, runs_of, runs, forced, len: next - 1 }
}

impl<'t> Numbering<'t> {
    /// The trace numbered.
    pub fn trace(&self) -> &'t TraceFile {
        self.trace
    }

    /// How many events were numbered (all of the trace's).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the trace has no events.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many events were placed without their dependencies (0 for a
    /// whole trace).
    pub fn forced_count(&self) -> usize {
        self.forced.len()
    }

    /// The threads, ascending.
    pub fn threads(&self) -> impl Iterator<Item = ThreadIndex> + '_ {
        self.streams.iter().map(|s| s.thread)
    }

    /// How many events `thread` has (0 for an unknown thread).
    pub fn thread_len(&self, thread: ThreadIndex) -> u64 {
        self.slot(thread).map_or(0, |s| self.streams[s].positions.len() as u64)
    }

    fn slot(&self, thread: ThreadIndex) -> Option<usize> {
        self.streams.binary_search_by_key(&thread, |s| s.thread).ok()
    }

    /// The global number of `thread`'s event `index`, if it has one.
    pub fn global(&self, thread: ThreadIndex, index: u64) -> Option<u64> {
        let slot = self.slot(thread)?;
        let runs = &self.runs_of[slot];
        let at = runs.partition_point(|&r| self.runs[r as usize].start <= index).checked_sub(1)?;
        let run = self.runs[runs[at] as usize];
        (index < run.start + run.len).then(|| run.first + (index - run.start))
    }

    /// How many of `thread`'s events are numbered `number` or below: where
    /// the thread stands when the trace is at event `number`.
    pub fn thread_position(&self, thread: ThreadIndex, number: u64) -> u64 {
        let Some(slot) = self.slot(thread) else { return 0 };
        let runs = &self.runs_of[slot];
        let Some(at) = runs.partition_point(|&r| self.runs[r as usize].first <= number).checked_sub(1) else {
            return 0;
        };
        let run = self.runs[runs[at] as usize];
        run.start + run.len.min(number - run.first + 1)
    }

    /// The event numbered `number`, if any.
    pub fn get(&self, number: u64) -> Option<Numbered<'t>> {
        let at = self.runs.partition_point(|r| r.first <= number).checked_sub(1)?;
        let run = self.runs[at];
        if number >= run.first + run.len {
            return None;
        }
        self.numbered(run, number)
    }

    fn numbered(&self, run: Run, number: u64) -> Option<Numbered<'t>> {
        let stream = &self.streams[run.slot as usize];
        let index = run.start + (number - run.first);
        Some(Numbered {
            number,
            thread: stream.thread,
            index,
            event: stream.event(usize::try_from(index).ok()?)?,
            forced: self.forced.binary_search(&number).is_ok(),
        })
    }

    /// `thread`'s event `index`, with its number.
    pub fn at(&self, thread: ThreadIndex, index: u64) -> Option<Numbered<'t>> {
        self.get(self.global(thread, index)?)
    }

    /// The record index in `thread`'s records of its event `index`, so a
    /// view can read what follows it (a captured value's blob).
    pub fn record_position(&self, thread: ThreadIndex, index: u64) -> Option<usize> {
        let stream = &self.streams[self.slot(thread)?];
        Some(*stream.positions.get(usize::try_from(index).ok()?)? as usize)
    }

    /// The bytes recorded with `thread`'s event `index` (a captured value,
    /// a panic message): the blob records right after it, joined (a long
    /// value is stored as several). Captured values must be shown through
    /// [`captured_value`](reprise_recorder::trace::model::sensitive::captured_value).
    pub fn blob(&self, thread: ThreadIndex, index: u64) -> Option<Cow<'t, [u8]>> {
        let records: &'t [Record] = self.trace.threads.get(&thread)?;
        let after = records.get(self.record_position(thread, index)? + 1..)?;
        let mut blobs = after.iter().map_while(|r| match r {
            Record::Blob(bytes) => Some(bytes.as_slice()),
            _ => None,
        });
        let first = blobs.next()?;
        match blobs.next() {
            None => Some(Cow::Borrowed(first)),
            Some(second) => {
                let mut joined = [first, second].concat();
                blobs.for_each(|b| joined.extend_from_slice(b));
                Some(Cow::Owned(joined))
            }
        }
    }

    /// Every event, in global order.
    pub fn iter(&self) -> impl Iterator<Item = Numbered<'t>> + '_ {
        self.iter_from(1)
    }

    /// The events numbered `from` on, in global order.
    pub fn iter_from(&self, from: u64) -> impl Iterator<Item = Numbered<'t>> + '_ {
        let first_run = self.runs.partition_point(|r| r.first + r.len <= from);
        self.runs[first_run..].iter().flat_map(move |&run| {
            (run.first.max(from)..run.first + run.len).filter_map(move |n| self.numbered(run, n))
        })
    }
}

#[cfg(test)]
pub(crate) mod tests;
