//! The clearing pipeline ported to reprise: `clearing/pipeline.rs` is
//! `clearing/std_pipeline.rs` with its imports changed, and nothing else.
//! Arguments: workers, orders, and `--seeded-bug`.
//!
//! ```text
//! REPRISE_RECORD=clearing.trace cargo run --example clearing -- 3 60
//! REPRISE_REPLAY=clearing.trace cargo run --example clearing -- 3 60
//! cargo run -- explore --help      # the explorer runs it in tests/port.rs
//! ```

#[path = "clearing/pipeline.rs"]
mod pipeline;

fn main() {
    let config = config_from_args();
    reprise::main("clearing", env!("CARGO_PKG_VERSION"), move || {
        println!("{:?}", pipeline::run(&config));
    })
}

fn config_from_args() -> pipeline::Config {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize| args.iter().filter(|a| !a.starts_with("--")).nth(i).and_then(|a| a.parse().ok());
    let defaults = pipeline::Config::default();
    pipeline::Config {
        workers: number(0).unwrap_or(defaults.workers as u64) as usize,
        orders: number(1).unwrap_or(defaults.orders),
        seeded_bug: args.iter().any(|a| a == "--seeded-bug"),
        ..defaults
    }
}
