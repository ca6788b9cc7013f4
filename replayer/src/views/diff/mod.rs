//! `reprise diff`: two traces of the same program, aligned thread by thread
//! (a thread's logical index is the same in every run of a program), and
//! where they first part: the thread, the event (by each trace's global
//! numbers), what differs and the call sites, with the events before it on
//! both sides; then the objects whose orders differ (who got which lock
//! turn, which receiver took which message).

mod objects;
mod render;
mod values;

use std::collections::{HashMap, HashSet};

use reprise_recorder::trace::model::sensitive::SealKey;
use reprise_recorder::trace::model::{Event, ObjectIndex, Op, ThreadIndex};

use super::number::{Numbered, Numbering};
use super::tables::{Site, Tables};

pub use objects::{object_orders, OrderDifference, Taker};

/// How many events before the divergence are shown on each side.
pub const CONTEXT: u64 = 3;

/// One side of a diff: the trace numbered, its tables, and the key its
/// sensitive captures were sealed with, if known.
#[derive(Debug)]
pub struct Side<'a, 't> {
    /// The numbered trace.
    pub numbering: &'a Numbering<'t>,
    /// Its thread, site and object tables.
    pub tables: &'a Tables,
    /// The key that opens its sensitive captures: without it they compare
    /// only when their sealed bytes are the same.
    pub key: Option<&'a SealKey>,
}

/// Where two traces first part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The thread.
    pub thread: ThreadIndex,
    /// The index in that thread of the first event that differs.
    pub index: u64,
    /// Its global number in A, if A has the event.
    pub number_a: Option<u64>,
    /// Its global number in B, if B has the event.
    pub number_b: Option<u64>,
    /// What differs: "op", "site", "object", "outcome", "value" (the bytes
    /// recorded with it: a captured value, a panic message, an annotation),
    /// or "length".
    pub what: Vec<&'static str>,
}

/// A sensitive capture, at the same place in both traces, whose values
/// could not be compared: no key, another key, or recorded without one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unopened {
    /// The thread.
    pub thread: ThreadIndex,
    /// The capture's index in that thread.
    pub index: u64,
    /// Its global number in A.
    pub number_a: u64,
    /// Its global number in B.
    pub number_b: u64,
}

/// Everything `diff` found.
#[derive(Clone, Debug, Default)]
pub struct Diff {
    /// The first divergence (the one lowest in A's numbering), if any.
    pub first: Option<Divergence>,
    /// How many threads differ at all.
    pub threads_differing: usize,
    /// The objects whose orders differ, first difference each.
    pub orders: Vec<OrderDifference>,
    /// Whether the verdicts and annotations differ.
    pub verdicts_differ: bool,
    /// The sensitive captures, before each thread's first difference, whose
    /// values could not be compared, in thread order.
    pub unopened: Vec<Unopened>,
}

impl Diff {
    /// Whether the traces recorded the same events, values and verdict.
    pub fn identical(&self) -> bool {
        self.same_but_unopened() && self.unopened.is_empty()
    }

    /// Whether nothing was found to differ but sensitive values that could
    /// not be compared: neither identical nor known to differ.
    pub fn undecided(&self) -> bool {
        self.same_but_unopened() && !self.unopened.is_empty()
    }

    fn same_but_unopened(&self) -> bool {
        self.first.is_none() && !self.verdicts_differ
    }
}

fn same_site(a: &Side<'_, '_>, b: &Side<'_, '_>, thread: ThreadIndex, ea: &Event, eb: &Event) -> bool {
    // A thread's start and exit are recorded inside reprise: their site
    // says which reprise built the trace, not where the program was.
    if matches!(ea.op, Op::ThreadStart | Op::ThreadExit) && ea.op == eb.op {
        return true;
    }
    let site = |s: &Side<'_, '_>, e: &Event| -> Option<Site> { s.tables.site(thread, e.site).cloned() };
    site(a, ea) == site(b, eb)
}

/// B's objects as A's: an object's index is given at its first use, so
/// the same object can have another index in another run. Two objects are
/// the same when the same thread's same event (same op, same call site)
/// names them, each thread walked until its first such difference; an
/// object left over is A's object of the same index only when both tables
/// give it the same kind and creation site. Any other B object is B's own:
/// two programs' objects are not paired by their index alone.
pub type ObjectMap = HashMap<ObjectIndex, ObjectIndex>;

/// Pairs B's objects with A's (see [`ObjectMap`]).
pub fn object_map(a: &Side<'_, '_>, b: &Side<'_, '_>) -> ObjectMap {
    let mut map = ObjectMap::new();
    let mut taken: HashSet<ObjectIndex> = HashSet::new();
    let mut pair = |ob: ObjectIndex, oa: ObjectIndex| {
        if !map.contains_key(&ob) && taken.insert(oa) {
            map.insert(ob, oa);
        }
    };
    for thread in a.numbering.threads() {
        for index in 0..a.numbering.thread_len(thread).min(b.numbering.thread_len(thread)) {
            let (Some(ea), Some(eb)) = (a.numbering.at(thread, index), b.numbering.at(thread, index)) else {
                break;
            };
            let (ea, eb) = (ea.event, eb.event);
            if ea.op != eb.op || !same_site(a, b, thread, ea, eb) {
                break;
            }
            if ea.op.has_object() {
                pair(eb.object, ea.object);
            }
            if ea.op == Op::CondWait {
                if let (Ok(oa), Ok(ob)) = (u32::try_from(ea.c), u32::try_from(eb.c)) {
                    pair(ob, oa);
                }
            }
        }
    }
    let mut left: Vec<ObjectIndex> = b.tables.object_indices().collect();
    left.sort_unstable();
    for ob in left {
        if b.tables.object(ob) == a.tables.object(ob) {
            pair(ob, ob);
        }
    }
    map
}

/// B's object `ob` as A names it, if A has it.
fn in_a(map: &ObjectMap, ob: ObjectIndex) -> Option<ObjectIndex> {
    map.get(&ob).copied()
}

/// What differs between two events of one thread, and whether their
/// sensitive values could not be compared.
fn differences(
    a: &Side<'_, '_>,
    b: &Side<'_, '_>,
    map: &ObjectMap,
    na: &Numbered<'_>,
    nb: &Numbered<'_>,
) -> (Vec<&'static str>, bool) {
    let (thread, ea, eb) = (na.thread, na.event, nb.event);
    let mut what = Vec::new();
    if ea.op != eb.op {
        what.push("op");
    }
    if !same_site(a, b, thread, ea, eb) {
        what.push("site");
    }
    if ea.op.has_object() && in_a(map, eb.object) != Some(ea.object) {
        what.push("object");
    }
    // A condvar wait's `c` is its mutex: the same when it is A's.
    let same_c = match (ea.op, eb.op, u32::try_from(eb.c)) {
        (Op::CondWait, Op::CondWait, Ok(mutex)) => in_a(map, mutex).map(u64::from) == Some(ea.c),
        _ => ea.c == eb.c,
    };
    if (ea.a, ea.b) != (eb.a, eb.b) || !same_c {
        what.push("outcome");
    }
    let bytes = values::compare(a, b, na, nb);
    if bytes == values::Bytes::Differ {
        what.push("value");
    }
    (what, bytes == values::Bytes::Unknown)
}

/// Compares `a` with `b`.
pub fn diff(a: &Side<'_, '_>, b: &Side<'_, '_>) -> Diff {
    let mut threads: Vec<ThreadIndex> = a.numbering.threads().chain(b.numbering.threads()).collect();
    threads.sort_unstable();
    threads.dedup();
    let mut result = Diff::default();
    let map = object_map(a, b);
    for thread in threads {
        let (len_a, len_b) = (a.numbering.thread_len(thread), b.numbering.thread_len(thread));
        let mut found = None;
        for index in 0..len_a.max(len_b) {
            let ea = a.numbering.at(thread, index);
            let eb = b.numbering.at(thread, index);
            let what = match (ea, eb) {
                (Some(na), Some(nb)) => {
                    let (what, unknown) = differences(a, b, &map, &na, &nb);
                    if unknown && what.is_empty() {
                        result.unopened.push(Unopened {
                            thread,
                            index,
                            number_a: na.number,
                            number_b: nb.number,
                        });
                    }
                    what
                }
                _ => vec!["length"],
            };
            if !what.is_empty() {
                found = Some(Divergence {
                    thread,
                    index,
                    number_a: ea.map(|e| e.number),
                    number_b: eb.map(|e| e.number),
                    what,
                });
                break;
            }
        }
        let Some(found) = found else { continue };
        result.threads_differing += 1;
        // The first in A's order; an event A lacks sorts after all of A's.
        let key = |d: &Divergence| (d.number_a.unwrap_or(u64::MAX), d.number_b.unwrap_or(u64::MAX));
        if result.first.as_ref().is_none_or(|f| key(&found) < key(f)) {
            result.first = Some(found);
        }
    }
    result.orders = object_orders(a, b, &map);
    let (ta, tb) = (a.numbering.trace(), b.numbering.trace());
    let footer = |t: &reprise_recorder::trace::read::TraceFile| {
        t.footer.as_ref().map(|f| (f.verdict.to_string(), f.annotations.clone()))
    };
    result.verdicts_differ = footer(ta) != footer(tb);
    result
}

pub use render::render;

#[cfg(test)]
mod tests;
