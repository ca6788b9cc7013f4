//! A failing schedule, made readable and reproducible: minimized, run once
//! more to watch every event, written as a trace of its own, and reported:
//! what failed (for a deadlock, who waits for whom, where), how small the
//! schedule is, the interleaving on the failure's objects with its values,
//! and an instruction that replays it when pasted.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::interleaving::{self, Names};
use super::minimize::{self, Found, Minimized, Plan};
use super::run_failure::FailureKind;
use super::trace_out::{self, TraceFacts};
use super::{failure_of, Explored, Explorer};

pub use super::trace_out::set_program_header;

/// A schedule that broke the program.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Failure {
    /// What went wrong.
    pub kind: FailureKind,
    /// The schedule's number in the search, from 1.
    pub schedule: u64,
    /// The strategy that found it.
    pub strategy: String,
    /// Scheduling points in the (minimized) schedule.
    pub steps: u64,
    /// Preemptions in it.
    pub preemptions: usize,
    /// Whether minimization showed every preemption left is needed
    /// (removing any one of them makes the failure go away); `false` when
    /// it was off or its budget ran out first.
    pub one_minimal: bool,
    /// Re-runs minimization spent.
    pub minimize_runs: u64,
    /// The trace it was written to (`None` if writing failed; the report
    /// says why).
    pub trace: Option<PathBuf>,
    /// The report: failure, interleaving table, replay command.
    pub report: String,
    /// The notes the failing run left with `reprise::annotate` (a digest).
    pub annotations: Vec<(String, String)>,
}

impl Failure {
    /// The note the failing run left under `key`.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Why a failure comes without a trace when its schedule, run again to be
/// recorded, did not fail the same way.
const UNREPEATED: &str = "the failing schedule, run again to record it, did not fail the same way: the \
     program is not deterministic given its schedule (something outside reprise's primitives decides: a \
     HashMap's order, the clock, an input not captured, a std lock or atomic shared between runs)";

fn now_unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

pub(crate) fn build<F, R, C>(
    explorer: &Explorer,
    program: &Rc<F>,
    check: &C,
    kind: FailureKind,
    explored: Explored,
    schedule: u64,
    strategy: String,
) -> Failure
where
    F: Fn() -> R + 'static,
    R: 'static,
    C: Fn(&R) -> Option<String>,
{
    let config = explorer.config();
    let found = Found { explored, kind };
    // A livelock's schedule is as long as the step bound: re-running it
    // hundreds of times would take long for little gain.
    let minimizing = config.minimize && !matches!(found.kind, FailureKind::Livelock { .. });
    let (found, minimized) = if minimizing {
        minimize::minimize(program, check, found, config.limits(), schedule - 1, config.minimize_runs)
    } else {
        (found, Minimized { runs: 0, budget: 0, one_minimal: false })
    };
    // Once more, watching every event (the search does not: it costs), with
    // the time it starts for the trace's header.
    let started = now_unix_ms();
    // With the values the failing run captured: the closures are not run
    // again (an input that changes from run to run would change the run).
    let plan = Plan::of_run(&found.explored);
    let (mut watched, result) = minimize::run_plan(program, &plan, config.limits(), schedule - 1, true);
    let again = failure_of(&mut watched.end, result.as_ref(), check);
    let Found { explored, kind } = match again {
        Some(again) if again.same_kind(&found.kind) => Found { explored: watched, kind: again },
        // Not the same run (the program is not deterministic given its
        // schedule): report the one that failed, without values, and with
        // no trace (the search's runs write none).
        _ => found,
    };
    let unrepeated = !explored.run.is_traced();
    let log = &explored.end.log;
    let preemptions = log.iter().filter(|s| s.preempted).count();
    let chunks = explored.run.take_chunks();
    let annotations = explored.run.annotations();
    let names = Names::of(&chunks, &annotations);
    let (program_name, _) = trace_out::program_identity();
    let path = trace_out::unique_path(config, &program_name, schedule);
    let facts = TraceFacts {
        kind: &kind,
        strategy: &strategy,
        schedule,
        start_unix_ms: started,
        annotations: annotations.clone(),
    };
    let written = if unrepeated {
        Err(UNREPEATED.to_string())
    } else {
        trace_out::write_trace(&path, &chunks, config, facts).map_err(|e| e.to_string())
    };

    let mut report = String::new();
    let _ = writeln!(
        report,
        "reprise explore: schedule {schedule} ({strategy}) failed: {}",
        headline(&kind, &names)
    );
    report.push_str(&waits(&kind, &names));
    let _ = writeln!(
        report,
        "{preemptions} preemption{}, {} steps; {}",
        if preemptions == 1 { "" } else { "s" },
        explored.end.steps,
        minimization(config.minimize, &minimized, preemptions)
    );
    report.push('\n');
    report.push_str(&interleaving::table(&explored.end.made, log, &names, &kind, config.report_all));
    report.push('\n');
    match &written {
        Ok(()) => {
            let shown = path.display().to_string();
            let _ = writeln!(report, "trace: {shown}");
            let _ = writeln!(report, "replay it: {}", replay_instruction(config, &shown));
        }
        Err(_) if unrepeated => {
            let _ = writeln!(report, "no trace: {UNREPEATED}");
        }
        Err(e) => {
            let _ = writeln!(report, "the trace could not be written to {}: {e}", path.display());
        }
    }
    Failure {
        kind,
        schedule,
        strategy,
        steps: explored.end.steps,
        preemptions,
        one_minimal: minimized.one_minimal,
        minimize_runs: minimized.runs,
        trace: written.ok().map(|()| path),
        report,
        annotations,
    }
}

/// The failure in one line, threads by name.
fn headline(kind: &FailureKind, names: &Names) -> String {
    match kind {
        FailureKind::Panic { thread, message } => format!("{} panicked: {message}", names.thread(*thread)),
        FailureKind::Livelock { thread, call, steps } => format!(
            "livelock: no end after {steps} steps; {} spins at {}",
            names.thread(*thread),
            call.map(|c| c.location.to_string()).unwrap_or_else(|| "?".into())
        ),
        FailureKind::Deadlock { partial: true, .. } => "deadlock: a cycle of lock waits".into(),
        FailureKind::Deadlock { .. } => "deadlock: every thread left is blocked".into(),
        FailureKind::Check { message } => message.clone(),
    }
}

/// For a deadlock, who waits for whom and where, one line each.
fn waits(kind: &FailureKind, names: &Names) -> String {
    let FailureKind::Deadlock { stuck, .. } = kind else { return String::new() };
    let mut out = String::new();
    for s in stuck {
        let what = s.call.map_or_else(
            || "?".to_string(),
            |c| {
                let op = c.op.map_or("yield", |o| o.name());
                let object = c.object.map(|o| format!(" {}", names.object(o))).unwrap_or_default();
                format!("{op}{object} at {}", c.location)
            },
        );
        let holder = match s.waits_for {
            Some(t) => format!(", held by {}", names.thread(t)),
            None => String::new(),
        };
        let _ = writeln!(out, "  {} waits in {what}{holder}", names.thread(s.thread));
    }
    out
}

fn minimization(on: bool, m: &Minimized, preemptions: usize) -> String {
    if !on {
        return "not minimized".into();
    }
    if m.one_minimal {
        format!(
            "minimized in {} runs, 1-minimal: without any one of its preemptions it does not fail so",
            m.runs
        )
    } else if m.budget == 0 {
        "not minimized (a livelock's schedule is as long as the step bound)".into()
    } else {
        format!(
            "minimization stopped at its budget of {} runs: some of the {preemptions} preemptions may not be needed (REPRISE_MINIMIZE_RUNS)",
            m.budget
        )
    }
}

/// The command that replays the trace at `trace`, as it is pasted.
fn replay_instruction(config: &super::Config, trace: &str) -> String {
    if let Some(command) = &config.replay_command {
        return command.replace("{trace}", trace);
    }
    match config.test.as_ref().filter(|_| config.replays_in_place) {
        Some(test) => {
            format!("{}={} cargo test {test} -- --exact", super::replay_here::REPLAY_ENV, shell_word(trace))
        }
        None => format!(
            "reprise::replay(&reprise::read_trace_file(std::path::Path::new({trace:?})).unwrap(), <the same closure>)"
        ),
    }
}

/// `word` quoted for a POSIX shell when it needs it.
fn shell_word(word: &str) -> String {
    if !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._-+:,=@".contains(&b)) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn a_path_with_spaces_is_quoted_for_the_shell() {
        assert_eq!(shell_word("/tmp/a.trace"), "/tmp/a.trace");
        assert_eq!(shell_word("/tmp/my dir/it's.trace"), r"'/tmp/my dir/it'\''s.trace'");
    }
}
