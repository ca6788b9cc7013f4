//! Record the payments pipeline many times, every seeded bug and none, with 2,
//! 4 and 8 workers; every replay must give the recorded digest and verdict,
//! and the calls the replayed program makes must be the recorded ones.

use reprise::pipelines::payments::{run, Bug, PaymentsConfig, PaymentsOutcome};
use reprise::trace::format::Verdict;
use reprise::{read_trace_file, record, replay_with, OnDeadlock, RecordConfig, ReplayOptions, ReplayOutcome};

use crate::util::{event_sequence, scratch};

const BUGS: [Bug; 5] = [Bug::None, Bug::LostUpdate, Bug::DoubleApply, Bug::Reorder, Bug::Deadlock];

fn runs_per_case() -> u64 {
    std::env::var("REPRISE_FIDELITY_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(8)
}

/// What a run ended in: the digest and invariants line, or the deadlock.
fn ending(result: Option<&PaymentsOutcome>, verdict: &Verdict) -> String {
    match (result, verdict) {
        (_, Verdict::Deadlock { blocked }) => {
            let mut who: Vec<_> = blocked.iter().map(|b| (b.thread, b.op, b.line)).collect();
            who.sort_unstable();
            format!("deadlock {who:?}")
        }
        (Some(o), _) => format!("{} {}", o.digest, o.invariants_line()),
        (None, v) => format!("no result: {v}"),
    }
}

#[test]
fn every_replay_of_the_payments_pipeline_gives_the_recorded_digest_and_verdict() {
    let dir = scratch("fidelity");
    let mut checked = 0;
    let mut violations = 0;
    for bug in BUGS {
        for workers in [2, 4, 8] {
            for seed in 0..runs_per_case() {
                let config =
                    PaymentsConfig { bug, workers, seed, payments: 120, ..PaymentsConfig::default() };
                let path = dir.join(format!("{bug}-{workers}-{seed}.trace"));
                let c = config;
                let recorded = record(
                    &path,
                    RecordConfig::new("fidelity", "1").on_deadlock(OnDeadlock::Return),
                    move || run(&c),
                )
                .unwrap();
                let expected = ending(recorded.result.as_ref(), &recorded.verdict);
                let trace = read_trace_file(&path).unwrap();
                assert!(trace.is_whole(), "{bug} w{workers} s{seed}: {:?}", trace.damage);
                let c = config;
                let replayed = replay_with(&trace, &ReplayOptions::observing(), move || run(&c));
                let got = match &replayed.outcome {
                    ReplayOutcome::Matched => ending(replayed.result.as_ref(), &Verdict::Completed),
                    ReplayOutcome::Deadlock(v) => ending(None, v),
                    other => panic!("{bug} w{workers} s{seed}: {other}"),
                };
                assert_eq!(got, expected, "{bug} with {workers} workers, seed {seed}");
                // A deadlock trace closes while threads outside the cycle still
                // run: replay cuts what no consistent run could have done (a
                // receive whose send came after its sender's last hand-over).
                let deadlocked = matches!(recorded.verdict, Verdict::Deadlock { .. });
                assert!(deadlocked || replayed.cut == 0, "{bug} w{workers} s{seed}: cut {}", replayed.cut);
                assert_eq!(
                    replayed.replayed + replayed.cut,
                    trace.events,
                    "{bug} w{workers} s{seed}: not every event replayed"
                );

                // The re-recording: the calls the replayed program made, per
                // thread, are the recorded ones.
                let observed = replayed.observed.expect("observing replay");
                for (thread, events) in event_sequence(&trace) {
                    let did: Vec<_> = observed
                        .get(&thread)
                        .map(|o| o.iter().map(|e| (e.op, e.object, e.site.to_string())).collect())
                        .unwrap_or_default();
                    // The calls replayed are the recorded ones, up to any cut.
                    let kept = if deadlocked { did.len().min(events.len()) } else { events.len() };
                    assert_eq!(
                        did,
                        events[..kept],
                        "{bug} w{workers} s{seed}: thread {thread} did other calls"
                    );
                }
                violations += u64::from(!expected.ends_with("invariants: ok"));
                checked += 1;
            }
        }
    }
    eprintln!("fidelity: {checked} recordings replayed exactly ({violations} broke an invariant)");
    assert_eq!(checked, BUGS.len() as u64 * 3 * runs_per_case());
}
