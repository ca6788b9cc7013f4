//! The offline views never claim more than the trace shows: `diff` compares
//! captured values, not only their lengths, and describes each side's
//! objects from its own trace; `debug` stops at a selected thread's
//! sensitive capture and `step 0` stays; a report that cannot be written
//! is a failure; `inspect` names each captured value's event and site.

use std::path::{Path, PathBuf};

use reprise::{capture, capture_sensitive, record, thread, RecordConfig, SealKey};

use crate::util::{scratch, stderr, stdout};

/// 64 hex digits: the key [`key`] gives, as `REPRISE_KEY` takes it.
const HEX: &str = "0707070707070707070707070707070707070707070707070707070707070707";

fn key() -> SealKey {
    SealKey::from_bytes([7; 32])
}

/// Records `program` as the program `views-trust` into a fresh file.
fn recorded<R, F>(name: &str, config: RecordConfig, program: F) -> PathBuf
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let path = scratch(name).join("t.trace");
    record(&path, config, program).unwrap();
    path
}

fn config() -> RecordConfig {
    RecordConfig::new("views-trust", "1")
}

/// A worker captures `value`: each value a postcard byte of one length.
fn worker_captures(value: u32) -> u32 {
    thread::spawn(move || capture(move || value)).join().unwrap()
}

/// A worker captures `value` as a sensitive input.
fn worker_captures_sensitive(value: u32) -> u32 {
    thread::spawn(move || capture_sensitive(move || value)).join().unwrap()
}

/// `reprise diff A B` with `REPRISE_KEY` set to `key` or unset.
fn diff(a: &Path, b: &Path, key: Option<&str>) -> (Option<i32>, String, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_reprise"));
    command.arg("diff").arg(a).arg(b).env_remove("REPRISE_KEY");
    if let Some(key) = key {
        command.env("REPRISE_KEY", key);
    }
    let out = command.output().unwrap();
    (out.status.code(), stdout(&out), stderr(&out))
}

#[test]
fn diff_tells_captured_values_of_one_length_apart() {
    let a = recorded("trust-diff-7", config(), || worker_captures(7));
    let b = recorded("trust-diff-9", config(), || worker_captures(9));
    let (code, text, err) = diff(&a, &b, None);
    assert_eq!(code, Some(1), "{text}{err}");
    let first =
        text.lines().find(|l| l.starts_with("first divergence: ")).unwrap_or_else(|| panic!("{text}"));
    assert!(first.contains("differs in value"), "{text}");
    let marked: Vec<&str> = text.lines().filter(|l| l.starts_with("    > ")).collect();
    assert_eq!(marked.len(), 2, "{text}");
    assert!(marked[0].contains(" capture") && marked[0].ends_with("= 07"), "{text}");
    assert!(marked[1].contains(" capture") && marked[1].ends_with("= 09"), "{text}");
    let (code, text, _) = diff(&a, &a, None);
    assert_eq!(code, Some(0), "{text}");
}

#[test]
fn diff_opens_sensitive_captures_with_the_key_and_never_calls_them_identical_without() {
    let sealed = |name: &str, value: u32| {
        recorded(name, config().key(key()), move || worker_captures_sensitive(value))
    };
    let (a, a_again, b) = (sealed("trust-sens-a", 7), sealed("trust-sens-a2", 7), sealed("trust-sens-b", 9));

    // Another value: a difference with the key, not a verdict without it.
    let (code, text, err) = diff(&a, &b, Some(HEX));
    assert_eq!(code, Some(1), "{text}{err}");
    assert!(text.contains("differs in value"), "{text}");
    assert!(text.contains("= <redacted: sensitive capture>") && !text.contains("= 07"), "{text}");
    let (code, text, err) = diff(&a, &b, None);
    assert_eq!(code, Some(10), "{text}{err}");
    assert!(!text.contains("identical"), "{text}");
    assert!(text.contains("cannot be compared") && text.contains("REPRISE_KEY"), "{text}");

    // The same value under another nonce: identical with the key only.
    let (code, text, err) = diff(&a, &a_again, Some(HEX));
    assert_eq!(code, Some(0), "{text}{err}");
    let (code, text, err) = diff(&a, &a_again, None);
    assert_eq!(code, Some(10), "{text}{err}");

    // The same bytes are the same value, key or not.
    let (code, text, err) = diff(&a, &a, None);
    assert_eq!(code, Some(0), "{text}{err}");
}

#[test]
fn diff_never_calls_values_recorded_without_a_key_identical() {
    // A REPRISE_KEY in the test's environment would seal them.
    if std::env::var_os("REPRISE_KEY").is_some() {
        return;
    }
    let unkept = |name: &str, value: u32| recorded(name, config(), move || worker_captures_sensitive(value));
    let (a, b) = (unkept("trust-unkept-a", 7), unkept("trust-unkept-b", 9));
    let (code, text, err) = diff(&a, &b, Some(HEX));
    assert_eq!(code, Some(10), "{text}{err}");
    assert!(text.contains("cannot be compared"), "{text}");
}

/// The main thread and a worker each take one lock.
fn two_lock_takers() {
    let shared = std::sync::Arc::new(reprise::sync::Mutex::new(0));
    let worker = std::sync::Arc::clone(&shared);
    let t = thread::spawn(move || *worker.lock().unwrap() += 1);
    *shared.lock().unwrap() += 1;
    t.join().unwrap();
}

/// A worker sends the main thread one message.
fn one_message() {
    let (tx, rx) = reprise::channel::unbounded();
    let t = thread::spawn(move || tx.send(1).unwrap());
    rx.recv().unwrap();
    t.join().unwrap();
}

#[test]
fn diff_of_two_programs_describes_each_sides_objects_from_its_own_trace() {
    let a = recorded("trust-two-locks", RecordConfig::new("locks", "1"), two_lock_takers);
    let b = recorded("trust-one-message", RecordConfig::new("messages", "1"), one_message);
    let (code, text, err) = diff(&a, &b, None);
    assert_eq!(code, Some(1), "{text}{err}");
    let orders: Vec<&str> =
        text.lines().skip_while(|l| !l.starts_with("objects whose order differs")).skip(1).collect();
    let message = orders.iter().find(|l| l.contains(" message ")).unwrap_or_else(|| panic!("{text}"));
    assert!(message.contains("channel #") && !message.contains("mutex"), "B's channel as B has it: {text}");
    let turn = orders.iter().find(|l| l.contains(" turn ")).unwrap_or_else(|| panic!("{text}"));
    assert!(turn.contains("mutex #") && !turn.contains("channel"), "A's mutex as A has it: {text}");
}

/// `reprise debug FILE` with `script` on standard input: its exit code,
/// and what it wrote to stdout then stderr.
fn debug_session(trace: &Path, script: &str) -> (Option<i32>, String) {
    let (code, out, err) = crate::util::debug_session(trace, script);
    (code, out + &err)
}

#[test]
fn debug_breaks_at_a_selected_threads_sensitive_capture_and_step_0_stays() {
    let trace = recorded("trust-debug", config().key(key()), || worker_captures_sensitive(7));
    let (code, text) = debug_session(&trace, "thread 1\nbreak capture\ncontinue\nstep 0\nback 0\n");
    assert_eq!(code, Some(0), "{text}");
    let hit = text.lines().skip_while(|l| *l != "breakpoint 1:").nth(1).unwrap_or_else(|| panic!("{text}"));
    assert!(hit.contains("[thread 1] capture-sensitive"), "{text}");
    let after: Vec<&str> = text.lines().skip_while(|l| !l.ends_with("step 0")).collect();
    assert_eq!(after.get(1), Some(&hit), "step 0 stays: {text}");
    assert_eq!(after.get(3), Some(&hit), "back 0 stays: {text}");
}

/// Runs `reprise ARGS` with `stdout` as its standard output and `script`
/// on its standard input; returns its exit code and standard error.
fn with_stdout(
    args: &[&std::ffi::OsStr],
    stdout: std::process::Stdio,
    script: &str,
) -> (Option<i32>, String) {
    use std::io::Write as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_reprise"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(stdout)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A command that reads no script may have exited already.
    let _ = child.stdin.take().unwrap().write_all(script.as_bytes());
    let out = child.wait_with_output().unwrap();
    (out.status.code(), stderr(&out))
}

#[test]
fn a_view_that_cannot_write_its_report_exits_7_and_a_closed_pipe_is_a_quiet_stop() {
    let trace = recorded("trust-full", config(), || worker_captures(7));
    let t = trace.as_os_str();
    let commands: [&[&std::ffi::OsStr]; 5] = [
        &["inspect".as_ref(), t],
        &["verify".as_ref(), t],
        &["races".as_ref(), t],
        &["debug".as_ref(), t],
        &["diff".as_ref(), t, t],
    ];
    for args in commands {
        let full = std::fs::File::options().write(true).open("/dev/full").unwrap();
        let (got, err) = with_stdout(args, full.into(), "where\nlist\n");
        assert_eq!(got, Some(7), "{args:?} into /dev/full: {err}");
        assert!(err.starts_with("reprise: error: cannot write to standard output"), "{args:?}: {err}");
        // A reader that left (`| head`) is no failure: as export, each
        // exits 0 (the trace is whole, found nothing), silent on stderr.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let (got, err) = with_stdout(args, writer.into(), "where\nlist\n");
        assert_eq!(got, Some(0), "{args:?} into a closed pipe: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
}

#[test]
fn inspect_names_each_captured_value_by_thread_event_and_site_as_export_does() {
    let trace =
        recorded("trust-inspect", config().key(key()), || worker_captures(7) + worker_captures_sensitive(9));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_reprise"))
        .arg("inspect")
        .arg(&trace)
        .env("REPRISE_KEY", HEX)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shown = stdout(&out);
    let exported = crate::util::reprise(&["export", "--format", "jsonl", trace.to_str().unwrap()]);
    let captures: Vec<serde_json::Value> = stdout(&exported)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["op"].as_str().is_some_and(|op| op.starts_with("capture")))
        .collect();
    assert_eq!(captures.len(), 2, "{}", stdout(&exported));
    for (e, value) in captures.iter().zip(["07", "<redacted: sensitive capture>"]) {
        let named = format!(
            "thread {:>4}  event {:>6}  at {}  {:<18} {value}",
            e["thread"].as_u64().unwrap(),
            e["index"].as_u64().unwrap(),
            e["site"].as_str().unwrap(),
            e["op"].as_str().unwrap()
        );
        assert!(named.contains("tests/views_trust.rs:"), "{named}");
        assert!(shown.lines().any(|l| l.trim_start() == named), "{named:?} not in:\n{shown}");
    }
}
