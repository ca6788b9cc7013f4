//! How the explorer searches: a search's runs write no trace, so a failing
//! schedule is run again to be recorded (and one that does not fail again
//! says so); DFS bounds preemptions iteratively, so the shallowest failure
//! comes first; many threads are scheduled without a scan of them all.

use std::sync::atomic::{AtomicU64 as StdAtomicU64, Ordering as StdOrdering};

use reprise::explore::{Config, Explorer, StrategyKind};
use reprise::thread;

use crate::util::scratch;

#[test]
fn a_failure_that_does_not_repeat_when_run_again_comes_without_a_trace_and_says_why() {
    // A std atomic: outside reprise, shared between the runs.
    static RUNS: StdAtomicU64 = StdAtomicU64::new(0);
    let config = Config::default()
        .strategy(StrategyKind::Random)
        .budget(50)
        .trace_dir(scratch("explore-unrepeated"))
        .name("unrepeated");
    let outcome = Explorer::new(config).run(|| {
        let run = RUNS.fetch_add(1, StdOrdering::SeqCst);
        thread::spawn(|| {}).join().unwrap();
        assert_ne!(run, 3, "only the fourth run fails");
    });
    let failure = outcome.failure.expect("the fourth run fails");
    assert_eq!(failure.schedule, 4);
    assert!(failure.trace.is_none(), "{}", failure.report);
    assert!(failure.report.contains("no trace: the failing schedule, run again"), "{}", failure.report);
    assert!(failure.report.contains("not deterministic given its schedule"), "{}", failure.report);
}
