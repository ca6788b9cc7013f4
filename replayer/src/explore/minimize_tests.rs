//! Minimization gives a 1-minimal schedule: each preemption left is needed.

use std::rc::Rc;

const LIMITS: crate::explore::Limits =
    crate::explore::Limits { max_steps: 10_000, time_choices: true, time_horizon: None };

use reprise_recorder::sync::atomic::{AtomicU64, Ordering};
use reprise_recorder::sync::Arc;
use reprise_recorder::thread;

use super::{minimize, preemptions, run_plan, Found, Plan};
use crate::explore::strategy::{RandomWalk, Strategy};
use crate::explore::{failure_of, run_once};

/// Three threads each count on an atomic of their own, then add to a
/// shared one with a load and a store: a random walk preempts all along,
/// the bug needs one preemption.
fn lost_update() {
    let shared = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let own = AtomicU64::new(0);
                for _ in 0..6 {
                    own.fetch_add(1, Ordering::SeqCst);
                }
                let seen = shared.load(Ordering::SeqCst);
                shared.store(seen + 1, Ordering::SeqCst);
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(shared.load(Ordering::SeqCst), 3, "an update was lost");
}

/// The first schedule of a random walk that fails, with many preemptions.
fn a_failing_random_run(program: &Rc<fn()>) -> Found {
    let mut strategy: Box<dyn Strategy> = Box::new(RandomWalk::new(11));
    for index in 0..5000 {
        strategy.begin(index);
        let (mut explored, result) = run_once(program, strategy, LIMITS, Default::default(), index, |_| ());
        strategy = explored.end.strategy.take().unwrap();
        if let Some(kind) = failure_of(&mut explored.end, result.as_ref(), &|_: &()| None) {
            if preemptions(&explored) > 3 {
                return Found { explored, kind };
            }
        }
    }
    panic!("no failing random schedule with more than 3 preemptions");
}

#[test]
fn a_random_lost_update_comes_back_1_minimal_with_at_most_3_preemptions() {
    let program: Rc<fn()> = Rc::new(lost_update);
    let found = a_failing_random_run(&program);
    let before = preemptions(&found.explored);
    let check = |_: &()| None;
    let (best, minimized) = minimize(&program, &check, found, LIMITS, 0, 2000);
    let after = preemptions(&best.explored);
    assert!(minimized.one_minimal, "the budget ran out after {} runs", minimized.runs);
    assert!(after <= 3 && after < before, "{before} preemptions minimized to {after}");
    // Each way of removing any one preemption left makes the program pass,
    // or is no removal (the run it gives has as many preemptions).
    let plan = Plan::of(&best.explored.end.log, &best.explored.end.side);
    let points = Plan::preempting(&best.explored.end.log);
    assert_eq!(points.len(), after);
    let mut passed = 0;
    for s in points {
        for candidate in plan.removals(s) {
            let (mut again, result) = run_plan(&program, &candidate, LIMITS, 0, false);
            let fewer = preemptions(&again) < after;
            match failure_of(&mut again.end, result.as_ref(), &check) {
                None => passed += 1,
                Some(failed) => assert!(
                    !(fewer && failed.same_kind(&best.kind)),
                    "still fails without the preemption of segment {s}: {failed:?}"
                ),
            }
        }
    }
    assert!(passed > 0 || after == 0, "no removal passes");
    // And the minimized plan itself still fails the same way.
    let (mut again, result) = run_plan(&program, &plan, LIMITS, 0, false);
    let failed = failure_of(&mut again.end, result.as_ref(), &check).expect("the minimized schedule fails");
    assert!(failed.same_kind(&best.kind));
}
