//! `reprise why`: the pair of events whose order made a run fail.

use std::sync::Arc;

use reprise::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use reprise::sync::Mutex;
use reprise::trace::read::read_trace_file;
use reprise::why::{why, WhyConfig, WhyOutcome, WhyReport};
use reprise::{record, thread, RecordConfig};

use crate::util::{reprise_on, scratch, stderr, stdout};

/// The source line `site` (`path:line:col`, relative to the package) names.
fn source_line(site: &str) -> String {
    let mut parts = site.rsplitn(3, ':');
    let (_col, line, path) = (parts.next(), parts.next().unwrap(), parts.next().unwrap());
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().nth(line.parse::<usize>().unwrap() - 1).unwrap().trim().to_string()
}

/// From a pair line: (thread, object, call site).
fn fields(line: &str) -> (String, String, String) {
    let words: Vec<&str> = line.split_whitespace().collect();
    let thread = words[3].to_string();
    let object = format!("{} {}", words[5], words[6]);
    let at = words.iter().position(|w| *w == "at").unwrap();
    let site = words[at + 1].trim_end_matches(':').to_string();
    (thread, object, site)
}

/// Checks that `why` on `trace` names two ledger workers' read and write
/// of one balance.
fn names_a_read_and_a_write_of_one_balance(trace: &std::path::Path) {
    let out = reprise_on(&["why"], trace);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    let pair: Vec<&str> = text.lines().filter(|l| l.contains("first:") || l.contains("second:")).collect();
    assert_eq!(pair.len(), 2, "{text}");
    let (a, b) = (fields(pair[0]), fields(pair[1]));
    assert!(a.0.starts_with("ledger-") && b.0.starts_with("ledger-") && a.0 != b.0, "{text}");
    assert_eq!(a.1, b.1, "one balance's lock: {text}");
    let lines = [source_line(&a.2), source_line(&b.2)];
    let read = |l: &String| l.starts_with("let ") && l.contains("= lock(") && l.ends_with(".get();");
    let write = |l: &String| l.starts_with("lock(") && l.contains(").set(");
    assert!(lines.iter().any(read) && lines.iter().any(write), "a read and a write: {lines:?}\n{text}");
    assert!(text.contains("failure gone"), "{text}");
}

#[test]
fn the_payments_lost_update_is_the_two_ledger_workers_read_and_write_of_one_balance() {
    names_a_read_and_a_write_of_one_balance(std::path::Path::new("traces/lost-update.trace"));
}

#[test]
fn a_trace_of_a_run_that_did_not_fail_has_nothing_to_explain() {
    let out = reprise_on(&["why"], std::path::Path::new("traces/none.trace"));
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("did not fail"), "{}", stderr(&out));
}

#[test]
fn a_budget_too_small_for_any_flip_says_so_and_exits_1() {
    let out = reprise_on(&["why", "--budget", "3"], std::path::Path::new("traces/lost-update.trace"));
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("within the budget of 3 runs"), "{}", stdout(&out));
}

#[test]
fn unreadable_traces_and_unsupported_commands_are_one_error_each() {
    let dir = scratch("why-bad");
    let junk = dir.join("junk.trace");
    std::fs::write(&junk, b"not a trace at all").unwrap();
    let out = reprise_on(&["why"], &junk);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    let out = reprise_on(&["why", "--budget", "0"], std::path::Path::new("traces/lost-update.trace"));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// Records `program` until a run's result is bad by `check` (the race is
/// the recording's to win or lose), and explains that trace.
fn explain<R: Send + 'static>(
    name: &str,
    program: fn() -> R,
    check: fn(&R) -> Option<String>,
) -> (reprise::trace::read::TraceFile, WhyReport) {
    let dir = scratch(name);
    for attempt in 0..200 {
        let path = dir.join(format!("{attempt}.trace"));
        let recorded = record(&path, RecordConfig::new(name, "1"), program).unwrap();
        if recorded.result.as_ref().and_then(check).is_none() {
            continue;
        }
        let trace = read_trace_file(&path).unwrap();
        let report = why(&trace, program, check, &WhyConfig::default(), |_| {});
        return (trace, report);
    }
    panic!("no recorded run of {name} failed in 200 attempts");
}

/// An order violation: the root reads a setting before the thread that
/// initializes it has run.
fn read_before_init() -> Option<u64> {
    let setting = Arc::new(Mutex::new(None));
    let init = Arc::clone(&setting);
    let t = thread::spawn(move || *init.lock().unwrap() = Some(42));
    let seen = *setting.lock().unwrap();
    t.join().unwrap();
    seen
}

#[test]
fn a_read_before_its_initialization_names_the_two_lock_turns() {
    let (_, report) =
        explain("why-init", read_before_init, |r| r.is_none().then(|| "read before init".into()));
    let WhyOutcome::Found { pair } = report.outcome else { panic!("{report:?}") };
    assert_eq!(pair.first.event.object, pair.second.event.object);
    assert_eq!((pair.first.at.0, pair.second.at.0), (0, 1), "the root's read, then the initializer's write");
    assert_eq!(pair.first.event.op, reprise::trace::model::Op::Lock);
}

/// A publication through a flag: the reader trusts the flag before the
/// writer has stored the data it guards (the writer sets the flag first).
fn flag_before_data() -> u64 {
    let ready = Arc::new(AtomicBool::new(false));
    let data = Arc::new(AtomicU64::new(0));
    let (r, d) = (Arc::clone(&ready), Arc::clone(&data));
    let writer = thread::spawn(move || {
        r.store(true, Ordering::SeqCst);
        d.store(7, Ordering::SeqCst);
    });
    let seen = if ready.load(Ordering::SeqCst) { data.load(Ordering::SeqCst) } else { 7 };
    writer.join().unwrap();
    seen
}

/// The trace of the failing schedule the explorer finds for `program`, and
/// `why`'s report on it.
fn explore_then_explain<R: 'static>(
    name: &str,
    program: fn() -> R,
    check: fn(&R) -> Option<String>,
) -> WhyReport {
    let dir = scratch(name);
    let config = reprise::explore::Config::default().budget(1000).trace_dir(&dir);
    let outcome = reprise::explore::Explorer::new(config).run_checked(program, check, |_| {});
    let failure = outcome.failure.expect("the explorer finds the failing schedule");
    let trace = read_trace_file(&failure.trace.expect("the failing schedule is saved")).unwrap();
    why(&trace, program, check, &WhyConfig::default(), |_| {})
}

#[test]
fn a_flag_published_before_its_data_names_a_load_and_a_store_of_one_atomic() {
    let report =
        explore_then_explain("why-flag", flag_before_data, |&v| (v != 7).then(|| format!("read {v}")));
    let WhyOutcome::Found { pair } = report.outcome else { panic!("{report:?}") };
    use reprise::trace::model::Op;
    assert_eq!(pair.first.event.object, pair.second.event.object);
    let mut ops = [pair.first.event.op, pair.second.event.op];
    ops.sort_by_key(|op| op.name());
    assert_eq!(ops, [Op::AtomicLoad, Op::AtomicStore], "{pair:?}");
    assert_ne!(pair.first.at.0, pair.second.at.0);
}

/// [`read_before_init`], but a root that sees the setting reads a value
/// from outside: a path the failing recording never took.
fn capture_once_initialized() -> u64 {
    let setting = Arc::new(Mutex::new(None));
    let init = Arc::clone(&setting);
    let t = thread::spawn(move || *init.lock().unwrap() = Some(1u64));
    let seen = *setting.lock().unwrap();
    let value = if seen.is_some() { reprise::capture(|| 5u64) } else { 0 };
    t.join().unwrap();
    value
}

#[test]
fn a_flipped_run_that_needs_a_capture_the_trace_lacks_is_inconclusive_not_a_fix() {
    let (_, report) =
        explain("why-capture", capture_once_initialized, |&v| (v == 0).then(|| "read before init".into()));
    let WhyOutcome::NotFound { inconclusive, .. } = &report.outcome else { panic!("{report:?}") };
    assert_eq!(inconclusive.len(), 1, "{report:?}");
    assert!(inconclusive[0].1.contains("captured value"), "{report:?}");
}

/// Two threads increment a `Tracked` counter without a lock.
fn tracked_lost_increment() -> u64 {
    let cell = Arc::new(reprise::Tracked::new(0u64));
    let other = Arc::clone(&cell);
    let t = thread::spawn(move || other.set(other.get() + 1));
    cell.set(cell.get() + 1);
    t.join().unwrap();
    cell.get()
}

#[test]
fn a_lost_increment_of_a_tracked_cell_names_its_read_and_the_other_threads_write() {
    let report = explore_then_explain("why-tracked", tracked_lost_increment, |&v| {
        (v != 2).then(|| format!("lost an increment: {v}"))
    });
    let WhyOutcome::Found { pair } = report.outcome else { panic!("{report:?}") };
    use reprise::trace::model::Op;
    assert_eq!(pair.first.event.object, pair.second.event.object);
    let mut ops = [pair.first.event.op, pair.second.event.op];
    ops.sort_by_key(|op| op.name());
    assert!(ops.contains(&Op::TrackedWrite), "{pair:?}");
    assert_ne!(pair.first.at.0, pair.second.at.0);
}
