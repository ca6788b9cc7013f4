//! Record and replay both built-in pipelines many times, across 1 to 8 workers,
//! many seeds and every seeded bug (the payments deadlock replayed to the same deadlock), some
//! runs large, while spinning threads load every core: every replay must come
//! back to the recorded digest and verdict with zero divergences and zero
//! stalls, and no recording of a correct run may end in a deadlock verdict.
//!
//! Sized by the environment: `REPRISE_STRESS_RUNS` (default 24: about a
//! minute in a debug build on 2 loaded cores), `REPRISE_STRESS_LARGE` (the size
//! of a large run; default 10,000), `REPRISE_STRESS_LARGE_EVERY` (two runs in
//! every this many, one per pipeline, are large; default 12),
//! `REPRISE_STRESS_HOG` (spinning threads; default one per core). `.ci/run`
//! runs a bigger one (hundreds of runs, some of 200,000) in a release build.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use reprise::pipelines::{payments, settlement};
use reprise::trace::format::Verdict;
use reprise::{read_trace_file, record, replay, OnDeadlock, RecordConfig, ReplayOutcome};
use reprise_replayer::compare::compare;

use crate::util::scratch;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Threads that spin until dropped, to load the machine.
struct CpuHog {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl CpuHog {
    fn start(threads: usize) -> CpuHog {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..threads)
            .map(|i| {
                let stop = Arc::clone(&stop);
                std::thread::Builder::new()
                    .name(format!("cpu-hog-{i}"))
                    .spawn(move || {
                        let mut x = i as u64 + 1;
                        while !stop.load(Ordering::Relaxed) {
                            for _ in 0..1_000 {
                                x = std::hint::black_box(
                                    x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1),
                                );
                            }
                        }
                    })
                    .expect("spawn a cpu hog")
            })
            .collect();
        CpuHog { stop, threads }
    }
}

impl Drop for CpuHog {
    // Also on a failed assertion: the hog never outlives the test.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// One run of the plan: which pipeline, how big, how many workers.
#[derive(Clone, Copy, Debug)]
enum Run {
    Payments(payments::PaymentsConfig),
    Settlement(settlement::SettlementConfig),
}

impl Run {
    /// Run `i` of the plan: the pipelines alternate, workers cycle 1..=8, the
    /// bugs cycle (none most often), and the last two runs of every `every`
    /// (one of each pipeline) are `large`; the others have 200 to 2,000.
    fn nth(i: u64, large: u64, every: u64) -> Run {
        let workers = 1 + (i / 2 % 8) as usize;
        let size = if i % every >= every - 2 { large } else { 200 + (i * 37 % 1_800) };
        let seed = i;
        if i.is_multiple_of(2) {
            let bugs = [
                payments::Bug::None,
                payments::Bug::LostUpdate,
                payments::Bug::DoubleApply,
                payments::Bug::Reorder,
                payments::Bug::Deadlock,
            ];
            let bug = if i.is_multiple_of(4) { payments::Bug::None } else { bugs[(i / 4 % 5) as usize] };
            Run::Payments(payments::PaymentsConfig {
                payments: size,
                workers,
                seed,
                bug,
                ..Default::default()
            })
        } else {
            let bugs = [settlement::Bug::None, settlement::Bug::StaleRate, settlement::Bug::DoubleSettle];
            let bug = if i % 4 == 1 { settlement::Bug::None } else { bugs[(i / 4 % 3) as usize] };
            Run::Settlement(settlement::SettlementConfig { orders: size, settlers: workers, seed, bug })
        }
    }

    fn correct(&self) -> bool {
        match self {
            Run::Payments(c) => c.bug == payments::Bug::None,
            Run::Settlement(c) => c.bug == settlement::Bug::None,
        }
    }

    /// Runs the pipeline: its digest and invariants line.
    fn program(self) -> impl Fn() -> (String, String) + Send + Clone + 'static {
        move || match self {
            Run::Payments(c) => {
                let o = payments::run(&c);
                (o.digest.clone(), o.invariants_line())
            }
            Run::Settlement(c) => {
                let o = settlement::run(&c);
                (o.digest.clone(), o.invariants_line())
            }
        }
    }
}

/// What the stress test counted.
#[derive(Debug, Default)]
struct Counts {
    recordings: u64,
    replays: u64,
    divergences: u64,
    stalls: u64,
    /// Replays that ended otherwise than recorded without diverging or
    /// stalling (another digest, the trace ending early, events left over).
    mismatches: u64,
    /// Recordings of a correct run that ended in a deadlock verdict.
    false_deadlocks: u64,
    /// Recordings of the seeded deadlock, replayed to the same deadlock.
    deadlocks: u64,
    events: u64,
    violations: u64,
    failures: Vec<String>,
}

#[test]
fn both_pipelines_replay_exactly_under_a_cpu_hog() {
    let runs = env_or("REPRISE_STRESS_RUNS", 24);
    let large = env_or("REPRISE_STRESS_LARGE", 10_000);
    let every = env_or("REPRISE_STRESS_LARGE_EVERY", 12).max(2);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u64;
    let hog_threads = env_or("REPRISE_STRESS_HOG", cores) as usize;
    let dir = scratch("stress");
    let trace = dir.join("run.trace");
    let mut counts = Counts::default();

    let hog = CpuHog::start(hog_threads);
    for i in 0..runs {
        if i > 0 && i % (runs / 10).max(10) == 0 {
            eprintln!(
                "stress: {i}/{runs} runs, {} divergences, {} stalls so far",
                counts.divergences, counts.stalls
            );
        }
        let run = Run::nth(i, large, every);
        let program = run.program();
        // A proven deadlock returns here, its threads left blocked.
        let config = RecordConfig::new("stress", "1").on_deadlock(OnDeadlock::Return);
        let recorded = record(&trace, config, program.clone()).expect("record");
        counts.recordings += 1;
        let fail = |counts: &mut Counts, what: String| {
            if counts.failures.len() < 10 {
                counts.failures.push(format!("run {i} {run:?}: {what}"));
            }
        };
        let expected = match (&recorded.result, &recorded.verdict) {
            (Some(lines), Verdict::Completed) => lines.clone(),
            (_, verdict @ Verdict::Deadlock { .. }) if run.correct() => {
                counts.false_deadlocks += 1;
                fail(&mut counts, format!("the recording ended in {verdict}"));
                continue;
            }
            (_, Verdict::Deadlock { .. }) => {
                // The seeded lock-order deadlock: replay must reproduce it.
                counts.deadlocks += 1;
                let file = read_trace_file(&trace).expect("read the trace back");
                counts.events += file.events;
                let replayed = replay(&file, program);
                counts.replays += 1;
                match (&replayed.outcome, &file.footer, &replayed.reproduced) {
                    (ReplayOutcome::Deadlock(_), Some(footer), Some(got))
                        if compare(footer, got, &[]).is_empty() => {}
                    (ReplayOutcome::Stalled(s), ..) => {
                        counts.stalls += 1;
                        fail(&mut counts, format!("stalled: {s}"));
                    }
                    (ReplayOutcome::Diverged(d), ..) => {
                        counts.divergences += 1;
                        fail(&mut counts, format!("diverged: {d}"));
                    }
                    (other, footer, got) => {
                        counts.mismatches += 1;
                        let recorded = footer.as_ref().map(|f| f.verdict.to_string());
                        fail(&mut counts, format!("{other}: recorded {recorded:?}, reproduced {got:?}"));
                    }
                }
                continue;
            }
            (_, verdict) => {
                // A seeded bug may panic for real: replay must agree, which
                // the outcome checks below do not cover; count it apart.
                fail(&mut counts, format!("the recording ended in {verdict}"));
                counts.mismatches += 1;
                continue;
            }
        };
        counts.violations += u64::from(expected.1 != "invariants: ok");
        let file = read_trace_file(&trace).expect("read the trace back");
        assert!(file.is_whole(), "run {i}: {:?}", file.damage);
        counts.events += file.events;
        let replayed = replay(&file, program);
        counts.replays += 1;
        match &replayed.outcome {
            ReplayOutcome::Matched
                if replayed.result.as_ref() == Some(&expected) && replayed.replayed == file.events => {}
            ReplayOutcome::Matched => {
                counts.mismatches += 1;
                let what = format!(
                    "matched, but gave {:?} after {} of {} events; recorded {expected:?}",
                    replayed.result, replayed.replayed, file.events
                );
                fail(&mut counts, what);
            }
            ReplayOutcome::Diverged(d) => {
                counts.divergences += 1;
                fail(&mut counts, format!("diverged: {d}"));
            }
            ReplayOutcome::Stalled(s) => {
                counts.stalls += 1;
                fail(&mut counts, format!("stalled: {s}"));
            }
            other => {
                counts.mismatches += 1;
                fail(&mut counts, format!("{other}"));
            }
        }
    }
    drop(hog);

    eprintln!(
        "stress: {} recordings, {} replays, {} divergences, {} stalls, {} other mismatches, \
         {} false deadlocks ({} seeded deadlocks replayed as recorded, {} events replayed, \
         {} runs broke an invariant; {} hog threads on {} cores, \
         large runs of {large} every {every})",
        counts.recordings,
        counts.replays,
        counts.divergences,
        counts.stalls,
        counts.mismatches,
        counts.false_deadlocks,
        counts.deadlocks,
        counts.events,
        counts.violations,
        hog_threads,
        cores
    );
    for failure in &counts.failures {
        eprintln!("stress: {failure}");
    }
    assert_eq!(
        (counts.divergences, counts.stalls, counts.mismatches, counts.false_deadlocks),
        (0, 0, 0, 0),
        "divergences, stalls, mismatches, false deadlocks: {:#?}",
        counts.failures
    );
    assert_eq!(counts.replays, runs);
}
