//! The channel's record hot path against passthrough and raw crossbeam, on one
//! thread so that the machine's other load cannot reorder anything: each
//! round does, per iteration, a send and a recv, a send and a one-arm select,
//! and a try_recv on the empty channel (five calls, five events when
//! recording), and reports nanoseconds per call. Of the rounds, the fastest
//! is the figure least disturbed by the rest of a shared machine; the median
//! is printed beside it.
//!
//! ```sh
//! cargo bench -p reprise-recorder --bench channel
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use reprise_recorder::{channel, record, RecordConfig};

/// Iterations per round (five calls each).
const ITERATIONS: u64 = 100_000;
/// Rounds per mode, interleaved.
const ROUNDS: usize = 15;

fn reprise_round() -> Duration {
    let (tx, rx) = channel::unbounded::<u64>();
    let start = Instant::now();
    for i in 0..ITERATIONS {
        tx.send(i).unwrap();
        black_box(rx.recv().unwrap());
        tx.send(i).unwrap();
        black_box(channel::select(&[&rx]).1.unwrap());
        black_box(rx.try_recv().is_err());
    }
    start.elapsed()
}

fn raw_round() -> Duration {
    let (tx, rx) = crossbeam_channel::unbounded::<u64>();
    let start = Instant::now();
    for i in 0..ITERATIONS {
        tx.send(i).unwrap();
        black_box(rx.recv().unwrap());
        tx.send(i).unwrap();
        let mut select = crossbeam_channel::Select::new();
        select.recv(&rx);
        let op = select.select();
        black_box(op.recv(&rx).unwrap());
        black_box(rx.try_recv().is_err());
    }
    start.elapsed()
}

fn record_round(path: &std::path::Path) -> Duration {
    let recording = record(path, RecordConfig::new("channel-bench", "1"), reprise_round).unwrap();
    recording.result.expect("the recorded round completed")
}

fn ns_per_call(d: Duration) -> f64 {
    d.as_nanos() as f64 / (ITERATIONS * 5) as f64
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and
    // one round of each mode shows the benchmark still runs.
    let rounds = if std::env::args().any(|a| a == "--bench") { ROUNDS } else { 1 };
    let path = std::env::temp_dir().join(format!("reprise-channel-bench-{}.trace", std::process::id()));
    let mut times: [Vec<f64>; 3] = Default::default();
    for _ in 0..rounds {
        times[0].push(ns_per_call(raw_round()));
        times[1].push(ns_per_call(reprise_round()));
        times[2].push(ns_per_call(record_round(&path)));
    }
    std::fs::remove_file(&path).ok();
    println!("channel calls on one thread, ns per call ({rounds} rounds of {ITERATIONS} x 5 calls)");
    for (name, t) in ["raw crossbeam", "reprise off", "reprise record"].iter().zip(&mut times) {
        t.sort_by(f64::total_cmp);
        println!("  {name:<15} fastest {:>7.1}  median {:>7.1}", t[0], t[t.len() / 2]);
    }
}
