//! Each program of programs.rs off, recorded and replayed both ways,
//! stopped (a divergence, a cut trace) both ways, and explored with a
//! planted failure; each in a child process (see [`super::in_child`]).

use reprise::trace::model::Record;
use reprise::trace::read::TraceFile;
use reprise::{read_trace_file, record, replay, replay_coroutines, RecordConfig, ReplayOutcome};

use super::programs;
use super::{in_child, Mode, CHILD};
use crate::util::{explored_failure, replays_to_the_panic, scratch};

/// A coroutine replay of `trace` running `program(mode)`, on an OS thread
/// of its own: one that leaves a thread mid-unwind leaves that OS
/// thread's panic count raised. Its outcome, result, and events replayed
/// and held.
fn on_coroutines(
    trace: &TraceFile,
    program: fn(Mode) -> String,
    mode: Mode,
) -> (ReplayOutcome, Option<String>, u64, u64) {
    let trace = trace.clone();
    std::thread::spawn(move || {
        let r = replay_coroutines(&trace, move || program(mode));
        (r.outcome, r.result, r.replayed, r.events)
    })
    .join()
    .unwrap()
}

/// Whether `outcome` is the divergence a mode-1 run makes: the main
/// thread's draw where the trace has another call.
fn diverged_at_the_other_call(outcome: &ReplayOutcome) -> bool {
    matches!(outcome, ReplayOutcome::Diverged(d) if d.thread == "`main` (thread 0)" || d.thread == "main")
        && outcome.to_string().contains("actual:   random at tests/unlike_tenth.rs")
}

/// `trace` with the main thread's events after its first `keep` cut, as
/// a crashed recording leaves it (no footer, no seal).
pub(crate) fn cut(trace: &TraceFile, keep: usize) -> TraceFile {
    let mut cut = trace.clone();
    let root = cut.records_mut(0).unwrap();
    let mut events = 0;
    let at = root
        .iter()
        .position(|r| {
            events += usize::from(matches!(r, Record::Event(_)));
            events > keep
        })
        .unwrap_or(root.len());
    root.truncate(at);
    cut.footer = None;
    cut.seal = None;
    cut
}

/// The panic a program's exploration must find: the planted one, unless
/// the program fails first on its own.
const PLANTED: &str = "planted: the main thread fails";

/// Everything the set checks of `program` (see the set's doc), with
/// `planted` its mode 2.
fn checked(name: &str, expected: &str, program: fn(Mode) -> String, planted: fn(), explored_message: &str) {
    assert_eq!(program(0), expected, "{name}: off");
    let dir = scratch(&format!("tenth-{name}"));
    for run in 0..3 {
        let path = dir.join(format!("run{run}.trace"));
        let recorded = record(&path, RecordConfig::new(name, "1"), move || program(0)).unwrap();
        assert_eq!(recorded.result.as_deref(), Some(expected), "{name} run {run}: {}", recorded.verdict);
        let trace = read_trace_file(&path).unwrap();
        assert!(trace.is_whole(), "{name} run {run}: {:?}", trace.damage);
        let parallel = replay(&trace, move || program(0));
        assert_eq!(
            parallel.outcome,
            ReplayOutcome::Matched,
            "{name} run {run} parallel: {}",
            parallel.outcome
        );
        assert_eq!(parallel.result.as_deref(), Some(expected), "{name} run {run} parallel");
        let (outcome, result, replayed, events) = on_coroutines(&trace, program, 0);
        assert_eq!(outcome, ReplayOutcome::Matched, "{name} run {run} coroutines: {outcome}");
        assert_eq!(result.as_deref(), Some(expected), "{name} run {run} coroutines");
        assert_eq!(replayed, events, "{name} run {run} coroutines");

        // Stopped by a divergence: the main thread's other call.
        let parallel = replay(&trace, move || program(1));
        assert!(
            diverged_at_the_other_call(&parallel.outcome),
            "{name} run {run} parallel, diverging: {}",
            parallel.outcome
        );
        let (outcome, ..) = on_coroutines(&trace, program, 1);
        assert!(diverged_at_the_other_call(&outcome), "{name} run {run} coroutines, diverging: {outcome}");

        // Stopped by a cut: the main thread's events after its third.
        let short = cut(&trace, 3);
        let parallel = replay(&short, move || program(0));
        assert!(
            matches!(parallel.outcome, ReplayOutcome::TraceEnded { .. }),
            "{name} run {run} parallel, cut: {}",
            parallel.outcome
        );
        let (outcome, ..) = on_coroutines(&short, program, 0);
        assert!(
            matches!(outcome, ReplayOutcome::TraceEnded { .. }),
            "{name} run {run} coroutines, cut: {outcome}"
        );
    }
    let label = format!("tenth-{name}-planted");
    let failure = explored_failure(&label, 200, 5, planted);
    replays_to_the_panic(&label, &failure, explored_message, 2, planted);
}

macro_rules! set_test {
    ($test:ident, $name:literal, $expected:literal, $program:path, $explored_message:expr) => {
        #[test]
        fn $test() {
            if std::env::var_os(CHILD).is_none() {
                return in_child(concat!("stops::", stringify!($test)));
            }
            checked(
                $name,
                $expected,
                $program,
                || {
                    $program(2);
                },
                $explored_message,
            );
        }
    };
}

set_test!(
    a_supervisor_that_restarts_its_worker,
    "supervisor",
    "total 12, restarts 2",
    programs::supervisor,
    // The worker's staged panic is a failure to the explorer.
    "staged: a poison job"
);
set_test!(
    retry_loops_that_catch_every_panic_around_each_wait,
    "retry",
    "Recv caught 1, Lock caught 1, Condvar caught 1, Barrier caught 1, Park caught 1, Sleep caught 1, \
     RecvTimeout caught 1",
    programs::retry_loops,
    PLANTED
);
set_test!(
    drops_that_send_on_a_rendezvous_and_join,
    "drops",
    "worker got one true, collected 7",
    programs::blocking_drops,
    PLANTED
);
set_test!(detached_spinners_never_joined, "detached", "reached 20", programs::detached_spinners, PLANTED);
set_test!(
    a_scope_whose_body_panics_while_its_workers_wait,
    "scoped",
    "caught true, done 6",
    programs::scoped_panicking_body,
    PLANTED
);
set_test!(
    nested_catches_that_keep_report_and_resume,
    "nested",
    "outer 2, reports [1]",
    programs::nested_resume,
    PLANTED
);
