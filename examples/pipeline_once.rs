//! One run of the payments pipeline in one mode, for instruction counting:
//! `benches/callgrind.sh` runs it under `valgrind --tool=callgrind` once per
//! mode and divides the instructions by the events a recording of the same
//! run holds.
//!
//! ```text
//! cargo run --release --example pipeline_once -- record 5000 4 /tmp/x.trace
//! ```
//!
//! Arguments: mode (`raw`, `off`, `floor`, `record` or `flight`), payments,
//! ledger workers, and for `record` and `flight` the trace path (a flight run
//! of a sound pipeline writes nothing there). Prints `events N`: a
//! recording's events, the words the floor logged, 0 otherwise.

use reprise::pipelines::payments::{self, Bug, PaymentsConfig};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("raw");
    let payments = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5_000);
    let workers = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(4);
    let trace = args.get(3).cloned().unwrap_or_else(|| "pipeline_once.trace".into());
    let config = PaymentsConfig { bug: Bug::None, payments, workers, seed: 1, ..PaymentsConfig::default() };
    let events = match mode {
        "raw" => {
            let outcome = payments::raw::run(&config);
            assert!(outcome.is_ok(), "raw: {}", outcome.invariants_line());
            0
        }
        "off" => {
            let outcome = payments::run(&config);
            assert!(outcome.is_ok(), "off: {}", outcome.invariants_line());
            0
        }
        "floor" => {
            let before = payments::floor::logged();
            let outcome = payments::floor::run(&config);
            assert!(outcome.is_ok(), "floor: {}", outcome.invariants_line());
            payments::floor::logged() - before
        }
        "record" => {
            let recording = reprise::record(&trace, reprise::RecordConfig::new("bench", "1"), move || {
                payments::run(&config)
            })
            .expect("cannot record the trace");
            let outcome = recording.result.expect("the recorded run did not finish");
            assert!(outcome.is_ok(), "record: {}", outcome.invariants_line());
            recording.stats.events
        }
        "flight" => {
            let flight_config = reprise::FlightConfig::new(reprise::RecordConfig::new("bench", "1"));
            let run = reprise::flight(&trace, flight_config, move || payments::run(&config))
                .expect("cannot start the flight recorder");
            let outcome = run.result.expect("the flown run did not finish");
            assert!(outcome.is_ok(), "flight: {}", outcome.invariants_line());
            0
        }
        other => {
            eprintln!("unknown mode `{other}`: raw, off, floor, record or flight");
            std::process::exit(2);
        }
    };
    println!("events {events}");
}
