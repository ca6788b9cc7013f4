//! The payments pipeline side by side in one run, one row of [`MODES`] per
//! mode: `raw` (the same source on std and crossbeam-channel), `off`
//! (reprise's primitives with no execution active: passthrough), `record`
//! (recording to a trace file) and `flight` (the flight recorder: the same
//! recording into in-memory rings, no dump), at zero and at about 1 µs of
//! busy work per message.
//!
//! After criterion's groups, a ratio pass times each mode itself, interleaved
//! so that machine noise hits all modes alike, and prints each mode's
//! throughput against raw next to its target, the trace's bytes per event,
//! the same at 1, 2, 4 and 8 ledger workers (with the machine's CPU count and
//! model), and, when `valgrind` is installed, callgrind's instructions per
//! event for every mode (repeatable whatever else the machine runs). See
//! `benches/README.md` for how to run it and the last figures.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{black_box, Criterion, Throughput};
use reprise::pipelines::payments::{self, Bug, PaymentsConfig};

/// Payments per run.
const PAYMENTS: u64 = 20_000;

/// Ledger workers per run of the main table and of criterion's groups.
const WORKERS: usize = 4;

/// The worker counts of the scaling table (at zero work): a contention cost
/// that grows with threads shows there.
const SCALING_WORKERS: [usize; 4] = [1, 2, 4, 8];

/// The work levels: a label for the output and the busy work per message.
const WORK_LEVELS: [(&str, &str, u64); 2] =
    [("payments_zero_work", "zero work", 0), ("payments_1us_work", "1 us work", 1_000)];

/// Rounds of the ratio pass per work level; each times every mode once.
const RATIO_ROUNDS: usize = 7;

/// Runs per mode and round in the ratio pass: one pipeline run lasts tens of
/// milliseconds, too short for one reading on a shared machine.
const RUNS_PER_SAMPLE: u32 = 5;

/// The trace size target, in bytes per event.
const BYTES_PER_EVENT_TARGET: f64 = 4.0;

/// The two run sizes of the callgrind pass: start-up and the trace's
/// finishing cancel out of the difference.
const CALLGRIND_PAYMENTS: (u64, u64) = (2_000, 6_000);

/// Set in a copy of this binary run under callgrind: `mode payments
/// workers trace`.
const CHILD_ENV: &str = "REPRISE_PIPELINE_BENCH_CHILD";

/// One mode of the benchmark: a row of the tables.
struct ModeRow {
    name: &'static str,
    /// Runs the pipeline once, checking its invariants; a recording mode
    /// returns what its trace holds.
    run: fn(PaymentsConfig, &Path) -> Option<TraceSize>,
    /// The least throughput against raw it must reach, per work level
    /// (`None`: no target, for raw itself).
    targets: [Option<f64>; 2],
}

/// The modes, side by side. Raw first: the others are measured against it.
const MODES: &[ModeRow] = &[
    ModeRow { name: "raw", run: run_raw, targets: [None, None] },
    ModeRow { name: "off", run: run_off, targets: [Some(0.98), Some(0.98)] },
    ModeRow { name: "floor", run: run_floor, targets: [None, None] },
    ModeRow { name: "record", run: run_record, targets: [Some(0.90), Some(0.97)] },
    ModeRow { name: "flight", run: run_flight, targets: [Some(0.95), None] },
];

/// What a recording wrote.
#[derive(Clone, Copy, Debug)]
struct TraceSize {
    events: u64,
    bytes: u64,
}

fn config(work_ns: u64, workers: usize) -> PaymentsConfig {
    PaymentsConfig { bug: Bug::None, payments: PAYMENTS, workers, seed: 1, work_ns, tracked_balances: false }
}

fn run_raw(config: PaymentsConfig, _: &Path) -> Option<TraceSize> {
    let outcome = payments::raw::run(&config);
    assert!(outcome.is_ok(), "raw: {}", outcome.invariants_line());
    black_box(outcome);
    None
}

fn run_off(config: PaymentsConfig, _: &Path) -> Option<TraceSize> {
    let outcome = payments::run(&config);
    assert!(outcome.is_ok(), "off: {}", outcome.invariants_line());
    black_box(outcome);
    None
}

// A ceiling for record mode, not a recorder (`payments::floor`): one word per
// event in a thread-local ring, nothing written.
fn run_floor(config: PaymentsConfig, _: &Path) -> Option<TraceSize> {
    let outcome = payments::floor::run(&config);
    assert!(outcome.is_ok(), "floor: {}", outcome.invariants_line());
    black_box(outcome);
    None
}

fn run_record(config: PaymentsConfig, trace: &Path) -> Option<TraceSize> {
    let recording =
        reprise::record(trace, reprise::RecordConfig::new("bench", "1"), move || payments::run(&config))
            .expect("cannot record the benchmark trace");
    assert_eq!(recording.stopped, None, "record: the recording stopped early");
    let outcome =
        recording.result.unwrap_or_else(|| panic!("record: the run ended with {}", recording.verdict));
    assert!(outcome.is_ok(), "record: {}", outcome.invariants_line());
    black_box(outcome);
    Some(TraceSize { events: recording.stats.events, bytes: recording.stats.bytes })
}

fn run_flight(config: PaymentsConfig, trace: &Path) -> Option<TraceSize> {
    let flight_config = reprise::FlightConfig::new(reprise::RecordConfig::new("bench", "1"));
    let run = reprise::flight(trace, flight_config, move || payments::run(&config))
        .expect("cannot start the flight recorder");
    let outcome = run.result.unwrap_or_else(|| panic!("flight: the run ended with {}", run.verdict));
    assert!(outcome.is_ok(), "flight: {}", outcome.invariants_line());
    assert!(run.dumps.is_empty(), "flight: a sound run dumps nothing");
    black_box(outcome);
    None
}

fn bench_modes(c: &mut Criterion, trace: &Path) {
    for (group_name, _, work_ns) in WORK_LEVELS {
        let config = config(work_ns, WORKERS);
        let mut group = c.benchmark_group(group_name);
        group
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .throughput(Throughput::Elements(PAYMENTS));
        for mode in MODES {
            group.bench_function(mode.name, |b| {
                b.iter(|| (mode.run)(config, trace));
            });
        }
        group.finish();
    }
}

/// One cell of the ratio pass: every mode's per-run time in each round.
struct Timed {
    /// `rounds[r][m]`: mode `m`'s mean run time in round `r`.
    rounds: Vec<Vec<Duration>>,
    size: Option<TraceSize>,
}

/// Times each mode in `RATIO_ROUNDS` rounds of `RUNS_PER_SAMPLE` runs,
/// interleaved (each round starts with the next mode, so none always runs
/// first).
fn time_modes(config: PaymentsConfig, trace: &Path) -> Timed {
    let mut size = None;
    for mode in MODES {
        (mode.run)(config, trace); // warm up
    }
    let mut rounds = Vec::with_capacity(RATIO_ROUNDS);
    for round in 0..RATIO_ROUNDS {
        let mut times = vec![Duration::ZERO; MODES.len()];
        for i in 0..MODES.len() {
            let slot = (round + i) % MODES.len();
            let start = Instant::now();
            for _ in 0..RUNS_PER_SAMPLE {
                size = (MODES[slot].run)(config, trace).or(size);
            }
            times[slot] = start.elapsed() / RUNS_PER_SAMPLE;
        }
        rounds.push(times);
    }
    Timed { rounds, size }
}

impl Timed {
    fn median(&self, slot: usize) -> Duration {
        median(self.rounds.iter().map(|t| t[slot]))
    }

    /// Mode `slot`'s throughput against raw's: the ratio of the medians.
    fn ratio(&self, slot: usize) -> f64 {
        self.median(0).as_secs_f64() / self.median(slot).as_secs_f64()
    }

    /// The range of the rounds' own ratios: how noisy the machine was.
    fn range(&self, slot: usize) -> (f64, f64) {
        let ratios = self.rounds.iter().map(|t| t[0].as_secs_f64() / t[slot].as_secs_f64());
        ratios.fold((f64::MAX, f64::MIN), |(lo, hi), r| (lo.min(r), hi.max(r)))
    }

    fn rate(&self, slot: usize) -> f64 {
        PAYMENTS as f64 / self.median(slot).as_secs_f64() / 1e6
    }

    /// One line per mode: ratio, target, the rounds' range, throughput.
    fn print(&self, level: usize) {
        println!("  raw: {:.3} M payments/s", self.rate(0));
        for (slot, mode) in MODES.iter().enumerate().skip(1) {
            let ratio = self.ratio(slot);
            let target = match mode.targets[level] {
                Some(t) if ratio >= t => format!("target >= {t:.2}x: met"),
                Some(t) => format!("target >= {t:.2}x: MISSED"),
                None => "no target".into(),
            };
            let (lo, hi) = self.range(slot);
            println!(
                "  {:<7} {ratio:.2}x raw ({target}); rounds {lo:.2}-{hi:.2}; {:.3} M payments/s",
                mode.name,
                self.rate(slot),
            );
        }
        if let Some(TraceSize { events, bytes }) = self.size {
            let per = bytes as f64 / events.max(1) as f64;
            let met = if per <= BYTES_PER_EVENT_TARGET { "met" } else { "MISSED" };
            println!(
                "  trace: {per:.2} bytes/event (target <= {BYTES_PER_EVENT_TARGET}: {met}; \
                 {events} events, {bytes} bytes)"
            );
        }
    }
}

/// The CPU count this process may use, and the CPU model.
fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU model".into());
    format!("nproc {cpus}, {model}")
}

/// The ratio pass: every mode against raw at each work level (4 workers),
/// then at zero work with 1, 2, 4 and 8 workers.
fn print_ratios(trace: &Path) {
    println!();
    println!("machine: {}", machine());
    println!(
        "ratios: median of {RATIO_ROUNDS} interleaved rounds of {RUNS_PER_SAMPLE} runs per mode, \
         {PAYMENTS} payments"
    );
    for (level, (_, label, work_ns)) in WORK_LEVELS.into_iter().enumerate() {
        println!("{label}, {WORKERS} workers:");
        time_modes(config(work_ns, WORKERS), trace).print(level);
    }
    println!("scaling (zero work):");
    for workers in SCALING_WORKERS {
        println!("{workers} worker(s):");
        time_modes(config(0, workers), trace).print(0);
    }
}

/// Callgrind's instructions per event of every mode, when valgrind is
/// installed: this binary runs itself under it (see [`CHILD_ENV`]) at two
/// run sizes, and the difference is divided by the difference of the
/// events a recording of the same runs holds.
fn print_instructions(trace: &Path) {
    if Command::new("valgrind").arg("--version").output().is_err() {
        println!("callgrind: valgrind not found; instructions per event not measured (benches/callgrind.sh)");
        return;
    }
    let (small, big) = CALLGRIND_PAYMENTS;
    let events = |payments| {
        let config = PaymentsConfig { payments, ..config(0, WORKERS) };
        run_record(config, trace).map_or(0, |size| size.events)
    };
    let events = events(big).saturating_sub(events(small)).max(1);
    println!(
        "callgrind: zero work, {WORKERS} workers, runs of {small} and {big} payments ({events} events apart)"
    );
    let mut raw = None;
    for mode in MODES {
        let count = |payments| callgrind(mode.name, payments, trace);
        let (Some(a), Some(b)) = (count(small), count(big)) else {
            println!("  {:<7} callgrind failed", mode.name);
            continue;
        };
        let per = b.all.saturating_sub(a.all) as f64 / events as f64;
        let over = match raw {
            None => String::new(),
            Some(raw) => format!(" ({:+.1} over raw, {:.2}x)", per - raw, per / raw),
        };
        // Where the recording modes' cost falls: the program's own threads
        // (the hot path) or reprise's writer, keeper, flusher and monitor.
        let split = match raw {
            Some(raw) if b.reprise > 0 => {
                let ours = b.reprise.saturating_sub(a.reprise) as f64 / events as f64;
                let own = per - ours;
                format!("; program's threads {own:.1} ({:.2}x raw), reprise's threads {ours:.1}", own / raw)
            }
            _ => String::new(),
        };
        raw = raw.or(Some(per));
        println!("  {:<7} {per:.1} instructions/event{over}{split}", mode.name);
    }
}

/// One run's instructions under callgrind: all of them, and those of
/// reprise's own threads.
struct Instructions {
    all: u64,
    reprise: u64,
}

/// The functions whose threads are reprise's own, not the program's.
const REPRISE_THREADS: [&str; 4] =
    ["rt::writer::run", "rt::flush::run", "rt::monitor::run", "keeper::Keeper::run"];

/// The instructions of one run of `mode` under callgrind, a profile per
/// thread.
fn callgrind(mode: &str, payments: u64, trace: &Path) -> Option<Instructions> {
    let dir = std::env::temp_dir().join(format!("reprise-bench-{}-callgrind", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).ok()?;
    let status = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg("--separate-threads=yes")
        .arg(format!("--callgrind-out-file={}", dir.join("out").display()))
        .arg(std::env::current_exe().ok()?)
        .env(CHILD_ENV, format!("{mode} {payments} {WORKERS} {}", trace.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    let texts: Vec<String> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path()).ok())
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    if !status.success() || texts.is_empty() {
        return None;
    }
    let mut counted = Instructions { all: 0, reprise: 0 };
    for text in texts {
        // The file without a thread number stays empty.
        let Some(n) = text
            .lines()
            .find_map(|l| l.strip_prefix("summary:").or_else(|| l.strip_prefix("totals:")))
            .and_then(|n| n.trim().parse::<u64>().ok())
        else {
            continue;
        };
        counted.all += n;
        if REPRISE_THREADS.iter().any(|f| text.contains(f)) {
            counted.reprise += n;
        }
    }
    (counted.all > 0).then_some(counted)
}

/// The copy of this binary under callgrind: one run of one mode.
fn run_child(spec: &str) {
    let parts: Vec<&str> = spec.split(' ').collect();
    let [name, payments, workers, trace] = parts[..] else { panic!("bad {CHILD_ENV}: {spec}") };
    let mode = MODES.iter().find(|m| m.name == name).expect("a mode of MODES");
    let config = PaymentsConfig {
        payments: payments.parse().expect("payments"),
        ..config(0, workers.parse().expect("workers"))
    };
    (mode.run)(config, Path::new(trace));
}

fn median(times: impl Iterator<Item = Duration>) -> Duration {
    let mut times: Vec<Duration> = times.collect();
    times.sort_unstable();
    times[times.len() / 2]
}

/// Whether criterion was asked to benchmark everything: `cargo bench` without
/// a filter (the ratio pass also runs for the filter `ratios`). Not under
/// `cargo test --benches`, `--test`, `--list` or `--profile-time`.
/// Whether only the callgrind pass was asked for: the filter `instructions`
/// (it names no criterion benchmark, so the groups run nothing).
fn instructions_requested() -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    args.iter().any(|a| a == "--bench") && args.iter().any(|a| a == "instructions")
}

fn ratio_pass_requested() -> bool {
    // Criterion's options that take a value as the next argument.
    const VALUED: [&str; 19] = [
        "-c",
        "--color",
        "--colour",
        "-s",
        "--save-baseline",
        "-b",
        "--baseline",
        "--baseline-lenient",
        "--load-baseline",
        "--sample-size",
        "--warm-up-time",
        "--measurement-time",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--profile-time",
        "--format",
        "--plotting-backend",
    ];
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|a| a == name || a.starts_with(&format!("{name}=")));
    if !flag("--bench") || flag("--test") || flag("--list") || flag("--profile-time") {
        return false;
    }
    let filter = args
        .iter()
        .enumerate()
        .find(|&(i, a)| !a.starts_with('-') && (i == 0 || !VALUED.contains(&args[i - 1].as_str())))
        .map(|(_, a)| a.as_str());
    filter.is_none_or(|f| "ratios".contains(f))
}

fn trace_path() -> PathBuf {
    std::env::temp_dir().join(format!("reprise-bench-{}.trace", std::process::id()))
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        return run_child(&spec);
    }
    let trace = trace_path();
    let mut criterion = Criterion::default().configure_from_args();
    bench_modes(&mut criterion, &trace);
    criterion.final_summary();
    if ratio_pass_requested() {
        print_ratios(&trace);
        print_instructions(&trace);
    } else if instructions_requested() {
        print_instructions(&trace);
    }
    let _ = std::fs::remove_file(&trace);
}
