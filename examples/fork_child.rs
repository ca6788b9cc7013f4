//! A pre-fork worker: `fork_child` sums numbers two threads send, then
//! forks (no exec) and the child process does the same work with reprise's
//! primitives before it exits; the parent waits for it and notes its exit
//! status. On platforms without `fork` it only does the parent's work.
//!
//! ```text
//! fork_child        # prints `parent sum S; child exit status 0`
//! fork_child exit   # the same, the child ending with std::process::exit
//! fork_child term   # the parent ends its child with SIGTERM: `child killed by signal 15`
//! ```
//!
//! Under `REPRISE_RECORD` the child runs unrecorded (a recording follows one
//! process) and says so on stderr; the parent's trace replays.

use reprise::{channel, sync::Mutex, thread};

fn work() -> u64 {
    let (tx, rx) = channel::unbounded::<u64>();
    let total = std::sync::Arc::new(Mutex::new(0u64));
    let senders: Vec<_> = (0..2)
        .map(|w| {
            let (tx, total) = (tx.clone(), std::sync::Arc::clone(&total));
            thread::spawn(move || {
                for i in 0..100 {
                    *total.lock().unwrap() += 1;
                    tx.send(w * 1000 + i).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let sum = rx.iter().sum::<u64>();
    for s in senders {
        s.join().unwrap();
    }
    let counted = *total.lock().unwrap();
    sum + counted
}

#[cfg(unix)]
fn in_a_forked_child() -> String {
    // SAFETY: the child only runs reprise's primitives and `_exit`s; every
    // thread it uses is its own (the parent's threads have ended).
    match unsafe { libc::fork() } {
        -1 => format!("cannot fork: {}", std::io::Error::last_os_error()),
        0 => {
            if std::env::args().nth(1).as_deref() == Some("term") {
                // Waits to be ended by the parent's SIGTERM.
                std::thread::sleep(std::time::Duration::from_secs(30));
                // SAFETY: as below.
                unsafe { libc::_exit(7) }
            }
            let code = if work() == 110_100 { 0 } else { 1 };
            if std::env::args().nth(1).as_deref() == Some("return") {
                // Back into `main` as the parent does: the child's
                // `reprise::main` ends too.
                return format!("I am the child, exit status {code}");
            }
            if std::env::args().nth(1).as_deref() == Some("exit") {
                // Through the process's exit handlers, as most programs end.
                std::process::exit(code)
            }
            // SAFETY: ends the child without running the exit handlers the
            // parent's process registered.
            unsafe { libc::_exit(code) }
        }
        pid => {
            if std::env::args().nth(1).as_deref() == Some("term") {
                std::thread::sleep(std::time::Duration::from_millis(200));
                // SAFETY: signals the child just forked.
                unsafe { libc::kill(pid, libc::SIGTERM) };
            }
            let mut status = 0;
            // SAFETY: waits for the child just forked.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            if libc::WIFSIGNALED(status) {
                format!("child killed by signal {}", libc::WTERMSIG(status))
            } else {
                format!("child exit status {}", libc::WEXITSTATUS(status))
            }
        }
    }
}

#[cfg(not(unix))]
fn in_a_forked_child() -> String {
    "no fork here".to_string()
}

fn main() {
    reprise::main("fork_child", env!("CARGO_PKG_VERSION"), || {
        let sum = work();
        let child = in_a_forked_child();
        reprise::annotate("child", child.clone());
        println!("parent sum {sum}; {child}");
    });
}
