//! A recording of rendezvous hand-offs, an RwLock and a condvar, killed.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use reprise::read_trace_file;

use crate::util::{reprise_on, scratch, stderr, stdout, wait_bounded, wait_for_line};

use super::{
    debug_session, export, inspect, plain, positions_agree_with_export, replay, replayed_first, verify,
};

/// A guard against a recording that writes nothing; never the verdict.
const BACKSTOP: Duration = Duration::from_secs(120);

/// The program runs until killed; once warm, and with plenty of events of
/// every thread on disk, SIGKILL. `verify` says the file is not whole
/// (exit 6) after counting its intact chunks; `inspect` says the recording
/// did not finish; `export` numbers the events `verify` counted; `diff`
/// of the file with itself finds nothing; a `debug` session reaches the
/// end; and both replays through the program replay the same consistent
/// prefix and say the trace ended (exit 5), each time.
#[test]
fn a_killed_recording_of_rendezvous_rwlock_and_condvar_replays_its_prefix_through_the_cli() {
    for round in 0..2 {
        let path = scratch(&format!("twelfth-killed-{round}")).join("t.trace");
        let child = plain(super::desk())
            .arg("forever")
            .env("REPRISE_RECORD", &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut child = wait_for_line(child, "recording");
        let started = Instant::now();
        while !read_trace_file(&path).is_ok_and(|t| t.events > 20_000 && t.threads.len() == 4) {
            assert!(started.elapsed() < BACKSTOP, "round {round}: the recording wrote little");
            std::thread::sleep(Duration::from_millis(10));
        }
        child.kill().unwrap();
        assert_eq!(wait_bounded(&mut child).signal(), Some(libc::SIGKILL));

        let (code, _, events, said) = verify(&path);
        assert_eq!(code, Some(6), "round {round}: {said}");
        assert!(said.contains("no end marker"), "round {round}: {said}");
        let shown = inspect(&path);
        assert!(shown.contains("the recording did not finish"), "round {round}: {shown}");
        assert!(
            shown.contains(&format!("events: {events} in ")),
            "round {round}: inspect and verify: {shown}"
        );
        let exported = export(&path);
        assert_eq!(exported.len() as u64, events, "round {round}");
        let out = reprise_on(&["diff", path.to_str().unwrap()], &path);
        assert_eq!(out.status.code(), Some(0), "round {round}: {}{}", stdout(&out), stderr(&out));
        let (code, text, err) = debug_session(
            &path,
            &format!("goto {events}\nwhere\nback 3\nbreak condvar-wait\nreverse-continue\nquit\n"),
        );
        assert_eq!(code, Some(0), "round {round}: {text}{err}");
        assert!(positions_agree_with_export(&text, &exported).contains(&events), "{text}");

        let mut prefix = None;
        for coroutines in [false, true, false] {
            let out = replay(&path, coroutines, &["forever"], &[]);
            let said = stderr(&out);
            assert_eq!(out.status.code(), Some(5), "round {round}, coroutines {coroutines}: {said}");
            assert!(said.contains("the trace ended before the program did"), "{said}");
            let replayed = replayed_first(&said);
            assert!(replayed > 0 && replayed <= events, "round {round}: {replayed} of {events}");
            assert_eq!(
                *prefix.get_or_insert(replayed),
                replayed,
                "round {round}, coroutines {coroutines}: the same prefix"
            );
        }
    }
}

fn signal(child: &std::process::Child, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: sends a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

/// The same program under the flight recorder: SIGUSR1 dumps while it
/// runs on (the program copies nothing, so the test takes the dump as it
/// is, once written), then SIGTERM dumps again and ends the process by the
/// signal. Both dumps verify and say how they were taken; the SIGUSR1 one
/// holds the run from its start and replays through the CLI to its end
/// (exit 5) both ways, every event it holds (a rendezvous receive was in
/// 4 of 5 such dumps without its send, and the replay cut it and what
/// followed: tests/flight_rendezvous.rs).
#[test]
fn signals_dump_a_flying_rendezvous_program_and_the_first_dump_replays_to_its_end() {
    let dir = scratch("twelfth-flying");
    let path = dir.join("dump.trace");
    let child = plain(super::desk())
        .arg("forever")
        // Rings long enough that the first dump holds the whole run
        // however late the signal lands on a loaded machine (the counter
        // thread spins; the default ring wrapped once in 20 loaded runs).
        .env("REPRISE_FLIGHT", format!("{},events=4194304", path.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = wait_for_line(child, "recording");
    signal(&child, libc::SIGUSR1);
    let started = Instant::now();
    while !read_trace_file(&path).is_ok_and(|t| t.is_whole()) {
        assert!(started.elapsed() < BACKSTOP, "no dump after SIGUSR1");
        std::thread::sleep(Duration::from_millis(10));
    }
    let first = dir.join("usr1.trace");
    std::fs::copy(&path, &first).unwrap();
    signal(&child, libc::SIGTERM);
    assert_eq!(wait_bounded(&mut child).signal(), Some(libc::SIGTERM));

    let (code, _, events, said) = verify(&first);
    assert_eq!(code, Some(0), "{said}");
    let shown = inspect(&first);
    assert!(shown.contains("reprise.flight.dump: SIGUSR1"), "{shown}");
    assert!(shown.contains("window: the whole run"), "{shown}");
    let mut prefix = None;
    for coroutines in [false, true] {
        let out = replay(&first, coroutines, &["forever"], &[]);
        let said = stderr(&out);
        assert_eq!(out.status.code(), Some(5), "coroutines {coroutines}: {said}");
        let replayed = replayed_first(&said);
        assert_eq!(replayed, events, "coroutines {coroutines}: every event the dump holds");
        assert_eq!(*prefix.get_or_insert(replayed), replayed, "coroutines {coroutines}: the same prefix");
    }

    let (code, _, _, said) = verify(&path);
    assert_eq!(code, Some(0), "{said}");
    let shown = inspect(&path);
    assert!(shown.contains("reprise.flight.dump: SIGTERM"), "{shown}");
    let out = replay(&path, false, &["forever"], &[]);
    let expected = if shown.contains("window: the whole run") { 5 } else { 11 };
    assert_eq!(out.status.code(), Some(expected), "{shown}\n{}", stderr(&out));
}
