//! The compile probe: `surface.rs` is written against std and
//! crossbeam-channel and compiled twice, with `rt` naming each of them in
//! turn. Against std it shows the probe itself is right; against reprise it
//! runs in every mode: off, recorded and replayed (in parallel and on
//! coroutines) to the same transcript, and under the explorer.

use reprise::explore::{Config, Explorer};
use reprise::{read_trace_file, record, replay, replay_coroutines, RecordConfig, ReplayOutcome};

use crate::util::scratch;

/// std and crossbeam-channel under the names reprise gives them.
mod std_facade {
    pub mod channel {
        pub use crossbeam_channel::*;
    }
    pub use std::thread_local;
    pub use std::{hint, sync, thread, time};
}

/// The probe against std + crossbeam-channel. It is written as a port
/// would find it, not to clippy's taste.
#[allow(clippy::vec_init_then_push, clippy::len_zero, clippy::missing_const_for_thread_local)]
mod on_std {
    use super::std_facade as rt;
    include!("surface.rs");
}

/// The same file against reprise: only `rt` differs.
#[allow(clippy::vec_init_then_push, clippy::len_zero, clippy::missing_const_for_thread_local)]
mod on_reprise {
    use reprise as rt;
    include!("surface.rs");
}

#[test]
fn the_probe_runs_against_std_and_crossbeam() {
    let transcript = on_std::probe();
    on_std::once_statics();
    assert!(transcript.iter().any(|line| line.starts_with("statics")), "{transcript:#?}");
}

/// One test, so that no two modes use the probe's statics at once.
#[test]
fn the_probe_runs_on_reprise_off_recorded_replayed_and_explored() {
    let plain = on_reprise::probe();
    on_reprise::once_statics();
    assert_eq!(plain.len(), on_std::probe().len(), "{plain:#?}");

    let path = scratch("probe").join("probe.trace");
    let recorded = record(&path, RecordConfig::new("probe", "1"), on_reprise::probe).unwrap();
    let transcript = recorded.result.expect("the recorded probe ran to its end");
    let trace = read_trace_file(&path).unwrap();
    assert!(trace.is_whole(), "{:?}", trace.damage);
    let replayed = replay(&trace, on_reprise::probe);
    assert_eq!(replayed.outcome, ReplayOutcome::Matched, "{}", replayed.outcome);
    assert_eq!(replayed.result.as_ref(), Some(&transcript), "parallel replay's transcript");
    assert_eq!(replayed.replayed, trace.events);
    let coroutines = replay_coroutines(&trace, on_reprise::probe);
    assert_eq!(coroutines.outcome, ReplayOutcome::Matched, "{}", coroutines.outcome);
    assert_eq!(coroutines.result.as_ref(), Some(&transcript), "coroutine replay's transcript");

    let explored = Explorer::new(
        Config::default().budget(8).trace_dir(scratch("probe-explore")).name("probe"),
    )
    .run(|| {
        on_reprise::probe();
    });
    assert!(explored.failure.is_none(), "{}", explored.failure.map(|f| f.report).unwrap_or_default());
    assert!(explored.schedules >= 1);
}
