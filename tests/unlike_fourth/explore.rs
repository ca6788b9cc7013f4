//! The explorer on a planted bug in the request/reply shape, and the
//! server flight-recorded with a dump requested through the API.

use std::sync::Arc;

use reprise::channel::{self, Sender};
use reprise::explore::{Config, Explorer, FailureKind};
use reprise::sync::Mutex;
use reprise::thread;
use reprise::{
    flight, read_trace_file, replay, replay_coroutines, FlightConfig, RecordConfig, ReplayOutcome,
};

use super::server::server_dumping;
use crate::util::scratch;

/// A server that, instead of handing each handler its request's reply
/// channel, parks the caller's reply channel in one shared slot, which the
/// handler reads when it gets round to it: two overlapping requests, and
/// one client gets the other's answer.
fn shared_reply_slot() {
    let slot: Arc<Mutex<Option<Sender<u32>>>> = Arc::new(Mutex::new(None));
    let (requests_tx, requests_rx) = channel::unbounded::<(u32, Sender<u32>)>();
    let acceptor = {
        let slot = Arc::clone(&slot);
        thread::spawn(move || {
            let mut handlers = Vec::new();
            for (key, reply) in requests_rx.iter() {
                *slot.lock().unwrap() = Some(reply);
                let slot = Arc::clone(&slot);
                handlers.push(thread::spawn(move || {
                    let reply = slot.lock().unwrap().clone();
                    if let Some(reply) = reply {
                        let _ = reply.send(key * 10);
                    }
                }));
            }
            for handler in handlers {
                handler.join().unwrap();
            }
        })
    };
    let clients: Vec<_> = (1..=2u32)
        .map(|key| {
            let requests = requests_tx.clone();
            thread::spawn(move || {
                let (reply, replies) = channel::unbounded();
                requests.send((key, reply)).unwrap();
                // Its reply sender overwritten in the slot and dropped, a
                // client gets no answer at all: the same bug.
                let answer = replies.recv().ok();
                assert_eq!(answer, Some(key * 10), "client {key} got another request's answer");
            })
        })
        .collect();
    drop(requests_tx);
    for client in clients {
        client.join().unwrap();
    }
    acceptor.join().unwrap();
}

#[test]
fn a_shared_reply_slot_is_found_and_its_trace_replays_to_the_panic() {
    let name = "fourth-explore-slot";
    let failure = crate::util::explored_failure(name, 2000, 1, shared_reply_slot);
    crate::util::replays_to_the_panic(name, &failure, "another request's answer", 5, shared_reply_slot);
}

/// A dump asked for by a handler while clients and other handlers run:
/// whole on disk, and followed to its end by both replays, which say the
/// trace ended (the run went on past the dump).
#[test]
fn a_handlers_api_dump_of_the_server_replays_to_its_cut() {
    let dir = scratch("fourth-flight");
    for run in 0..4 {
        let path = dir.join(format!("dump{run}.trace"));
        let config = FlightConfig::new(RecordConfig::new("fourth-flight", "1"));
        let flown = flight(&path, config, || server_dumping(3)).unwrap();
        assert!(flown.result.is_some(), "run {run}: {}", flown.verdict);
        assert_eq!(flown.dumps.len(), 1, "run {run}: the handler's dump only");
        assert!(flown.dumps[0].covers_run, "run {run}: the default budget holds the whole run so far");
        let trace = read_trace_file(&path).unwrap();
        assert!(trace.is_whole(), "run {run}: {:?}", trace.damage);
        crate::util::replays_the_whole_dump(&format!("run {run}"), &trace, || server_dumping(3));
    }
}

/// Every program of this set, explored: none of them has a bug, so no
/// schedule may fail, deadlock or stop the search.
#[test]
fn the_correct_programs_of_this_set_survive_exploration() {
    type Program = (&'static str, fn() -> String);
    let programs: [Program; 11] = [
        ("peers", super::corners::peers),
        ("server", || super::server::server(2, 3)),
        ("multiplexer", super::select_set::multiplexer),
        ("readiness", super::select_set::readiness),
        ("chain", || super::rendezvous::chain(3, 3)),
        ("journal", super::poison::journal),
        ("retries", super::retries::retries),
        ("logger", super::corners::detached_logger),
        ("rendezvous-selects", super::corners::rendezvous_selects),
        ("self-sender", super::corners::self_sender),
        ("dumping", || super::server::server_dumping(9)),
    ];
    for (name, program) in programs {
        crate::util::survives_exploration(&format!("fourth-explore-{name}"), 150, 7, program);
    }
}

/// Both ends of a rendezvous in selects at once: the sender's select has
/// only its send arm, the receiver's could receive from either of two
/// channels (a `select!`, then reprise's `select` over receivers). crossbeam pairs them; the
/// explorer let a select's send go only to a receiver blocked in a plain
/// receive, so every schedule ended in a deadlock it reported as the
/// program's.
fn selects_meet_on_a_rendezvous() {
    let (tx, rx) = channel::bounded::<u32>(0);
    let (other_tx, other_rx) = channel::bounded::<u32>(0);
    let sender = thread::spawn(move || {
        for v in 0..2 {
            reprise::channel::select! {
                send(tx, v) -> sent => sent.unwrap(),
            }
        }
        drop(other_tx);
    });
    let mut got = Vec::new();
    reprise::channel::select! {
        recv(rx) -> v => got.push(v.unwrap()),
        recv(other_rx) -> v => unreachable!("nothing is sent there: {v:?}"),
    }
    // reprise's own select over receivers of one type waits the same way.
    let (arm, v) = reprise::channel::select(&[&other_rx, &rx]);
    assert_eq!(arm, 1, "{v:?}");
    got.push(v.unwrap());
    sender.join().unwrap();
    assert_eq!(got, [0, 1]);
}

/// A timed send and a `try_send` spin on a rendezvous whose receiver waits
/// in a select: crossbeam pairs them with it; the explorer saw no taker, so
/// the spin never ended.
fn timed_and_tried_sends_meet_a_select() {
    let (tx, rx) = channel::bounded::<u32>(0);
    let (_other_tx, other_rx) = channel::bounded::<u32>(0);
    let sender = thread::spawn(move || {
        // Virtual time may run out on it before the select waits (the
        // explorer fires timeouts as a choice): then it is sent plainly.
        if let Err(e) = tx.send_timeout(1, reprise::time::Duration::from_secs(3600)) {
            tx.send(e.into_inner()).unwrap();
        }
        let mut tries = 0u32;
        while tx.try_send(2).is_err() {
            tries += 1;
            assert!(tries < 1000, "no taker in 1000 tries");
            thread::yield_now();
        }
    });
    for want in 1..=2 {
        reprise::channel::select! {
            recv(rx) -> v => assert_eq!(v, Ok(want)),
            recv(other_rx) -> v => unreachable!("nothing is sent there: {v:?}"),
        }
    }
    sender.join().unwrap();
}

#[test]
fn timed_and_tried_sends_meeting_a_select_on_a_rendezvous_go_through_under_the_explorer() {
    let dir = scratch("fourth-explore-timed-rendezvous");
    let config = Config::default().budget(100).seed(5).trace_dir(&dir).name("timed-rendezvous");
    let outcome = Explorer::new(config).run(timed_and_tried_sends_meet_a_select);
    if let Some(failure) = outcome.failure {
        panic!("{:?}\n{}", failure.kind, failure.report);
    }
    assert_eq!(outcome.schedules, 100);
}

#[test]
fn selects_meeting_on_a_rendezvous_are_no_deadlock_to_the_explorer() {
    let dir = scratch("fourth-explore-rendezvous-selects");
    let config = Config::default().budget(100).seed(3).trace_dir(&dir).name("rendezvous-selects");
    let outcome = Explorer::new(config).run(selects_meet_on_a_rendezvous);
    if let Some(failure) = outcome.failure {
        panic!("{:?}\n{}", failure.kind, failure.report);
    }
    assert_eq!(outcome.schedules, 100);

    // A schedule that ends in a planted panic after the selects met: its
    // trace replays to the panic both ways.
    let config = Config::default().budget(10).seed(3).trace_dir(&dir).name("rendezvous-selects-planted");
    let planted = || {
        selects_meet_on_a_rendezvous();
        panic!("planted after the hand-offs");
    };
    let failure = Explorer::new(config).run(planted).failure.expect("the planted panic");
    assert!(
        matches!(&failure.kind, FailureKind::Panic { message, .. } if message.contains("planted")),
        "{:?}\n{}",
        failure.kind,
        failure.report
    );
    let trace = read_trace_file(failure.trace.as_ref().expect("a trace written")).unwrap();
    let parallel = replay(&trace, planted);
    assert_eq!(parallel.outcome, ReplayOutcome::Matched, "parallel: {}", parallel.outcome);
    assert_eq!(parallel.replayed, parallel.events);
    let coroutines = replay_coroutines(&trace, planted);
    assert_eq!(coroutines.outcome, ReplayOutcome::Matched, "coroutines: {}", coroutines.outcome);
    assert_eq!(coroutines.replayed, coroutines.events);
}
