//! What a long offline command is doing now: a spinner naming the stage on a
//! terminal, one line per stage with `REPRISE_PROGRESS` set (CI logs),
//! nothing otherwise. `export`, `diff`, `timeline` and `races` of a
//! million-payment trace take 20 to 30 seconds; without it they sat silent.

use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use reprise_recorder::trace::read::TraceFile;
use reprise_replayer::views::{number, Numbering};

use crate::cli::{payments, Failure};

/// The stages of one command.
pub(crate) struct Stages {
    spinner: Option<ProgressBar>,
    plain: bool,
    started: Instant,
}

impl Stages {
    /// Shown on a terminal, or as plain lines when `REPRISE_PROGRESS` is set.
    pub(crate) fn new() -> Stages {
        let plain = std::env::var_os("REPRISE_PROGRESS").is_some_and(|v| !v.is_empty());
        let spinner = (!plain && std::io::stderr().is_terminal()).then(|| {
            let spinner = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
                spinner.set_style(style);
            }
            spinner.enable_steady_tick(Duration::from_millis(120));
            spinner
        });
        Stages { spinner, plain, started: Instant::now() }
    }

    /// Reads the trace at `path` whole, as the stage "reading PATH".
    pub(crate) fn read(&self, path: &Path) -> Result<TraceFile, Failure> {
        self.stage(&format!("reading {}", path.display()));
        payments::read(path)
    }

    /// Numbers `trace`'s events, as the stage "numbering N events".
    pub(crate) fn number<'t>(&self, trace: &'t TraceFile) -> Numbering<'t> {
        self.stage(&format!("numbering {} events", count(trace.events)));
        number(trace)
    }

    /// The command is now doing `what` ("numbering 13,900,000 events").
    pub(crate) fn stage(&self, what: &str) {
        if let Some(spinner) = &self.spinner {
            spinner.set_message(what.to_string());
        } else if self.plain {
            eprintln!("reprise: {what} (at {:.1} s)", self.started.elapsed().as_secs_f64());
        }
    }
}

impl Drop for Stages {
    fn drop(&mut self) {
        if let Some(spinner) = &self.spinner {
            spinner.finish_and_clear();
        }
    }
}

/// `n` with a comma every three digits, as the stages say counts.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
