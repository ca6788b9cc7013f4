//! The explorer's failure report: minimized to the preemptions the bug
//! needs, threads and objects by name, values, only the rows on the
//! failure's objects, a deadlock's waits first, a trace of its own with a
//! header that says what ran, and a replay instruction that works pasted.

use std::sync::Arc;

use reprise::explore::{Config, Explorer, FailureKind, StrategyKind};
use reprise::sync::atomic::{AtomicU64, Ordering};
use reprise::sync::Mutex;
use reprise::{channel, read_trace_file, thread};

use crate::util::scratch;

/// Two tellers deposit into one balance with a read, then a write (the
/// lost update); each also counts its receipts on a channel of its own,
/// which has nothing to do with the bug.
pub(crate) fn lost_update() {
    let balance = Arc::new(AtomicU64::new(100));
    reprise::named(&balance, "balance");
    let tellers: Vec<_> = [10, 20]
        .into_iter()
        .enumerate()
        .map(|(i, amount)| {
            let balance = Arc::clone(&balance);
            thread::Builder::new()
                .name(format!("teller-{}", i + 1))
                .spawn(move || {
                    let (receipts, counted) = channel::unbounded::<u64>();
                    for r in 0..4 {
                        receipts.send(r).unwrap();
                    }
                    drop(receipts);
                    let n = counted.iter().count();
                    let seen = balance.load(Ordering::SeqCst);
                    balance.store(seen + amount, Ordering::SeqCst);
                    n
                })
                .unwrap()
        })
        .collect();
    for t in tellers {
        t.join().unwrap();
    }
    assert_eq!(balance.load(Ordering::SeqCst), 130, "a deposit was lost");
}

fn explore(config: Config, program: fn()) -> reprise::explore::Failure {
    let outcome = Explorer::new(config).run(program);
    outcome.failure.expect("the explorer finds the failure")
}

/// The rows of a report's interleaving table.
fn rows(report: &str) -> Vec<&str> {
    let mut lines = report.lines().skip_while(|l| !l.trim_start().starts_with("step"));
    lines.next();
    lines.take_while(|l| !l.starts_with('(') && !l.is_empty()).collect()
}

#[test]
fn a_lost_update_comes_back_with_few_preemptions_and_a_short_report_with_names_and_values() {
    for strategy in [StrategyKind::Random, StrategyKind::Pct { depth: 3 }] {
        let dir = scratch("report-lost-update");
        let config = Config::default().strategy(strategy).budget(2000).trace_dir(&dir);
        let failure = explore(config, lost_update);
        let report = &failure.report;
        assert!(failure.preemptions <= 3, "{strategy}: {} preemptions\n{report}", failure.preemptions);
        assert!(failure.one_minimal, "{strategy}: not shown 1-minimal\n{report}");
        assert!(
            report.contains("1-minimal: without any one of its preemptions it does not fail so"),
            "{report}"
        );
        let rows = rows(report);
        assert!(!rows.is_empty() && rows.len() < 20, "{strategy}: {} rows\n{report}", rows.len());
        assert!(report.contains("teller-1") && report.contains("teller-2"), "thread names:\n{report}");
        assert!(report.contains("-> 100"), "the value a load read:\n{report}");
        assert!(report.contains("explore_report.rs:"), "call sites:\n{report}");
        assert!(report.contains("load `balance` -> 100"), "the object by its label:\n{report}");
        assert!(report.contains("`balance` = atomic first used at explore_report.rs:"), "{report}");
        assert!(rows.iter().all(|r| !r.contains("channel#")), "the receipts are left out:\n{report}");
        assert!(report.contains("events on other objects, releases or with no object not shown"), "{report}");
        // Explorer::run does not replay in place: the report gives the call.
        assert!(
            report.contains("replay it: reprise::replay(&reprise::read_trace_file(std::path::Path::new("),
            "{report}"
        );
        println!("{report}");
    }
}

#[test]
fn an_unlabelled_object_is_named_by_its_kind_and_where_it_was_first_used() {
    let failure = explore(Config::default().budget(500).trace_dir(scratch("report-unlabelled")), || {
        let n = Arc::new(AtomicU64::new(0));
        let n2 = Arc::clone(&n);
        let t = thread::spawn(move || {
            let v = n2.load(Ordering::SeqCst);
            n2.store(v + 1, Ordering::SeqCst);
        });
        let v = n.load(Ordering::SeqCst);
        n.store(v + 1, Ordering::SeqCst);
        t.join().unwrap();
        assert_eq!(n.load(Ordering::SeqCst), 2, "an increment was lost");
    });
    let load = failure.report.lines().find(|l| l.contains("load atomic#")).expect(&failure.report);
    assert!(load.contains("@explore_report.rs:"), "{}", failure.report);
}

#[test]
fn report_all_shows_every_event() {
    let base = Config::default()
        .strategy(StrategyKind::Pct { depth: 3 })
        .budget(2000)
        .trace_dir(scratch("report-all"));
    let short = explore(base.clone(), lost_update);
    let all = explore(base.report_all(true), lost_update);
    assert!(rows(&all.report).len() > rows(&short.report).len() + 10, "{}\n{}", short.report, all.report);
    assert!(all.report.contains("channel#"), "{}", all.report);
    assert!(!all.report.contains("not shown"), "{}", all.report);
}

#[test]
fn schedules_are_numbered_from_one() {
    let failure = explore(Config::default().budget(10).trace_dir(scratch("report-first")), || {
        panic!("always");
    });
    assert_eq!(failure.schedule, 1, "{}", failure.report);
    assert!(failure.report.starts_with("reprise explore: schedule 1 "), "{}", failure.report);
}

#[test]
fn each_failure_gets_a_trace_of_its_own_whose_header_says_what_ran() {
    let dir = scratch("report-unique");
    let config = Config::default().strategy(StrategyKind::Random).budget(2000).trace_dir(&dir);
    let before =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let first = explore(config.clone(), lost_update);
    let second = explore(config, lost_update);
    let (a, b) = (first.trace.unwrap(), second.trace.unwrap());
    assert_ne!(a, b, "two failures, one file");
    let name = a.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("explore_report--each_failure_gets"), "named for the test: {name}");
    for path in [&a, &b] {
        let trace = read_trace_file(path).unwrap();
        let header = &trace.header;
        assert!(header.start_unix_ms >= before, "a real start time: {}", header.start_unix_ms);
        assert_eq!(header.program, "reprise", "the package cargo ran, not the binary's hash name");
        assert_eq!(header.program_version, env!("CARGO_PKG_VERSION"));
        let test = header.parameters.iter().find(|(k, _)| k == reprise::explore::TEST_PARAMETER);
        assert_eq!(
            test.map(|(_, v)| v.as_str()),
            Some("explore_report::each_failure_gets_a_trace_of_its_own_whose_header_says_what_ran")
        );
    }
}

#[test]
fn a_deadlock_report_says_who_waits_for_whom_where_in_its_first_lines() {
    let failure = explore(Config::default().budget(500).trace_dir(scratch("report-deadlock")), || {
        let (a, b) = (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(0)));
        let (a2, b2) = (Arc::clone(&a), Arc::clone(&b));
        let t = thread::Builder::new()
            .name("transfer-back".into())
            .spawn(move || {
                let _b = b2.lock().unwrap();
                let _a = a2.lock().unwrap();
            })
            .unwrap();
        {
            let _a = a.lock().unwrap();
            let _b = b.lock().unwrap();
        }
        t.join().unwrap();
    });
    assert!(matches!(failure.kind, FailureKind::Deadlock { .. }), "{}", failure.report);
    let head: Vec<&str> = failure.report.lines().take(3).collect();
    assert!(head[0].contains("deadlock"), "{}", failure.report);
    let main = head.iter().find(|l| l.trim_start().starts_with("main waits in lock")).expect(&failure.report);
    let other = head
        .iter()
        .find(|l| l.trim_start().starts_with("transfer-back waits in lock"))
        .expect(&failure.report);
    assert!(main.contains("held by transfer-back") && main.contains("explore_report.rs:"), "{main}");
    assert!(other.contains("held by main"), "{other}");
    let rows = rows(&failure.report);
    assert!(rows.iter().any(|r| r.contains("lock mutex#")), "the locks they took:\n{}", failure.report);
    println!("{}", failure.report);
}

#[test]
fn shards_split_one_budget() {
    let run = |shard: u64| {
        let config = Config::default().strategy(StrategyKind::Random).budget(30).shard(shard, 3);
        Explorer::new(config).run(|| {}).schedules
    };
    assert_eq!((run(0), run(1), run(2)), (10, 10, 10), "30 schedules between 3 shards");
}

/// The test a child process runs: it explores the lost update and fails
/// with the report, or, under `REPRISE_REPLAY`, replays it and fails so.
#[test]
#[should_panic(expected = "a deposit was lost")]
fn the_lost_update_fails_its_test() {
    reprise::explore(lost_update, 2000);
}

/// Runs this test binary (what `cargo test` runs) with `args` and `env`.
fn child(args: &[&str], env: &[(&str, &std::path::Path)]) -> (bool, String) {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command.args(args).arg("--nocapture").env("RUST_BACKTRACE", "0").env_remove("REPRISE_REPLAY");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn the_pasted_replay_instruction_reruns_that_schedule_in_place_and_only_in_its_test() {
    let test = "explore_report::the_lost_update_fails_its_test";
    let dir = scratch("report-replay-child");
    let (passed, explored) = child(&[test, "--exact"], &[("REPRISE_TRACE_DIR", &dir)]);
    assert!(passed, "{explored}");
    let line = explored.lines().find_map(|l| l.strip_prefix("replay it: ")).expect(&explored);
    // REPRISE_REPLAY=<trace> cargo test <path> -- --exact
    let words: Vec<&str> = line.split(' ').collect();
    let trace = words[0].strip_prefix("REPRISE_REPLAY=").expect(line).trim_matches('\'');
    assert_eq!(words[1..], ["cargo", "test", test, "--", "--exact"], "{line}");
    let trace = std::path::Path::new(trace);
    assert!(trace.exists(), "{line}");

    // What `cargo test <path> -- --exact` runs: this binary with the filter.
    let (passed, replayed) = child(&[test, "--exact"], &[("REPRISE_REPLAY", trace)]);
    assert!(passed, "the replay fails the test as the exploration did:\n{replayed}");
    assert!(replayed.contains("reprise: replayed schedule"), "{replayed}");
    assert!(replayed.contains("the run failed as explored"), "{replayed}");
    assert!(!replayed.contains("reprise explore: schedule"), "it replayed, it did not explore:\n{replayed}");

    // Another explore call in the same process explores as usual.
    let other = "explore::the_one_line_form_panics_with_the_report_in_a_test";
    let (passed, both) = child(&[test, other, "--exact", "--test-threads=1"], &[("REPRISE_REPLAY", trace)]);
    assert!(passed, "{both}");
    assert_eq!(both.matches("reprise: replayed schedule").count(), 1, "{both}");
    assert_eq!(both.matches("reprise explore: schedule").count(), 1, "{both}");
}

/// The value of `"key":` in one line of JSON `text`, raw (strings quoted).
fn json_field<'a>(text: &'a str, key: &str) -> &'a str {
    let at =
        text.find(&format!("\"{key}\":")).unwrap_or_else(|| panic!("no {key} in {text}")) + key.len() + 3;
    let rest = &text[at..];
    let end = if let Some(quoted) = rest.strip_prefix('"') {
        quoted.find('"').map(|i| i + 2).unwrap()
    } else {
        rest.find([',', '}', ']']).unwrap()
    };
    &rest[..end]
}

#[test]
fn the_cli_gives_its_result_as_json_and_shards_split_its_budget() {
    use crate::util::{reprise, stderr, stdout};
    let dir = scratch("report-cli-json");
    let args = |bug: &str, budget: &str, shard: &str| {
        let mut a = vec!["explore", "--pipeline", "payments", "--payments", "20", "--bug", bug];
        a.extend(["--strategy", "random", "--budget", budget, "--shard", shard, "--json"]);
        a.extend(["--out", dir.to_str().unwrap()]);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| reprise(&args.iter().map(String::as_str).collect::<Vec<_>>());

    let found = run(args("lost-update", "2000", "0/1"));
    assert_eq!(found.status.code(), Some(1), "{}\n{}", stdout(&found), stderr(&found));
    let json = stdout(&found);
    assert_eq!(json.lines().count(), 1, "one JSON object on stdout:\n{json}");
    assert!(json.starts_with('{') && json.trim_end().ends_with('}'), "{json}");
    assert_eq!(json_field(&json, "kind"), "\"check\"", "{json}");
    assert_eq!(json_field(&json, "blocked"), "null");
    let trace = json_field(&json, "trace").trim_matches('"');
    assert!(std::path::Path::new(trace).exists(), "{json}");
    assert_eq!(json_field(&json, "replay"), format!("\"reprise replay {trace}\""));
    assert!(stderr(&found).contains("reprise explore: schedule"), "the report on stderr");
    // The random walk's schedule preempts all along; minimized, the lost
    // update needs few or none (its yields switch threads by themselves).
    let preemptions: u64 = json_field(&json, "preemptions").parse().unwrap();
    assert!(preemptions <= 3, "{json}");
    assert_eq!(json_field(&json, "one_minimal"), "true", "{json}");

    // Two shards of a budget of 40 run 20 schedules each.
    for shard in ["0/2", "1/2"] {
        let clean = run(args("none", "40", shard));
        assert_eq!(clean.status.code(), Some(0), "{}\n{}", stdout(&clean), stderr(&clean));
        let json = stdout(&clean);
        assert_eq!(json_field(&json, "failure"), "null", "{json}");
        assert_eq!(json_field(&json, "schedules"), "20", "{shard}: {json}");
    }
}

#[test]
fn dfs_shards_split_the_schedule_tree_between_them() {
    let program = || {
        let n = Arc::new(AtomicU64::new(0));
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let n = Arc::clone(&n);
                thread::spawn(move || {
                    n.fetch_add(1, Ordering::SeqCst);
                    n.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        n.fetch_add(1, Ordering::SeqCst);
        for w in workers {
            w.join().unwrap();
        }
    };
    let search = |shard: u64, shards: u64| {
        let config = Config::default().strategy(StrategyKind::Dfs { preemptions: 2 }).budget(100_000);
        let outcome = Explorer::new(config.shard(shard, shards)).run(program);
        assert!(outcome.exhausted && outcome.failure.is_none(), "{outcome:?}");
        outcome.schedules
    };
    // Unsharded, DFS runs rounds of bound 0, 1, 2 (each round runs the
    // earlier rounds' schedules again); sharded, only the bound-2 round, so
    // every sharding covers that tree once: the same total however many shards.
    let whole = search(0, 1);
    let tree: Vec<u64> = [2, 3]
        .into_iter()
        .map(|shards| {
            let parts: Vec<u64> = (0..shards).map(|i| search(i, shards)).collect();
            assert!(parts.iter().all(|&p| p > 0), "{shards} shards: {parts:?}");
            parts.iter().sum::<u64>()
        })
        .collect();
    assert_eq!(tree[0], tree[1], "2 and 3 shards cover different trees: {tree:?}");
    assert!(tree[0] > 20 && tree[0] <= whole, "a tree worth splitting: {tree:?}, unsharded {whole}");
}

#[test]
fn a_minimization_that_runs_out_of_budget_says_so() {
    let config = Config::default()
        .strategy(StrategyKind::Random)
        .budget(2000)
        .minimize_runs(1)
        .trace_dir(scratch("report-budget"));
    let failure = explore(config, lost_update);
    assert!(!failure.one_minimal, "{}", failure.report);
    assert_eq!(failure.minimize_runs, 1);
    assert!(failure.report.contains("minimization stopped at its budget of 1 runs"), "{}", failure.report);
}

#[test]
fn a_label_is_kept_in_a_recorded_trace_s_notes_and_replay_ignores_it() {
    let path = scratch("report-label").join("labelled.trace");
    let program = || {
        let ledger = Arc::new(Mutex::new(0u64));
        reprise::named(&ledger, "ledger");
        let other = Arc::clone(&ledger);
        let t = thread::spawn(move || *other.lock().unwrap() += 1);
        *ledger.lock().unwrap() += 1;
        t.join().unwrap();
        let total = *ledger.lock().unwrap();
        total
    };
    let recorded = reprise::record(&path, reprise::RecordConfig::new("labels", "1"), program).unwrap();
    assert_eq!(recorded.result, Some(2));
    let trace = read_trace_file(&path).unwrap();
    let footer = trace.footer.as_ref().expect("a whole trace");
    let labels: Vec<&(String, String)> =
        footer.annotations.iter().filter(|(k, _)| k.starts_with("reprise.object.")).collect();
    assert_eq!(labels.len(), 1, "{:?}", footer.annotations);
    assert_eq!(labels[0].1, "ledger");
    let replayed = reprise::replay(&trace, program);
    assert!(replayed.outcome.matched(), "{}", replayed.outcome);
    assert_eq!(replayed.result, Some(2));
    let replayed = reprise::replay_coroutines(&trace, program);
    assert!(replayed.outcome.matched(), "on coroutines: {}", replayed.outcome);
    assert_eq!(replayed.result, Some(2));
}
