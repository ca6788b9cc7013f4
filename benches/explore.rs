//! The explorer against shuttle, side by side in one run, on the same three
//! models: a 2-thread lost update, a 5-thread channel pipeline with no bug,
//! and a 2-thread reconciliation bug that needs two preemptions.
//!
//! The models are written once, in `models!`, and expanded twice: in
//! `on_reprise` over `reprise::{thread, sync, channel}` and in `on_shuttle`
//! over `shuttle::{thread, sync}`. The two modules differ only in their `use`
//! lines, so the models are line-for-line the same program.
//!
//! Two passes (sizes in `FULL`; `cargo test --bench explore` runs `SMOKE`):
//!
//! - **speed**: schedules per second. Each model runs a fixed number of
//!   schedules under each tool's random strategy and under PCT (depth 3), with
//!   the models' final assertion off so that every schedule runs to its end;
//!   a few rounds, the tools alternating which goes first, and the median
//!   round per tool.
//! - **failures**: schedules to the first failure of the two buggy models,
//!   over several seeds per strategy family (random against shuttle's
//!   `RandomScheduler`, as `check_random` uses; PCT depth 2 and 3 against
//!   shuttle's `PctScheduler`, as `check_pct` uses, but seeded), each search
//!   capped. reprise counts `Failure::schedule + 1` (minimization off, traces
//!   into a temp dir); shuttle counts the calls of the test closure until
//!   `Runner::run` panics. This pass runs in a child process of this binary
//!   with stderr discarded: shuttle prints a line for every failing execution
//!   whatever its config says. A no-op panic hook is installed around it.
//!
//! See `benches/README.md` for the last figures.

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering as StdOrdering};
use std::time::{Duration, Instant};

use reprise::explore::{Config, Explorer, StrategyKind};
use shuttle::scheduler::{PctScheduler, RandomScheduler};
use shuttle::Runner;

/// The models, written once for both tools. Each takes `check`: whether to
/// assert the invariant at the end (off in the speed pass, so that a buggy
/// model runs its whole budget there too).
macro_rules! models {
    () => {
        /// Two threads withdraw 60 from a balance of 100. Each checks the
        /// balance in one critical section and debits it in a second one: a
        /// check-then-act. Both pass the check when each checks before the
        /// other debits (two ordering constraints: PCT depth 2).
        pub(crate) fn lost_update(check: bool) {
            let balance = Arc::new(Mutex::new(100i64));
            let other = Arc::clone(&balance);
            let teller = thread::spawn(move || withdraw(&other, 60));
            withdraw(&balance, 60);
            teller.join().unwrap();
            let left = *balance.lock().unwrap();
            if check {
                assert!(left >= 0, "overdrawn: {left}");
            }
        }

        fn withdraw(balance: &Mutex<i64>, amount: i64) -> bool {
            let enough = *balance.lock().unwrap() >= amount;
            if enough {
                *balance.lock().unwrap() -= amount;
            }
            enough
        }

        /// Producer -> 3 stages -> consumer (the main thread), bounded
        /// channels of capacity 2, `MESSAGES` messages. No bug.
        pub(crate) fn pipeline(check: bool) {
            let (tx, mut rx) = channel::<u64>(2);
            let producer = thread::spawn(move || {
                for m in 0..MESSAGES {
                    tx.send(m).unwrap();
                }
            });
            let mut stages = Vec::new();
            for stage in 1..=3 {
                let (next_tx, next_rx) = channel::<u64>(2);
                let input = std::mem::replace(&mut rx, next_rx);
                stages.push(thread::spawn(move || {
                    for m in input.iter() {
                        next_tx.send(m * 10 + stage).unwrap();
                    }
                }));
            }
            let received: Vec<u64> = rx.iter().collect();
            producer.join().unwrap();
            for stage in stages {
                stage.join().unwrap();
            }
            if check {
                assert_eq!(received, (0..MESSAGES).map(|m| m * 1000 + 123).collect::<Vec<_>>());
            }
        }

        /// A ledger posts a batch of two payments, each to the accounts'
        /// total and then, in a second critical section, to the journal's,
        /// with the batch flagged open meanwhile. The reconciler (the main
        /// thread) checks the flag and, if no batch is open, snapshots both
        /// totals under the lock: a check-then-act. It reconciles mid-batch
        /// only if it checks before the batch opens, the ledger then posts a
        /// first half, and the snapshot comes before the second half: three
        /// ordering constraints, two preemptions (PCT depth 3).
        pub(crate) fn mid_batch(check: bool) {
            let open = Arc::new(AtomicBool::new(false));
            let books = Arc::new(Mutex::new((1000i64, 0i64)));
            let (open2, books2) = (Arc::clone(&open), Arc::clone(&books));
            let ledger = thread::spawn(move || {
                open2.store(true, Ordering::SeqCst);
                for payment in [50, 30] {
                    books2.lock().unwrap().0 += payment;
                    books2.lock().unwrap().1 += payment;
                }
                open2.store(false, Ordering::SeqCst);
            });
            if !open.load(Ordering::SeqCst) {
                let (total, journaled) = *books.lock().unwrap();
                if check {
                    assert_eq!(total - journaled, 1000, "reconciled mid-batch");
                }
            }
            ledger.join().unwrap();
        }
    };
}

/// Messages through the pipeline model.
const MESSAGES: u64 = 4;

mod on_reprise {
    use super::MESSAGES;
    use reprise::channel::bounded as channel;
    use reprise::sync::atomic::{AtomicBool, Ordering};
    use reprise::sync::{Arc, Mutex};
    use reprise::thread;

    models!();
}

mod on_shuttle {
    use super::MESSAGES;
    use shuttle::sync::atomic::{AtomicBool, Ordering};
    use shuttle::sync::mpsc::sync_channel as channel;
    use shuttle::sync::{Arc, Mutex};
    use shuttle::thread;

    models!();
}

/// How much each pass runs.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    /// Schedules per timed run in the speed pass.
    speed_schedules: u64,
    /// Timed runs per model, strategy and tool in the speed pass.
    speed_rounds: usize,
    /// Seeds per buggy model and strategy in the failures pass.
    seeds: u64,
    /// The most schedules a search for a failure may take.
    failure_cap: u64,
}

/// `cargo bench --bench explore`.
const FULL: Sizes = Sizes { speed_schedules: 20_000, speed_rounds: 7, seeds: 51, failure_cap: 20_000 };

/// `cargo test --bench explore`: every path once, quickly.
const SMOKE: Sizes = Sizes { speed_schedules: 20, speed_rounds: 1, seeds: 2, failure_cap: 500 };

/// The environment variable that makes this binary the failures pass.
const CHILD: &str = "REPRISE_EXPLORE_BENCH_CHILD";

/// The environment variable that makes this binary a driver for callgrind
/// or perf: `tool:model:strategy:schedules` (model by its index in
/// `MODELS`) runs that one search, unchecked, and nothing else.
const PROFILE: &str = "REPRISE_EXPLORE_PROFILE";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tool {
    Reprise,
    Shuttle,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Reprise => "reprise",
            Tool::Shuttle => "shuttle",
        }
    }
}

/// A strategy family, the same on both sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Random,
    Pct(u32),
}

impl Family {
    fn name(self) -> String {
        match self {
            Family::Random => "random".into(),
            Family::Pct(depth) => format!("pct{depth}"),
        }
    }

    fn reprise(self) -> StrategyKind {
        match self {
            Family::Random => StrategyKind::Random,
            Family::Pct(depth) => StrategyKind::Pct { depth },
        }
    }
}

/// One model, on both tools.
#[derive(Clone, Copy)]
struct Model {
    name: &'static str,
    threads: u32,
    reprise: fn(bool),
    shuttle: fn(bool),
    /// What its assertion says when it fails (`None`: it has no bug).
    bug: Option<&'static str>,
}

const MODELS: [Model; 3] = [
    Model {
        name: "lost update",
        threads: 2,
        reprise: on_reprise::lost_update,
        shuttle: on_shuttle::lost_update,
        bug: Some("overdrawn"),
    },
    Model {
        name: "pipeline",
        threads: 5,
        reprise: on_reprise::pipeline,
        shuttle: on_shuttle::pipeline,
        bug: None,
    },
    Model {
        name: "mid-batch reconciliation",
        threads: 2,
        reprise: on_reprise::mid_batch,
        shuttle: on_shuttle::mid_batch,
        bug: Some("reconciled mid-batch"),
    },
];

/// What one search did: the schedules it ran, whether the last one failed
/// (and with what message), and how long it took.
struct Search {
    schedules: u64,
    failure: Option<String>,
    elapsed: Duration,
}

/// Runs `model` under reprise's explorer.
fn run_reprise(model: fn(bool), check: bool, family: Family, seed: u64, budget: u64, dir: &Path) -> Search {
    let config = Config::default()
        .strategy(family.reprise())
        .seed(seed)
        .budget(budget)
        .minimize(false)
        .trace_dir(dir)
        .name(format!("bench-{}-{seed}", family.name()));
    let start = Instant::now();
    let outcome = Explorer::new(config).run(move || model(check));
    let elapsed = start.elapsed();
    match outcome.failure {
        Some(failure) => {
            Search { schedules: failure.schedule + 1, failure: Some(failure.kind.summary()), elapsed }
        }
        None => Search { schedules: outcome.schedules, failure: None, elapsed },
    }
}

/// Calls of the shuttle test closure so far: shuttle reports a failure by
/// panicking out of `Runner::run`, so this is how many schedules it took.
static SHUTTLE_CALLS: AtomicU64 = AtomicU64::new(0);

/// Runs `model` under shuttle.
fn run_shuttle(model: fn(bool), check: bool, family: Family, seed: u64, budget: u64) -> Search {
    let budget = usize::try_from(budget).expect("a budget that fits usize");
    let test = move || {
        SHUTTLE_CALLS.fetch_add(1, StdOrdering::Relaxed);
        model(check);
    };
    SHUTTLE_CALLS.store(0, StdOrdering::Relaxed);
    let start = Instant::now();
    let result = panic::catch_unwind(AssertUnwindSafe(|| match family {
        Family::Random => {
            Runner::new(RandomScheduler::new_from_seed(seed, budget), shuttle::Config::default()).run(test)
        }
        Family::Pct(depth) => {
            let scheduler = PctScheduler::new_from_seed(seed, depth as usize, budget);
            Runner::new(scheduler, shuttle::Config::default()).run(test)
        }
    }));
    let elapsed = start.elapsed();
    let schedules = SHUTTLE_CALLS.load(StdOrdering::Relaxed);
    match result {
        Ok(_) => Search { schedules, failure: None, elapsed },
        Err(payload) => Search { schedules, failure: Some(payload_text(&*payload)), elapsed },
    }
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_string()
    }
}

fn run(tool: Tool, model: &Model, check: bool, family: Family, seed: u64, budget: u64, dir: &Path) -> Search {
    match tool {
        Tool::Reprise => run_reprise(model.reprise, check, family, seed, budget, dir),
        Tool::Shuttle => run_shuttle(model.shuttle, check, family, seed, budget),
    }
}

/// The speed pass: schedules per second of every model under both tools.
fn speed(sizes: Sizes, dir: &Path) -> Vec<String> {
    let mut rows = Vec::new();
    for model in &MODELS {
        for family in [Family::Random, Family::Pct(3)] {
            // Warm up both (stacks, page faults, caches).
            for tool in [Tool::Reprise, Tool::Shuttle] {
                run(tool, model, false, family, 99, (sizes.speed_schedules / 10).max(1), dir);
            }
            let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
            for round in 0..sizes.speed_rounds {
                let order = if round % 2 == 0 {
                    [Tool::Reprise, Tool::Shuttle]
                } else {
                    [Tool::Shuttle, Tool::Reprise]
                };
                for tool in order {
                    let search = run(tool, model, false, family, round as u64, sizes.speed_schedules, dir);
                    if let Some(message) = search.failure {
                        panic!("{} failed {} under {}: {message}", tool.name(), model.name, family.name());
                    }
                    assert_eq!(search.schedules, sizes.speed_schedules, "{} stopped early", tool.name());
                    times[tool as usize].push(search.elapsed);
                }
            }
            let per_second = |times: &mut Vec<Duration>| {
                times.sort_unstable();
                sizes.speed_schedules as f64 / times[times.len() / 2].as_secs_f64()
            };
            let (reprise, shuttle) = (per_second(&mut times[0]), per_second(&mut times[1]));
            rows.push(format!(
                "| {} | {} | {} | {} | {} | {:.2}x | {:.1} / {:.1} |",
                model.name,
                model.threads,
                family.name(),
                thousands(reprise),
                thousands(shuttle),
                reprise / shuttle,
                1e6 / reprise,
                1e6 / shuttle,
            ));
        }
    }
    rows
}

/// The failures pass, in the child: one line per search,
/// `tool model family seed schedules-or-none nanoseconds`.
fn failures_child(sizes: Sizes, dir: &Path) {
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let mut lines = Vec::new();
    for (index, model) in MODELS.iter().enumerate() {
        let Some(bug) = model.bug else { continue };
        for family in [Family::Random, Family::Pct(2), Family::Pct(3)] {
            for seed in 0..sizes.seeds {
                for tool in [Tool::Reprise, Tool::Shuttle] {
                    let search = run(tool, model, true, family, seed, sizes.failure_cap, dir);
                    let found = match &search.failure {
                        Some(message) if message.contains(bug) => search.schedules.to_string(),
                        Some(message) => {
                            panic::set_hook(hook);
                            panic!("{} failed {} otherwise: {message}", tool.name(), model.name);
                        }
                        None => "none".into(),
                    };
                    lines.push(format!(
                        "{} {index} {} {seed} {found} {}",
                        tool.name(),
                        family.name(),
                        search.elapsed.as_nanos()
                    ));
                }
            }
        }
    }
    panic::set_hook(hook);
    for line in lines {
        println!("{line}");
    }
}

/// The failures pass, seen from the parent: runs the child and tabulates.
fn failures(sizes: Sizes) -> Vec<String> {
    let output = Command::new(std::env::current_exe().expect("this binary's path"))
        .env(CHILD, if sizes.seeds == FULL.seeds { "full" } else { "smoke" })
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("the failures pass runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the failures pass failed ({}); run it alone with {CHILD}=full to see why\n{stdout}",
        output.status
    );
    // (model, family) -> per tool: schedules to failure (None: not found) and seconds.
    type Found = Vec<(Option<u64>, f64)>;
    let mut searches: Vec<((usize, String), [Found; 2])> = Vec::new();
    for line in stdout.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let [tool, model, family, _seed, found, nanos] = fields[..] else { panic!("bad line `{line}`") };
        let tool = if tool == "reprise" { 0 } else { 1 };
        let key = (model.parse::<usize>().unwrap(), family.to_string());
        let at = match searches.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                searches.push((key, [Vec::new(), Vec::new()]));
                searches.len() - 1
            }
        };
        searches[at].1[tool].push((found.parse().ok(), nanos.parse::<f64>().unwrap() / 1e9));
    }
    let mut rows = Vec::new();
    for ((model, family), mut found) in searches {
        let [reprise, shuttle] = [0, 1].map(|tool| {
            let runs = &mut found[tool];
            let hits = runs.iter().filter(|(n, _)| n.is_some()).count();
            let mut counts: Vec<u64> = runs.iter().map(|(n, _)| n.unwrap_or(u64::MAX)).collect();
            counts.sort_unstable();
            let median = match counts[counts.len() / 2] {
                u64::MAX => format!("> {}", sizes.failure_cap),
                n => n.to_string(),
            };
            let mut seconds: Vec<f64> = runs.iter().filter(|(n, _)| n.is_some()).map(|(_, s)| *s).collect();
            seconds.sort_by(f64::total_cmp);
            let time = seconds.get(seconds.len() / 2).map_or("-".into(), |s| format!("{:.2} ms", s * 1e3));
            (median, format!("{hits}/{}", runs.len()), time)
        });
        rows.push(format!(
            "| {} | {family} | {} | {} | {} | {} | {} | {} |",
            MODELS[model].name, reprise.0, shuttle.0, reprise.1, shuttle.1, reprise.2, shuttle.2
        ));
    }
    rows
}

/// One search for a profiler (see [`PROFILE`]).
fn profile(spec: &str, dir: &Path) {
    let fields: Vec<&str> = spec.split(':').collect();
    let [tool, model, family, schedules] = fields[..] else {
        panic!("{PROFILE}={spec}: expected tool:model:strategy:schedules")
    };
    let tool = if tool == "shuttle" { Tool::Shuttle } else { Tool::Reprise };
    let model = &MODELS[model.parse::<usize>().expect("a model index")];
    let family = match family {
        "random" => Family::Random,
        other => Family::Pct(other.trim_start_matches("pct").parse().expect("random or pctN")),
    };
    let schedules = schedules.parse().expect("a number of schedules");
    let search = run(tool, model, false, family, 1, schedules, dir);
    println!("{} schedules in {:.3} s", search.schedules, search.elapsed.as_secs_f64());
}

/// `1234567.8` as `1,234,568`.
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --bench explore` does not:
    // that is a smoke test.
    let mut sizes = if std::env::args().any(|a| a == "--bench") { FULL } else { SMOKE };
    let child = std::env::var(CHILD).ok();
    if let Some(which) = &child {
        sizes = if which == "smoke" { SMOKE } else { FULL };
    }
    let dir: PathBuf = std::env::temp_dir().join(format!("reprise-explore-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir for failure traces");
    if let Ok(spec) = std::env::var(PROFILE) {
        profile(&spec, &dir);
        std::fs::remove_dir_all(&dir).ok();
        return;
    }
    if child.is_some() {
        failures_child(sizes, &dir);
        std::fs::remove_dir_all(&dir).ok();
        return;
    }
    let start = Instant::now();
    println!(
        "## Schedules per second ({} schedules per run, median of {} runs)\n",
        sizes.speed_schedules, sizes.speed_rounds
    );
    println!(
        "| model | threads | strategy | reprise schedules/s | shuttle schedules/s | reprise / shuttle \
         | µs per schedule (reprise / shuttle) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for row in speed(sizes, &dir) {
        println!("{row}");
    }
    println!(
        "\n## Schedules to the first failure (median of {} seeds, searches capped at {})\n",
        sizes.seeds, sizes.failure_cap
    );
    println!(
        "| model | strategy | reprise | shuttle | found (reprise) | found (shuttle) \
         | time to failure (reprise) | time to failure (shuttle) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for row in failures(sizes) {
        println!("{row}");
    }
    println!("\n(whole run: {:.1} s)", start.elapsed().as_secs_f64());
    std::fs::remove_dir_all(&dir).ok();
}
