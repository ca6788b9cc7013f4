//! The payments pipeline under record and replay, as the CLI runs it: its
//! parameters in the trace header, its digest and verdict lines (shared by
//! every built-in pipeline).

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use anyhow::anyhow;
use reprise_recorder::trace::format::{Footer, Header, Verdict};
use reprise_recorder::trace::read::{ReadFileError, TraceFile};
use reprise_recorder::trace::show::text;
use reprise_recorder::trace::stream::TraceStream;
use reprise_replayer::compare::{compare, Mismatch};
use reprise_replayer::IndexedTrace;

use crate::cli::pipeline::Pipeline;
use crate::cli::Failure;
use crate::exit;
use crate::pipelines::payments::{Bug, PaymentsConfig, PaymentsOutcome};

/// The program name recorded in the header of built-in pipeline traces.
pub(crate) const PROGRAM: &str = "reprise-payments";

/// The two last lines of record and replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Lines {
    pub(crate) digest: String,
    pub(crate) invariants: String,
}

impl Lines {
    pub(crate) fn of_outcome(outcome: &PaymentsOutcome) -> Lines {
        Lines { digest: outcome.digest.clone(), invariants: outcome.invariants_line() }
    }

    /// A deadlock has no final state: its digest covers who was stuck where.
    pub(crate) fn of_deadlock(verdict: &Verdict) -> Lines {
        Lines {
            digest: fnv_hex(verdict.to_string().as_bytes()),
            invariants: "invariants: violated: deadlock".into(),
        }
    }

    /// The lines of a run that ended with `verdict` and returned `result`:
    /// a deadlock's and a livelock's cover where it stuck, a panic's (no
    /// result) which thread panicked and why; `None` when there are none.
    pub(crate) fn of_run(result: Option<Lines>, verdict: &Verdict) -> Option<Lines> {
        match (result, verdict) {
            (_, Verdict::Deadlock { .. }) => Some(Lines::of_deadlock(verdict)),
            (_, Verdict::Livelock { .. }) => Some(Lines::of_livelock(verdict)),
            (Some(lines), _) => Some(lines),
            (None, Verdict::Panicked { .. }) => Some(Lines::of_panic(verdict)),
            (None, _) => None,
        }
    }

    /// A panic ends the run before its final state: its digest covers which
    /// thread panicked and why.
    pub(crate) fn of_panic(verdict: &Verdict) -> Lines {
        Lines {
            digest: fnv_hex(verdict.to_string().as_bytes()),
            invariants: "invariants: violated: panic".into(),
        }
    }

    /// A livelock has no final state either: its digest covers where it spun.
    pub(crate) fn of_livelock(verdict: &Verdict) -> Lines {
        Lines {
            digest: fnv_hex(verdict.to_string().as_bytes()),
            invariants: "invariants: violated: livelock".into(),
        }
    }

    pub(crate) fn print(&self) -> Result<(), Failure> {
        crate::cli::out!("digest: {}", self.digest);
        crate::cli::out!("{}", self.invariants);
        Ok(())
    }
}

fn fnv_hex(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The header parameters that tell a replay which pipeline to run.
pub(crate) fn record_config_parameters(config: &PaymentsConfig) -> Vec<(String, String)> {
    [
        ("pipeline", "payments".to_string()),
        ("bug", config.bug.to_string()),
        ("payments", config.payments.to_string()),
        ("workers", config.workers.to_string()),
        ("seed", config.seed.to_string()),
    ]
    .into_iter()
    // Only when on: traces without it read as before.
    .chain(config.tracked_balances.then(|| ("tracked", "1".to_string())))
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The pipeline config a trace header describes, validated before use.
pub(crate) fn config_from_header(header: &Header) -> Result<PaymentsConfig, Failure> {
    let invalid = |what: String| Failure::new(exit::DAMAGED, anyhow!("the trace header {what}"));
    match header.parameter("pipeline") {
        Some("payments") => {}
        Some(other) => {
            return Err(invalid(format!(
                "names pipeline `{}`, which this reprise does not have",
                text(other)
            )))
        }
        None => {
            return Err(Failure::new(
                exit::USAGE,
                anyhow!(
                    "the trace was recorded from `{}`, not a built-in pipeline: run it with \
                     `reprise replay FILE -- <your program> [ARGS...]`",
                    text(&header.program)
                ),
            ))
        }
    }
    let get = |key: &str| header.parameter(key).ok_or_else(|| invalid(format!("has no `{key}` parameter")));
    let bug: Bug = get("bug")?
        .parse::<Bug>()
        .map_err(|e| invalid(format!("has a bad `bug`: {}", text(&e.to_string()))))?;
    let number = |key: &str| -> Result<u64, Failure> {
        get(key)?.parse::<u64>().map_err(|e| invalid(format!("has a bad `{key}`: {e}")))
    };
    let config = PaymentsConfig {
        bug,
        payments: number("payments")?,
        workers: usize::try_from(number("workers")?)
            .map_err(|e| invalid(format!("has a bad `workers`: {e}")))?,
        seed: number("seed")?,
        tracked_balances: header.parameter("tracked") == Some("1"),
        ..PaymentsConfig::default()
    };
    config.validate().map_err(|e| invalid(format!("has parameters out of range: {e}")))?;
    Ok(config)
}

/// What a recording of the pipeline gave.
#[derive(Debug)]
pub(crate) struct Recorded {
    pub(crate) lines: Lines,
    pub(crate) stats: reprise_recorder::WriterStats,
    pub(crate) verdict: Verdict,
}

/// Records one run of the payments pipeline into `out`.
pub(crate) fn record(config: &PaymentsConfig, out: &Path) -> Result<Recorded, Failure> {
    Pipeline::Payments(*config).record(out)
}

/// What the replay reproduced that differs from the recording's footer: the
/// verdict and the two annotations the pipeline makes (digest, invariants).
pub(crate) fn mismatches<R>(
    footer: Option<&Footer>,
    report: &reprise_replayer::ReplayReport<R>,
    lines: &Lines,
) -> Vec<Mismatch> {
    let (Some(footer), Some(reproduced)) = (footer, &report.reproduced) else {
        return Vec::new();
    };
    let notes =
        [("digest".to_string(), lines.digest.clone()), ("invariants".to_string(), lines.invariants.clone())];
    compare(footer, reproduced, &notes)
}

/// Indexes the trace at `path` for a replay that decodes it as it goes.
pub(crate) fn index(path: &Path) -> Result<IndexedTrace, Failure> {
    IndexedTrace::open(path).map_err(|e| {
        let code = exit::of_read_error(&e);
        Failure::new(code, e)
    })
}

pub(crate) fn read(path: &Path) -> Result<TraceFile, Failure> {
    reprise_recorder::trace::read::read_trace_file(path).map_err(|e| {
        let code = exit::of_read_error(&e);
        Failure::new(code, e)
    })
}

/// Opens the trace at `path` to be read one chunk at a time, so checking or
/// describing it takes the memory of a chunk, not of the trace.
pub(crate) fn stream(path: &Path) -> Result<TraceStream<BufReader<File>>, Failure> {
    TraceStream::open(path).map_err(|e| {
        let code = exit::of_read_error(&e);
        Failure::new(code, e)
    })
}

/// A read failure partway through a streamed trace, reported as one at the start would be.
pub(crate) fn stream_failed(path: &Path, source: std::io::Error) -> Failure {
    let e = ReadFileError::Io { path: path.to_owned(), source };
    Failure::new(exit::of_read_error(&e), e)
}
