//! An order-matching batch for `tests/unlike_fourteenth/stdin.rs`: it
//! reads its orders from stdin, all at once, through `reprise::capture`
//! (a replay gets them from the trace and does not read stdin), matches
//! them on two workers per symbol half, and prints and annotates a digest
//! of the fills, whose order is the schedule's. `fourteenth_stdin skip`
//! drops the last order after reading it: a replay of a plain recording
//! run so must not match.

use std::io::Read;
use std::sync::Arc;

use reprise::channel;
use reprise::sync::Mutex;
use reprise::thread;

fn main() {
    let skip = std::env::args().nth(1).as_deref() == Some("skip");
    reprise::main("fourteenth_stdin", env!("CARGO_PKG_VERSION"), move || {
        let input: String = reprise::capture(|| {
            let mut all = String::new();
            std::io::stdin().read_to_string(&mut all).expect("read stdin");
            all
        });
        let mut orders: Vec<(String, i64)> = input
            .lines()
            .filter_map(|l| {
                let (symbol, qty) = l.split_once(' ')?;
                Some((symbol.to_string(), qty.trim().parse().ok()?))
            })
            .collect();
        if skip {
            orders.pop();
        }
        let fills = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = channel::bounded::<(String, i64)>(4);
        let workers: Vec<_> = (0..2)
            .map(|w| {
                let (rx, fills) = (rx.clone(), Arc::clone(&fills));
                thread::spawn(move || {
                    for (symbol, qty) in rx.iter() {
                        fills.lock().expect("the fills").push(format!("{w}:{symbol}:{qty}"));
                    }
                })
            })
            .collect();
        drop(rx);
        for o in orders {
            tx.send(o).expect("a worker takes orders");
        }
        drop(tx);
        for w in workers {
            w.join().expect("a worker ends");
        }
        let fills = fills.lock().expect("the fills").join(",");
        let hash = fills
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        println!("fills {} bytes of input, digest {hash:016x}", input.len());
        reprise::annotate("digest", format!("{hash:016x}"));
    });
}
