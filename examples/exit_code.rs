//! A program whose body returns what `fn main` may return, chosen by its
//! arguments, to show `reprise::main` exiting with that code in every mode:
//!
//! ```text
//! exit_code unit          # ()                                   -> 0
//! exit_code code N        # ExitCode::from(N)                    -> N
//! exit_code ok            # Ok::<(), String>(())                 -> 0
//! exit_code err           # Err("no input".to_string())          -> 1, `Error: "no input"`
//! exit_code ok-code N     # Ok::<ExitCode, String>(ExitCode::from(N)) -> N
//! exit_code boxed-err     # Err::<(), Box<dyn Error>>(…)          -> 1
//! exit_code panic         # panics                               -> 101
//! exit_code noted         # ()                                   -> 0, and notes
//!                         # `digest` unless EXIT_CODE_UNNOTED is set
//! ```
//!
//! Each body does the same concurrent work first (a worker sends a sum over
//! a channel), so two runs that differ only in their exit code record the
//! same events.

use std::error::Error;
use std::process::ExitCode;

use reprise::{channel, thread};

fn work() -> u64 {
    let (tx, rx) = channel::bounded::<u64>(1);
    let worker = thread::spawn(move || tx.send((1..=10).sum()).unwrap());
    let sum = rx.recv().unwrap();
    worker.join().unwrap();
    println!("sum {sum}");
    sum
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let shape = args.first().cloned().unwrap_or_default();
    let n: u8 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(0);
    let (name, version) = ("exit_code", env!("CARGO_PKG_VERSION"));
    match shape.as_str() {
        "unit" => reprise::main(name, version, || {
            work();
        }),
        "code" => reprise::main(name, version, move || {
            work();
            ExitCode::from(n)
        }),
        "ok" => reprise::main(name, version, || {
            work();
            Ok::<(), String>(())
        }),
        "err" => reprise::main(name, version, || {
            work();
            Err::<(), String>("no input".to_string())
        }),
        "ok-code" => reprise::main(name, version, move || {
            work();
            Ok::<ExitCode, String>(ExitCode::from(n))
        }),
        "boxed-err" => reprise::main(name, version, || -> Result<(), Box<dyn Error>> {
            work();
            Err("boxed".into())
        }),
        // The note hangs on something reprise does not see (the
        // environment): a replay without it takes another path.
        "noted" => reprise::main(name, version, || {
            let sum = work();
            if std::env::var_os("EXIT_CODE_UNNOTED").is_none() {
                reprise::annotate("digest", sum.to_string());
            }
        }),
        "panic" => reprise::main::<_, ()>(name, version, || {
            work();
            panic!("on purpose");
        }),
        _ => {
            eprintln!("usage: exit_code unit|code N|ok|err|ok-code N|boxed-err|noted|panic");
            ExitCode::from(64)
        }
    }
}
