//! A small instrumented program: two tellers move money between accounts.
//!
//! Record it, then replay it with the `reprise` CLI:
//!
//! ```text
//! REPRISE_RECORD=transfer.trace cargo run --example transfer
//! cargo run -- replay transfer.trace -- target/debug/examples/transfer
//! ```
//!
//! An argument changes how many transfers each teller makes, which a replay
//! of a recording made without it reports as a divergence.

use std::sync::Arc;

use reprise::channel;
use reprise::sync::Mutex;
use reprise::thread;

fn main() {
    let rounds: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(50);
    reprise::main("transfer", env!("CARGO_PKG_VERSION"), move || {
        let accounts = Arc::new([Mutex::new(1_000i64), Mutex::new(1_000i64)]);
        let (done_tx, done_rx) = channel::unbounded::<u32>();
        let tellers: Vec<_> = (0..2u32)
            .map(|teller| {
                let (accounts, done_tx) = (Arc::clone(&accounts), done_tx.clone());
                thread::Builder::new()
                    .name(format!("teller-{teller}"))
                    .spawn(move || {
                        for _ in 0..rounds {
                            let (from, to) = if teller == 0 { (0, 1) } else { (1, 0) };
                            *accounts[from].lock().unwrap() -= 1;
                            *accounts[to].lock().unwrap() += 1;
                        }
                        done_tx.send(teller).unwrap();
                    })
                    .unwrap()
            })
            .collect();
        drop(done_tx);
        let order: Vec<u32> = done_rx.iter().collect();
        for t in tellers {
            t.join().unwrap();
        }
        let total = *accounts[0].lock().unwrap() + *accounts[1].lock().unwrap();
        // In the footer, so a replay that ends differently is caught.
        reprise::annotate("order", format!("{order:?}"));
        println!("tellers finished in order {order:?}; total {total}");
    })
}
