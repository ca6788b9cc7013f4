//! Recording and replaying side by side in one run, with the ratios DESIGN.md
//! budgets: replay throughput against record throughput on the payments
//! pipeline (4 workers, 20,000 payments; 1,000,000 with
//! `REPRISE_BENCH_MILLION=1`), and replay time per thread of a small program
//! of N threads (500 to 4,000), which must stay flat (linear in threads).
//!
//! Replay is timed from a trace already read into memory (`reprise::replay`
//! on a `TraceFile`): reading the file is `verify`'s and `inspect`'s cost,
//! not the gate's. Every run checks its outcome (invariants held, the replay
//! matched), so a broken run fails the benchmark instead of being timed.
//!
//! `cargo bench --bench replay -- ratios` runs only the ratio table;
//! `REPRISE_BENCH_ROUNDS` sets its rounds (default 3).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{black_box, Criterion, Throughput};
use reprise::pipelines::payments::{self, Bug, PaymentsConfig};
use reprise::trace::read::TraceFile;

/// Ledger workers of the payments runs.
const WORKERS: usize = 4;

/// The payments sizes: 20,000 always, 1,000,000 behind an env var (one
/// recording of it takes seconds, too long for criterion's loop).
const SMALL_PAYMENTS: u64 = 20_000;
const LARGE_PAYMENTS: u64 = 1_000_000;
const LARGE_ENV: &str = "REPRISE_BENCH_MILLION";

/// Thread counts of the small program.
const THREAD_COUNTS: [usize; 4] = [500, 1_000, 2_000, 4_000];

/// Lock turns each thread of the small program takes.
const LOCKS_PER_THREAD: u64 = 4;

/// DESIGN.md's budget: replay throughput against record throughput.
const REPLAY_BUDGET: f64 = 0.5;

fn payments_config(payments: u64) -> PaymentsConfig {
    PaymentsConfig { bug: Bug::None, payments, workers: WORKERS, seed: 1, work_ns: 0 }
}

/// The small program: `n` threads each lock a shared mutex a few times and
/// send once; the root receives every message and joins every thread.
fn threads_program(n: usize) -> u64 {
    let counter = std::sync::Arc::new(reprise::sync::Mutex::new(0u64));
    let (tx, rx) = reprise::channel::unbounded::<u64>();
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let counter = std::sync::Arc::clone(&counter);
            let tx = tx.clone();
            reprise::thread::spawn(move || {
                for _ in 0..LOCKS_PER_THREAD {
                    *counter.lock().unwrap() += 1;
                }
                tx.send(i as u64).unwrap();
            })
        })
        .collect();
    drop(tx);
    let mut sum = 0;
    for _ in 0..n {
        sum += rx.recv().unwrap();
    }
    for handle in handles {
        handle.join().unwrap();
    }
    let total = *counter.lock().unwrap();
    assert_eq!(total, n as u64 * LOCKS_PER_THREAD);
    sum
}

/// A workload: what it records and replays.
#[derive(Clone, Copy, Debug)]
enum Workload {
    Payments(u64),
    Threads(usize),
}

impl Workload {
    fn label(self) -> String {
        match self {
            Workload::Payments(n) => format!("payments {n}"),
            Workload::Threads(n) => format!("{n} threads"),
        }
    }

    /// Records one run into `trace`; returns the time it took.
    fn record(self, trace: &Path) -> Duration {
        let start = Instant::now();
        match self {
            Workload::Payments(n) => {
                let config = payments_config(n);
                let recording = reprise::record(trace, reprise::RecordConfig::new("bench", "1"), move || {
                    payments::run(&config)
                })
                .expect("cannot record the benchmark trace");
                let outcome = recording.result.expect("the recorded run did not complete");
                assert!(outcome.is_ok(), "record: {}", outcome.invariants_line());
                black_box(outcome);
            }
            Workload::Threads(n) => {
                let recording = reprise::record(trace, reprise::RecordConfig::new("bench", "1"), move || {
                    threads_program(n)
                })
                .expect("cannot record the benchmark trace");
                black_box(recording.result.expect("the recorded run did not complete"));
            }
        }
        start.elapsed()
    }

    /// Replays `trace` once; returns the time it took.
    fn replay(self, trace: &TraceFile) -> Duration {
        let start = Instant::now();
        match self {
            Workload::Payments(n) => {
                let config = payments_config(n);
                let report = reprise::replay(trace, move || payments::run(&config));
                assert!(report.outcome.matched(), "replay: {:?}", report.outcome);
                black_box(report.result);
            }
            Workload::Threads(n) => {
                let report = reprise::replay(trace, move || threads_program(n));
                assert!(report.outcome.matched(), "replay: {:?}", report.outcome);
                black_box(report.result);
            }
        }
        start.elapsed()
    }
}

fn read(trace: &Path) -> TraceFile {
    reprise::read_trace_file(trace).expect("cannot read the benchmark trace")
}

fn bench_groups(c: &mut Criterion, path: &Path) {
    let mut group = c.benchmark_group("replay_payments");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(SMALL_PAYMENTS));
    let workload = Workload::Payments(SMALL_PAYMENTS);
    group.bench_function("record", |b| b.iter(|| workload.record(path)));
    workload.record(path);
    let trace = read(path);
    group.bench_function("replay", |b| b.iter(|| workload.replay(&trace)));
    group.finish();

    let mut group = c.benchmark_group("replay_threads");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    for n in THREAD_COUNTS {
        let workload = Workload::Threads(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("record/{n}"), |b| b.iter(|| workload.record(path)));
        workload.record(path);
        let trace = read(path);
        group.bench_function(format!("replay/{n}"), |b| b.iter(|| workload.replay(&trace)));
    }
    group.finish();
}

/// One row of the table: median record and replay times over the rounds,
/// each round recording then replaying (so noise hits both alike).
struct Row {
    workload: Workload,
    record: Duration,
    replay: Duration,
}

fn measure(workload: Workload, path: &Path, rounds: usize) -> Row {
    let mut records = Vec::with_capacity(rounds);
    let mut replays = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        records.push(workload.record(path));
        let trace = read(path);
        replays.push(workload.replay(&trace));
    }
    Row { workload, record: median(records), replay: median(replays) }
}

fn print_table(path: &Path) {
    let rounds =
        std::env::var("REPRISE_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(3usize).max(1);
    let mut payment_sizes = vec![SMALL_PAYMENTS];
    if std::env::var_os(LARGE_ENV).is_some() {
        payment_sizes.push(LARGE_PAYMENTS);
    }
    println!();
    println!("replay against record: median of {rounds} rounds (each records, then replays the trace just written)");
    println!("{:<16} {:>12} {:>12} {:>22}", "payments", "record/s", "replay/s", "replay / record");
    for n in payment_sizes {
        let row = measure(Workload::Payments(n), path, rounds);
        let rate = |d: Duration| n as f64 / d.as_secs_f64();
        let ratio = row.record.as_secs_f64() / row.replay.as_secs_f64();
        println!(
            "{:<16} {:>10.3} M {:>10.3} M {:>10.2}x (budget >= {REPLAY_BUDGET}x)",
            row.workload.label(),
            rate(row.record) / 1e6,
            rate(row.replay) / 1e6,
            ratio
        );
    }
    println!();
    println!(
        "{:<16} {:>16} {:>16} {:>16} {:>20}",
        "threads", "record us/thread", "replay us/thread", "replay / record", "replay us/thread vs 500"
    );
    let mut first = None;
    for n in THREAD_COUNTS {
        let row = measure(Workload::Threads(n), path, rounds);
        let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
        let base = *first.get_or_insert(per(row.replay));
        println!(
            "{:<16} {:>16.1} {:>16.1} {:>15.2}x {:>19.2}x",
            row.workload.label(),
            per(row.record),
            per(row.replay),
            row.replay.as_secs_f64() / row.record.as_secs_f64(),
            per(row.replay) / base
        );
    }
    println!("(linear in threads: replay us/thread stays near 1.00x of the 500-thread figure)");
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

/// Whether the ratio table was asked for: `cargo bench` without a filter or
/// with the filter `ratios`; not under `cargo test --benches` or `--list`.
fn table_requested() -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    if !flag("--bench") || flag("--test") || flag("--list") || flag("--profile-time") {
        return false;
    }
    let filter = args.iter().find(|a| !a.starts_with('-'));
    filter.is_none_or(|f| "ratios".contains(f.as_str()))
}

/// Whether criterion's groups should run: not when only `ratios` was asked for.
fn groups_requested() -> bool {
    !std::env::args().skip(1).any(|a| a == "ratios")
}

fn trace_path() -> PathBuf {
    std::env::temp_dir().join(format!("reprise-bench-replay-{}.trace", std::process::id()))
}

fn main() {
    let path = trace_path();
    if groups_requested() {
        let mut criterion = Criterion::default().configure_from_args();
        bench_groups(&mut criterion, &path);
        criterion.final_summary();
    }
    if table_requested() {
        print_table(&path);
    }
    let _ = std::fs::remove_file(&path);
}
