//! The payments pipeline three ways, side by side in one run: `raw` (the same
//! source on std and crossbeam-channel), `off` (reprise's primitives with no
//! execution active: passthrough), `record` (recording to a trace file) and
//! `flight` (the flight recorder: the same recording into in-memory rings,
//! no dump), at zero and at about 1 µs of busy work per message.
//!
//! After criterion's groups, a ratio pass times each mode itself, interleaved
//! so that machine noise hits all three alike, and prints each mode's
//! throughput against raw next to DESIGN.md's budget, and the trace's bytes per
//! event. See `benches/README.md` for how to run it and the last figures.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{black_box, Criterion, Throughput};
use reprise::pipelines::payments::{self, Bug, PaymentsConfig};

/// Payments per run.
const PAYMENTS: u64 = 20_000;

/// Ledger workers per run.
const WORKERS: usize = 4;

/// The work levels: a label for the output and the busy work per message.
const WORK_LEVELS: [(&str, &str, u64); 2] =
    [("payments_zero_work", "zero work", 0), ("payments_1us_work", "1 us work", 1_000)];

/// Rounds of the ratio pass per work level; each times every mode once.
const RATIO_ROUNDS: usize = 7;

/// Runs per mode and round in the ratio pass: one pipeline run lasts tens of
/// milliseconds, too short for one reading on a shared machine.
const RUNS_PER_SAMPLE: u32 = 5;

/// DESIGN.md's performance budget, as fractions of raw throughput.
const OFF_BUDGET: f64 = 0.97;
const RECORD_BUDGET: f64 = 0.85;
const FLIGHT_BUDGET: f64 = 0.95;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Raw,
    Off,
    Record,
    Flight,
}

impl Mode {
    const ALL: [Mode; 4] = [Mode::Raw, Mode::Off, Mode::Record, Mode::Flight];

    fn name(self) -> &'static str {
        match self {
            Mode::Raw => "raw",
            Mode::Off => "off",
            Mode::Record => "record",
            Mode::Flight => "flight",
        }
    }
}

/// What a recording wrote.
#[derive(Clone, Copy, Debug)]
struct TraceSize {
    events: u64,
    bytes: u64,
}

fn config(work_ns: u64) -> PaymentsConfig {
    PaymentsConfig { bug: Bug::None, payments: PAYMENTS, workers: WORKERS, seed: 1, work_ns }
}

/// Runs the pipeline once in `mode`, recording to `trace` in record mode, and
/// checks that the run was sound: a benchmark of a broken run measures nothing.
fn run_once(mode: Mode, config: PaymentsConfig, trace: &Path) -> Option<TraceSize> {
    match mode {
        Mode::Raw => {
            let outcome = payments::raw::run(&config);
            assert!(outcome.is_ok(), "raw: {}", outcome.invariants_line());
            black_box(outcome);
            None
        }
        Mode::Off => {
            let outcome = payments::run(&config);
            assert!(outcome.is_ok(), "off: {}", outcome.invariants_line());
            black_box(outcome);
            None
        }
        Mode::Record => {
            let recording = reprise::record(trace, reprise::RecordConfig::new("bench", "1"), move || {
                payments::run(&config)
            })
            .expect("cannot record the benchmark trace");
            let outcome = recording
                .result
                .unwrap_or_else(|| panic!("record: the run ended with {}", recording.verdict));
            assert!(outcome.is_ok(), "record: {}", outcome.invariants_line());
            black_box(outcome);
            Some(TraceSize { events: recording.stats.events, bytes: recording.stats.bytes })
        }
        Mode::Flight => {
            // The default rings; a sound run ends without a dump.
            let flight_config = reprise::FlightConfig::new(reprise::RecordConfig::new("bench", "1"));
            let run = reprise::flight(trace, flight_config, move || payments::run(&config))
                .expect("cannot start the flight recorder");
            let outcome = run.result.unwrap_or_else(|| panic!("flight: the run ended with {}", run.verdict));
            assert!(outcome.is_ok(), "flight: {}", outcome.invariants_line());
            assert!(run.dumps.is_empty(), "flight: a sound run dumps nothing");
            black_box(outcome);
            None
        }
    }
}

fn bench_modes(c: &mut Criterion, trace: &Path) {
    for (group_name, _, work_ns) in WORK_LEVELS {
        let config = config(work_ns);
        let mut group = c.benchmark_group(group_name);
        group
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .throughput(Throughput::Elements(PAYMENTS));
        for mode in Mode::ALL {
            group.bench_function(mode.name(), |b| {
                b.iter(|| run_once(mode, config, trace));
            });
        }
        group.finish();
    }
}

/// Times each mode in `RATIO_ROUNDS` rounds of `RUNS_PER_SAMPLE` runs,
/// interleaved (each round starts with the next mode, so none always runs
/// first), and prints the ratios of the median times, with the range of the
/// rounds' own ratios as a measure of the noise.
fn print_ratios(trace: &Path) {
    println!();
    println!(
        "ratios: median of {RATIO_ROUNDS} interleaved rounds of {RUNS_PER_SAMPLE} runs per mode, \
         {PAYMENTS} payments, {WORKERS} workers"
    );
    for (_, label, work_ns) in WORK_LEVELS {
        let config = config(work_ns);
        let mut rounds = Vec::with_capacity(RATIO_ROUNDS);
        let mut size = None;
        for mode in Mode::ALL {
            run_once(mode, config, trace); // warm up
        }
        for round in 0..RATIO_ROUNDS {
            let mut times = [Duration::ZERO; Mode::ALL.len()];
            for i in 0..Mode::ALL.len() {
                let slot = (round + i) % Mode::ALL.len();
                let start = Instant::now();
                for _ in 0..RUNS_PER_SAMPLE {
                    size = run_once(Mode::ALL[slot], config, trace).or(size);
                }
                times[slot] = start.elapsed() / RUNS_PER_SAMPLE;
            }
            rounds.push(times);
        }
        let [raw, off, record, flight] = [0, 1, 2, 3].map(|slot| median(rounds.iter().map(|t| t[slot])));
        let ratio = |mode: Duration| raw.as_secs_f64() / mode.as_secs_f64();
        let rate = |mode: Duration| PAYMENTS as f64 / mode.as_secs_f64() / 1e6;
        let range = |slot: usize| {
            let ratios = rounds.iter().map(|t| t[0].as_secs_f64() / t[slot].as_secs_f64());
            let (lo, hi) = ratios.fold((f64::MAX, f64::MIN), |(lo, hi), r| (lo.min(r), hi.max(r)));
            format!("{lo:.2}-{hi:.2}")
        };
        println!(
            "{label}: off {:.2}x raw, record {:.2}x raw \
             (budget: off >= {OFF_BUDGET}x, record >= {RECORD_BUDGET}x)",
            ratio(off),
            ratio(record),
        );
        println!("{label}: flight {:.2}x raw (budget: flight >= {FLIGHT_BUDGET}x)", ratio(flight),);
        println!("  rounds' own ratios: off {}, record {}, flight {}", range(1), range(2), range(3));
        println!(
            "  payments/s: raw {:.3} M, off {:.3} M, record {:.3} M, flight {:.3} M",
            rate(raw),
            rate(off),
            rate(record),
            rate(flight),
        );
        if let Some(TraceSize { events, bytes }) = size {
            println!(
                "  trace: {:.2} bytes/event ({events} events, {bytes} bytes)",
                bytes as f64 / events.max(1) as f64,
            );
        }
    }
}

fn median(times: impl Iterator<Item = Duration>) -> Duration {
    let mut times: Vec<Duration> = times.collect();
    times.sort_unstable();
    times[times.len() / 2]
}

/// Whether criterion was asked to benchmark everything: `cargo bench` without
/// a filter (the ratio pass also runs for the filter `ratios`). Not under
/// `cargo test --benches`, `--test`, `--list` or `--profile-time`.
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
    let trace = trace_path();
    let mut criterion = Criterion::default().configure_from_args();
    bench_modes(&mut criterion, &trace);
    criterion.final_summary();
    if ratio_pass_requested() {
        print_ratios(&trace);
    }
    let _ = std::fs::remove_file(&trace);
}
