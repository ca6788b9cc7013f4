//! (10) A shutdown race that loses the last messages: the settler polls the
//! fills channel until it sees the stop flag; the desk sends its last fills
//! and raises the flag right after, and if the settler sees the flag before
//! it has drained the channel, those fills are never settled. The fix drains
//! the channel after seeing the flag: every fill was sent before the flag was
//! raised, so the drain gets them all.
//!
//! Measured (seed 0): PCT depth 2 found it at schedule 1 (no preemption
//! needed); over seeds 0-29: median 0, at most 1.

use reprise::channel::{self, Receiver};
use reprise::explore::StrategyKind;
use reprise::sync::atomic::{AtomicBool, Ordering};
use reprise::sync::Arc;
use reprise::thread;

use super::{Bug, Hunt};

const HUNT: Hunt = Hunt::new("shutdown", StrategyKind::Pct { depth: 2 }, 200);

/// Settles fills until the flag is raised.
fn settle_until_stopped(fills: &Receiver<i64>, stop: &AtomicBool) -> i64 {
    let mut settled = 0;
    while !stop.load(Ordering::SeqCst) {
        match fills.try_recv() {
            Ok(fill) => settled += fill,
            Err(_) => thread::yield_now(),
        }
    }
    settled
}

/// Settles fills until the flag is raised, then what is still queued.
fn settle_and_drain(fills: &Receiver<i64>, stop: &AtomicBool) -> i64 {
    let settled = settle_until_stopped(fills, stop);
    settled + fills.try_iter().sum::<i64>()
}

fn desk(settle: fn(&Receiver<i64>, &AtomicBool) -> i64) {
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = channel::unbounded();
    let settler = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || settle(&rx, &stop))
    };
    for fill in [100, 250] {
        tx.send(fill).unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    let settled = settler.join().unwrap();
    assert_eq!(settled, 350, "fills lost at shutdown: settled {settled} of 350");
}

fn buggy() {
    desk(settle_until_stopped)
}

fn fixed() {
    desk(settle_and_drain)
}

#[test]
fn shutdown_race_losing_the_last_fills_is_found_by_pct_within_200_schedules() {
    HUNT.finds(Bug::Panics("fills lost at shutdown"), buggy);
}

#[test]
fn fixed_shutdown_drains_every_fill_in_200_schedules() {
    HUNT.passes(fixed);
}
