//! The clearing pipeline on std and crossbeam-channel, as it was before the
//! port (`clearing.rs` runs the port). Arguments: workers, orders, and
//! `--seeded-bug`.
//!
//! ```text
//! cargo run --example clearing_std -- 3 60
//! ```

#[path = "clearing/std_pipeline.rs"]
mod pipeline;

fn main() {
    let config = config_from_args();
    println!("{:?}", pipeline::run(&config));
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
