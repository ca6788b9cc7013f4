use super::*;
use crate::views::number::{number, tests::trace_of};
use reprise_recorder::trace::model::{Event, Op};

fn ev(op: Op, object: ObjectIndex, a: u64, b: u64) -> Event {
    Event { op, object, site: 0, a, b, c: 0 }
}

fn trace() -> reprise_recorder::trace::read::TraceFile {
    let start = ev(Op::ThreadStart, 0, 0, 0);
    let exit = ev(Op::ThreadExit, 0, 0, 0);
    trace_of(vec![
        // #1 #2, then waits for the message: #6 recv, #7 lock, #8 unlock, #9 exit
        vec![
            start,
            ev(Op::Spawn, 0, 1, 0),
            ev(Op::Recv, 5, 2, 1),
            ev(Op::Lock, 7, 2, 0),
            ev(Op::Unlock, 7, 0, 0),
            exit,
        ],
        // #3 start, #4 lock, #5 send, then unlock #?...
        vec![start, ev(Op::Lock, 7, 1, 0), ev(Op::Send, 5, 1, 0), ev(Op::Unlock, 7, 0, 0), exit],
    ])
}

fn run(session: &mut Session<'_, '_>, line: &str) -> String {
    session.execute(line).lines.join("\n")
}

#[test]
fn stepping_going_back_and_goto_move_by_global_numbers() {
    let t = trace();
    let n = number(&t);
    let mut s = Session::new(&n);
    assert!(run(&mut s, "step").starts_with("#1 [thread 0] thread-start"));
    run(&mut s, "step 3");
    assert_eq!(s.position(), 4);
    run(&mut s, "back 2");
    assert_eq!(s.position(), 2);
    let last = run(&mut s, &format!("goto {}", n.len()));
    assert!(last.contains("end of the trace"), "{last}");
    assert!(run(&mut s, "goto 99").starts_with("error: there is no event 99"));
    assert!(run(&mut s, "frobnicate").starts_with("error: unknown command"));
}

#[test]
fn a_selected_thread_steps_over_the_others() {
    let t = trace();
    let n = number(&t);
    let mut s = Session::new(&n);
    run(&mut s, "thread 1");
    run(&mut s, "step");
    assert_eq!(s.position(), n.global(1, 0).unwrap());
    run(&mut s, "step 2");
    assert_eq!(s.position(), n.global(1, 2).unwrap());
    run(&mut s, "back");
    assert_eq!(s.position(), n.global(1, 1).unwrap());
}

#[test]
fn breakpoints_stop_forward_and_backward() {
    let t = trace();
    let n = number(&t);
    let mut s = Session::new(&n);
    run(&mut s, "break lock");
    let first = run(&mut s, "continue");
    assert!(first.starts_with("breakpoint 1:"), "{first}");
    assert_eq!(s.position(), n.global(1, 1).unwrap());
    run(&mut s, "continue");
    assert_eq!(s.position(), n.global(0, 3).unwrap());
    assert!(run(&mut s, "continue").starts_with("no breakpoint hit"));
    assert_eq!(s.position(), n.len());
    run(&mut s, "reverse-continue");
    assert_eq!(s.position(), n.global(0, 3).unwrap());
    run(&mut s, "delete");
    run(&mut s, "break object 5");
    run(&mut s, "reverse-continue");
    assert_eq!(s.position(), n.global(0, 2).unwrap(), "the receive on channel 5");
}

#[test]
fn where_names_every_thread_and_what_it_waits_for_and_print_shows_the_holder() {
    let t = trace();
    let n = number(&t);
    let mut s = Session::new(&n);
    // Right after thread 1 took the lock: thread 0 waits for the message.
    s.goto(n.global(1, 1).unwrap());
    let w = run(&mut s, "where");
    assert!(w.contains("thread 0 (thread 0): after #2; next #"), "{w}");
    assert!(w.contains("waits for message 1/1 from thread 1 (not sent yet"), "{w}");
    assert!(w.contains("thread 1 (thread 1): after #"), "{w}");
    let p = run(&mut s, "print 7");
    assert!(p.contains("held by thread 1 since #"), "{p}");
    let p = run(&mut s, "print #5");
    assert!(p.contains("queue (0 messages"), "{p}");
    s.goto(n.global(1, 2).unwrap());
    let p = run(&mut s, "print 5");
    assert!(p.contains("queue (1 messages sent, not yet taken): [1/1"), "{p}");
}

/// Thread 1 captures (a sensitive value, then a plain one) after thread 0's
/// own capture: #1 #2 #3 on thread 0, then thread 1's.
fn captures() -> reprise_recorder::trace::read::TraceFile {
    let start = ev(Op::ThreadStart, 0, 0, 0);
    let exit = ev(Op::ThreadExit, 0, 0, 0);
    trace_of(vec![
        vec![start, ev(Op::Spawn, 0, 1, 0), ev(Op::Capture, 0, 1, 0), exit],
        vec![start, ev(Op::CaptureSensitive, 0, 30, 0), ev(Op::Capture, 0, 1, 0), exit],
    ])
}

#[test]
fn step_0_and_back_0_stay_put_with_a_thread_selected_or_not() {
    let t = trace();
    let n = number(&t);
    for selected in ["thread all", "thread 1"] {
        let mut s = Session::new(&n);
        run(&mut s, selected);
        s.goto(n.global(1, 1).unwrap());
        let here = run(&mut s, "list");
        for command in ["step 0", "back 0"] {
            run(&mut s, command);
            assert_eq!(s.position(), n.global(1, 1).unwrap(), "{selected}: {command}");
            assert_eq!(run(&mut s, "list"), here, "{selected}: {command}");
        }
    }
}

#[test]
fn break_capture_stops_at_every_capture_of_the_selected_thread_sensitive_ones_too() {
    let t = captures();
    let n = number(&t);
    for selected in ["thread all", "thread 1"] {
        let mut s = Session::new(&n);
        run(&mut s, selected);
        run(&mut s, "break capture");
        if selected == "thread all" {
            assert!(run(&mut s, "continue").starts_with("breakpoint 1:"));
            assert_eq!(s.position(), n.global(0, 2).unwrap());
        }
        let hit = run(&mut s, "continue");
        assert!(hit.starts_with("breakpoint 1:") && hit.contains("capture-sensitive"), "{selected}: {hit}");
        assert_eq!(s.position(), n.global(1, 1).unwrap(), "{selected}");
        run(&mut s, "continue");
        assert_eq!(s.position(), n.global(1, 2).unwrap(), "{selected}");
        assert!(run(&mut s, "continue").starts_with("no breakpoint hit"), "{selected}");
    }
}
