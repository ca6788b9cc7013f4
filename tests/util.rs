//! Helpers shared by the end-to-end tests.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reprise::trace::model::{Op, Record};
use reprise::trace::read::TraceFile;

/// A fresh directory under the target dir for one test.
pub fn scratch(name: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// How long a child process may take to end before the test kills it and
/// fails: a backstop against a hang, never a measure.
pub const CHILD_BACKSTOP: Duration = Duration::from_secs(120);

/// Waits for the child to end, killing it after [`CHILD_BACKSTOP`] so that
/// a child that does not end fails the test instead of hanging it.
pub fn wait_bounded(child: &mut Child) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > CHILD_BACKSTOP {
            let _ = child.kill();
            panic!("the child did not end within {CHILD_BACKSTOP:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for the child to print a line ending with `line` on its (piped)
/// stdout, then drains the rest on a thread of its own, so that the child
/// never blocks on a full pipe; returns the child.
pub fn wait_for_line(mut child: Child, line: &str) -> Child {
    let out = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(out).lines();
    loop {
        match lines.next() {
            Some(Ok(l)) if l.trim_end().ends_with(line) => break,
            Some(Ok(_)) => {}
            _ => panic!("the child ended before printing {line:?}: {:?}", child.wait()),
        }
    }
    std::thread::spawn(move || for _ in lines {});
    child
}

/// An example program of this package, which `cargo test` builds.
pub fn example(name: &str) -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let debug = deps.parent().and_then(|d| d.parent()).unwrap();
    let exe = debug.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(exe.exists(), "{} is missing: run `cargo test` (it builds the examples)", exe.display());
    exe
}

/// Runs the `reprise` binary.
pub fn reprise(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reprise")).args(args).output().expect("run reprise")
}

/// Runs the `reprise` binary with a path argument last.
pub fn reprise_on(args: &[&str], path: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reprise")).args(args).arg(path).output().expect("run reprise")
}

/// A scripted `reprise debug` session on `trace` (the script on its
/// stdin): (exit code, stdout, stderr).
pub fn debug_session(trace: impl AsRef<std::ffi::OsStr>, script: &str) -> (Option<i32>, String, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_reprise"))
        .arg("debug")
        .arg(trace)
        .env_remove("REPRISE_KEY")
        .env("RUST_BACKTRACE", "0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code(), stdout(&out), stderr(&out))
}

/// The two accesses `reprise why` names of a race: its `first:` and
/// `second:` lines.
pub fn why_pair(said: &str) -> Vec<&str> {
    said.lines()
        .filter(|l| l.trim_start().starts_with("first:") || l.trim_start().starts_with("second:"))
        .collect()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// One event as (op, object, file:line:col).
pub type Call = (Op, Option<u32>, String);

/// Each thread's events, for comparing runs.
pub fn event_sequence(trace: &TraceFile) -> Vec<(u32, Vec<Call>)> {
    trace
        .threads
        .iter()
        .map(|(&thread, records)| {
            let mut sites = std::collections::HashMap::new();
            let mut events = Vec::new();
            for r in records.iter() {
                match r {
                    Record::Site { index, file, line, column } => {
                        sites.insert(*index, format!("{file}:{line}:{column}"));
                    }
                    Record::Event(e) => {
                        let object = e.op.has_object().then_some(e.object);
                        events.push((e.op, object, sites.get(&e.site).cloned().unwrap_or_default()));
                    }
                    _ => {}
                }
            }
            (thread, events)
        })
        .collect()
}

/// Records `program`, replays it in parallel and on coroutines, and checks
/// each replay matched every event and returned what the recording did;
/// returns that.
pub fn round_trip_both_ways<R, F>(name: &str, program: F) -> R
where
    F: Fn() -> R + Send + Sync + Clone + 'static,
    R: Send + PartialEq + std::fmt::Debug + 'static,
{
    let path = scratch(name).join("t.trace");
    let recorded = reprise::record(&path, reprise::RecordConfig::new(name, "1"), program.clone()).unwrap();
    let trace = reprise::read_trace_file(&path).unwrap();
    assert!(trace.is_whole(), "{:?}", trace.damage);
    let replayed = reprise::replay(&trace, program.clone());
    assert_eq!(replayed.outcome, reprise::ReplayOutcome::Matched, "{name}: {}", replayed.outcome);
    assert_eq!(replayed.result, recorded.result, "{name}: the replay saw other values");
    assert_eq!(replayed.replayed, trace.events);
    let coroutines = reprise::replay_coroutines(&trace, program);
    assert_eq!(
        coroutines.outcome,
        reprise::ReplayOutcome::Matched,
        "{name} on coroutines: {}",
        coroutines.outcome
    );
    assert_eq!(coroutines.result, recorded.result, "{name}: the coroutine replay saw other values");
    assert_eq!(coroutines.replayed, coroutines.events);
    recorded.result.expect("the program returned")
}

/// Records `program` `runs` times; each replay, both ways, must match and
/// give the recorded result. Returns how many distinct transcripts the
/// recordings gave (the programs are meant to vary).
pub fn replays_give_the_transcript(name: &str, runs: usize, program: fn() -> String) -> usize {
    transcripts_replayed(name, runs, program).len()
}

/// [`replays_give_the_transcript`], returning the distinct transcripts.
pub fn transcripts_replayed(
    name: &str,
    runs: usize,
    program: fn() -> String,
) -> std::collections::BTreeSet<String> {
    let dir = scratch(name);
    let mut seen = std::collections::BTreeSet::new();
    for run in 0..runs {
        let path = dir.join(format!("run{run}.trace"));
        let recorded = reprise::record(&path, reprise::RecordConfig::new(name, "1"), program).unwrap();
        let expected = recorded.result.unwrap_or_else(|| panic!("{name} run {run}: {}", recorded.verdict));
        let trace = reprise::read_trace_file(&path).unwrap();
        assert!(trace.is_whole(), "{name} run {run}: {:?}", trace.damage);
        let parallel = reprise::replay(&trace, program);
        assert!(parallel.outcome.matched(), "{name} run {run}, parallel: {}", parallel.outcome);
        assert_eq!(parallel.result.as_ref(), Some(&expected), "{name} run {run}, parallel");
        let coroutines = reprise::replay_coroutines(&trace, program);
        assert!(coroutines.outcome.matched(), "{name} run {run}, coroutines: {}", coroutines.outcome);
        assert_eq!(coroutines.result.as_ref(), Some(&expected), "{name} run {run}, coroutines");
        seen.insert(expected);
    }
    eprintln!("{name}: {runs} runs replayed, {} distinct transcripts", seen.len());
    seen
}

/// Records `program` as run `run` of `name`: the recording must say
/// `expected`, and its parallel replay match every event and say it again.
/// Returns the trace, for the caller's other replays.
pub fn recorded_and_replayed_in_parallel(
    name: &str,
    run: usize,
    expected: &str,
    program: fn() -> String,
) -> TraceFile {
    let path = scratch(name).join(format!("run{run}.trace"));
    let recorded = reprise::record(&path, reprise::RecordConfig::new(name, "1"), program).unwrap();
    assert_eq!(recorded.result.as_deref(), Some(expected), "{name} run {run}: {}", recorded.verdict);
    let trace = reprise::read_trace_file(&path).unwrap();
    assert!(trace.is_whole(), "{name} run {run}: {:?}", trace.damage);
    let parallel = reprise::replay(&trace, program);
    assert!(parallel.outcome.matched(), "{name} run {run}, parallel: {}", parallel.outcome);
    assert_eq!(parallel.result.as_deref(), Some(expected), "{name} run {run}, parallel");
    assert_eq!(parallel.replayed, trace.events, "{name} run {run}, parallel");
    trace
}

/// Runs `program` off, then records and replays it `runs` times: off, every
/// recording and its replays, in parallel and on coroutines, must say
/// `expected` and match every event. With `unwinding_calls`, a coroutine
/// replay may instead end unmatched, saying it cannot tell whether a
/// thread still unwinds (README's known limit: a thread that panicked
/// beside another suspended mid-unwind, caught by std's `catch_unwind`),
/// never match with another answer; without it, it must match.
pub fn replays_to_std(
    name: &str,
    expected: &str,
    runs: usize,
    unwinding_calls: bool,
    program: fn() -> String,
) {
    assert_eq!(program(), expected, "{name}: off");
    let mut stopped = 0;
    for run in 0..runs {
        let trace = recorded_and_replayed_in_parallel(name, run, expected, program);
        // On an OS thread of its own: a coroutine replay that stops unsure
        // may leave a thread mid-unwind, and the OS thread's panic count
        // raised (a later coroutine replay on it refuses).
        let coroutines =
            std::thread::scope(|s| s.spawn(|| reprise::replay_coroutines(&trace, program)).join())
                .expect("a coroutine replay returns");
        if unwinding_calls && !coroutines.outcome.matched() {
            let said = coroutines.outcome.to_string();
            assert!(
                said.contains("cannot tell whether it still unwinds"),
                "{name} run {run}, coroutines: {said}"
            );
            stopped += 1;
            continue;
        }
        assert!(coroutines.outcome.matched(), "{name} run {run}, coroutines: {}", coroutines.outcome);
        assert_eq!(coroutines.result.as_deref(), Some(expected), "{name} run {run}, coroutines");
        assert_eq!(coroutines.replayed, coroutines.events, "{name} run {run}, coroutines");
    }
    eprintln!(
        "{name}: {runs} runs replayed, {stopped} coroutine replays stopped unsure whether a thread unwinds"
    );
}

/// Records and replays `program` (see [`replays_give_the_transcript`]) in
/// batches of `runs` until two recordings differ. A loaded machine can
/// serialize every batch (seen beside two CPU hogs: 32 of 32 recordings
/// alike): then the explorer, whose schedules do not depend on the machine,
/// must find two transcripts instead. A program that never varies shows
/// little.
pub fn replays_and_varies(name: &str, runs: usize, program: fn() -> String) {
    let forced = std::env::var_os("REPRISE_TEST_EXPLORE_VARIATION").is_some();
    for _ in 0..if forced { 1 } else { 2 } {
        if replays_give_the_transcript(name, runs, program) > 1 && !forced {
            return;
        }
    }
    let explored = explored_transcripts(name, VARIATION_SCHEDULES, program);
    assert!(
        explored > 1,
        "{name}: every recording and {VARIATION_SCHEDULES} explored schedules interleaved the same way: \
         the test shows little"
    );
}

/// Schedules [`replays_and_varies`] explores when no two recordings differed.
const VARIATION_SCHEDULES: u64 = 200;

/// How many distinct transcripts `program` returns over `budget` explored
/// schedules; none of them may fail.
pub fn explored_transcripts(name: &str, budget: u64, program: fn() -> String) -> usize {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
    let into = std::sync::Arc::clone(&seen);
    let config =
        reprise::explore::Config::default().budget(budget).seed(1).trace_dir(scratch(name)).name(name);
    let check = move |transcript: &String| {
        into.lock().unwrap_or_else(|e| e.into_inner()).insert(transcript.clone());
        None
    };
    let outcome = reprise::explore::Explorer::new(config).run_checked(program, check, |_| ());
    if let Some(failure) = &outcome.failure {
        panic!("{name}: explored schedule {} failed: {}", failure.schedule, failure.kind.summary());
    }
    assert!(
        outcome.blocked.is_none() && outcome.stuck_unwinding.is_none(),
        "{name}: the exploration stopped"
    );
    let distinct = seen.lock().unwrap_or_else(|e| e.into_inner()).len();
    eprintln!("{name}: {distinct} distinct transcripts in {budget} explored schedules");
    distinct
}

/// Explores `program` with `seed` until it fails within `budget` schedules.
pub fn explored_failure(name: &str, budget: u64, seed: u64, program: fn()) -> reprise::explore::Failure {
    let dir = scratch(name);
    let config = reprise::explore::Config::default().budget(budget).seed(seed).trace_dir(&dir).name(name);
    let outcome = reprise::explore::Explorer::new(config).run(program);
    outcome.failure.unwrap_or_else(|| panic!("{name}: not found in {budget} schedules"))
}

/// The failure must be a panic saying `message`, and its trace must replay
/// to that panic (a match, no result, every event) `rounds` times in
/// parallel and once on coroutines.
pub fn replays_to_the_panic(
    name: &str,
    failure: &reprise::explore::Failure,
    message: &str,
    rounds: usize,
    program: fn(),
) {
    use reprise::explore::FailureKind;
    use reprise::{read_trace_file, replay, replay_coroutines, ReplayOutcome};
    assert!(
        matches!(&failure.kind, FailureKind::Panic { message: m, .. } if m.contains(message)),
        "{name}: {:?}\n{}",
        failure.kind,
        failure.report
    );
    let trace = read_trace_file(failure.trace.as_ref().expect("a trace written")).unwrap();
    for round in 0..rounds {
        let parallel = replay(&trace, program);
        assert_eq!(parallel.outcome, ReplayOutcome::Matched, "{name} parallel {round}: {}", parallel.outcome);
        assert_eq!(parallel.result, None, "{name} parallel {round}: it panics as the explored run did");
        assert_eq!(parallel.replayed, parallel.events, "{name} parallel {round}");
    }
    let coroutines = replay_coroutines(&trace, program);
    assert_eq!(coroutines.outcome, ReplayOutcome::Matched, "{name} coroutines: {}", coroutines.outcome);
    assert_eq!(coroutines.result, None, "{name} coroutines: it panics as the explored run did");
    assert_eq!(coroutines.replayed, coroutines.events, "{name} coroutines");
}

/// Explores `program` for `budget` schedules with `seed`: no schedule may
/// fail, deadlock or stop the search.
pub fn survives_exploration(name: &str, budget: u64, seed: u64, program: fn() -> String) {
    let dir = scratch(name);
    let config = reprise::explore::Config::default().budget(budget).seed(seed).trace_dir(&dir).name(name);
    let outcome = reprise::explore::Explorer::new(config).run(move || {
        program();
    });
    assert!(outcome.blocked.is_none(), "{name}: {:?}", outcome.blocked);
    if let Some(failure) = outcome.failure {
        panic!("{name}: {:?}\n{}", failure.kind, failure.report);
    }
}

/// A test program by name: it returns its transcript.
pub type NamedProgram = (&'static str, fn() -> String);

/// The explorer's strategies, each once.
pub const EVERY_STRATEGY: [reprise::explore::StrategyKind; 6] = {
    use reprise::explore::StrategyKind as K;
    [K::Random, K::Pct { depth: 3 }, K::Dfs { preemptions: 2 }, K::Portfolio, K::Pos, K::Surw]
};

/// Explores `program` (`name` of the set `set`, which prefixes the trace
/// directories) for `budget` schedules from `seed` under every strategy;
/// says what went wrong: a failure, a stopped search, or schedules left
/// unjudged where `may_guess` is false (or all of them).
pub fn under_every_strategy(
    set: &str,
    (name, program): NamedProgram,
    budget: u64,
    seed: u64,
    may_guess: bool,
) -> Vec<String> {
    let mut bad = Vec::new();
    for kind in EVERY_STRATEGY {
        let label = format!("{set}-every-{name}-{kind:?}").replace([' ', '{', '}', ':'], "");
        let config = reprise::explore::Config::default()
            .budget(budget)
            .seed(seed)
            .strategy(kind)
            .trace_dir(scratch(&label));
        let outcome = reprise::explore::Explorer::new(config).run(move || {
            program();
        });
        if let Some(b) = &outcome.blocked {
            bad.push(format!("{name} {kind:?}: blocked {b}"));
        }
        if let Some(f) = outcome.failure {
            bad.push(format!("{name} {kind:?}: {:?} {:?}\n{}", f.kind, f.trace, f.report));
            continue;
        }
        if outcome.uncertain > 0 && (!may_guess || outcome.uncertain >= outcome.schedules) {
            bad.push(format!(
                "{name} {kind:?}: {} of {} schedules not judged",
                outcome.uncertain, outcome.schedules
            ));
        }
    }
    bad
}

/// Every program of `programs` explored `budget` schedules from `seed`
/// under each of the explorer's strategies: none may fail or stop the
/// search, and not every schedule may be left unjudged. `set` prefixes the
/// trace directories.
pub fn survives_every_strategy(set: &str, programs: &[NamedProgram], budget: u64, seed: u64) {
    let bad: Vec<String> =
        programs.iter().flat_map(|&program| under_every_strategy(set, program, budget, seed, true)).collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// A flight dump taken while its run went on replays, in parallel and on
/// coroutines, every event it holds and then ends: the trace ended there.
pub fn replays_the_whole_dump<R: Send + 'static>(what: &str, trace: &TraceFile, program: fn() -> R) {
    use reprise::{replay, replay_coroutines, ReplayOutcome};
    let parallel = replay(trace, program);
    let on_coroutines = replay_coroutines(trace, program);
    for (how, report) in [("parallel", parallel), ("coroutines", on_coroutines)] {
        assert!(
            matches!(report.outcome, ReplayOutcome::TraceEnded { .. }),
            "{what} {how}: {}",
            report.outcome
        );
        assert_eq!(report.replayed, report.events, "{what} {how}: the whole dump");
    }
}

/// Two threads appending their names to one list: the order is the
/// schedule's.
fn racing_names() -> String {
    let names = std::sync::Arc::new(reprise::sync::Mutex::new(String::new()));
    let other = std::sync::Arc::clone(&names);
    let worker = reprise::thread::spawn(move || other.lock().unwrap().push('w'));
    names.lock().unwrap().push('m');
    worker.join().unwrap();
    let order = names.lock().unwrap().clone();
    order
}

/// One thread: nothing to vary.
fn alone() -> String {
    let names = reprise::sync::Mutex::new(String::new());
    names.lock().unwrap().push('m');
    let order = names.lock().unwrap().clone();
    order
}

/// [`replays_and_varies`]'s fallback tells a racing program from one that
/// cannot vary, whatever the machine does.
#[test]
fn the_explored_variation_check_tells_a_race_from_a_single_thread() {
    assert_eq!(explored_transcripts("util-racing-names", 50, racing_names), 2);
    assert_eq!(explored_transcripts("util-alone", 50, alone), 1);
}
