//! The `reprise` command: record, replay, inspect and verify traces.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(reprise::cli::run(std::env::args_os()) as u8)
}
