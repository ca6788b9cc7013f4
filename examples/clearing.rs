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
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = pipeline::Config::from_args(&args);
    reprise::main("clearing", env!("CARGO_PKG_VERSION"), move || {
        println!("{:?}", pipeline::run(&config));
    })
}
