//! Three threads pass a token round a ring of channels; each notes which
//! OS thread it ran on, and the program prints on stderr how many OS
//! threads ran them: 3 when recorded or replayed in parallel, 1 when
//! replayed on coroutines (`reprise replay --coroutines FILE -- CMD`),
//! where every thread is a coroutine on the replay's one OS thread. Its
//! stdout (the token's last value) is the same in every mode.

use std::collections::HashSet;
use std::sync::{Arc, Mutex as StdMutex};

use reprise::{channel, thread};

fn main() {
    reprise::main("os_threads", env!("CARGO_PKG_VERSION"), || {
        // A std lock reprise does not see: the set is not the program's state.
        let seen = Arc::new(StdMutex::new(HashSet::new()));
        let (to_first, mut from_last) = channel::bounded::<u64>(1);
        let mut ring = Vec::new();
        for _ in 0..2 {
            let (tx, rx) = channel::bounded::<u64>(1);
            ring.push((from_last, tx));
            from_last = rx;
        }
        let note = |seen: &Arc<StdMutex<HashSet<std::thread::ThreadId>>>| {
            seen.lock().unwrap().insert(std::thread::current().id());
        };
        let passers: Vec<_> = ring
            .into_iter()
            .map(|(rx, tx)| {
                let seen = Arc::clone(&seen);
                thread::spawn(move || {
                    note(&seen);
                    for token in rx.iter() {
                        if tx.send(token + 1).is_err() {
                            break;
                        }
                    }
                })
            })
            .collect();
        note(&seen);
        let mut token = 0;
        for _ in 0..100 {
            to_first.send(token).unwrap();
            token = from_last.recv().unwrap();
        }
        drop(to_first);
        for p in passers {
            p.join().unwrap();
        }
        println!("token {token}");
        eprintln!("os threads: {}", seen.lock().unwrap().len());
    });
}
