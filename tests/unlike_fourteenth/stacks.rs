//! `examples/fourteenth_stack.rs`: workers on 16 KiB and 20 KB stacks
//! (`Builder::stack_size`, spawned and scoped), which std and a recording
//! run, recorded with `REPRISE_RECORD` and replayed with `reprise replay
//! FILE -- CMD` both ways: each replay must exit 0 with the recorded
//! digest. The parallel replay read each thread's log on the thread's own
//! stack and overflowed it at the first event (SIGABRT, "has overflowed
//! its stack"); it now gives such a thread room for its bookkeeping.

use crate::unlike_twelfth::{digest_line, plain};
use crate::util::{example, scratch, stderr};

#[test]
fn workers_on_the_smallest_stacks_replay_both_ways() {
    let dir = scratch("fourteenth-stacks");
    let program = example("fourteenth_stack");
    for (size, how) in [("16384", "spawned"), ("20000", "spawned"), ("16384", "scoped")] {
        let plainly = plain(&program).args([size, how]).output().expect("run fourteenth_stack");
        assert_eq!(plainly.status.code(), Some(0), "{size} {how} off: {}", stderr(&plainly));
        let trace = dir.join(format!("{size}-{how}.trace"));
        let recorded =
            plain(&program).args([size, how]).env("REPRISE_RECORD", &trace).output().expect("record");
        assert_eq!(recorded.status.code(), Some(0), "{size} {how} recorded: {}", stderr(&recorded));
        for coroutines in [false, true] {
            let mut cmd = plain(env!("CARGO_BIN_EXE_reprise"));
            cmd.arg("replay");
            if coroutines {
                cmd.arg("--coroutines");
            }
            let replayed =
                cmd.arg(&trace).arg("--").arg(&program).args([size, how]).output().expect("replay");
            assert_eq!(
                replayed.status.code(),
                Some(0),
                "{size} {how}, coroutines {coroutines}: {}",
                stderr(&replayed)
            );
            assert_eq!(
                digest_line(&replayed),
                digest_line(&recorded),
                "{size} {how}, coroutines {coroutines}"
            );
        }
    }
}
