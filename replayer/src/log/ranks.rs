//! Recorded turn numbers per object counter, as ranges: a whole trace's
//! numbers are dense (1..=N), so a counter costs one range, not one entry
//! per turn; a cut trace or an odd recording costs one range per gap.

use std::collections::BTreeMap;

use crate::int_hash::IntMap;

use reprise_recorder::hook::gate::{TurnClass, WaitFor};
use reprise_recorder::trace::model::ObjectIndex;

/// A set of numbers, gathered in any order, held as disjoint ranges.
///
/// A counter's numbers are mostly one run, and a long run of a service
/// makes a counter per short-lived object: the one run is held inline, and
/// the map (whose first node takes 192 bytes) is used only from the second
/// disjoint run on. Before, the index pass of a million-request trace held
/// a map node per counter.
#[derive(Clone, Debug, Default)]
pub(crate) struct Numbers {
    /// The only run (start, end exclusive), while there is only one; `None`
    /// when there is none, or when `ranges` holds them.
    one: Option<(u64, u64)>,
    /// Start -> end (exclusive), once there are two disjoint runs or more.
    ranges: BTreeMap<u64, u64>,
}

impl Numbers {
    /// Moves the inline run into the map: a run that does not touch it is
    /// being added.
    fn spill(&mut self) {
        if let Some((start, end)) = self.one.take() {
            self.ranges.insert(start, end);
        }
    }

    /// The runs, in order.
    fn runs(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.one.into_iter().chain(self.ranges.iter().map(|(&s, &e)| (s, e)))
    }

    /// Adds `n` (again, if present: a set).
    pub(crate) fn insert(&mut self, n: u64) {
        if self.ranges.is_empty() {
            // At most one run so far: as a run of one (which keeps it inline
            // while it touches the run there).
            if n < u64::MAX {
                self.insert_run(n, n + 1);
                return;
            }
            self.spill();
        }
        // Numbers mostly come in order: extend the range that ends at `n`.
        let below = self.ranges.range(..=n).next_back().map(|(&s, &e)| (s, e));
        let start = match below {
            Some((_, end)) if n < end => return,
            Some((start, end)) if end == n => start,
            _ => n,
        };
        let mut end = n.saturating_add(1);
        if let Some(next_end) = self.ranges.remove(&end) {
            end = next_end;
        }
        self.ranges.insert(start, end);
    }

    /// Adds the numbers `start..end`.
    pub(crate) fn insert_run(&mut self, mut start: u64, mut end: u64) {
        if start >= end {
            return;
        }
        if self.ranges.is_empty() {
            match self.one {
                None => {
                    self.one = Some((start, end));
                    return;
                }
                // Overlapping or touching: one run still.
                Some((s, e)) if start <= e && s <= end => {
                    self.one = Some((s.min(start), e.max(end)));
                    return;
                }
                Some(_) => self.spill(),
            }
        }
        if let Some((&s, &e)) = self.ranges.range(..=start).next_back() {
            if e >= start {
                start = s;
                end = end.max(e);
                self.ranges.remove(&s);
            }
        }
        while let Some((&s, &e)) = self.ranges.range(start..=end).next() {
            end = end.max(e);
            self.ranges.remove(&s);
        }
        self.ranges.insert(start, end);
    }

    /// Adds `numbers` (in any order, repeats allowed) and empties it: sorted
    /// first, so numbers that interleave across threads land as a few runs,
    /// one map update each, instead of one update per number.
    pub(crate) fn extend(&mut self, numbers: &mut Vec<u64>) {
        if let Some((start, end)) = dense_run(numbers) {
            self.insert_run(start, end);
            numbers.clear();
            return;
        }
        numbers.sort_unstable();
        let mut run: Option<(u64, u64)> = None;
        for &n in numbers.iter() {
            run = match run {
                Some((start, end)) if n < end => Some((start, end)),
                Some((start, end)) if n == end => Some((start, end.saturating_add(1))),
                Some((start, end)) => {
                    self.insert_run(start, end);
                    Some((n, n.saturating_add(1)))
                }
                None => Some((n, n.saturating_add(1))),
            };
        }
        if let Some((start, end)) = run {
            self.insert_run(start, end);
        }
        // `u64::MAX` cannot start a run that ends after it.
        if numbers.last() == Some(&u64::MAX) {
            self.insert(u64::MAX);
        }
        numbers.clear();
    }

    /// Whether `n` is in the set.
    pub(crate) fn contains(&self, n: u64) -> bool {
        if let Some((start, end)) = self.one {
            return start <= n && n < end;
        }
        self.ranges.range(..=n).next_back().is_some_and(|(_, &end)| n < end)
    }

    /// The highest number up to which every number from 1 is present (0:
    /// none, or a 0 among them, as the cut has always read it).
    pub(crate) fn complete_upto(&self) -> u64 {
        match self.runs().next() {
            Some((1, end)) => end - 1,
            _ => 0,
        }
    }

    fn freeze(self) -> RankRanges {
        if let Some((start, end)) = self.one {
            return RankRanges { ranges: Runs::One { start, end } };
        }
        let mut before = 0;
        let mut ranges = self.ranges.into_iter().map(|(start, end)| {
            let r = (start, end, before);
            before += end - start;
            r
        });
        let ranges = match (ranges.next(), ranges.len()) {
            (Some((start, end, _)), 0) => Runs::One { start, end },
            (Some(first), _) => Runs::Many(std::iter::once(first).chain(ranges).collect()),
            (None, _) => Runs::default(),
        };
        RankRanges { ranges }
    }
}

/// `start..end` when `numbers` are exactly those, each once, in any order:
/// what a whole trace's turns of one counter are. Checked in linear time
/// with one bit per number, so the common case needs no sort.
fn dense_run(numbers: &[u64]) -> Option<(u64, u64)> {
    let (&first, rest) = numbers.split_first()?;
    let (min, max) = rest.iter().fold((first, first), |(lo, hi), &n| (lo.min(n), hi.max(n)));
    let end = max.checked_add(1)?;
    if end - min != numbers.len() as u64 {
        return None;
    }
    let mut seen = vec![0u64; numbers.len().div_ceil(64)];
    for &n in numbers {
        let at = (n - min) as usize;
        let (word, bit) = (at / 64, 1u64 << (at % 64));
        if seen[word] & bit != 0 {
            return None;
        }
        seen[word] |= bit;
    }
    Some((min, end))
}

/// [`Numbers`] ready for lookups: (start, end, how many numbers come before).
#[derive(Clone, Debug, Default)]
pub(crate) struct RankRanges {
    ranges: Runs,
}

/// The runs of [`RankRanges`]: a whole trace's counter has one, held
/// inline, so the millions of counters of a long run's short-lived objects
/// cost no allocation each (a `Vec` of one run cost one, here and in the
/// gate's copy). One run's `before` is 0: it is not held, so a counter's
/// ranks take 24 bytes, not 32.
#[derive(Clone, Debug)]
enum Runs {
    One { start: u64, end: u64 },
    Many(Box<[(u64, u64, u64)]>),
}

impl Default for Runs {
    fn default() -> Self {
        Runs::Many(Box::default())
    }
}

impl Runs {
    /// The first run, as (start, end, how many numbers come before: 0).
    #[inline]
    fn first(&self) -> Option<(u64, u64, u64)> {
        match self {
            Runs::One { start, end } => Some((*start, *end, 0)),
            Runs::Many(many) => many.first().copied(),
        }
    }

    fn len(&self) -> usize {
        match self {
            Runs::One { .. } => 1,
            Runs::Many(many) => many.len(),
        }
    }
}

impl RankRanges {
    /// The rank of turn `n`, if it was recorded.
    #[inline]
    pub(crate) fn rank(&self, n: u64) -> Option<u64> {
        let many = match self.ranges {
            Runs::One { start, end } => return (start <= n && n < end).then(|| n - start),
            Runs::Many(ref many) => many,
        };
        let at = many.partition_point(|&(start, _, _)| start <= n).checked_sub(1)?;
        let (start, end, before) = many[at];
        (n < end).then(|| before + (n - start))
    }

    /// Whether `n` is in the first run of recorded numbers: a counter's
    /// turns are numbered densely from where it started (1, or later for a
    /// `static` primitive an earlier execution used), so a number past a
    /// gap is a turn the object never gave in that order.
    #[inline]
    pub(crate) fn in_first_run(&self, n: u64) -> bool {
        self.ranges.first().is_some_and(|(start, end, _)| start <= n && n < end)
    }

    /// The numbers of the first run, as `start..=last`, for reports.
    pub(crate) fn first_run(&self) -> Option<(u64, u64)> {
        self.ranges.first().map(|(start, end, _)| (start, end - 1))
    }

    /// The turn number of rank `rank`, if there are that many turns.
    #[inline]
    pub(crate) fn number(&self, rank: u64) -> Option<u64> {
        let many = match self.ranges {
            Runs::One { start, end } => return start.checked_add(rank).filter(|&n| n < end),
            Runs::Many(ref many) => many,
        };
        let at = many.partition_point(|&(_, _, before)| before <= rank).checked_sub(1)?;
        let (start, end, before) = many[at];
        let n = start.checked_add(rank - before)?;
        (n < end).then_some(n)
    }
}

/// The turn a wait is about, as `(object, class, number, takes)`: `takes`
/// when the waiting event takes that turn itself, else it waits to see it
/// taken. `None`: not a wait on a turn (or on turn 0, the initial state).
pub(crate) fn turn_wait(until: &WaitFor) -> Option<(ObjectIndex, TurnClass, u64, bool)> {
    match *until {
        WaitFor::Turn { object, class, number } => Some((object, class, number, true)),
        WaitFor::WriteTurn { object, number, .. } => Some((object, TurnClass::Write, number, true)),
        WaitFor::Taken { number: 0, .. } => None,
        WaitFor::Taken { object, class, number } => Some((object, class, number, false)),
        _ => None,
    }
}

/// Why a wait on turn `number` of `object`'s counter `class` (whose
/// recorded numbers are `ranks`, `taken` of them taken so far) can never
/// end as the trace says, if it cannot: the turn was taken already by
/// another thread (the trace gives one number to two turns) and, when
/// `strict` (a whole trace, not a crashed recording's cut prefix), a number
/// the trace never records (above the counter's first recorded one) or one
/// past a gap in the counter's numbers. Both
/// replays ask it before a thread waits on a turn, so both report the
/// forgery as a divergence at that event. A binary search over the
/// counter's runs (one for a whole trace); no allocation unless it answers.
pub(crate) fn impossible_turn(
    ranks: &RankRanges,
    taken: u64,
    (object, class, number, takes): (ObjectIndex, TurnClass, u64, bool),
    strict: bool,
) -> Option<String> {
    let what = match class {
        TurnClass::Lock => "acquisition",
        TurnClass::Write => "write",
        TurnClass::Store => "store",
    };
    let recorded = || match ranks.first_run() {
        Some((first, last)) if first == last => format!("the trace records its {what} {first} first"),
        Some((first, last)) => format!("the trace records its {what}s {first} to {last} first"),
        None => format!("the trace records no {what} of it"),
    };
    match ranks.rank(number) {
        // A number below the counter's first recorded one (or of a counter
        // with none) may be an earlier execution's: a `static` primitive
        // keeps counting across the runs of one process.
        None if strict && ranks.first_run().is_some_and(|(first, _)| number > first) => {
            Some(format!("{what} {number} of object #{object} never happened: {}", recorded()))
        }
        None => None,
        Some(rank) if takes && taken > rank => Some(format!(
            "{what} {number} of object #{object} was already taken by another thread: the trace gives that number to two turns"
        )),
        Some(_) if strict && !ranks.in_first_run(number) => Some(format!(
            "object #{object} never reached {what} {number} in that order: {}, then skips to higher numbers",
            recorded()
        )),
        Some(_) => None,
    }
}

/// The divergence's detail for a recorded `outcome` that no run can give,
/// and `why`: both replays say it alike.
pub(crate) fn no_run_gives(outcome: Option<&reprise_recorder::trace::model::Outcome>, why: &str) -> String {
    match outcome {
        Some(outcome) => format!("the recording's outcome was {outcome:?}, which no run gives: {why}"),
        None => why.to_owned(),
    }
}

/// Every counter's numbers while they are gathered.
// Keys are the trace's own small integers: a multiply hash, not SipHash.
pub(crate) type Turns = IntMap<(ObjectIndex, TurnClass), Numbers>;

/// The position of each recorded turn among its counter's turns.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ranks {
    table: IntMap<(ObjectIndex, TurnClass), RankRanges>,
}

impl Ranks {
    pub(crate) fn new(turns: Turns) -> Ranks {
        Ranks { table: turns.into_iter().map(|(key, numbers)| (key, numbers.freeze())).collect() }
    }

    /// The position of turn `number` among the counter's recorded turns.
    pub(crate) fn rank(&self, object: ObjectIndex, class: TurnClass, number: u64) -> Option<u64> {
        self.table.get(&(object, class))?.rank(number)
    }

    /// Every counter with recorded turns, and its ranks, moved out.
    pub(crate) fn into_counters(self) -> impl Iterator<Item = (ObjectIndex, TurnClass, RankRanges)> {
        self.table.into_iter().map(|((object, class), ranks)| (object, class, ranks))
    }

    /// How many ranges all counters hold: one per counter for a whole trace.
    pub(crate) fn ranges(&self) -> usize {
        self.table.values().map(|f| f.ranges.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_are_positions_among_the_sorted_distinct_numbers() {
        // A small deterministic generator: many sets, some dense, some with gaps.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |bound: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % bound
        };
        for round in 0..500 {
            let count = next(80);
            let spread = 4 + round % 60;
            let numbers: Vec<u64> = (0..count).map(|_| next(spread)).collect();
            let mut set = Numbers::default();
            for &n in &numbers {
                set.insert(n);
            }
            let mut bulk = Numbers::default();
            let mut halves = numbers.clone();
            let second = halves.split_off(halves.len() / 2);
            bulk.extend(&mut halves);
            bulk.extend(&mut second.clone());
            assert_eq!(
                bulk.runs().collect::<Vec<_>>(),
                set.runs().collect::<Vec<_>>(),
                "added in bulk: {numbers:?}"
            );
            let mut sorted = numbers.clone();
            sorted.sort_unstable();
            sorted.dedup();
            let upto = sorted.iter().enumerate().take_while(|&(i, &n)| n == i as u64 + 1).count() as u64;
            assert_eq!(set.complete_upto(), upto, "{numbers:?}");
            let frozen = set.freeze();
            for n in 0..70 {
                assert_eq!(
                    frozen.rank(n),
                    sorted.binary_search(&n).ok().map(|r| r as u64),
                    "{numbers:?} at {n}"
                );
                assert_eq!(frozen.number(n), sorted.get(n as usize).copied(), "{numbers:?} rank {n}");
            }
        }
    }

    #[test]
    fn a_permutation_of_a_run_is_seen_without_a_sort_and_anything_else_is_not() {
        let shuffled: Vec<u64> = (0..300u64).map(|i| 7 + (i * 97) % 300).collect();
        assert_eq!(dense_run(&shuffled), Some((7, 307)));
        let mut repeated = shuffled.clone();
        repeated[5] = repeated[6];
        assert_eq!(dense_run(&repeated), None, "one repeat, one missing: same length, not dense");
        assert_eq!(dense_run(&[]), None);
        assert_eq!(dense_run(&[u64::MAX]), None, "no end past u64::MAX: left to the sort");
        let mut set = Numbers::default();
        set.insert_run(1, 7);
        set.extend(&mut shuffled.clone());
        assert_eq!(set.runs().collect::<Vec<_>>(), vec![(1, 307)], "joined to the run before");
    }

    #[test]
    fn a_turn_past_a_gap_taken_twice_or_never_recorded_cannot_happen_and_the_rest_can() {
        let mut set = Numbers::default();
        for n in [1, 2, 3, 1004] {
            set.insert(n);
        }
        let ranks = set.freeze();
        let turn = |n| (9, TurnClass::Lock, n, true);
        let seen = |n| (9, TurnClass::Lock, n, false);
        assert_eq!(impossible_turn(&ranks, 0, turn(1), true), None);
        assert_eq!(impossible_turn(&ranks, 2, turn(3), true), None);
        let gap = impossible_turn(&ranks, 3, turn(1004), true).unwrap();
        assert!(gap.contains("acquisitions 1 to 3 first"), "{gap}");
        assert_eq!(impossible_turn(&ranks, 3, turn(1004), false), None, "a cut trace: not decided");
        let twice = impossible_turn(&ranks, 2, turn(2), false).unwrap();
        assert!(twice.contains("already taken"), "{twice}");
        let never = impossible_turn(&ranks, 0, seen(1 << 32), true).unwrap();
        assert!(never.contains("never happened"), "{never}");
        let mut later = Numbers::default();
        later.insert_run(5, 9);
        let later = later.freeze();
        assert_eq!(impossible_turn(&later, 0, seen(4), true), None, "an earlier execution's store");
        assert_eq!(impossible_turn(&RankRanges::default(), 0, seen(7), true), None, "none recorded");
    }

    /// A counter whose numbers are one run (every counter of a whole trace)
    /// holds it inline while the pass gathers: the map's node, 192 bytes,
    /// was most of what the index pass of a long service's trace held per
    /// short-lived object. A second run moves both into the map.
    #[test]
    fn a_counter_of_one_run_holds_no_map_while_it_is_gathered() {
        let mut turns = Turns::default();
        for object in 0..1000u32 {
            for n in [2, 1, 3] {
                turns.entry((object, TurnClass::Lock)).or_default().insert(n);
            }
            turns.entry((object, TurnClass::Lock)).or_default().extend(&mut vec![5, 4]);
        }
        assert!(turns.values().all(|n| n.ranges.is_empty() && n.one == Some((1, 6))));
        let set = turns.get_mut(&(7, TurnClass::Lock)).unwrap();
        set.insert(9);
        assert_eq!(set.runs().collect::<Vec<_>>(), vec![(1, 6), (9, 10)]);
        assert!(set.one.is_none(), "two runs: both in the map");
        assert!(set.contains(5) && !set.contains(6) && set.contains(9));
        assert_eq!(set.complete_upto(), 5);
        let ranks = Ranks::new(turns);
        assert_eq!(ranks.ranges(), 1001);
        assert_eq!(ranks.rank(7, TurnClass::Lock, 9), Some(5));
        assert_eq!(ranks.rank(8, TurnClass::Lock, 5), Some(4));
    }

    #[test]
    fn dense_numbers_in_any_order_take_one_range() {
        let mut turns = Turns::default();
        for n in (1..=500).rev().chain(1..=1000) {
            turns.entry((3, TurnClass::Lock)).or_default().insert(n);
        }
        let ranks = Ranks::new(turns);
        assert_eq!(ranks.ranges(), 1);
        assert!(
            ranks.table.values().all(|r| matches!(r.ranges, Runs::One { .. })),
            "a counter of one run holds it inline, allocating nothing"
        );
        assert!(std::mem::size_of::<RankRanges>() <= 24, "{} bytes", std::mem::size_of::<RankRanges>());
        assert_eq!(ranks.rank(3, TurnClass::Lock, 1000), Some(999));
        assert_eq!(ranks.rank(3, TurnClass::Lock, 1001), None);
    }
}
