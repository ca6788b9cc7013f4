//! A failing schedule, made readable and reproducible: minimized, written as
//! a trace, and reported as a table of the interleaving.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::BufWriter;
use std::path::PathBuf;
use std::rc::Rc;

use reprise_recorder::trace::codec::decode_chunk;
use reprise_recorder::trace::format::{BlockedThread, Footer, Header, TraceMode, Verdict};
use reprise_recorder::trace::model::{Record, ThreadIndex};
use reprise_recorder::trace::write::TraceWriter;

use super::minimize::{candidates, Guided};
use super::scheduler::{FailureKind, Step};
use super::{failure_of, run_once, Explored, Explorer};

/// A schedule that broke the program.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Failure {
    /// What went wrong.
    pub kind: FailureKind,
    /// The schedule's number in the search.
    pub schedule: u64,
    /// The strategy that found it.
    pub strategy: String,
    /// Scheduling points in the (minimized) schedule.
    pub steps: u64,
    /// Preemptions in it.
    pub preemptions: usize,
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

/// How many guided re-runs minimization may spend.
const MINIMIZE_RUNS: usize = 200;

/// Schedules the bounded search of minimization tries per bound.
const DFS_RUNS_PER_BOUND: u64 = 40;

fn preemptions(e: &Explored) -> usize {
    e.end.log.iter().filter(|s| s.preempted).count()
}

/// The failure of a minimization re-run, if it is the same bug as `kind`
/// with fewer preemptions (or as many, in fewer steps) than `best`.
fn smaller_failure<R>(
    again: &mut Explored,
    result: Option<&R>,
    check: &impl Fn(&R) -> Option<String>,
    kind: &FailureKind,
    best: &Explored,
) -> Option<FailureKind> {
    let failed = failure_of(&mut again.end, result, check)?;
    let smaller = (preemptions(again), again.end.steps) < (preemptions(best), best.end.steps);
    (failed.same_kind(kind) && smaller).then_some(failed)
}

pub(crate) fn build<F, R, C>(
    explorer: &Explorer,
    program: &Rc<F>,
    check: &C,
    kind: FailureKind,
    mut explored: Explored,
    schedule: u64,
    strategy: String,
) -> Failure
where
    F: Fn() -> R + 'static,
    R: 'static,
    C: Fn(&R) -> Option<String>,
{
    let config = explorer.config();
    let mut kind = kind;
    // A livelock's schedule is as long as the step bound: re-running it
    // hundreds of times would take long for little gain.
    if config.minimize && !matches!(kind, FailureKind::Livelock { .. }) {
        let mut tries = 0;
        // First, a bounded search for the same failure with fewer preemptions
        // (small programs need one or two); then shrink what is left one
        // preemption at a time.
        let found = preemptions(&explored);
        'bounds: for bound in 0..found.min(3) as u32 {
            let mut dfs: Box<dyn super::Strategy> = Box::new(super::strategy::Dfs::new(bound));
            for index in 0..DFS_RUNS_PER_BOUND {
                if tries >= MINIMIZE_RUNS || !dfs.begin(index) {
                    break;
                }
                tries += 1;
                let (mut again, result) = run_once(program, dfs, config.max_steps, Vec::new(), schedule);
                dfs = again.end.strategy.take().expect("a run hands its strategy back");
                dfs.end(again.end.steps);
                if let Some(new_kind) = smaller_failure(&mut again, result.as_ref(), check, &kind, &explored)
                {
                    kind = new_kind;
                    explored = again;
                    break 'bounds;
                }
            }
        }
        'shrink: loop {
            let preempted: Vec<bool> = explored.end.log.iter().map(|s| s.preempted).collect();
            let current = explored.end.choices.clone();
            for choices in candidates(&current, &preempted) {
                if tries >= MINIMIZE_RUNS {
                    break 'shrink;
                }
                tries += 1;
                let guided = Box::new(Guided::new(choices));
                let (mut again, result) = run_once(program, guided, config.max_steps, Vec::new(), schedule);
                if let Some(new_kind) = smaller_failure(&mut again, result.as_ref(), check, &kind, &explored)
                {
                    kind = new_kind;
                    explored = again;
                    continue 'shrink;
                }
            }
            break;
        }
    }
    let log = &explored.end.log;
    let preemptions = log.iter().filter(|s| s.preempted).count();
    let chunks = explored.run.take_chunks();
    let names = thread_names(&chunks);
    let dir = config.trace_dir.clone().unwrap_or_else(std::env::temp_dir);
    let path = dir.join(format!("{}.trace", config.name));
    let annotations = explored.run.annotations();
    let written = write_trace(&path, &kind, &chunks, annotations.clone(), config, &strategy, schedule);
    let mut report = String::new();
    let _ = writeln!(report, "reprise explore: schedule {schedule} ({strategy}) failed: {}", kind.summary());
    let _ = writeln!(
        report,
        "{} steps, {} preemptions{}",
        explored.end.steps,
        preemptions,
        if config.minimize { " (minimized)" } else { "" }
    );
    report.push('\n');
    report.push_str(&interleaving_table(log, &names));
    report.push('\n');
    match &written {
        Ok(()) => {
            let shown = path.display().to_string();
            let _ = writeln!(report, "trace: {shown}");
            match &config.replay_command {
                Some(command) => {
                    let _ = writeln!(report, "replay it: {}", command.replace("{trace}", &shown));
                }
                None => {
                    let _ = writeln!(
                        report,
                        "replay it: reprise::replay(&reprise::read_trace_file(\"{shown}\").unwrap(), <the same closure>)"
                    );
                }
            }
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
        trace: written.ok().map(|()| path),
        report,
        annotations,
    }
}

/// Thread names from the recorded table records.
fn thread_names(chunks: &[reprise_recorder::hook::coop::RecordedChunk]) -> BTreeMap<ThreadIndex, String> {
    let mut names = BTreeMap::new();
    for chunk in chunks {
        if let Ok(records) = decode_chunk(&chunk.payload) {
            for r in records {
                if let Record::Thread { index, name, .. } = r {
                    names.insert(index, if name.is_empty() { format!("thread {index}") } else { name });
                }
            }
        }
    }
    names
}

fn write_trace(
    path: &std::path::Path,
    kind: &FailureKind,
    chunks: &[reprise_recorder::hook::coop::RecordedChunk],
    annotations: Vec<(String, String)>,
    config: &super::Config,
    strategy: &str,
    schedule: u64,
) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let parameters = vec![
        ("explore-strategy".to_string(), strategy.to_string()),
        ("explore-seed".to_string(), config.seed.to_string()),
        ("explore-schedule".to_string(), schedule.to_string()),
        ("explore-failure".to_string(), kind.summary()),
    ];
    let mut header = Header {
        program: std::env::current_exe()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default(),
        program_version: String::new(),
        recorder_version: env!("CARGO_PKG_VERSION").to_string(),
        mode: TraceMode::Explore,
        parameters,
        start_unix_ms: 0,
    };
    if let Some((program, version, params)) = PROGRAM_HEADER.with(|h| h.borrow().clone()) {
        header.program = program;
        header.program_version = version;
        header.parameters.extend(params);
    }
    let mut writer =
        TraceWriter::create(BufWriter::new(reprise_recorder::trace::file::create(path)?), &header)?;
    let mut events = 0u64;
    for chunk in chunks {
        writer.write_chunk(chunk.thread, chunk.seq, &chunk.payload)?;
        events += u64::from(chunk.events);
    }
    let verdict = match kind {
        FailureKind::Panic { thread, message } => {
            Verdict::Panicked { thread: *thread, message: message.clone() }
        }
        FailureKind::Deadlock { stuck, .. } => Verdict::Deadlock {
            blocked: stuck
                .iter()
                .map(|s| BlockedThread {
                    thread: s.thread,
                    op: s.call.and_then(|c| c.op).unwrap_or(reprise_recorder::trace::model::Op::Lock),
                    object: s.call.and_then(|c| c.object).unwrap_or(0),
                    file: s.call.map(|c| c.location.file().to_string()).unwrap_or_default(),
                    line: s.call.map_or(0, |c| c.location.line()),
                    column: s.call.map_or(0, |c| c.location.column()),
                    waits_for: s.waits_for,
                })
                .collect(),
        },
        FailureKind::Livelock { thread, call, steps } => Verdict::Livelock {
            thread: *thread,
            steps: *steps,
            file: call.map(|c| c.location.file().to_string()).unwrap_or_default(),
            line: call.map_or(0, |c| c.location.line()),
            column: call.map_or(0, |c| c.location.column()),
        },
        FailureKind::Check { .. } => Verdict::Completed,
    };
    let mut notes = vec![("failure".to_string(), kind.summary())];
    notes.extend(annotations);
    let footer = Footer { verdict, annotations: notes, events };
    let mut out = writer.finish(&footer)?;
    std::io::Write::flush(&mut out)?;
    Ok(())
}

/// A program's name, version and parameters, for a trace header.
type ProgramHeader = (String, String, Vec<(String, String)>);

thread_local! {
    /// The program name, version and parameters the CLI wants in explored
    /// traces' headers (so `reprise replay` knows which pipeline to run).
    static PROGRAM_HEADER: std::cell::RefCell<Option<ProgramHeader>> = const { std::cell::RefCell::new(None) };
}

/// Sets the program name, version and parameters written into the headers of
/// traces this thread's explorations save.
pub fn set_program_header(program: &str, version: &str, parameters: Vec<(String, String)>) {
    PROGRAM_HEADER.with(|h| *h.borrow_mut() = Some((program.to_string(), version.to_string(), parameters)));
}

/// The header [`set_program_header`] set on this thread.
pub(crate) fn program_header() -> Option<ProgramHeader> {
    PROGRAM_HEADER.with(|h| h.borrow().clone())
}

/// Sets on this thread the header [`program_header`] read on another: the
/// exploration runs on a thread of its own.
pub(crate) fn restore_program_header(header: Option<ProgramHeader>) {
    PROGRAM_HEADER.with(|h| *h.borrow_mut() = header);
}

/// The interleaving as a table: one column per thread, one row each time the
/// running thread changes (and for the last step), `*` marking preemptions.
fn interleaving_table(log: &[Step], names: &BTreeMap<ThreadIndex, String>) -> String {
    let threads: Vec<ThreadIndex> = {
        let mut t: Vec<ThreadIndex> = log.iter().map(|s| s.thread).collect();
        t.sort_unstable();
        t.dedup();
        t
    };
    let rows: Vec<&Step> = log
        .iter()
        .enumerate()
        .filter(|(i, s)| *i == 0 || log[i - 1].thread != s.thread || *i + 1 == log.len())
        .map(|(_, s)| s)
        .collect();
    const SHOWN: usize = 40;
    let skipped = rows.len().saturating_sub(SHOWN);
    let cell = |s: &Step| {
        let what = match s.call {
            None => "start/yield".to_string(),
            Some(c) => {
                let op = c.op.map_or("yield", |o| o.name());
                let object = c.object.map(|o| format!(" #{o}")).unwrap_or_default();
                let file = c.location.file().rsplit('/').next().unwrap_or_default();
                format!("{op}{object} {file}:{}", c.location.line())
            }
        };
        if s.preempted {
            format!("* {what}")
        } else {
            what
        }
    };
    let width = rows.iter().skip(skipped).map(|s| cell(s).len()).max().unwrap_or(10).max(12);
    let mut out = String::new();
    let _ = write!(out, "{:>5} ", "step");
    for t in &threads {
        let name = names.get(t).cloned().unwrap_or_else(|| format!("thread {t}"));
        let _ = write!(out, "| {name:<width$} ");
    }
    out.push('\n');
    if skipped > 0 {
        let _ = writeln!(out, "  ... {skipped} earlier rows");
    }
    let numbered: Vec<(usize, &Step)> = log
        .iter()
        .enumerate()
        .filter(|(i, s)| *i == 0 || log[i - 1].thread != s.thread || *i + 1 == log.len())
        .collect();
    for (i, s) in numbered.into_iter().skip(skipped) {
        let _ = write!(out, "{i:>5} ");
        for t in &threads {
            let text = if *t == s.thread { cell(s) } else { String::new() };
            let _ = write!(out, "| {text:<width$} ");
        }
        out.push('\n');
    }
    out.push_str("(* = preemption: the thread ran while the one before could have gone on)\n");
    out
}
