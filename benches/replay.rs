//! Recording and replaying side by side in one run, with the ratios DESIGN.md
//! budgets: replay throughput against record throughput on the payments
//! pipeline (4 workers, 20,000 payments; 1,000,000 with
//! `REPRISE_BENCH_MILLION=1`), for both replay modes (parallel, the default,
//! and on coroutines, the fast mode), and replay time per thread of a small
//! program of N threads (500 to 4,000), which must stay flat (linear in
//! threads).
//!
//! Parallel replay is timed from a trace already read into memory
//! (`reprise::replay` on a `TraceFile`): reading the file is `verify`'s and
//! `inspect`'s cost, not the gate's. Coroutine replay is timed the same way,
//! and from the file as `reprise replay --coroutines` does it (the index
//! pass over the file timed too). Every run checks its outcome (invariants
//! held, the replay matched), so a broken run fails the benchmark instead of
//! being timed.
//!
//! `cargo bench --bench replay -- ratios` runs only the ratio tables;
//! `REPRISE_BENCH_ROUNDS` sets their rounds (default 3).
//! `cargo bench --bench replay -- profile` records the payments pipeline
//! once and replays it `REPRISE_BENCH_PROFILE_RUNS` times (default 20) in
//! the mode `REPRISE_BENCH_PROFILE_MODE` names (`coroutines`, the default, or
//! `parallel`), `REPRISE_BENCH_PROFILE_PAYMENTS` payments (default 20,000):
//! a driver for `perf record` and `valgrind --tool=callgrind`. With
//! `REPRISE_BENCH_PROFILE_TRACE=FILE` it replays that trace (recorded there
//! first if it does not exist), so that profiles of two builds compare.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{black_box, Criterion, Throughput};
use reprise::pipelines::payments::{self, Bug, PaymentsConfig};
use reprise::trace::model::{Op, Record};
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
    PaymentsConfig { bug: Bug::None, payments, workers: WORKERS, seed: 1, ..PaymentsConfig::default() }
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

/// How a replay runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Each thread an OS thread held at the gate.
    Parallel,
    /// Every thread a coroutine on this OS thread.
    Coroutines,
    /// On coroutines from the file, as `reprise replay --coroutines` does:
    /// the file indexed in one pass (timed too), each thread's events
    /// decoded as the replay reaches them.
    CoroutinesFile,
}

impl Mode {
    const ALL: [Mode; 3] = [Mode::Parallel, Mode::Coroutines, Mode::CoroutinesFile];

    fn name(self) -> &'static str {
        match self {
            Mode::Parallel => "parallel",
            Mode::Coroutines => "coroutines",
            Mode::CoroutinesFile => "coroutines-file",
        }
    }
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

    /// Replays `trace` (read from `path`) once in `mode`; returns the time
    /// it took.
    fn replay(self, mode: Mode, path: &Path, trace: &TraceFile) -> Duration {
        let start = Instant::now();
        match self {
            Workload::Payments(n) => {
                let config = payments_config(n);
                black_box(replay_in(mode, path, trace, move || payments::run(&config)));
            }
            Workload::Threads(n) => {
                black_box(replay_in(mode, path, trace, move || threads_program(n)));
            }
        }
        start.elapsed()
    }
}

/// Replays `program` in `mode`; the replay must match its trace (a
/// benchmark of a broken replay measures nothing).
fn replay_in<R: Send + 'static>(
    mode: Mode,
    path: &Path,
    trace: &TraceFile,
    program: impl FnOnce() -> R + Send + 'static,
) -> Option<R> {
    let report = match mode {
        Mode::Parallel => reprise::replay(trace, program),
        Mode::Coroutines => reprise::replay_coroutines(trace, program),
        Mode::CoroutinesFile => {
            let indexed = reprise::IndexedTrace::open(path).expect("cannot index the benchmark trace");
            reprise::replay_coroutines_indexed(indexed, None, program)
        }
    };
    assert!(report.outcome.matched(), "replay {}: {:?}", mode.name(), report.outcome);
    report.result
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
    group.bench_function("replay", |b| b.iter(|| workload.replay(Mode::Parallel, path, &trace)));
    group.bench_function("replay_coroutines", |b| b.iter(|| workload.replay(Mode::Coroutines, path, &trace)));
    group.finish();

    let mut group = c.benchmark_group("replay_threads");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    for n in THREAD_COUNTS {
        let workload = Workload::Threads(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("record/{n}"), |b| b.iter(|| workload.record(path)));
        workload.record(path);
        let trace = read(path);
        group.bench_function(format!("replay/{n}"), |b| {
            b.iter(|| workload.replay(Mode::Parallel, path, &trace))
        });
    }
    group.finish();
}

/// One row of a table: median times over the rounds of recording and of
/// each replay mode (by `Mode::ALL`'s order), and each round's mutex
/// hand-overs.
struct Row {
    record: Duration,
    replays: [Duration; 3],
    hand_overs: Vec<u64>,
}

/// How often a mutex's next recorded acquisition is another thread's, over
/// every mutex of `trace`. Parallel replay's time follows it: each hand-over
/// is a point where the replay must run that other thread next, often by
/// waking it: two recordings of the same 20,000 payments with 10,501 and
/// 28,732 hand-overs replayed in 55-66 and 120-146 ms.
fn mutex_hand_overs(trace: &TraceFile) -> u64 {
    let mut turns: std::collections::BTreeMap<_, Vec<(u64, u32)>> = Default::default();
    for (&thread, records) in &trace.threads {
        for record in records.iter() {
            if let Record::Event(event) = record {
                if event.op == Op::Lock {
                    turns.entry(event.object).or_default().push((event.a, thread));
                }
            }
        }
    }
    turns
        .into_values()
        .map(|mut taken| {
            taken.sort_unstable();
            taken.windows(2).filter(|pair| pair[0].1 != pair[1].1).count() as u64
        })
        .sum()
}

impl Row {
    fn replay(&self, mode: Mode) -> Duration {
        self.replays[Mode::ALL.iter().position(|&m| m == mode).unwrap_or(0)]
    }
}

/// Each round records, then replays the trace just written in every mode,
/// the replays' order rotating by round, so machine noise hits all alike.
fn measure(workload: Workload, path: &Path, rounds: usize, modes: &[Mode]) -> Row {
    let mut records = Vec::with_capacity(rounds);
    let mut replays: [Vec<Duration>; 3] = Default::default();
    let mut hand_overs = Vec::with_capacity(rounds);
    for round in 0..rounds {
        records.push(workload.record(path));
        let trace = read(path);
        hand_overs.push(mutex_hand_overs(&trace));
        for k in 0..Mode::ALL.len() {
            let at = (round + k) % Mode::ALL.len();
            if modes.contains(&Mode::ALL[at]) {
                replays[at].push(workload.replay(Mode::ALL[at], path, &trace));
            }
        }
    }
    let replays = replays.map(|times| if times.is_empty() { Duration::ZERO } else { median(times) });
    Row { record: median(records), replays, hand_overs }
}

fn print_table(path: &Path) {
    let rounds =
        std::env::var("REPRISE_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(3usize).max(1);
    let mut payment_sizes = vec![SMALL_PAYMENTS];
    if std::env::var_os(LARGE_ENV).is_some() {
        payment_sizes.push(LARGE_PAYMENTS);
    }
    println!();
    println!(
        "replay against record: median of {rounds} rounds (each records, then replays the trace just \
         written in every mode); throughput against record's, budget >= {REPLAY_BUDGET}x"
    );
    println!(
        "  parallel: OS threads at the gate; coroutines: one OS thread; both from the trace read whole \
         (reading not timed)"
    );
    println!("  coroutines-file: one OS thread, from the file indexed lazily (the index pass timed too)");
    println!(
        "{:<18} {:>10} {:>22} {:>22} {:>22}",
        "payments", "record/s", "parallel", "coroutines", "coroutines-file"
    );
    for n in payment_sizes {
        let workload = Workload::Payments(n);
        let row = measure(workload, path, rounds, &Mode::ALL);
        let rate = |d: Duration| n as f64 / d.as_secs_f64() / 1e6;
        let cell = |mode: Mode| {
            let took = row.replay(mode);
            let ratio = row.record.as_secs_f64() / took.as_secs_f64();
            let verdict = if ratio >= REPLAY_BUDGET { "ok" } else { "MISSED" };
            format!("{:.3} M {ratio:.2}x {verdict}", rate(took))
        };
        println!(
            "{:<18} {:>8.3} M {:>22} {:>22} {:>22}",
            workload.label(),
            rate(row.record),
            cell(Mode::Parallel),
            cell(Mode::Coroutines),
            cell(Mode::CoroutinesFile),
        );
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{:<18} ms: record {:.1}, parallel {:.1}, coroutines {:.1}, coroutines-file {:.1}",
            "",
            ms(row.record),
            ms(row.replay(Mode::Parallel)),
            ms(row.replay(Mode::Coroutines)),
            ms(row.replay(Mode::CoroutinesFile)),
        );
        let hand_overs: Vec<String> = row.hand_overs.iter().map(u64::to_string).collect();
        println!("{:<18} mutex hand-overs by round: {}", "", hand_overs.join(", "));
    }
    println!();
    println!(
        "{:<16} {:>16} {:>16} {:>16} {:>20}",
        "threads", "record us/thread", "replay us/thread", "replay / record", "replay us/thread vs 500"
    );
    let mut first = None;
    for n in THREAD_COUNTS {
        let workload = Workload::Threads(n);
        let row = measure(workload, path, rounds, &[Mode::Parallel, Mode::Coroutines]);
        let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
        let (parallel, coroutines) = (row.replay(Mode::Parallel), row.replay(Mode::Coroutines));
        let base = *first.get_or_insert(per(parallel));
        println!(
            "{:<16} {:>16.1} {:>16.1} {:>15.2}x {:>19.2}x   (coroutines {:.1} us/thread)",
            workload.label(),
            per(row.record),
            per(parallel),
            parallel.as_secs_f64() / row.record.as_secs_f64(),
            per(parallel) / base,
            per(coroutines),
        );
    }
    println!("(parallel replay, linear in threads: us/thread stays near 1.00x of the 500-thread figure)");
}

/// The profiling driver: one recording, then replays only.
fn profile(path: &Path) {
    let env = |name: &str| std::env::var(name).ok();
    let mode = match env("REPRISE_BENCH_PROFILE_MODE").as_deref() {
        None | Some("coroutines") => Mode::Coroutines,
        Some("parallel") => Mode::Parallel,
        Some("coroutines-file") => Mode::CoroutinesFile,
        Some(other) => {
            panic!("REPRISE_BENCH_PROFILE_MODE: `{other}` is not coroutines, parallel or coroutines-file")
        }
    };
    let payments =
        env("REPRISE_BENCH_PROFILE_PAYMENTS").and_then(|n| n.parse().ok()).unwrap_or(SMALL_PAYMENTS);
    let runs = env("REPRISE_BENCH_PROFILE_RUNS").and_then(|n| n.parse().ok()).unwrap_or(20usize);
    let workload = Workload::Payments(payments);
    // A kept trace makes runs of the profiler comparable: each replays the same.
    let path = match env("REPRISE_BENCH_PROFILE_TRACE") {
        Some(kept) => {
            let kept = PathBuf::from(kept);
            if !kept.exists() {
                workload.record(&kept);
            }
            kept
        }
        None => {
            workload.record(path);
            path.to_path_buf()
        }
    };
    let path = path.as_path();
    let trace = read(path);
    let mut times: Vec<Duration> = (0..runs).map(|_| workload.replay(mode, path, &trace)).collect();
    if !times.is_empty() {
        times.sort_unstable();
        println!(
            "profile: {runs} {} replays of {payments} payments ({} events, {} mutex hand-overs), median {:.1} ms",
            mode.name(),
            trace.events,
            mutex_hand_overs(&trace),
            times[times.len() / 2].as_secs_f64() * 1e3
        );
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

/// The benchmark's own arguments past cargo's: whether it runs as a
/// benchmark (not under `cargo test --benches` or `--list`) and its filter.
fn bench_filter() -> Option<Option<String>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    if !flag("--bench") || flag("--test") || flag("--list") || flag("--profile-time") {
        return None;
    }
    Some(args.iter().find(|a| !a.starts_with('-')).cloned())
}

/// Whether the ratio tables were asked for: `cargo bench` without a filter
/// or with the filter `ratios`.
fn table_requested() -> bool {
    bench_filter().is_some_and(|f| f.is_none_or(|f| "ratios".contains(f.as_str())))
}

/// Whether the profiling driver was asked for: the filter `profile`.
fn profile_requested() -> bool {
    bench_filter().is_some_and(|f| f.as_deref() == Some("profile"))
}

/// Whether criterion's groups should run: not when only `ratios` or
/// `profile` was asked for.
fn groups_requested() -> bool {
    !std::env::args().skip(1).any(|a| a == "ratios" || a == "profile")
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
    if profile_requested() {
        profile(&path);
    } else if table_requested() {
        print_table(&path);
    }
    let _ = std::fs::remove_file(&path);
}
