//! Waiting for readiness before acting, as crossbeam's docs show it: a
//! dispatcher that waits with `Select::ready` on send operations to two
//! rendezvous workers (and `ready_timeout` on a receive operation for
//! their acknowledgements), then tries the operation it was told is ready
//! with `try_send`/`try_recv` and goes round again when another thread
//! got there first (readiness is a hint, not a promise).

use reprise::channel::{self, Select, TryRecvError, TrySendError};
use reprise::thread;
use reprise::time::Duration;

const JOBS: u32 = 8;

pub(crate) fn ready_dispatch() -> String {
    let (to_a, from_disp_a) = channel::bounded::<u32>(0);
    let (to_b, from_disp_b) = channel::bounded::<u32>(0);
    let (ack_tx, ack_rx) = channel::bounded::<(char, u32)>(1);
    let workers: Vec<_> = [('a', from_disp_a), ('b', from_disp_b)]
        .into_iter()
        .map(|(name, rx)| {
            let ack_tx = ack_tx.clone();
            thread::spawn(move || {
                for job in rx.iter() {
                    ack_tx.send((name, job)).expect("the dispatcher takes acks");
                }
            })
        })
        .collect();
    drop(ack_tx);
    let mut acks = Vec::new();
    let (mut next, mut misses) = (0u32, 0u32);
    while next < JOBS || (acks.len() as u32) < JOBS {
        // Drain what acknowledgements are ready without blocking for long.
        let mut sel = Select::new();
        let ack = sel.recv(&ack_rx);
        let (a, b) = if next < JOBS { (Some(sel.send(&to_a)), Some(sel.send(&to_b))) } else { (None, None) };
        let index = match sel.ready_timeout(Duration::from_millis(50)) {
            Ok(i) => i,
            Err(_) => continue,
        };
        if index == ack {
            match ack_rx.try_recv() {
                Ok(a) => acks.push(a),
                Err(TryRecvError::Empty) => misses += 1,
                Err(TryRecvError::Disconnected) => panic!("the workers left early"),
            }
            continue;
        }
        let target = if Some(index) == a {
            &to_a
        } else {
            assert_eq!(Some(index), b);
            &to_b
        };
        match target.try_send(next) {
            Ok(()) => next += 1,
            Err(TrySendError::Full(_)) => misses += 1,
            Err(TrySendError::Disconnected(_)) => panic!("a worker left early"),
        }
    }
    drop((to_a, to_b));
    for w in workers {
        w.join().expect("a worker ends");
    }
    let mut jobs: Vec<u32> = acks.iter().map(|a| a.1).collect();
    jobs.sort_unstable();
    assert_eq!(jobs, (0..JOBS).collect::<Vec<_>>());
    let who: String = acks.iter().map(|a| a.0).collect();
    format!("acks by {who}, missed {}", misses > 0)
}
