//! `reprise inspect`: describe a trace without running anything.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use reprise_recorder::args;
use reprise_recorder::trace::model::Record;
use reprise_recorder::trace::show::{block, text};
use reprise_recorder::trace::stream::{TraceEnd, TraceStream};

use crate::cli::payments;
use crate::cli::{out, Outcome};
use crate::exit;

/// Arguments of `reprise inspect`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The trace to describe.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

/// What `inspect` counts, kept apart from printing so tests can check it.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    pub(crate) threads: Vec<(u32, String, u64)>,
    pub(crate) objects: BTreeMap<&'static str, u64>,
    pub(crate) ops: BTreeMap<&'static str, u64>,
    pub(crate) events: u64,
    pub(crate) first_ms: Option<u64>,
    pub(crate) last_ms: Option<u64>,
    pub(crate) captured: crate::cli::captured::Captured,
}

/// Counts what `inspect` shows while the trace streams by, one chunk at a
/// time, and returns it with what the trace held beside its records.
pub(crate) fn summarize<R: Read>(mut stream: TraceStream<R>) -> std::io::Result<(Summary, TraceEnd)> {
    let mut summary = Summary::default();
    // Per thread: its name (the last one given) and its event count.
    let mut threads: BTreeMap<u32, (String, u64)> = BTreeMap::new();
    while let Some(chunk) = stream.next_chunk()? {
        let (name, events) = threads.entry(chunk.thread).or_default();
        for record in chunk.records {
            summary.captured.take(chunk.thread, record);
            match record {
                Record::Event(e) => {
                    *events += 1;
                    *summary.ops.entry(e.op.name()).or_default() += 1;
                }
                Record::Thread { name: n, .. } => name.clone_from(n),
                Record::Object { kind, .. } => *summary.objects.entry(kind.name()).or_default() += 1,
                Record::Clock(ms) => {
                    summary.first_ms = Some(summary.first_ms.map_or(*ms, |f| f.min(*ms)));
                    summary.last_ms = Some(summary.last_ms.map_or(*ms, |l| l.max(*ms)));
                }
                Record::Blob(_) | Record::Site { .. } => {}
            }
        }
    }
    for (index, (name, events)) in threads {
        summary.events += events;
        summary.threads.push((index, name, events));
    }
    Ok((summary, stream.finish()?))
}

pub(crate) fn run(args: Args) -> Outcome {
    let stream = payments::stream(&args.file)?;
    let (summary, trace) = summarize(stream).map_err(|e| payments::stream_failed(&args.file, e))?;
    let h = &trace.header;
    if let Some(damage) = &trace.damage {
        eprintln!("reprise: warning: the trace is not whole: {}", block(&damage.to_string()));
    }
    out!("trace: {}", args.file.display());
    out!("format: {}", trace.version);
    out!(
        "program: {} {} (recorded by reprise {})",
        text(&h.program),
        text(&h.program_version),
        text(&h.recorder_version)
    );
    out!("mode: {:?}", h.mode);
    // A flight-recorder dump: where each thread's records start in the run.
    let window = reprise_recorder::trace::window::Window::of(h);
    match &window {
        Ok(Some(w)) if w.covers_run() => out!("window: the whole run, from every thread's first event"),
        Ok(Some(w)) => {
            let late: Vec<String> =
                w.late_starts().map(|(t, e)| format!("thread {t} from event {e}")).collect();
            out!("window: the end of the run only: {} (replay refuses it)", late.join(", "));
        }
        Ok(None) => {}
        Err(e) => out!("window: unknown: {e}"),
    }
    let reserved = |k: &str| k == args::ARGS_HASH_PARAMETER || k == args::ARGS_PARAMETER;
    let params: Vec<String> = h
        .parameters
        .iter()
        .filter(|(k, _)| !reserved(k) && k != reprise_recorder::trace::window::WINDOW_PARAMETER)
        .map(|(k, v)| format!("{}={}", text(k), text(v)))
        .collect();
    if !params.is_empty() {
        out!("parameters: {}", params.join(" "));
    }
    if let Some(hash) = h.parameter(args::ARGS_HASH_PARAMETER) {
        match h.parameter(args::ARGS_PARAMETER) {
            Some(clear) => out!("arguments: {} ({})", args::shown(clear), args::shown(hash)),
            None => out!("arguments: {} (not recorded in clear)", args::shown(hash)),
        }
    }
    out!("started: {} ms after the Unix epoch", h.start_unix_ms);
    if let (Some(first), Some(last)) = (summary.first_ms, summary.last_ms) {
        out!("duration: about {} ms (chunk clocks)", last.saturating_sub(first.min(h.start_unix_ms)));
    }
    out!("threads: {}", summary.threads.len());
    for (index, name, events) in &summary.threads {
        let name = if name.is_empty() { "-".to_string() } else { text(name) };
        match window
            .as_ref()
            .ok()
            .and_then(Option::as_ref)
            .map(|w| w.first_event(*index))
            .filter(|&first| first > 0)
        {
            Some(first) => {
                out!("  {index:>4}  {name:<16} {events} events (its events {first}..{})", first + events)
            }
            None => out!("  {index:>4}  {name:<16} {events} events"),
        }
    }
    let objects: Vec<String> = summary.objects.iter().map(|(k, n)| format!("{n} {k}")).collect();
    out!("objects: {}", if objects.is_empty() { "none".to_string() } else { objects.join(", ") });
    out!("events: {} in {} chunks", summary.events, trace.chunks);
    let mut ops: Vec<(&&str, &u64)> = summary.ops.iter().collect();
    ops.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (op, n) in ops {
        out!("  {op:<16} {n}");
    }
    if summary.captured.total > 0 {
        out!(
            "captured values: {} (each thread's event index, the site that read it, postcard bytes in hex)",
            summary.captured.total
        );
        let first_event =
            |t: u32| window.as_ref().ok().and_then(Option::as_ref).map_or(0, |w| w.first_event(t));
        for line in summary.captured.lines(first_event) {
            out!("{line}");
        }
    }
    let per_event = if summary.events == 0 { 0.0 } else { trace.bytes as f64 / summary.events as f64 };
    out!("size: {} bytes, {per_event:.2} bytes/event", trace.bytes);
    match &trace.footer {
        Some(footer) => {
            out!("verdict: {}", footer.verdict);
            for (k, v) in &footer.annotations {
                // Some notes already say what they are (`invariants: ok`).
                if v.starts_with(&format!("{k}: ")) {
                    out!("  {}", text(v));
                } else {
                    out!("  {}: {}", text(k), text(v));
                }
            }
        }
        None => out!(
            "verdict: none (the recording did not finish: a crash or a kill; {} intact bytes)",
            trace.intact_bytes
        ),
    }
    Ok(exit::SUCCESS)
}
