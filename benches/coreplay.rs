//! Replay on coroutines against parallel replay, side by side in one run: the
//! payments pipeline (4 workers, 20,000 payments, zero work per message)
//! recorded once, then replayed both ways from the same trace.
//!
//! After criterion's group, a ratio pass times record, parallel replay and
//! coroutine replay in interleaved rounds (so machine noise hits all three
//! alike) and prints each replay's throughput against the recording's and
//! coroutines against parallel. Run it with
//! `cargo bench --bench coreplay` (criterion's arguments work as usual).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{black_box, Criterion, Throughput};
use reprise::pipelines::payments::{self, Bug, PaymentsConfig};
use reprise::trace::read::TraceFile;
use reprise::{read_trace_file, replay, replay_coroutines, ReplayOutcome};

/// Payments per run.
const PAYMENTS: u64 = 20_000;

/// Ledger workers per run.
const WORKERS: usize = 4;

/// Rounds of the ratio pass; each times every mode once.
const RATIO_ROUNDS: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Record,
    Parallel,
    Coroutines,
}

impl Mode {
    const ALL: [Mode; 3] = [Mode::Record, Mode::Parallel, Mode::Coroutines];

    fn name(self) -> &'static str {
        match self {
            Mode::Record => "record",
            Mode::Parallel => "replay_parallel",
            Mode::Coroutines => "replay_coroutines",
        }
    }
}

fn config() -> PaymentsConfig {
    PaymentsConfig { bug: Bug::None, payments: PAYMENTS, workers: WORKERS, seed: 1, work_ns: 0 }
}

fn record_to(path: &Path) {
    let config = config();
    let recording =
        reprise::record(path, reprise::RecordConfig::new("bench", "1"), move || payments::run(&config))
            .expect("cannot record the benchmark trace");
    let outcome =
        recording.result.unwrap_or_else(|| panic!("record: the run ended with {}", recording.verdict));
    assert!(outcome.is_ok(), "record: {}", outcome.invariants_line());
}

/// Runs `mode` once; a replay must match its trace (a benchmark of a broken
/// replay measures nothing).
fn run_once(mode: Mode, scratch: &Path, trace: &TraceFile) {
    let config = config();
    match mode {
        Mode::Record => record_to(scratch),
        Mode::Parallel => {
            let report = replay(trace, move || payments::run(&config));
            assert_eq!(report.outcome, ReplayOutcome::Matched, "parallel: {}", report.outcome);
            black_box(report.result);
        }
        Mode::Coroutines => {
            let report = replay_coroutines(trace, move || payments::run(&config));
            assert_eq!(report.outcome, ReplayOutcome::Matched, "coroutines: {}", report.outcome);
            black_box(report.result);
        }
    }
}

fn paths() -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir();
    let id = std::process::id();
    (
        dir.join(format!("reprise-coreplay-{id}.trace")),
        dir.join(format!("reprise-coreplay-{id}-scratch.trace")),
    )
}

/// Times each mode in `RATIO_ROUNDS` interleaved rounds and prints the
/// ratios of the median times.
fn print_ratios(scratch: &Path, trace: &TraceFile) {
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); Mode::ALL.len()];
    for round in 0..RATIO_ROUNDS {
        for k in 0..Mode::ALL.len() {
            let at = (round + k) % Mode::ALL.len();
            let started = Instant::now();
            run_once(Mode::ALL[at], scratch, trace);
            times[at].push(started.elapsed());
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64()
    };
    let [record, parallel, coroutines] = [0, 1, 2].map(|i| median(&mut times[i]));
    println!();
    println!(
        "ratios: median of {RATIO_ROUNDS} interleaved rounds, {PAYMENTS} payments, {WORKERS} workers, \
         {} events",
        trace.events
    );
    for (name, secs) in [("record", record), ("replay parallel", parallel), ("replay coroutines", coroutines)]
    {
        println!("  {name:<18} {:>8.1} ms  {:>10.0} payments/s", secs * 1e3, PAYMENTS as f64 / secs);
    }
    println!("  parallel replay / record:   {:.2}x (throughput; budget 0.5x)", record / parallel);
    println!("  coroutine replay / record:  {:.2}x", record / coroutines);
    println!("  coroutine / parallel:       {:.2}x", parallel / coroutines);
}

fn main() {
    let (path, scratch) = paths();
    record_to(&path);
    let trace = read_trace_file(&path).expect("the benchmark trace reads back");
    let mut criterion = Criterion::default().configure_from_args();
    {
        let mut group = criterion.benchmark_group("payments_replay");
        group
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(5))
            .throughput(Throughput::Elements(PAYMENTS));
        for mode in Mode::ALL {
            group.bench_function(mode.name(), |b| b.iter(|| run_once(mode, &scratch, &trace)));
        }
        group.finish();
    }
    criterion.final_summary();
    // `cargo test --benches` runs this once in test mode: skip the long pass.
    if !std::env::args().any(|a| a == "--test" || a == "--list") {
        print_ratios(&scratch, &trace);
    }
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(&scratch);
}
