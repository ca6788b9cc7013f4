//! The real port: `examples/clearing/std_pipeline.rs` on std +
//! crossbeam-channel, `examples/clearing/pipeline.rs` its port to reprise.
//! The port differs only in its imports, records and replays to the same
//! output, and under the explorer fails with the seeded bug and passes
//! without it.

use reprise::explore::{Config as ExploreConfig, Explorer, FailureKind};
use reprise::{read_trace_file, record, replay, RecordConfig, ReplayOutcome};

use crate::util::scratch;

#[path = "../examples/clearing/std_pipeline.rs"]
mod original;
#[path = "../examples/clearing/pipeline.rs"]
mod ported;

const STD: &str = include_str!("../examples/clearing/std_pipeline.rs");
const PORT: &str = include_str!("../examples/clearing/pipeline.rs");

/// The file without its `use` lines.
fn without_imports(source: &str) -> Vec<&str> {
    source.lines().filter(|line| !line.starts_with("use ")).collect()
}

#[test]
fn the_port_differs_from_the_std_pipeline_only_in_its_imports() {
    assert_eq!(without_imports(STD), without_imports(PORT));
    let imports = |s: &str| s.lines().filter(|l| l.starts_with("use ")).count();
    assert_eq!(imports(STD), imports(PORT));
    assert!(PORT.lines().filter(|l| l.starts_with("use ")).all(|l| l.starts_with("use reprise::")));
    assert!(STD.lines().filter(|l| l.starts_with("use ")).all(|l| !l.contains("reprise")));
}

fn small(seeded_bug: bool) -> ported::Config {
    ported::Config { workers: 3, orders: 24, accounts: 3, opening_cents: 3_000, seeded_bug }
}

#[test]
fn the_original_and_the_port_run_plainly_and_hold_their_invariants() {
    let original = original::run(&original::Config {
        workers: 3,
        orders: 24,
        accounts: 3,
        opening_cents: 3_000,
        seeded_bug: false,
    });
    let ported = ported::run(&small(false));
    assert_eq!(original.settled + original.rejected, 24);
    assert_eq!(ported.settled + ported.rejected, 24);
}

#[test]
fn the_port_records_and_replays_to_the_same_output_fifty_times_out_of_fifty() {
    let dir = scratch("port-replay");
    for run in 0..50 {
        let path = dir.join(format!("clearing-{run}.trace"));
        let recorded =
            record(&path, RecordConfig::new("clearing", "1"), || ported::run(&small(false))).unwrap();
        let trace = read_trace_file(&path).unwrap();
        assert!(trace.is_whole(), "run {run}: {:?}", trace.damage);
        let replayed = replay(&trace, || ported::run(&small(false)));
        assert_eq!(replayed.outcome, ReplayOutcome::Matched, "run {run}: {}", replayed.outcome);
        assert_eq!(replayed.result, recorded.result, "run {run}: the replay's output differs");
        assert!(recorded.result.is_some(), "run {run}: the recording panicked");
        std::fs::remove_file(&path).ok();
    }
}

#[test]
fn the_explorer_finds_the_seeded_overdraft_and_its_trace_replays_to_it() {
    let dir = scratch("port-explore");
    let config = ExploreConfig::default().budget(2_000).trace_dir(&dir).name("clearing-bug");
    let outcome = Explorer::new(config).run(|| {
        ported::run(&small(true));
    });
    let failure = outcome.failure.expect("the explorer finds the overdraft");
    assert!(
        matches!(&failure.kind, FailureKind::Panic { message, .. } if message.contains("overdrawn")),
        "{:?}",
        failure.kind
    );
    let trace = read_trace_file(failure.trace.as_ref().expect("a trace")).unwrap();
    let replayed = replay(&trace, || {
        ported::run(&small(true));
    });
    assert_eq!(replayed.outcome, ReplayOutcome::Matched, "{}", replayed.outcome);
    assert_eq!(replayed.result, None, "the replay panics as the explored run did");
}

#[test]
fn the_explorer_passes_the_clean_pipeline() {
    let dir = scratch("port-clean");
    let config = ExploreConfig::default().budget(300).trace_dir(&dir).name("clearing-clean");
    let outcome = Explorer::new(config).run(|| {
        ported::run(&small(false));
    });
    assert!(outcome.failure.is_none(), "{:?}", outcome.failure.map(|f| f.report));
    assert!(outcome.schedules >= 1);
}

#[test]
fn both_twins_read_the_command_line_alike() {
    let args: Vec<String> = ["2", "--seeded-bug", "30"].iter().map(|a| a.to_string()).collect();
    let (o, p) = (original::Config::from_args(&args), ported::Config::from_args(&args));
    assert_eq!((o.workers, o.orders, o.seeded_bug), (2, 30, true));
    assert_eq!((p.workers, p.orders, p.seeded_bug), (2, 30, true));
}
