//! A chain of std `sync_channel(0)` rendezvous stages, each spawned with
//! `thread::Builder::spawn_scoped` under a name, fed by two sources racing
//! into the first stage; the last stage hands back what reached it.

use reprise::sync::mpsc::{self, Receiver, SyncSender};
use reprise::thread;

use super::replays_and_varies;

#[test]
fn a_rendezvous_chain_of_scoped_named_stages_replays_to_its_recorded_transcript() {
    replays_and_varies("fourth-rendezvous", || chain(4, 5));
}

/// One stage: stamps each value with its thread's name and passes it on;
/// the hand-off blocks until the next stage takes it.
fn stage(input: Receiver<String>, output: SyncSender<String>) -> u32 {
    let name = thread::current().name().map(str::to_owned).unwrap_or_default();
    let mut passed = 0;
    for value in input {
        if output.send(format!("{value}>{name}")).is_err() {
            break;
        }
        passed += 1;
    }
    passed
}

pub(super) fn chain(stages: usize, each: u32) -> String {
    thread::scope(|s| {
        let (head_tx, mut input) = mpsc::sync_channel::<String>(0);
        let mut stage_handles = Vec::new();
        for k in 0..stages {
            let (tx, rx) = mpsc::sync_channel(0);
            let from = std::mem::replace(&mut input, rx);
            let handle = thread::Builder::new()
                .name(format!("s{k}"))
                .spawn_scoped(s, move || stage(from, tx))
                .unwrap();
            stage_handles.push(handle);
        }
        for tag in ['x', 'y'] {
            let head = head_tx.clone();
            thread::Builder::new()
                .name(format!("src-{tag}"))
                .spawn_scoped(s, move || {
                    for i in 0..each {
                        head.send(format!("{tag}{i}")).unwrap();
                    }
                })
                .unwrap();
        }
        drop(head_tx);
        let arrived: Vec<String> = input.iter().collect();
        let passed: Vec<u32> = stage_handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert!(passed.iter().all(|&p| p == 2 * each), "{passed:?}");
        // The order the two sources interleaved in, and that every stage kept it.
        let order: String = arrived.iter().map(|v| v.chars().next().unwrap_or('?')).collect();
        format!("{order} {}", arrived.last().map(String::as_str).unwrap_or(""))
    })
}
