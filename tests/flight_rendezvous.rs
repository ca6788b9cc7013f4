//! A flight dump taken while the run goes on holds no receive on a
//! rendezvous channel (`bounded(0)`) whose send it lacks. A blocked send's
//! event is recorded only once a receiver took its message; the receive
//! could be recorded, and kept, before the dump moved the epoch while the
//! gathering took the blocked sender's buffer as all it held: 3-4 of 12
//! dumps held such a receive (found by the twelfth hunt), and their
//! replays cut it and what followed. Now the receiver marks the blocked
//! sender, the gathering waits for that sender's send, and the send goes
//! with the sender's hand-over (`recorder/src/flight/gather.rs`,
//! `ThreadCtx::took_from_blocked`).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use reprise::channel;
use reprise::sync::atomic::{AtomicBool, Ordering};
use reprise::trace::model::{Op, Record};
use reprise::{thread, FlightConfig, RecordConfig};

use crate::util::scratch;

fn rendezvous() -> u64 {
    let (tx, rx) = channel::bounded::<u64>(0);
    let stop = Arc::new(AtomicBool::new(false));
    let producer = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Acquire) {
                tx.send(i).unwrap();
                i += 1;
            }
        })
    };
    let consumer = thread::spawn(move || rx.iter().sum::<u64>());
    thread::sleep(Duration::from_millis(30));
    let _ = reprise::flight_dump();
    stop.store(true, Ordering::Release);
    producer.join().unwrap();
    consumer.join().unwrap()
}

/// The (sender thread, send count) of every receive whose send the dump
/// lacks.
fn receives_without_sends(path: &std::path::Path) -> Vec<(u32, u64)> {
    let trace = reprise::read_trace_file(path).unwrap();
    assert!(trace.is_whole());
    let mut sent = HashSet::new();
    let mut received = Vec::new();
    for (&thread, records) in &trace.threads {
        for record in records.iter() {
            if let Record::Event(e) = record {
                match e.op {
                    // `a`: this thread's send count.
                    Op::Send => {
                        sent.insert((thread, e.a));
                    }
                    // `a`: the sender thread + 1; `b`: its send count.
                    Op::Recv if e.a > 0 => received.push((e.a as u32 - 1, e.b)),
                    _ => {}
                }
            }
        }
    }
    received.into_iter().filter(|m| !sent.contains(m)).collect()
}

#[test]
fn a_mid_run_dump_holds_no_rendezvous_receive_without_its_send() {
    let dir = scratch("flight-rendezvous-dump");
    let mut bad = Vec::new();
    for run in 0..12 {
        let path = dir.join(format!("dump{run}.trace"));
        let config = FlightConfig::new(RecordConfig::new("flight-rendezvous", "1")).events(1 << 20);
        reprise::flight(&path, config, rendezvous).unwrap();
        let lacking = receives_without_sends(&path);
        if !lacking.is_empty() {
            let trace = reprise::read_trace_file(&path).unwrap();
            let replayed = reprise::replay(&trace, rendezvous);
            bad.push(format!(
                "run {run}: receives of {lacking:?} without their sends; replay: {} ({} of {} events)",
                replayed.outcome, replayed.replayed, trace.events
            ));
        }
    }
    assert!(bad.is_empty(), "{} of 12 dumps:\n{}", bad.len(), bad.join("\n"));
}
