//! `reprise races`: race candidates among the accesses of `Tracked` cells.
//!
//! Happens-before is computed with vector clocks over the recorded
//! synchronization, walking the events in their global numbers (an order
//! consistent with it): spawn and join, a message from its send to its
//! receive, a lock from the previous unlock (the arrows of
//! [`links`](super::links())), an atomic load or read-modify-write from
//! the store it read, a park from the unparks it saw. Accesses of a tracked
//! cell draw no edge: they are what is being checked. Memory orderings are
//! not recorded, so every atomic is taken as release/acquire: a race hidden
//! behind a relaxed atomic is missed, never invented.
//!
//! Two findings:
//! - a **data race**: two accesses of one cell from two threads, at least
//!   one a write, neither known to happen before the other;
//! - an **atomicity violation**: a thread reads a cell, another thread
//!   writes it, then the first thread writes it (`R-W-W`): the last write
//!   is based on a value overwritten meanwhile, a lost update. The other
//!   unserializable patterns (`R-W-R`, `W-R-W`, `W-W-R`) are left out: a
//!   trace does not say where an operation ends, and across two operations
//!   they are normal (a read-only operation, then the next one's read; a
//!   write, then the next operation's read), so every busy cell would be
//!   flagged. An `R-W-W` across operations needs a blind write (a `set`
//!   with no read before it), which is rarer.

mod clock;

use std::collections::{BTreeMap, HashMap};

use reprise_recorder::trace::model::{ObjectIndex, Op, Outcome, ThreadIndex};

use self::clock::Clock;
use super::links::links;
use super::number::Numbering;
use super::tables::Tables;

/// One access of a tracked cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    /// Its global event number.
    pub number: u64,
    /// Its thread, as views name it.
    pub thread: String,
    /// Whether it wrote.
    pub write: bool,
    /// Its call site, `file:line:col`.
    pub site: String,
}

impl Access {
    /// "read" or "wrote".
    pub fn verb(&self) -> &'static str {
        if self.write {
            "wrote"
        } else {
            "read"
        }
    }
}

/// Two conflicting accesses that nothing orders.
#[derive(Clone, Debug)]
pub struct Race {
    /// The cell, as views name objects.
    pub object: String,
    /// The earlier access (by number).
    pub first: Access,
    /// The later one.
    pub second: Access,
    /// How many pairs with the same call sites were found.
    pub count: u64,
}

/// A thread's read and its next access of the same cell, a write, with
/// another thread's write between them.
#[derive(Clone, Debug)]
pub struct Violation {
    /// The cell.
    pub object: String,
    /// `R-W-W`.
    pub pattern: &'static str,
    /// What it means: "lost update".
    pub meaning: &'static str,
    /// The thread's read.
    pub before: Access,
    /// The other thread's write in between.
    pub between: Access,
    /// The thread's next access.
    pub after: Access,
    /// How many times the same call sites did it.
    pub count: u64,
}

/// What `races` found.
#[derive(Clone, Debug, Default)]
pub struct Findings {
    /// Accesses of tracked cells in the trace.
    pub accesses: u64,
    /// Distinct tracked cells accessed.
    pub cells: usize,
    /// Data races, one per pair of call sites, in order of first appearance.
    pub races: Vec<Race>,
    /// Atomicity violations, one per triple of call sites.
    pub violations: Vec<Violation>,
}

/// Per cell: what the race check and the violation check remember.
#[derive(Default)]
struct Cell {
    /// Per thread slot: its last write and last read, with their epochs.
    last_write: BTreeMap<usize, (u64, Access)>,
    last_read: BTreeMap<usize, (u64, Access)>,
    /// Every access in order, with its thread slot.
    history: Vec<(usize, Access)>,
    /// Per thread slot: the index in `history` of its last access.
    last_of: HashMap<usize, usize>,
}

/// Finds the data races and atomicity violations among the trace's
/// accesses of tracked cells (see the module docs).
pub fn races(numbering: &Numbering<'_>) -> Findings {
    let tables = Tables::of(numbering.trace());
    let slot_of: HashMap<ThreadIndex, usize> = numbering.threads().enumerate().map(|(s, t)| (t, s)).collect();
    let mut incoming: HashMap<u64, Vec<u64>> = HashMap::new();
    let mut outgoing: HashMap<u64, Option<Clock>> = HashMap::new();
    for link in links(numbering) {
        incoming.entry(link.to).or_default().push(link.from);
        outgoing.insert(link.from, None);
    }
    let mut clocks: Vec<Clock> = vec![Clock::default(); slot_of.len()];
    let mut spawned: HashMap<ThreadIndex, Clock> = HashMap::new();
    let mut exited: HashMap<ThreadIndex, Clock> = HashMap::new();
    let mut stores: HashMap<(ObjectIndex, u64), Clock> = HashMap::new();
    let mut unparks: HashMap<(ObjectIndex, u64), Clock> = HashMap::new();
    let mut cells: HashMap<ObjectIndex, Cell> = HashMap::new();
    let mut race_keys: HashMap<(String, String, bool, bool), usize> = HashMap::new();
    let mut violation_keys: HashMap<(&'static str, String, String, String), usize> = HashMap::new();
    let mut findings = Findings::default();

    for n in numbering.iter() {
        let e = n.event;
        let Some(&slot) = slot_of.get(&n.thread) else { continue };
        let outcome = e.outcome().ok();
        let mut clock = std::mem::take(&mut clocks[slot]);
        if e.op == Op::ThreadStart {
            if let Some(parent) = spawned.remove(&n.thread) {
                clock.join(&parent);
            }
        }
        for from in incoming.remove(&n.number).unwrap_or_default() {
            if let Some(Some(sent)) = outgoing.get(&from) {
                clock.join(sent);
            }
        }
        match outcome {
            Some(Outcome::Join { joined, .. }) => {
                if let Some(child) = exited.get(&joined) {
                    clock.join(child);
                }
            }
            Some(Outcome::AtomicLoad { store, .. } | Outcome::AtomicCas { store, succeeded: false, .. }) => {
                if let Some(seen) = stores.get(&(e.object, store)) {
                    clock.join(seen);
                }
            }
            Some(Outcome::AtomicRmw { store, .. } | Outcome::AtomicCas { store, succeeded: true, .. }) => {
                if let Some(seen) = stores.get(&(e.object, store - 1)) {
                    clock.join(seen);
                }
            }
            Some(Outcome::Park { unparks: seen }) if seen > 0 => {
                if let Some(unparked) = unparks.get(&(e.object, seen)) {
                    clock.join(unparked);
                }
            }
            _ => {}
        }
        let epoch = clock.tick(slot);
        if let Some(snapshot) = outgoing.get_mut(&n.number) {
            *snapshot = Some(clock.clone());
        }
        match outcome {
            Some(Outcome::Spawn { child }) => {
                spawned.insert(child, clock.clone());
            }
            Some(Outcome::ThreadExit { .. }) => {
                exited.insert(n.thread, clock.clone());
            }
            Some(
                Outcome::AtomicStore { store }
                | Outcome::AtomicRmw { store, .. }
                | Outcome::AtomicCas { store, succeeded: true, .. },
            ) => {
                stores.insert((e.object, store), clock.clone());
            }
            Some(Outcome::Unpark { unpark }) => {
                let mut all = unparks.get(&(e.object, unpark - 1)).cloned().unwrap_or_default();
                all.join(&clock);
                unparks.insert((e.object, unpark), all);
            }
            Some(Outcome::TrackedRead { .. } | Outcome::TrackedWrite { .. }) => {
                let access = Access {
                    number: n.number,
                    thread: tables.thread_label(n.thread),
                    write: e.op == Op::TrackedWrite,
                    site: tables.site_label(n.thread, e.site),
                };
                findings.accesses += 1;
                let object = tables.object_label(e.object);
                let cell = cells.entry(e.object).or_default();
                check_race(cell, slot, &clock, &access, &object, &mut race_keys, &mut findings);
                check_atomicity(cell, slot, &access, &object, &mut violation_keys, &mut findings);
                let last = if access.write { &mut cell.last_write } else { &mut cell.last_read };
                last.insert(slot, (epoch, access.clone()));
                cell.last_of.insert(slot, cell.history.len());
                cell.history.push((slot, access));
            }
            _ => {}
        }
        clocks[slot] = clock;
    }
    findings.cells = cells.len();
    findings
}

/// Compares `access` with each other thread's last conflicting access.
fn check_race(
    cell: &Cell,
    slot: usize,
    clock: &Clock,
    access: &Access,
    object: &str,
    keys: &mut HashMap<(String, String, bool, bool), usize>,
    findings: &mut Findings,
) {
    let writes = cell.last_write.iter();
    let reads = cell.last_read.iter().filter(|_| access.write);
    for (&other, (other_epoch, earlier)) in writes.chain(reads) {
        if other == slot || clock.knows(other, *other_epoch) {
            continue;
        }
        let key = (earlier.site.clone(), access.site.clone(), earlier.write, access.write);
        match keys.get(&key) {
            Some(&at) => findings.races[at].count += 1,
            None => {
                keys.insert(key, findings.races.len());
                findings.races.push(Race {
                    object: object.to_string(),
                    first: earlier.clone(),
                    second: access.clone(),
                    count: 1,
                });
            }
        }
    }
}

/// Looks between this thread's last access (a read) and `access` for
/// another thread's write.
fn check_atomicity(
    cell: &Cell,
    slot: usize,
    access: &Access,
    object: &str,
    keys: &mut HashMap<(&'static str, String, String, String), usize>,
    findings: &mut Findings,
) {
    let Some(&last) = cell.last_of.get(&slot) else { return };
    let (_, before) = &cell.history[last];
    if before.write || !access.write {
        return;
    }
    let Some((_, between)) = cell.history[last + 1..].iter().find(|(s, a)| *s != slot && a.write) else {
        return;
    };
    let (pattern, meaning) = ("R-W-W", "lost update");
    let key = (pattern, before.site.clone(), between.site.clone(), access.site.clone());
    match keys.get(&key) {
        Some(&at) => findings.violations[at].count += 1,
        None => {
            keys.insert(key, findings.violations.len());
            findings.violations.push(Violation {
                object: object.to_string(),
                pattern,
                meaning,
                before: before.clone(),
                between: between.clone(),
                after: access.clone(),
                count: 1,
            });
        }
    }
}
