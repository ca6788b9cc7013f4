//! A supervisor that runs a helper process, as pipelines do to sandbox a
//! parser or run a batch step: `child_process` spawns itself with `child`,
//! outside any `reprise::capture`, and notes what the helper printed and how
//! it exited. Both do the same concurrent work (two threads send a sum).
//!
//! ```text
//! child_process           # the supervisor: prints `parent sum S; child: child sum S, exit status: 0`
//! child_process child     # the helper: prints `child sum S`
//! ```
//!
//! Under `REPRISE_RECORD` (or `REPRISE_REPLAY`, `REPRISE_FLIGHT`) the
//! helper runs plainly: `reprise::main` takes those variables out of the
//! environment its child processes inherit, unless a path says `%p`, where
//! each process records into a file of its own.

use reprise::{channel, thread};

fn work() -> u64 {
    let (tx, rx) = channel::unbounded::<u64>();
    let senders: Vec<_> = (0..2)
        .map(|w| {
            let tx = tx.clone();
            thread::spawn(move || {
                for i in 0..100 {
                    tx.send(w * 1000 + i).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let sum = rx.iter().sum();
    for s in senders {
        s.join().unwrap();
    }
    sum
}

fn main() {
    let helper = std::env::args().nth(1).as_deref() == Some("child");
    reprise::main("child_process", env!("CARGO_PKG_VERSION"), move || {
        let sum = work();
        if helper {
            println!("child sum {sum}");
            return;
        }
        let me = std::env::current_exe().expect("the program's own path");
        let said = match std::process::Command::new(me).arg("child").output() {
            Ok(out) => format!("{}, {}", String::from_utf8_lossy(&out.stdout).trim(), out.status),
            Err(e) => format!("cannot run: {e}"),
        };
        reprise::annotate("child", said.clone());
        println!("parent sum {sum}; child: {said}");
    });
}
