//! `reprise why FILE -- CMD` and `--test NAME`: the program is not a
//! built-in pipeline, and each run of the search is it started again.

use std::path::{Path, PathBuf};
use std::process::Command;

use reprise::channel;
use reprise::thread;

use crate::util::{example, scratch, stderr, stdout};

/// From a pair line (`  first:  event 13 agent-0 atomic-load atomic #1 (…)
/// at file:line:col: …`): (thread, op, object, call site).
fn fields(line: &str) -> (String, String, String, String) {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "at").unwrap();
    let object = format!("{} {}", words[5], words[6]);
    (words[3].to_string(), words[4].to_string(), object, words[at + 1].trim_end_matches(':').to_string())
}

/// The source line a call site (`path:line:col`) names.
fn source_line(site: &str) -> String {
    let mut parts = site.rsplitn(3, ':');
    let (_col, line, path) = (parts.next(), parts.next().unwrap(), parts.next().unwrap());
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().nth(line.parse::<usize>().unwrap() - 1).unwrap().trim().to_string()
}

/// The two lines of the racing pair in `why`'s output.
fn pair(text: &str) -> [(String, String, String, String); 2] {
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("first:") || l.contains("second:")).collect();
    assert_eq!(lines.len(), 2, "{text}");
    [fields(lines[0]), fields(lines[1])]
}

/// `reprise why` with `args`, the environment changed by `env`.
fn why(args: &[&std::ffi::OsStr], env: &[(&str, &std::ffi::OsStr)]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_reprise"));
    command.arg("why").args(args).env_remove("REPRISE_RECORD").env_remove("REPRISE_REPLAY");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

/// A recording of `examples/seat_booking.rs` that sold a seat twice (exit
/// code 3); the race is the recording's to win or lose.
fn double_booking(dir: &Path) -> PathBuf {
    for attempt in 0..100 {
        let path = dir.join(format!("booking-{attempt}.trace"));
        let status = Command::new(example("seat_booking"))
            .env("REPRISE_RECORD", &path)
            .env_remove("REPRISE_REPLAY")
            .output()
            .unwrap()
            .status;
        if status.code() == Some(3) {
            return path;
        }
    }
    panic!("no recorded run of seat_booking sold a seat twice in 100 attempts");
}

#[test]
fn a_program_with_its_own_main_names_the_two_agents_load_and_store_of_the_counter() {
    let dir = scratch("why-cmd");
    let trace = double_booking(&dir);
    let program = example("seat_booking");
    let out = why(&[trace.as_os_str(), "--".as_ref(), program.as_os_str()], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("failure: the program exited with code 3"), "{text}");
    assert!(text.contains("failure gone"), "{text}");
    let [a, b] = pair(&text);
    assert!(a.0.starts_with("agent-") && b.0.starts_with("agent-") && a.0 != b.0, "two agents: {text}");
    assert_eq!(a.2, b.2, "one counter: {text}");
    // Usually an agent's load and the other's store; when the recording
    // raced differently (a stale store that went back), two stores. A
    // conflict needs a store either way.
    let ops = [a.1.as_str(), b.1.as_str()];
    assert!(ops.iter().all(|op| ["atomic-load", "atomic-store"].contains(op)), "{text}");
    assert!(ops.contains(&"atomic-store"), "{text}");
    for (op, site) in [(&a.1, &a.3), (&b.1, &b.3)] {
        let line = source_line(site);
        let call = if op == "atomic-load" { "sold.load(" } else { "sold.store(" };
        assert!(line.contains(call), "{op} at {site}: {line}");
    }
}

#[cfg(unix)]
#[test]
fn a_command_that_does_not_run_under_reprise_is_one_error_quoting_its_stderr() {
    let dir = scratch("why-cmd-not");
    let trace = double_booking(&dir);
    let args: [&std::ffi::OsStr; 5] = [
        trace.as_os_str(),
        "--".as_ref(),
        "/bin/sh".as_ref(),
        "-c".as_ref(),
        "echo no reprise here >&2; exit 4".as_ref(),
    ];
    let out = why(&args, &[]);
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("exited with code 4 without making the run"), "{err}");
    assert!(err.contains("reprise::main") && err.contains("no reprise here"), "{err}");
    assert_eq!(stdout(&out), "");
}

/// Set for the child runs of the test below only.
const FIXTURE_ENV: &str = "REPRISE_TEST_WHY_FIXTURE";

/// An order violation on a channel: the debit may arrive before the credit
/// that covers it.
fn overdraft() {
    let (tx, rx) = channel::unbounded::<i64>();
    let credit_tx = tx.clone();
    let credit =
        thread::Builder::new().name("credit".into()).spawn(move || credit_tx.send(50).unwrap()).unwrap();
    let debit = thread::Builder::new().name("debit".into()).spawn(move || tx.send(-30).unwrap()).unwrap();
    let (mut balance, mut lowest) = (0, 0);
    for _ in 0..2 {
        balance += rx.recv().unwrap();
        lowest = lowest.min(balance);
    }
    credit.join().unwrap();
    debit.join().unwrap();
    assert!(lowest >= 0, "overdrawn: {lowest}");
}

/// Not a check of its own: the explore call the test below has fail, then
/// asks `why --test` about. It does nothing without [`FIXTURE_ENV`].
#[test]
fn fixture_explored_overdraft() {
    if std::env::var_os(FIXTURE_ENV).is_some() {
        reprise::explore(overdraft, 1000);
    }
}

#[cfg(unix)]
#[test]
fn a_test_that_explored_the_failure_is_run_again_by_name_through_cargo_once() {
    use std::os::unix::fs::PermissionsExt;
    const NAME: &str = "why_child::fixture_explored_overdraft";
    let dir = scratch("why-test");
    let exe = std::env::current_exe().unwrap();
    let explored = Command::new(&exe)
        .args([NAME, "--exact"])
        .env(FIXTURE_ENV, "1")
        .env("REPRISE_TRACE_DIR", &dir)
        .env_remove("REPRISE_REPLAY")
        .output()
        .unwrap();
    assert!(!explored.status.success(), "the explore call finds the overdraft: {}", stdout(&explored));
    let trace = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "trace"))
        .expect("the failing schedule is saved");
    // Stands in for cargo, which cannot run inside this test's `cargo test`
    // (it holds the build directory's lock): notes each call, then runs
    // the test binary as `cargo test NAME -- --exact` would.
    let fake = dir.join("cargo");
    let calls = dir.join("calls");
    std::fs::write(&fake, "#!/bin/sh\necho \"$@\" >> \"$CALLS\"\nshift; name=$1; shift; shift\nexec \"$TEST_EXE\" \"$name\" \"$@\"\n")
        .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let env: [(&str, &std::ffi::OsStr); 4] = [
        ("CARGO", fake.as_os_str()),
        ("CALLS", calls.as_os_str()),
        ("TEST_EXE", exe.as_os_str()),
        (FIXTURE_ENV, "1".as_ref()),
    ];
    let out = why(&[trace.as_os_str(), "--test".as_ref(), NAME.as_ref()], &env);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("overdrawn"), "{text}");
    let [a, b] = pair(&text);
    let mut threads = [a.0.as_str(), b.0.as_str()];
    threads.sort();
    assert_eq!(threads, ["credit", "debit"], "{text}");
    assert_eq!((a.1.as_str(), b.1.as_str()), ("send", "send"), "{text}");
    assert_eq!(a.2, b.2, "one channel: {text}");
    let runs: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("runs: "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("a runs line");
    let calls = std::fs::read_to_string(&calls).unwrap();
    assert_eq!(calls, format!("test {NAME} -- --exact\n"), "cargo ran the first run only, of {runs}");
    assert!(runs > 1, "{text}");

    let wrong = why(&[trace.as_os_str(), "--test".as_ref(), "other::test".as_ref()], &env);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(stderr(&wrong).contains(&format!("--test {NAME}")), "{}", stderr(&wrong));
}
