//! A clearing job whose workers end it, for `tests/unlike_thirteenth/`:
//! run under `REPRISE_RECORD` through `reprise::main`, then looked at with
//! the offline tools and replayed with `reprise replay FILE --
//! thirteenth_exit SCENARIO`.
//!
//! - `exit`: three clearers send netted amounts to a writer that keeps a
//!   running total under a lock; the writer calls `std::process::exit(4)`
//!   from its own thread once it has written the tenth amount, while the
//!   root waits in `join` and the clearers may still be sending;
//! - `orphan`: a clearer panics on a bad record; its `Drop` tells the root
//!   it went, and the root finishes the others and returns without ever
//!   joining it (a std process exits 0 then);
//! - `clean`: the same job without the bad record, joined to the end.
//!
//! Every scenario prints and annotates a digest of what it computed.

use std::process::ExitCode;
use std::sync::Arc;

use reprise::channel::{self, Sender};
use reprise::sync::Mutex;
use reprise::thread;

fn digest(label: &str, value: impl std::fmt::Debug) {
    let text = format!("{value:?}");
    let hash =
        text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    println!("{label} digest {hash:016x}");
    reprise::annotate("digest", format!("{hash:016x}"));
}

/// Tells the root its clearer is gone, however it went.
struct Gone(Sender<usize>, usize);

impl Drop for Gone {
    fn drop(&mut self) {
        let _ = self.0.send(self.1);
    }
}

/// Three clearers, each sending eight amounts; `bad` panics at its third.
fn clearers(
    bad: Option<usize>,
) -> (Vec<thread::JoinHandle<u64>>, channel::Receiver<u64>, channel::Receiver<usize>) {
    let (tx, rx) = channel::bounded::<u64>(2);
    let (gone_tx, gone_rx) = channel::unbounded::<usize>();
    let handles = (0..3)
        .map(|c| {
            let (tx, gone) = (tx.clone(), Gone(gone_tx.clone(), c));
            thread::Builder::new()
                .name(format!("clearer-{c}"))
                .spawn(move || {
                    let _gone = gone;
                    let mut sent = 0;
                    for i in 0..8u64 {
                        if bad == Some(c) && i == 3 {
                            panic!("clearer {c}: a bad record");
                        }
                        let amount = (c as u64 + 1) * 1000 + i;
                        tx.send(amount).unwrap();
                        sent += amount;
                    }
                    sent
                })
                .unwrap()
        })
        .collect();
    (handles, rx, gone_rx)
}

fn exit_midway() -> ExitCode {
    let (handles, rx, _gone) = clearers(None);
    let total = Arc::new(Mutex::new(Vec::new()));
    let writer = {
        let total = Arc::clone(&total);
        thread::Builder::new()
            .name("writer".into())
            .spawn(move || {
                for amount in rx.iter() {
                    let mut t = total.lock().unwrap();
                    t.push(amount);
                    if t.len() == 10 {
                        digest("exit", &*t);
                        std::process::exit(4);
                    }
                }
            })
            .unwrap()
    };
    for h in handles {
        h.join().unwrap();
    }
    writer.join().unwrap();
    unreachable!("the writer exits the process at its tenth amount");
}

fn orphan(bad: bool) -> ExitCode {
    let (handles, mut rx, gone) = clearers(bad.then_some(1));
    let mut handles: Vec<Option<_>> = handles.into_iter().map(Some).collect();
    let mut received = Vec::new();
    let mut sums = Vec::new();
    let mut left = 3;
    while left > 0 {
        channel::select! {
            recv(rx) -> amount => match amount {
                Ok(amount) => received.push(amount),
                // Every clearer is gone, some of their notices not yet read.
                Err(_) => rx = channel::never(),
            },
            recv(gone) -> c => {
                let c = c.unwrap();
                left -= 1;
                if !bad || c != 1 {
                    sums.push((c, handles[c].take().unwrap().join().unwrap()));
                }
            }
        }
    }
    received.extend(rx.try_iter());
    received.sort_unstable();
    sums.sort_unstable();
    digest(if bad { "orphan" } else { "clean" }, (&received, &sums));
    // The bad clearer's handle is dropped without a join: detached.
    drop(handles);
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let scenario = std::env::args().nth(1).unwrap_or_default();
    reprise::main("thirteenth_exit", env!("CARGO_PKG_VERSION"), move || match scenario.as_str() {
        "exit" => exit_midway(),
        "orphan" => orphan(true),
        "clean" => orphan(false),
        other => {
            eprintln!("unknown scenario {other:?}: exit, orphan, clean");
            ExitCode::from(2)
        }
    })
}
