//! Workers on the smallest stacks std gives (`Builder::stack_size`, 16 KiB
//! by default here, the size from the first argument; scoped threads with
//! `scoped` as the second), for `tests/unlike_fourteenth/stacks.rs`: each
//! locks, sends and reads the clock a few times, which std runs on such a
//! stack; recorded with `REPRISE_RECORD`, replayed with `reprise replay
//! [--coroutines] FILE -- CMD`. Prints and annotates a digest of the order
//! they ran in.

use std::sync::Arc;

use reprise::channel;
use reprise::sync::Mutex;
use reprise::thread;

fn main() {
    let size: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(16 << 10);
    let scoped = std::env::args().nth(2).as_deref() == Some("scoped");
    reprise::main("fourteenth_stack", env!("CARGO_PKG_VERSION"), move || {
        let order = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = channel::bounded::<u32>(1);
        let work = |w: u32, order: Arc<Mutex<Vec<u32>>>, tx: channel::Sender<u32>| {
            move || {
                for k in 0..4 {
                    let _ = reprise::time::Instant::now();
                    order.lock().expect("the order").push(w);
                    tx.send(w * 10 + k).expect("the root drains");
                    thread::yield_now();
                }
            }
        };
        let small = |w: u32| thread::Builder::new().name(format!("small-{w}")).stack_size(size);
        let sum: u32 = if scoped {
            thread::scope(|s| {
                for w in 0..3u32 {
                    small(w)
                        .spawn_scoped(s, work(w, Arc::clone(&order), tx.clone()))
                        .expect("spawn a scoped worker on a small stack");
                }
                drop(tx);
                rx.iter().sum()
            })
        } else {
            let workers: Vec<_> = (0..3u32)
                .map(|w| {
                    small(w)
                        .spawn(work(w, Arc::clone(&order), tx.clone()))
                        .expect("spawn a worker on a small stack")
                })
                .collect();
            drop(tx);
            let sum = rx.iter().sum();
            for w in workers {
                w.join().expect("a worker ends");
            }
            sum
        };
        let order: String =
            order.lock().expect("the order").iter().map(|w| char::from(b'a' + *w as u8)).collect();
        println!("stack {size} digest {order} {sum}");
        reprise::annotate("digest", order);
    });
}
