//! A thread running as a coroutine (under the explorer, in a coroutine
//! replay) that overflows its stack ends the process as std ends one whose
//! OS thread overflows: a message naming the thread, its stack's size and
//! what to do, then SIGABRT (it was a bare SIGSEGV). A stack that cannot be
//! mapped is `Builder::spawn`'s error, as under std.

use std::hint::black_box;
use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use reprise::{read_trace_file, record, replay_coroutines, thread, RecordConfig};

use crate::util::scratch;

const CHILD: &str = "REPRISE_TEST_CHILD";
const TEST: &str = "coroutine_stack::a_coroutine_overflowing_its_stack_is_named_and_aborts_like_std";

/// The stack the overflowing thread asks for.
const STACK: usize = 256 << 10;

/// Recurses `depth` frames of a kilobyte and more (`None`: without end).
fn descend(depth: Option<u64>) -> u64 {
    let frame = black_box([1u8; 1024]);
    match depth {
        Some(0) => u64::from(frame[0]),
        _ => descend(depth.map(|d| d - 1)) + u64::from(black_box(&frame)[512]),
    }
}

/// Thread 1 on a stack of `STACK` bytes descends `depth` frames.
fn program(depth: Option<u64>) {
    let child =
        thread::Builder::new().name("deep".into()).stack_size(STACK).spawn(move || descend(depth)).unwrap();
    child.join().unwrap();
}

fn child(how: &str) {
    match how {
        "explore" => {
            let config =
                reprise::explore::Config::default().budget(4).seed(1).trace_dir(scratch("overflow-explore"));
            reprise::explore::Explorer::new(config).run(|| program(None));
        }
        "coroutines" => {
            // Recorded descending a little, replayed descending without end:
            // the events are the same (none between spawn and join).
            let path = scratch("overflow-coroutines").join("run.trace");
            record(&path, RecordConfig::new("overflow", "1"), || program(Some(8))).unwrap();
            let trace = read_trace_file(&path).unwrap();
            replay_coroutines(&trace, || program(None));
        }
        "os-thread" => {
            // The handler is installed by an exploration; a plain OS thread
            // overflowing after it still gets std's report.
            let config =
                reprise::explore::Config::default().budget(2).seed(1).trace_dir(scratch("overflow-os"));
            reprise::explore::Explorer::new(config).run(|| program(Some(8)));
            let plain = std::thread::Builder::new().name("plain".into()).stack_size(STACK);
            plain.spawn(|| descend(None)).unwrap().join().unwrap();
        }
        other => panic!("no child {other}"),
    }
    unreachable!("the coroutine overflowed its stack: the process should have ended");
}

#[test]
fn a_coroutine_overflowing_its_stack_is_named_and_aborts_like_std() {
    if let Ok(how) = std::env::var(CHILD) {
        return child(&how);
    }
    let run = |how: &str| {
        let out = Command::new(std::env::current_exe().unwrap())
            .args([TEST, "--exact", "--nocapture", "--test-threads", "1"])
            .env(CHILD, how)
            .output()
            .unwrap();
        (out.status, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    for how in ["explore", "coroutines"] {
        let (status, stderr) = run(how);
        assert_eq!(status.signal(), Some(libc::SIGABRT), "{how}: {status}\n{stderr}");
        assert!(
            stderr.contains("reprise: thread 1 'deep' has overflowed its stack of 262144 bytes"),
            "{how}: {stderr}"
        );
        assert!(
            stderr.contains("Builder::stack_size") && stderr.contains("RUST_MIN_STACK"),
            "{how}: {stderr}"
        );
    }
    // Other faults go to the handler that was there (std's).
    let (status, stderr) = run("os-thread");
    assert_eq!(status.signal(), Some(libc::SIGABRT), "os thread: {status}\n{stderr}");
    assert!(
        stderr.contains("thread 'plain'") && stderr.contains("has overflowed its stack"),
        "os thread: {stderr}"
    );
    assert!(!stderr.contains("reprise: thread"), "os thread: {stderr}");
}

#[test]
fn a_stack_that_cannot_be_mapped_is_the_spawns_error_under_the_explorer() {
    let config = reprise::explore::Config::default().budget(4).seed(1).trace_dir(scratch("unmappable-stack"));
    let outcome = reprise::explore::Explorer::new(config).run(|| {
        let spawned = thread::Builder::new().stack_size(usize::MAX / 4).spawn(|| 1);
        assert!(spawned.is_err(), "a stack of usize::MAX / 4 bytes was mapped");
        // The explorer goes on: a thread that fits still starts.
        assert_eq!(thread::Builder::new().stack_size(STACK).spawn(|| 2).unwrap().join().unwrap(), 2);
    });
    assert!(outcome.failure.is_none(), "{:?}", outcome.failure.map(|f| f.report));
    assert!(outcome.blocked.is_none(), "{:?}", outcome.blocked);
}
