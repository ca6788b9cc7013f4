//! An end-of-day risk batch in phases on a `Barrier`: four desks revalue
//! their books each phase into a slot of a shared vector, meet at the
//! barrier, and the one `wait` names leader nets the slots into the
//! phase's total and publishes it as the next phase's shock; a second
//! wait keeps the next phase's writes off the slots until the netting is
//! done. The planted bug leaves that second wait out.

use std::sync::Arc;

use reprise::sync::atomic::{AtomicUsize, Ordering};
use reprise::sync::{Barrier, Mutex, RwLock};
use reprise::thread;

const DESKS: usize = 4;
const PHASES: u64 = 3;

/// A desk's revaluation of its book under a shock.
fn revalue(desk: usize, phase: u64, shock: u64) -> u64 {
    (desk as u64 + 1) * 10 + phase * 3 + shock % 7
}

/// The totals a correct batch nets, phase by phase.
fn expected_totals() -> Vec<u64> {
    let mut shock = 1;
    (0..PHASES)
        .map(|phase| {
            shock = (0..DESKS).map(|d| revalue(d, phase, shock)).sum();
            shock
        })
        .collect()
}

/// The batch; `fenced` keeps the second wait. Returns the totals and who
/// led each phase.
fn batch(fenced: bool) -> (Vec<u64>, Vec<usize>) {
    let barrier = Arc::new(Barrier::new(DESKS));
    let slots = Arc::new(Mutex::new(vec![0u64; DESKS]));
    let shock = Arc::new(RwLock::new(1u64));
    let totals = Arc::new(Mutex::new(Vec::new()));
    let leaders = Arc::new(Mutex::new(vec![usize::MAX; PHASES as usize]));
    let led = Arc::new(AtomicUsize::new(0));
    let desks: Vec<_> = (0..DESKS)
        .map(|desk| {
            let (barrier, slots, shock) = (Arc::clone(&barrier), Arc::clone(&slots), Arc::clone(&shock));
            let (totals, leaders, led) = (Arc::clone(&totals), Arc::clone(&leaders), Arc::clone(&led));
            thread::Builder::new()
                .name(format!("desk-{desk}"))
                .spawn(move || {
                    for phase in 0..PHASES {
                        let s = *shock.read().unwrap();
                        slots.lock().unwrap()[desk] = revalue(desk, phase, s);
                        if barrier.wait().is_leader() {
                            led.fetch_add(1, Ordering::SeqCst);
                            let total: u64 = slots.lock().unwrap().iter().sum();
                            *shock.write().unwrap() = total;
                            totals.lock().unwrap().push(total);
                            leaders.lock().unwrap()[phase as usize] = desk;
                        }
                        if fenced {
                            barrier.wait();
                        }
                    }
                })
                .unwrap()
        })
        .collect();
    for d in desks {
        d.join().unwrap();
    }
    assert_eq!(led.load(Ordering::SeqCst), PHASES as usize, "one leader a phase");
    let totals = totals.lock().unwrap().clone();
    let leaders = leaders.lock().unwrap().clone();
    (totals, leaders)
}

/// The correct batch: its totals are fixed, its leaders the schedule's.
pub(crate) fn risk_batch() -> String {
    let (totals, leaders) = batch(true);
    assert_eq!(totals, expected_totals(), "a phase netted another phase's slots");
    format!("totals {totals:?}, leaders {leaders:?}")
}

/// Planted: no second wait, so a fast desk revalues the next phase (from a
/// stale shock, into its slot) before the leader has netted this one.
pub(crate) fn unfenced_batch() {
    let (totals, _) = batch(false);
    assert_eq!(totals, expected_totals(), "planted: a phase netted another phase's slots");
}
