//! (4) Reordering across two channels: the gateway sends a new order on the
//! order channel, then its cancel on a separate fast lane that the matching
//! engine polls first. Each channel is FIFO, but nothing orders one against
//! the other: when both are queued, the cancel comes first, finds no order
//! to cancel, and the order then goes live.
//!
//! The engine polls its lanes with `try_recv` (under the explorer, a
//! `channel::select` over ready arms would work too: which arm it takes is a
//! choice of the schedule).
//!
//! Measured (seed 0): random found it at schedule 0 (it needs no
//! preemption: the gateway sends both before the engine polls); over seeds
//! 0-29: median 0, at most 3.

use std::collections::BTreeSet;

use reprise::channel::{self, Receiver, Sender};
use reprise::explore::StrategyKind;
use reprise::thread;

use super::{Bug, Hunt};

const HUNT: Hunt = Hunt::new("reordering", StrategyKind::Random, 200);

#[derive(Debug)]
enum Msg {
    New(u64),
    Cancel(u64),
}

/// The matching engine: handles two messages, cancels first, and returns
/// the orders left live and the cancels it rejected.
fn engine(cancels: Receiver<Msg>, orders: Receiver<Msg>) -> (BTreeSet<u64>, Vec<u64>) {
    let (mut book, mut rejected) = (BTreeSet::new(), Vec::new());
    let mut handled = 0;
    while handled < 2 {
        let Some(msg) = cancels.try_recv().or_else(|_| orders.try_recv()).ok() else {
            thread::yield_now();
            continue;
        };
        handled += 1;
        match msg {
            Msg::New(id) => {
                book.insert(id);
            }
            Msg::Cancel(id) => {
                if !book.remove(&id) {
                    rejected.push(id);
                }
            }
        }
    }
    (book, rejected)
}

/// Sends order 1, then its cancel on the fast lane or behind the order.
fn gateway(lane: Lane) {
    let (cancel_tx, cancel_rx) = channel::unbounded();
    let (order_tx, order_rx) = channel::unbounded();
    let engine = thread::spawn(move || engine(cancel_rx, order_rx));
    order_tx.send(Msg::New(1)).unwrap();
    let cancel_lane: &Sender<Msg> = match lane {
        Lane::Fast => &cancel_tx,
        Lane::BehindTheOrder => &order_tx,
    };
    cancel_lane.send(Msg::Cancel(1)).unwrap();
    let (book, rejected) = engine.join().unwrap();
    assert!(book.is_empty(), "reordered: orders {book:?} live after their cancel (rejected {rejected:?})");
}

/// Where the gateway sends a cancel.
#[derive(Clone, Copy)]
enum Lane {
    Fast,
    BehindTheOrder,
}

fn buggy() {
    gateway(Lane::Fast)
}

/// The cancel follows its order on the same channel.
fn fixed() {
    gateway(Lane::BehindTheOrder)
}

#[test]
fn reordering_across_two_channels_is_found_by_random_within_200_schedules() {
    HUNT.finds(Bug::Panics("reordered"), buggy);
}

#[test]
fn fixed_reordering_passes_200_schedules() {
    HUNT.passes(fixed);
}
