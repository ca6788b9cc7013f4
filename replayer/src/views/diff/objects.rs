//! Per-object orders of two traces, compared: which thread took each turn
//! of a lock, a write lock or an atomic's modification order, and which
//! message each receive on a channel took.

use std::collections::{BTreeMap, HashMap};

use reprise_recorder::trace::model::{ObjectIndex, Op, Outcome, Received, ThreadIndex, TurnClass};

use super::{in_a, ObjectMap, Side};

/// One position of an object's order, as one trace has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Taker {
    /// The thread that took it.
    pub thread: ThreadIndex,
    /// The thread's name or `thread N`.
    pub thread_label: String,
    /// The event's global number.
    pub number: u64,
    /// The event's call site.
    pub site: String,
    /// For a channel, the message taken (`sender/seq`).
    pub message: Option<(ThreadIndex, u64)>,
}

/// The first position where two traces' orders of one object differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderDifference {
    /// The object's index in A (`None`: only B has it).
    pub object_a: Option<ObjectIndex>,
    /// Its index in B (`None`: only A has it).
    pub object_b: Option<ObjectIndex>,
    /// How A's trace names it (kind, index, creation site), if A has it.
    pub label_a: Option<String>,
    /// How B's trace names it, if B has it.
    pub label_b: Option<String>,
    /// "turn" (lock), "write", "store", "access" (a tracked cell) or "message".
    pub kind: &'static str,
    /// The position in the order (a turn number, or the n-th message taken).
    pub position: u64,
    /// Who took it in A (`None`: A's order is shorter).
    pub a: Option<Taker>,
    /// Who took it in B.
    pub b: Option<Taker>,
}

type Orders = BTreeMap<(ObjectIndex, &'static str), Vec<(u64, Taker)>>;

/// An object of either trace: A's index for one both have, else its own
/// trace's index with whose it is, so B's own object never stands for A's
/// object of the same index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Key {
    /// A's object (paired with B's or not).
    A(ObjectIndex),
    /// An object only B has.
    OnlyB(ObjectIndex),
}

fn orders(side: &Side<'_, '_>) -> Orders {
    let mut orders: Orders = BTreeMap::new();
    for n in side.numbering.iter() {
        let Ok(outcome) = n.event.outcome() else { continue };
        let taker = |message| Taker {
            thread: n.thread,
            thread_label: side.tables.thread_label(n.thread),
            number: n.number,
            site: side.tables.site_label(n.thread, n.event.site),
            message,
        };
        if let Some(turn) = outcome.turn(n.event.object) {
            let kind = match turn.class {
                TurnClass::Lock => "turn",
                TurnClass::Write => "write",
                // A tracked cell's reads and writes share one counter, which
                // every other view calls its accesses.
                TurnClass::Store if matches!(n.event.op, Op::TrackedRead | Op::TrackedWrite) => "access",
                TurnClass::Store => "store",
            };
            orders.entry((turn.object, kind)).or_default().push((turn.number, taker(None)));
            continue;
        }
        if let Outcome::Recv(r)
        | Outcome::TryRecv(r)
        | Outcome::RecvTimeout(r)
        | Outcome::Select { received: r, .. } = outcome
        {
            if let Received::Message { sender, seq } = r {
                let list = orders.entry((n.event.object, "message")).or_default();
                let position = list.len() as u64 + 1;
                list.push((position, taker(Some((sender, seq)))));
            }
        }
    }
    for list in orders.values_mut() {
        list.sort_by_key(|(position, _)| *position);
    }
    orders
}

/// Every object whose order differs between `a` and `b`, with its first
/// differing position, in object order (A's objects first).
pub fn object_orders(a: &Side<'_, '_>, b: &Side<'_, '_>, map: &ObjectMap) -> Vec<OrderDifference> {
    let in_b: HashMap<ObjectIndex, ObjectIndex> = map.iter().map(|(&ob, &oa)| (oa, ob)).collect();
    let oa: BTreeMap<(Key, &'static str), _> =
        orders(a).into_iter().map(|((object, kind), list)| ((Key::A(object), kind), list)).collect();
    let ob: BTreeMap<(Key, &'static str), _> = orders(b)
        .into_iter()
        .map(|((object, kind), list)| {
            let key = in_a(map, object).map_or(Key::OnlyB(object), Key::A);
            ((key, kind), list)
        })
        .collect();
    let mut keys: Vec<_> = oa.keys().chain(ob.keys()).copied().collect();
    keys.sort_unstable();
    keys.dedup();
    let empty = Vec::new();
    let mut found = Vec::new();
    for key @ (object, kind) in keys {
        let (object_a, object_b) = match object {
            Key::A(o) => (Some(o), in_b.get(&o).copied()),
            Key::OnlyB(o) => (None, Some(o)),
        };
        let (la, lb) = (oa.get(&key).unwrap_or(&empty), ob.get(&key).unwrap_or(&empty));
        let same = |x: &Taker, y: &Taker| x.thread == y.thread && x.message == y.message;
        for i in 0..la.len().max(lb.len()) {
            let (ta, tb) = (la.get(i), lb.get(i));
            let differs = match (ta, tb) {
                (Some((pa, x)), Some((pb, y))) => pa != pb || !same(x, y),
                _ => true,
            };
            if differs {
                let position = ta.or(tb).map_or(0, |(p, _)| *p);
                found.push(OrderDifference {
                    object_a,
                    object_b,
                    label_a: object_a.map(|o| a.tables.object_label(o)),
                    label_b: object_b.map(|o| b.tables.object_label(o)),
                    kind,
                    position,
                    a: ta.map(|(_, t)| t.clone()),
                    b: tb.map(|(_, t)| t.clone()),
                });
                break;
            }
        }
    }
    found
}
