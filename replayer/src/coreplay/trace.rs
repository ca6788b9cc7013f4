//! The trace as a coroutine replay follows it: the replay log's tables (call
//! sites, names, turn ranks, loads per store) and, per thread, a window of
//! decoded events around its cursor with their outcomes decoded once. A
//! window is one chunk, refilled from the log's chunk index as the cursor
//! leaves it, so memory does not grow with the trace's length. On a long
//! trace the next chunk of each thread is decoded ahead (see `ahead.rs`).

use std::panic::Location;
use std::sync::Arc;

use reprise_recorder::hook::coop::Site;
use reprise_recorder::hook::gate::{SiteRef, WaitFor};
use reprise_recorder::trace::model::{Event, ObjectIndex, Outcome, SiteIndex, ThreadIndex, TurnClass};

use super::ahead::{Filled, ReadAhead};
use super::counters::class_slot;
use super::dense::Dense;
use crate::log::{RankRanges, ReplayLog};

/// Traces from this many events on are read ahead on a second thread.
const READ_AHEAD_EVENTS: u64 = 1 << 15;

/// One recorded thread: the chunk its cursor is in.
#[derive(Debug)]
struct Followed {
    index: ThreadIndex,
    /// How many events the log keeps for it.
    len: u64,
    /// The chunk its cursor is in, its events' outcomes decoded: its
    /// buffers are reused chunk after chunk.
    filled: Filled,
    /// The event whose chunk was asked of the reading thread, if any.
    asked: Option<u64>,
    /// That chunk, when it came while the replay waited for another.
    early: Option<Filled>,
    /// Its call-site table (a copy of the log's, at hand).
    sites: Vec<Option<SiteRef>>,
    /// Per recorded call site, what a check compares first: its line and
    /// column, and the file of a call site of this run found equal to it. A
    /// `&'static str` lives as long as the program, so a file at the same
    /// address and of the same length is the same text: the next comparison
    /// is one of addresses.
    seen: Vec<Seen>,
}

/// A recorded call site as checks compare it.
#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    line: u32,
    column: u32,
    /// Whether the site is in the table at all.
    known: bool,
    file: Option<&'static str>,
}

impl Seen {
    #[inline]
    fn same_file(&self, file: &str) -> bool {
        self.file.is_some_and(|seen| std::ptr::eq(seen.as_ptr(), file.as_ptr()) && seen.len() == file.len())
    }
}

/// Every thread's window and the log's tables.
#[derive(Debug)]
pub(crate) struct FollowLog {
    pub(crate) log: Arc<ReplayLog>,
    /// The thread decoding chunks ahead of the replay, if one was started.
    ahead: Option<ReadAhead>,
    /// Sorted by thread index.
    threads: Vec<Followed>,
    /// Thread index to position in `threads` (`u32::MAX`: none), for the
    /// indices up to a bound the thread count justifies; past it, a search.
    at: Vec<u32>,
    /// Each counter's ranks, found through `rank_slots`.
    ranks: Vec<RankRanges>,
    /// Per recorded object, by turn class (`class_slot`): 1 + the position
    /// of its ranks in `ranks` (0: none). A lookup per replayed event is an
    /// index, not a hash.
    rank_slots: Dense<[u32; 3]>,
}

impl FollowLog {
    /// Follows `log`, every thread's window at its first chunk.
    pub(crate) fn new(mut log: ReplayLog) -> FollowLog {
        // The ranks move here: the log's table would be a second copy.
        let mut ranks = Vec::new();
        let mut rank_slots: Dense<[u32; 3]> = Dense::default();
        for (object, class, counter) in log.take_turn_counters() {
            ranks.push(counter);
            rank_slots.at(object)[class_slot(class)] = ranks.len() as u32;
        }
        let log = Arc::new(log);
        let ahead =
            (log.event_count() >= READ_AHEAD_EVENTS).then(|| ReadAhead::start(Arc::clone(&log))).flatten();
        let mut threads: Vec<Followed> = log
            .thread_ids()
            .map(|index| Followed {
                index,
                len: log.thread_len(index) as u64,
                filled: Filled::default(),
                asked: None,
                early: None,
                sites: log.sites(index).to_vec(),
                seen: log
                    .sites(index)
                    .iter()
                    .map(|s| match s {
                        Some(s) => Seen { line: s.line, column: s.column, known: true, file: None },
                        None => Seen::default(),
                    })
                    .collect(),
            })
            .collect();
        threads.sort_by_key(|t| t.index);
        // Thread indices are given out densely; a damaged file may hold any.
        let bound = threads.len().saturating_mul(4).saturating_add(64);
        let top = threads.iter().map(|t| t.index as usize + 1).filter(|&n| n <= bound).max().unwrap_or(0);
        let mut at = vec![u32::MAX; top];
        for (pos, t) in threads.iter().enumerate() {
            if let Some(slot) = at.get_mut(t.index as usize) {
                *slot = pos as u32;
            }
        }
        let mut follow = FollowLog { log, ahead, threads, at, ranks, rank_slots };
        for pos in 0..follow.threads.len() {
            follow.fill(pos, 0);
        }
        follow
    }

    fn position(&self, thread: ThreadIndex) -> Option<usize> {
        match self.at.get(thread as usize) {
            Some(&pos) => (pos != u32::MAX).then_some(pos as usize),
            None => self.threads.binary_search_by_key(&thread, |t| t.index).ok(),
        }
    }

    /// Loads the window of `threads[pos]` holding event `cursor`: the chunk
    /// read ahead when it was asked for, else decoded here; then asks for
    /// the chunk after it.
    fn fill(&mut self, pos: usize, cursor: u64) {
        let spare = match self.read_ahead(pos, cursor) {
            Some(filled) => std::mem::replace(&mut self.threads[pos].filled, filled),
            None => {
                let t = &mut self.threads[pos];
                t.filled.decode(&self.log, t.index, cursor);
                t.early.take().unwrap_or_default()
            }
        };
        let t = &mut self.threads[pos];
        let next = t.filled.window.first + t.filled.window.events.len() as u64;
        if let Some(ahead) = &self.ahead {
            if t.filled.found && next < t.len && ahead.ask(t.index, next, spare) {
                t.asked = Some(next);
            }
        }
    }

    /// The chunk of `threads[pos]` holding `cursor`, if it was asked for
    /// ahead: waits for it, keeping other threads' chunks that come first.
    fn read_ahead(&mut self, pos: usize, cursor: u64) -> Option<Filled> {
        if self.threads[pos].asked.take() != Some(cursor) {
            return None;
        }
        // Only what was asked for last is taken: an older chunk (never
        // asked for twice today) stays as buffers to decode into.
        if self.threads[pos].early.as_ref().is_some_and(|early| early.cursor == cursor) {
            return self.threads[pos].early.take();
        }
        let ahead = self.ahead.as_ref()?;
        loop {
            let filled = ahead.next()?;
            let thread = self.threads[pos].index;
            if filled.thread == thread && filled.cursor == cursor {
                return Some(filled);
            }
            if let Some(other) = self.position(filled.thread) {
                self.threads[other].early = Some(filled);
            }
        }
    }

    /// `thread`'s cursor moved to `cursor`: moves its window along when the
    /// cursor left it.
    pub(crate) fn advance(&mut self, thread: ThreadIndex, cursor: u64) {
        let Some(pos) = self.position(thread) else { return };
        let t = &self.threads[pos];
        if cursor >= t.filled.window.first + t.filled.window.events.len() as u64 && cursor < t.len {
            self.fill(pos, cursor);
        }
    }

    /// `thread`'s event `cursor` and its outcome (`None`: one no recorder
    /// writes), when its window holds it: the one at its cursor always is.
    #[inline]
    pub(crate) fn current(&self, thread: ThreadIndex, cursor: usize) -> Option<(&Event, Option<&Outcome>)> {
        let t = &self.threads[self.position(thread)?];
        let at = usize::try_from((cursor as u64).checked_sub(t.filled.window.first)?).ok()?;
        Some((t.filled.window.events.get(at)?, t.filled.outcomes[at].as_ref()))
    }

    /// The bytes recorded with `thread`'s event `cursor`, when its window
    /// holds it.
    pub(crate) fn blob(&self, thread: ThreadIndex, cursor: usize) -> Option<&[u8]> {
        let t = &self.threads[self.position(thread)?];
        let at = usize::try_from((cursor as u64).checked_sub(t.filled.window.first)?).ok()?;
        Some(&t.filled.window.blobs[t.filled.window.blob_at(at)?].1)
    }

    /// `thread`'s event `cursor`, from its window or decoded on the side
    /// (reports look anywhere).
    pub(crate) fn event(&self, thread: ThreadIndex, cursor: usize) -> Option<Event> {
        match self.current(thread, cursor) {
            Some((e, _)) => Some(*e),
            None => self.log.event(thread, cursor),
        }
    }

    /// Whether `thread`'s recorded call site `site` is `location`; a match
    /// is remembered by the file's address.
    pub(crate) fn site_is(
        &mut self,
        thread: ThreadIndex,
        site: SiteIndex,
        location: &'static Location<'static>,
    ) -> bool {
        let Some(pos) = self.position(thread) else { return false };
        let t = &mut self.threads[pos];
        let Some(seen) = t.seen.get_mut(site as usize) else { return false };
        let file = location.file();
        if !seen.known || seen.line != location.line() || seen.column != location.column() {
            return false;
        }
        if seen.same_file(file) {
            return true;
        }
        let same = t.sites[site as usize].as_ref().is_some_and(|s| s.file == file);
        if same {
            seen.file = Some(file);
        }
        same
    }

    /// Whether `thread`'s recorded call site `site` is `made` (a site by
    /// content, as an event is made).
    #[inline]
    pub(crate) fn site_matches(&self, thread: ThreadIndex, site: SiteIndex, made: Site<'_>) -> bool {
        let Some(t) = self.position(thread).map(|pos| &self.threads[pos]) else { return false };
        let Some(seen) = t.seen.get(site as usize) else { return false };
        if !seen.known || seen.line != made.line || seen.column != made.column {
            return false;
        }
        seen.same_file(made.file) || t.sites[site as usize].as_ref().is_some_and(|s| s.file == made.file)
    }

    /// The ranks of `object`'s turns of `class`.
    #[inline]
    pub(crate) fn ranks(&self, object: ObjectIndex, class: TurnClass) -> Option<&RankRanges> {
        let slot = self.rank_slots.get(object)[class_slot(class)];
        self.ranks.get(slot.checked_sub(1)? as usize)
    }

    /// The position of turn `number` among the object's recorded turns.
    #[inline]
    pub(crate) fn rank(&self, object: ObjectIndex, class: TurnClass, number: u64) -> Option<u64> {
        self.ranks(object, class)?.rank(number)
    }

    /// The wait `until` as far as the trace holds it (see
    /// [`ReplayLog::within_trace`]).
    #[inline]
    pub(crate) fn within_trace(&self, until: WaitFor) -> WaitFor {
        match until {
            WaitFor::WriteTurn { object, number, .. } => {
                let before_in_trace = number > 1 && self.rank(object, TurnClass::Write, number - 1).is_some();
                self.log.within_trace(until, before_in_trace)
            }
            _ => until,
        }
    }

    /// The recorded turn just before turn number `rank` (0: none, the
    /// initial value).
    pub(crate) fn previous_turn(&self, object: ObjectIndex, class: TurnClass, rank: u64) -> u64 {
        let ranks = self.ranks(object, class);
        rank.checked_sub(1).and_then(|r| ranks?.number(r)).unwrap_or(0)
    }

    /// How many events `thread` holds.
    pub(crate) fn len(&self, thread: ThreadIndex) -> usize {
        self.log.thread_len(thread)
    }

    /// The threads the trace holds, in order.
    pub(crate) fn thread_ids(&self) -> impl Iterator<Item = ThreadIndex> + '_ {
        self.threads.iter().map(|t| t.index)
    }

    /// Whether the recording saw `thread` finish.
    pub(crate) fn exited(&self, thread: ThreadIndex) -> bool {
        self.log.exited(thread)
    }

    /// A recorded call site of `thread`.
    pub(crate) fn site(&self, thread: ThreadIndex, site: SiteIndex) -> Option<&SiteRef> {
        self.threads[self.position(thread)?].sites.get(site as usize)?.as_ref()
    }

    /// The recorded site as text.
    pub(crate) fn site_text(&self, thread: ThreadIndex, site: SiteIndex) -> String {
        self.site(thread, site).map(SiteRef::to_string).unwrap_or_else(|| format!("site #{site}"))
    }

    /// How many events all threads hold.
    pub(crate) fn event_count(&self) -> u64 {
        self.log.event_count()
    }

    /// The most events one window held.
    pub(crate) fn peak_window(&self) -> usize {
        self.log.peak_window()
    }

    /// A thread's name for reports: `ledger-0 (thread 3)`.
    pub(crate) fn thread_label(&self, thread: ThreadIndex) -> String {
        self.log.thread_label(thread)
    }

    /// A recorded event as reports show it: `recv of object #3 at file:1:2`.
    pub(crate) fn describe(&self, thread: ThreadIndex, event: &Event) -> String {
        let object =
            if event.op.has_object() { format!(" of object #{}", event.object) } else { String::new() };
        format!("{}{object} at {}", event.op.name(), self.site_text(thread, event.site))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reprise_recorder::trace::model::Op;

    fn ev(thread: u64, a: u64) -> Event {
        Event { op: Op::Capture, object: 0, site: 0, a: thread << 32 | a, b: 0, c: 0 }
    }

    #[test]
    fn threads_moving_through_chunks_read_ahead_see_every_event_in_order() {
        // Uneven threads, so that chunks asked for ahead come back in
        // another order than the replay takes them.
        let lens = [20_000u64, 9_000, 13_000, 1];
        let threads =
            lens.iter().enumerate().map(|(t, &n)| (0..n).map(|a| ev(t as u64, a)).collect()).collect();
        let mut follow = FollowLog::new(crate::log::from_events(threads));
        assert!(follow.ahead.is_some(), "{} events are read ahead", lens.iter().sum::<u64>());
        let mut cursors = [0u64; 4];
        let mut step = 0u64;
        while cursors.iter().zip(&lens).any(|(c, n)| c < n) {
            // Threads take turns of a few hundred events, the third the longest.
            step += 1;
            let t = (step % 4) as usize;
            for _ in 0..(100 + 250 * (t as u64 == 2) as u64) {
                if cursors[t] >= lens[t] {
                    break;
                }
                let (event, outcome) =
                    follow.current(t as ThreadIndex, cursors[t] as usize).expect("in its window");
                assert_eq!(event.a, (t as u64) << 32 | cursors[t], "thread {t} at {}", cursors[t]);
                assert_eq!(outcome, event.outcome().ok().as_ref());
                cursors[t] += 1;
                follow.advance(t as ThreadIndex, cursors[t]);
            }
        }
        assert!(follow.log.chunks_decoded() >= 11, "every chunk decoded: {}", follow.log.chunks_decoded());
    }

    /// Many short-lived mutexes, two acquisitions each: the follower holds
    /// each counter's ranks once, moved out of the log (the log's table
    /// was a second copy, a table entry per counter for the replay's length).
    #[test]
    fn the_ranks_move_from_the_log_to_the_follower() {
        let n = 500u32;
        let lock = |object, acquisition| Event::new(Outcome::Lock { acquisition }, object, 0);
        let events = (1..=n).flat_map(|object| [lock(object, 1), lock(object, 2)]).collect();
        let log = crate::log::from_events(vec![events]);
        assert_eq!(log.rank_ranges(), n as usize);
        let follow = FollowLog::new(log);
        assert_eq!(follow.log.rank_ranges(), 0, "no second copy in the log");
        assert_eq!(follow.ranks.len(), n as usize);
        for object in 1..=n {
            assert_eq!(follow.rank(object, TurnClass::Lock, 2), Some(1));
        }
    }
}
