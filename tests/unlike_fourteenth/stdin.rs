//! `examples/fourteenth_stdin.rs` recorded with `REPRISE_RECORD` reading
//! a megabyte of orders from stdin through `reprise::capture`, then
//! replayed with `reprise replay FILE -- CMD`, both ways, with other bytes
//! on stdin and with none: the replay must print the recorded digest and
//! exit 0; run with `skip` (it drops an order it read) it must not.

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

use crate::unlike_twelfth::{digest_line, plain};
use crate::util::{example, scratch, stderr};

/// `fourteenth_stdin ARGS` under `envs`, `input` on its stdin.
fn run(args: &[&str], envs: &[(&str, &Path)], input: &[u8]) -> Output {
    let mut cmd = plain(example("fourteenth_stdin"));
    cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start fourteenth_stdin");
    let mut stdin = child.stdin.take().expect("piped stdin");
    // A replay does not read stdin: a broken pipe is fine.
    let _ = stdin.write_all(input);
    drop(stdin);
    child.wait_with_output().expect("fourteenth_stdin ends")
}

/// `reprise replay [--coroutines] TRACE -- fourteenth_stdin ARGS`, `input`
/// on stdin.
fn replay(trace: &Path, coroutines: bool, args: &[&str], input: &[u8]) -> Output {
    let mut cmd = plain(env!("CARGO_BIN_EXE_reprise"));
    cmd.arg("replay");
    if coroutines {
        cmd.arg("--coroutines");
    }
    cmd.arg(trace).arg("--").arg(example("fourteenth_stdin")).args(args);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start reprise replay");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let _ = stdin.write_all(input);
    drop(stdin);
    child.wait_with_output().expect("reprise replay ends")
}

fn orders(lines: usize, salt: u64) -> Vec<u8> {
    let mut out = String::new();
    for i in 0..lines as u64 {
        let symbol = ["EURUSD", "GBPUSD", "USDJPY", "AUDUSD"][(i % 4) as usize];
        out.push_str(&format!("{symbol} {}\n", (i * 7919 + salt) % 1000));
    }
    out.into_bytes()
}

#[test]
fn stdin_captured_in_bulk_replays_from_the_trace() {
    let dir = scratch("fourteenth-stdin");
    let input = orders(60_000, 1);
    assert!(input.len() > 600_000);
    let trace = dir.join("stdin.trace");
    let recorded = run(&[], &[("REPRISE_RECORD", &trace)], &input);
    assert_eq!(recorded.status.code(), Some(0), "{}", stderr(&recorded));
    let digest = digest_line(&recorded);
    assert!(digest.contains(&format!("{} bytes", input.len())), "{digest}");
    let size = std::fs::metadata(&trace).expect("the trace").len();
    eprintln!("fourteenth-stdin: {} bytes of stdin, trace {size} bytes", input.len());
    for coroutines in [false, true] {
        for other in [orders(10, 2), Vec::new()] {
            let replayed = replay(&trace, coroutines, &[], &other);
            assert_eq!(replayed.status.code(), Some(0), "coroutines {coroutines}: {}", stderr(&replayed));
            assert_eq!(digest_line(&replayed), digest, "coroutines {coroutines}");
        }
        let skipped = replay(&trace, coroutines, &["skip"], &input);
        assert_ne!(skipped.status.code(), Some(0), "coroutines {coroutines}: a dropped order matched");
    }
    // Under REPRISE_REPLAY too, with nothing on stdin.
    let direct = run(&[], &[("REPRISE_REPLAY", &trace)], b"");
    assert_eq!(direct.status.code(), Some(0), "{}", stderr(&direct));
    assert_eq!(digest_line(&direct), digest);
}
