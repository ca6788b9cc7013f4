//! Hostile traces past the checksums: a valid trace is decoded into its
//! model, its content forged (ops, objects, threads, sites, outcome words,
//! blobs, header and footer, chunk order, thread counts) and written again
//! with valid checksums and seal, so the forgery reaches every consumer.
//! Every offline command and replay must answer with one clear error or a
//! result: never a panic, a signal, a hang, or an allocation the file cannot
//! justify.
//!
//! `REPRISE_HOSTILE_RUNS=N` tries N seeds of every mutation kind on each
//! sample trace (default 1: each kind once, on the payments sample or a
//! recording with every kind of event, in turn).

mod mutate;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mutate::{mutate, Kind, Model, Rng};

use crate::util::scratch;

/// What one command did: its exit code (`None`: a signal or a hang) and stderr.
struct Ran {
    code: Option<i32>,
    stderr: String,
    hung: bool,
}

/// Runs `reprise args` with `stdin`, killed after `limit`.
fn run(args: &[&str], stdin: &str, envs: &[(&str, &str)], limit: Duration) -> Ran {
    // A 2 GB address-space cap, so an allocation the file cannot justify
    // fails here rather than swapping a shared machine; without util-linux's
    // prlimit the time limit alone stands.
    let capped = Command::new("prlimit").arg("--version").output().is_ok_and(|o| o.status.success());
    let mut command = if capped {
        let mut c = Command::new("prlimit");
        c.args(["--as=2000000000", "--", env!("CARGO_BIN_EXE_reprise")]);
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_reprise"))
    };
    let mut child = command
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run reprise");
    if let Some(mut input) = child.stdin.take() {
        use std::io::Write;
        input.write_all(stdin.as_bytes()).ok();
    }
    let stderr = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::BufReader::new(stderr), &mut text).ok();
        text
    });
    let start = Instant::now();
    let mut hung = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > limit {
            hung = true;
            child.kill().ok();
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ran { code: status.code(), stderr: reader.join().unwrap_or_default(), hung }
}

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("traces").join(name)
}

fn model_of(path: &Path) -> Model {
    let trace = reprise::read_trace_file(path).expect("a sample trace reads");
    Model::of(&trace)
}

/// Whether reprise itself panicked: a replayed pipeline may panic on a
/// forged outcome (a send told the channel was closed), which is the
/// program's own code at `src/pipelines/`, and the replay then diverges.
fn reprise_panicked(stderr: &str) -> bool {
    stderr
        .lines()
        .filter_map(|l| l.split_once("panicked at "))
        .any(|(_, at)| !at.starts_with("src/pipelines/"))
}

/// Checks one command's run: no hang, no signal, no panic exit or message.
fn check(what: &str, cmd: &str, ran: &Ran) -> Option<String> {
    let bad = if ran.hung {
        "hung"
    } else if ran.code.is_none() || ran.code.is_some_and(|c| c > 128) {
        "was killed by a signal"
    } else if ran.code == Some(101) || reprise_panicked(&ran.stderr) {
        "panicked"
    } else if ran.stderr.contains("memory allocation") {
        "ran out of memory"
    } else {
        return None;
    };
    Some(format!("{what}: `reprise {cmd}` {bad} (exit {:?}): {}", ran.code, ran.stderr.trim()))
}

/// Every offline command, and both replays, on `mutant`.
fn every_command(mutant: &Path, original: &Path, what: &str, limit: Duration) -> Vec<String> {
    let f = mutant.to_str().expect("a UTF-8 scratch path");
    let o = original.to_str().expect("a UTF-8 sample path");
    let commands: [(&str, Vec<&str>, &str); 11] = [
        ("verify", vec!["verify", f], ""),
        ("inspect", vec!["inspect", f], ""),
        ("export chrome", vec!["export", "--format", "chrome", "--out", "/dev/null", f], ""),
        ("export jsonl", vec!["export", "--format", "jsonl", "--out", "/dev/null", f], ""),
        ("diff", vec!["diff", f, o], ""),
        ("timeline", vec!["timeline", "--out", "/dev/null", f], ""),
        (
            "debug",
            vec!["debug", f],
            "step\nstep\nwhere\ngoto 40\nprint\nthread 1\ncontinue\nreverse-continue\nback\n",
        ),
        ("races", vec!["races", f], ""),
        ("why", vec!["why", "--budget", "3", f], ""),
        ("replay", vec!["replay", f], ""),
        ("replay --coroutines", vec!["replay", "--coroutines", f], ""),
    ];
    // A forged turn can leave every replayed thread waiting for one that
    // never comes: the backstop ends it (exit 4), sooner than its default.
    let envs = [("REPRISE_STALL_BACKSTOP", "5"), ("RUST_BACKTRACE", "0")];
    commands
        .iter()
        .filter_map(|(name, args, stdin)| check(what, name, &run(args, stdin, &envs, limit)))
        .collect()
}

/// Adds `count` threads that nothing spawned, each with its thread-start
/// only: the views place every one of them by force.
fn add_unspawned_threads(m: &mut Model, count: u32) {
    use reprise::trace::model::{Event, Op, Record};
    let start = m.threads.keys().max().map_or(0, |t| t + 1);
    for t in start..start + count {
        let started = Event { op: Op::ThreadStart, object: 0, site: 0, a: 0, b: 0, c: 0 };
        let named = Record::Thread { index: t, parent: 0, child: t, name: String::new() };
        m.threads.insert(t, vec![named, Record::Event(started)]);
    }
}

/// A trace with 100,000 threads that no thread spawned: every first event
/// is placed by force when the views number the events. Each forced event
/// looked at every thread again, so `export`, `diff`, `timeline` and `debug`
/// of this 2.6 MB file ran for hours (found by this module's sweep).
#[test]
fn a_trace_with_100000_threads_never_spawned_is_numbered_without_a_rescan_per_event() {
    let original = sample("none.trace");
    let mut m = model_of(&original);
    add_unspawned_threads(&mut m, 100_000);
    let path = scratch("hostile-many-threads").join("many.trace");
    std::fs::write(&path, m.encode()).unwrap();
    let f = path.to_str().unwrap();
    for args in [
        vec!["export", "--format", "jsonl", "--out", "/dev/null", f],
        vec!["timeline", "--out", "/dev/null", f],
    ] {
        let ran = run(&args, "", &[], Duration::from_secs(60));
        assert!(!ran.hung, "`reprise {}` ran for more than 60 s", args[0]);
        assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    }
}

/// A program whose two workers write one [`Tracked`](reprise::Tracked) cell.
fn tracked_writers() -> u64 {
    let cell = std::sync::Arc::new(reprise::Tracked::new(0u64));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let cell = cell.clone();
            reprise::thread::spawn(move || cell.update(|v| *v += 1))
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    cell.get()
}

/// `races` on a trace with tracked accesses and 30,000 threads that never
/// met: each thread's vector clock was a dense vector up to its own slot,
/// 3.6 GB in all (20 GB and 56 s for 100,000 threads, a 2.6 MB file; found
/// by this module's sweep on a trace with every kind of event).
#[test]
fn races_on_a_trace_of_30000_threads_that_never_met_takes_no_quadratic_memory() {
    let dir = scratch("hostile-races-threads");
    let original = dir.join("tracked.trace");
    reprise::record(&original, reprise::RecordConfig::new("hostile-races", "1"), tracked_writers).unwrap();
    let mut m = model_of(&original);
    add_unspawned_threads(&mut m, 30_000);
    let path = dir.join("many.trace");
    std::fs::write(&path, m.encode()).unwrap();
    let ran = run(&["races", path.to_str().unwrap()], "", &[], Duration::from_secs(60));
    let failure = check("30,000 threads", "races", &ran);
    assert!(failure.is_none(), "{failure:?}");
    assert!(matches!(ran.code, Some(0 | 1)), "exit {:?}: {}", ran.code, ran.stderr);
}

/// A program that makes every kind of event the built-in pipelines do not:
/// captures (a sensitive one too), clocks, random numbers, tracked cells,
/// annotations, atomics and parks.
fn every_kind() -> u64 {
    use reprise::sync::atomic::{AtomicU64, Ordering};
    let cell = std::sync::Arc::new(reprise::Tracked::new(0u64));
    let sum = std::sync::Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..2)
        .map(|i| {
            let (cell, sum) = (cell.clone(), sum.clone());
            reprise::thread::spawn(move || {
                let input: String = reprise::capture(|| format!("input-{i}"));
                let secret: u64 = reprise::capture_sensitive(|| 42u64);
                let _ = (reprise::time::Instant::now(), reprise::time::SystemTime::now());
                cell.update(|v| *v += 1);
                sum.fetch_add(reprise::random::u64() % 7 + secret, Ordering::SeqCst);
                reprise::annotation::annotate(&format!("worker {i} read {input}"));
                reprise::thread::park_timeout(Duration::from_millis(1));
                input.len() as u64
            })
        })
        .collect();
    let total: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
    total + sum.load(Ordering::SeqCst) + cell.get()
}

/// Every mutation kind, a few seeds each, through every command.
#[test]
fn forged_traces_get_an_answer_from_every_command_never_a_panic_or_a_hang() {
    let runs: u64 = std::env::var("REPRISE_HOSTILE_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let dir = scratch("hostile-sweep");
    let rich = dir.join("every-kind.trace");
    reprise::record(&rich, reprise::RecordConfig::new("hostile-every-kind", "1"), every_kind).unwrap();
    let mut samples = vec![sample("none.trace"), rich];
    if runs > 1 {
        samples.extend(
            ["deadlock.trace", "lost-update.trace", "settlement-none.trace", "settlement-stale-rate.trace"]
                .iter()
                .map(|n| sample(n)),
        );
    }
    let mut failures = Vec::new();
    let mut tried = 0;
    for (i, original) in samples.iter().enumerate() {
        let model = model_of(original);
        for (k, kind) in Kind::ALL.into_iter().enumerate() {
            // By default each kind runs once, on one sample in turn, to keep
            // the debug build's run short.
            if runs == 1 && k % 2 != i {
                continue;
            }
            for seed in 0..runs {
                let mut m = model.clone();
                let mut rng = Rng::new(seed * 7919 + kind as u64);
                let Some(what) = mutate(&mut m, kind, &mut rng) else { continue };
                let path = dir.join(format!("{i}-{kind:?}-{seed}.trace"));
                std::fs::write(&path, m.encode()).unwrap();
                let what = format!("{} {kind:?} seed {seed} ({what})", original.display());
                failures.extend(every_command(&path, original, &what, Duration::from_secs(30)));
                tried += 1;
            }
        }
    }
    assert!(tried >= Kind::ALL.len() - 2, "only {tried} mutants were made");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
