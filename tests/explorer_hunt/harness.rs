//! The properties every failure the explorer reports must have, checked for
//! every strategy, a few seeds, with minimization on and off.

use reprise::explore::{Config, Explorer, Failure, FailureKind, StrategyKind};
use reprise::{read_trace_file, replay, replay_coroutines, ReplayOutcome};

use crate::util::scratch;

pub const STRATEGIES: [StrategyKind; 6] = [
    StrategyKind::Random,
    StrategyKind::Pct { depth: 3 },
    StrategyKind::Dfs { preemptions: 2 },
    StrategyKind::Pos,
    StrategyKind::Surw,
    StrategyKind::Portfolio,
];

/// How one program is hunted.
#[derive(Clone, Copy)]
pub struct Hunt {
    pub budget: u64,
    pub seeds: &'static [u64],
    pub max_steps: Option<u64>,
    pub minimize_runs: u64,
    /// Whether two explorations of the program are the same search (not
    /// for a program whose captured input changes from run to run).
    pub same_search: bool,
}

impl Default for Hunt {
    fn default() -> Self {
        Hunt { budget: 60, seeds: &[0, 1, 2], max_steps: None, minimize_runs: 150, same_search: true }
    }
}

/// What a hunt saw: explorations run, failures found.
#[derive(Debug, Default)]
pub struct Tally {
    pub explorations: u64,
    pub schedules: u64,
    pub failures: u64,
    /// The failures' headlines, each once.
    pub kinds: std::collections::BTreeSet<String>,
}

fn config(name: &str, hunt: &Hunt, strategy: StrategyKind, seed: u64, minimize: bool) -> Config {
    let dir = scratch(&format!("hunt-{name}"));
    let mut config = Config::default()
        .strategy(strategy)
        .budget(hunt.budget)
        .seed(seed)
        .minimize(minimize)
        .minimize_runs(hunt.minimize_runs)
        .trace_dir(&dir)
        .name(name);
    if let Some(steps) = hunt.max_steps {
        config = config.max_steps(steps);
    }
    config
}

/// Checks that `failure` has a trace and that the trace replays, in
/// parallel and on coroutines, to the same kind of failure.
pub fn check_failure(what: &str, program: fn(), failure: &Failure) {
    assert!(!failure.report.contains("no trace"), "{what}: no trace\n{}", failure.report);
    // The report shows the interleaving (a run that was not repeated had an
    // empty step table).
    assert!(failure.report.contains(" step |"), "{what}: no step table\n{}", failure.report);
    let path = failure.trace.as_ref().unwrap_or_else(|| panic!("{what}: no trace\n{}", failure.report));
    let trace = read_trace_file(path).unwrap_or_else(|e| panic!("{what}: unreadable trace: {e}"));
    let parallel = replay(&trace, program);
    let coroutines = replay_coroutines(&trace, program);
    for (how, outcome, returned) in [
        ("replay", &parallel.outcome, parallel.result.is_some()),
        ("replay_coroutines", &coroutines.outcome, coroutines.result.is_some()),
    ] {
        let ok = match &failure.kind {
            FailureKind::Panic { .. } => *outcome == ReplayOutcome::Matched && !returned,
            FailureKind::Deadlock { .. } => matches!(outcome, ReplayOutcome::Deadlock(_)),
            FailureKind::Livelock { .. } => matches!(outcome, ReplayOutcome::Livelock(_)),
            FailureKind::Check { .. } => *outcome == ReplayOutcome::Matched,
        };
        assert!(
            ok,
            "{what}: {how} of {} gave {outcome} (returned: {returned}) for {:?}\n{}",
            path.display(),
            failure.kind,
            failure.report
        );
    }
}

/// Hunts `program` with every strategy and seed, minimization on and off,
/// checking every failure found.
pub fn hunt(name: &str, program: fn(), mut hunt: Hunt) -> Tally {
    // HUNT_WIDE=N: N seeds and 300 schedules each, for a longer hunt by hand.
    if let Ok(n) = std::env::var("HUNT_WIDE") {
        let n: u64 = n.parse().unwrap();
        hunt.seeds = Box::leak((0..n).collect::<Vec<_>>().into_boxed_slice());
        hunt.budget = 300;
    }
    let mut tally = Tally::default();
    for strategy in STRATEGIES {
        for &seed in hunt.seeds {
            let what = |min: bool| format!("{name} {strategy} seed {seed} minimize {min}");
            let mut found: [Option<Failure>; 2] = [None, None];
            let mut schedules = [0; 2];
            for (i, minimize) in [false, true].into_iter().enumerate() {
                let outcome = Explorer::new(config(name, &hunt, strategy, seed, minimize)).run(program);
                assert!(outcome.blocked.is_none(), "{}: blocked", what(minimize));
                tally.explorations += 1;
                tally.schedules += outcome.schedules;
                schedules[i] = outcome.schedules;
                if let Some(failure) = outcome.failure {
                    tally.failures += 1;
                    tally.kinds.insert(
                        failure
                            .report
                            .lines()
                            .next()
                            .unwrap_or("")
                            .split("failed: ")
                            .last()
                            .unwrap_or("")
                            .to_string(),
                    );
                    check_failure(&what(minimize), program, &failure);
                    found[i] = Some(failure);
                }
            }
            if !hunt.same_search {
                continue;
            }
            // The search is the same with minimization on or off.
            assert_eq!(schedules[0], schedules[1], "{}: the searches differ", what(true));
            if let [Some(plain), Some(minimized)] = &found {
                assert_eq!(plain.schedule, minimized.schedule, "{}", what(true));
                assert!(
                    plain.kind.same_kind(&minimized.kind),
                    "{}: {:?} minimized to {:?}",
                    what(true),
                    plain.kind,
                    minimized.kind
                );
                assert!(
                    minimized.preemptions <= plain.preemptions,
                    "{}: minimized to {} preemptions from {}\n{}\n{}",
                    what(true),
                    minimized.preemptions,
                    plain.preemptions,
                    plain.report,
                    minimized.report
                );
            } else {
                assert_eq!(
                    found[0].is_some(),
                    found[1].is_some(),
                    "{}: found with one, not the other",
                    what(true)
                );
            }
        }
    }
    // Timers that expire only once every thread is blocked: the failures
    // found so must come back too.
    for strategy in STRATEGIES {
        let config = config(name, &hunt, strategy, 0, true).time_choices(false);
        let outcome = Explorer::new(config).run(program);
        tally.explorations += 1;
        tally.schedules += outcome.schedules;
        if let Some(failure) = outcome.failure {
            tally.failures += 1;
            check_failure(&format!("{name} {strategy} without time choices"), program, &failure);
        }
    }
    eprintln!("{name}: {tally:?}");
    tally
}
