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
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = pipeline::Config::from_args(&args);
    println!("{:?}", pipeline::run(&config));
}
