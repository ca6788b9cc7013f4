//! Netting buckets on nested `thread::scope`s, for
//! `tests/unlike_thirteenth/scopes.rs`: the program of that file under
//! `reprise::main`, recorded with `REPRISE_RECORD` and replayed with
//! `reprise replay FILE [--stop-at N] -- thirteenth_scopes [SCENARIO]`:
//! the netting (no argument), `two`, `nested`, and `pickers` (a lost
//! update on a `Tracked` stock between two scoped threads: exit 3). Prints
//! and annotates a digest of its transcript.

use std::process::ExitCode;

#[path = "../tests/unlike_thirteenth/scopes.rs"]
mod scopes;

fn main() -> ExitCode {
    let scenario = std::env::args().nth(1).unwrap_or_default();
    reprise::main("thirteenth_scopes", env!("CARGO_PKG_VERSION"), move || {
        let mut code = ExitCode::SUCCESS;
        let transcript = match scenario.as_str() {
            "pickers" => {
                let (left, right) = scopes::scoped_pickers();
                if !right {
                    eprintln!("stock says {left}");
                    code = ExitCode::from(3);
                }
                format!("{left}")
            }
            "two" => scopes::two_unjoined(),
            "exit" => scopes::exit_in_scope(),
            "nested" => scopes::spawned_on_the_outer_scope(),
            _ => scopes::netting(),
        };
        let hash = transcript
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        println!("scopes digest {hash:016x}");
        reprise::annotate("digest", format!("{hash:016x}"));
        code
    })
}
