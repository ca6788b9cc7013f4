//! `reprise debug`: step through a trace offline. Commands come from the
//! terminal with a prompt, or from standard input line by line when it is
//! not a terminal (a script: `reprise debug t.trace < session.txt`).

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use reprise_recorder::trace::show::block;
use reprise_replayer::views::debug::Session;
use reprise_replayer::views::number;

use crate::cli::{out, payments, write_stdout, Failure, Outcome};
use crate::exit;

/// Arguments of `reprise debug`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The trace to step through.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

pub(crate) fn run(args: Args) -> Outcome {
    let trace = payments::read(&args.file)?;
    if let Some(damage) = &trace.damage {
        eprintln!("reprise: warning: the trace is not whole: {}", block(&damage.to_string()));
    }
    let numbering = number(&trace);
    let mut session = Session::new(&numbering);
    let interactive = std::io::stdin().is_terminal();
    out!(
        "{}: {} events, {} threads; `help` lists the commands",
        args.file.display(),
        numbering.len(),
        numbering.threads().count()
    );
    let mut failed = 0u64;
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        if interactive {
            write_stdout("(reprise) ")?;
        }
        let line = match lines.next() {
            None => break,
            Some(Ok(line)) => line,
            Some(Err(e)) => {
                return Err(Failure::new(exit::IO_ERROR, anyhow::anyhow!("cannot read the commands: {e}")));
            }
        };
        if !interactive && !line.trim().is_empty() {
            out!("(reprise) {}", line.trim());
        }
        let reply = session.execute_line(&line);
        if reply.quit {
            break;
        }
        if reply.lines.first().is_some_and(|l| l.starts_with("error: ")) {
            failed += 1;
        }
        for l in reply.lines {
            out!("{l}");
        }
    }
    // A script with a wrong command should not pass for a good one.
    if failed > 0 && !interactive {
        return Err(Failure::new(exit::USAGE, anyhow::anyhow!("{failed} commands of the script failed")));
    }
    Ok(exit::SUCCESS)
}
