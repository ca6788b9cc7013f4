use super::*;
use crate::views::number::{number, tests::trace_of};
use reprise_recorder::trace::model::{Event, ObjectIndex, Op};

fn ev(op: Op, object: ObjectIndex, a: u64) -> Event {
    Event { op, object, site: 0, a, b: 0, c: 0 }
}

fn two_workers(first: u64, second: u64) -> reprise_recorder::trace::read::TraceFile {
    let start = ev(Op::ThreadStart, 0, 0);
    trace_of(vec![
        vec![start, ev(Op::Spawn, 0, 1), ev(Op::Spawn, 0, 2)],
        vec![start, ev(Op::Lock, 7, first), ev(Op::Unlock, 7, 0)],
        vec![start, ev(Op::Lock, 7, second), ev(Op::Unlock, 7, 0)],
    ])
}

#[test]
fn the_same_trace_is_identical_and_a_swapped_lock_order_is_named() {
    let (a, b) = (two_workers(1, 2), two_workers(2, 1));
    let (na, nb) = (number(&a), number(&b));
    let (tables_a, tables_b) = (Tables::of(&a), Tables::of(&b));
    let side_a = Side { numbering: &na, tables: &tables_a, key: None };
    let side_b = Side { numbering: &nb, tables: &tables_b, key: None };
    assert!(diff(&side_a, &side_a).identical());
    let d = diff(&side_a, &side_b);
    assert!(!d.identical());
    let first = d.first.clone().unwrap();
    assert_eq!((first.thread, first.index, first.what.clone()), (1, 1, vec!["outcome"]));
    assert_eq!(d.threads_differing, 2);
    assert_eq!(d.orders.len(), 1);
    let o = &d.orders[0];
    assert_eq!((o.object_a, o.object_b, o.kind, o.position), (Some(7), Some(7), "turn", 1));
    assert_eq!((o.a.as_ref().unwrap().thread, o.b.as_ref().unwrap().thread), (1, 2));
    let text = render(&d, &side_a, &side_b).join("\n");
    assert!(text.contains("A gave turn 1 to thread 1"), "{text}");
}
