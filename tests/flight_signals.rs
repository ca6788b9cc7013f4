//! A flight recorder writes nothing until it dumps: a service that hung and
//! was then killed by its supervisor (SIGTERM) or by hand (SIGINT) left no
//! trace of the hang. reprise's own handler (installed only where the
//! signal's disposition is the default) dumps every flight recorder, then
//! ends the process as the signal would have.

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use reprise::flight::{DUMP_NOTE, RUNNING_NOTE};
use reprise::sync::Mutex;
use reprise::trace::model::{Op, Record};
use reprise::{flight, read_trace_file, thread, FlightConfig, RecordConfig};

use crate::util::{scratch, wait_bounded, wait_for_line};

const CHILD: &str = "REPRISE_TEST_CHILD";
const CHILD_TRACE: &str = "REPRISE_TEST_TRACE";
const CHILD_SIGNAL: &str = "REPRISE_TEST_SIGNAL";
const TEST: &str = "flight_signals::a_terminating_signal_dumps_every_flight_recorder_then_ends_the_process";

#[test]
fn a_terminating_signal_dumps_every_flight_recorder_then_ends_the_process() {
    if std::env::var(CHILD).as_deref() == Ok("flight_signal") {
        let signal = std::env::var(CHILD_SIGNAL).unwrap().parse().unwrap();
        return child(PathBuf::from(std::env::var_os(CHILD_TRACE).unwrap()), signal);
    }
    for (signal, name) in [(libc::SIGTERM, "SIGTERM"), (libc::SIGINT, "SIGINT")] {
        let path = scratch(&format!("flight-{name}")).join("dump.trace");
        let running = Command::new(std::env::current_exe().unwrap())
            .args([TEST, "--exact", "--nocapture", "--test-threads", "1"])
            .env(CHILD, "flight_signal")
            .env(CHILD_TRACE, &path)
            .env(CHILD_SIGNAL, signal.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut running = wait_for_line(running, "flying");
        assert!(!path.exists(), "nothing is written before a dump");
        let pid = libc::pid_t::try_from(running.id()).unwrap();
        // SAFETY: sends a signal to our own child process.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
        let status = wait_bounded(&mut running);
        assert_eq!(status.signal(), Some(signal), "{name}: it ends as the signal ends it: {status}");
        let trace = read_trace_file(&path).unwrap_or_else(|e| panic!("{name}: no dump: {e}"));
        assert!(trace.is_whole(), "{name}: {:?}", trace.damage);
        let notes = &trace.footer.as_ref().expect("a footer").annotations;
        let note = |key: &str| notes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        assert_eq!(note(DUMP_NOTE), Some(name));
        assert!(note(RUNNING_NOTE).is_some(), "{name}: the threads were running: {notes:?}");
        for thread in [0, 1] {
            let locks = trace.threads[&thread]
                .iter()
                .filter(|r| matches!(r, Record::Event(e) if e.op == Op::Lock))
                .count();
            assert!(locks > 0, "{name}: thread {thread}'s events are in it");
        }
    }
}

/// Two threads taking a lock until the process is killed.
fn child(path: PathBuf, signal: libc::c_int) {
    // SAFETY: restores the default action (a test harness may inherit another).
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
    }
    let config = FlightConfig::new(RecordConfig::new("flight-signals", "1"));
    let _ = flight(&path, config, move || {
        let hits = Arc::new(Mutex::new(0u64));
        let theirs = Arc::clone(&hits);
        let _worker = thread::spawn(move || loop {
            *theirs.lock().unwrap() += 1;
            std::thread::sleep(Duration::from_millis(1));
        });
        let mut said = false;
        loop {
            *hits.lock().unwrap() += 1;
            if !said && *hits.lock().unwrap() > 20 {
                println!("flying");
                said = true;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}
