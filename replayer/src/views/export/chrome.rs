//! Chrome Trace Event JSON: one process, a named track per thread, one
//! slice per event at its global number (the trace has no per-event clock,
//! so time is logical: event N spans microsecond N), and flow arrows for
//! messages and lock hand-overs.

use std::io::{self, Write};

use serde_json::{json, Value};

use super::event_json;
use crate::views::links::{Link, LinkKind};
use crate::views::number::Numbering;
use crate::views::tables::Tables;

/// How long a slice lasts, in microseconds: less than the 1 between two
/// numbers, so consecutive events of a thread never nest.
const SLICE: f64 = 0.8;
/// Where in its slice an arrow starts or ends.
const ANCHOR: f64 = 0.4;
const PID: u32 = 1;

pub(super) fn write(
    numbering: &Numbering<'_>,
    tables: &Tables,
    links: &[Link],
    out: &mut dyn Write,
) -> io::Result<()> {
    let trace = numbering.trace();
    let mut out = io::BufWriter::new(out);
    let mut first = true;
    let mut emit = |out: &mut io::BufWriter<&mut dyn Write>, value: &Value| -> io::Result<()> {
        out.write_all(if first { b"\n" } else { b",\n" })?;
        first = false;
        serde_json::to_writer(&mut *out, value).map_err(io::Error::from)
    };
    let (verdict, annotations) = match &trace.footer {
        Some(footer) => (footer.verdict.to_string(), footer.annotations.clone()),
        None => ("none (the recording did not finish)".to_string(), Vec::new()),
    };
    let other = json!({
        "program": trace.header.program,
        "program_version": trace.header.program_version,
        "verdict": verdict,
        "annotations": annotations.into_iter().map(|(k, v)| (k, Value::String(v))).collect::<serde_json::Map<_, _>>(),
        "events": numbering.len(),
        "time": "logical: event N is at microsecond N",
    });
    out.write_all(b"{\"displayTimeUnit\":\"ms\",\"otherData\":")?;
    serde_json::to_writer(&mut out, &other)?;
    out.write_all(b",\"traceEvents\":[")?;
    let process = format!("{} {}", trace.header.program, trace.header.program_version);
    emit(&mut out, &json!({"ph": "M", "name": "process_name", "pid": PID, "args": {"name": process}}))?;
    for thread in numbering.threads() {
        let name = tables.thread_label(thread);
        emit(
            &mut out,
            &json!({"ph": "M", "name": "thread_name", "pid": PID, "tid": thread, "args": {"name": name}}),
        )?;
        let sort = json!({"ph": "M", "name": "thread_sort_index", "pid": PID, "tid": thread, "args": {"sort_index": thread}});
        emit(&mut out, &sort)?;
    }
    for n in numbering.iter() {
        let cat = if n.event.op.has_object() {
            tables.object(n.event.object).map_or("object", |o| o.kind.name())
        } else {
            "thread"
        };
        let slice = json!({
            "ph": "X", "name": n.event.op.name(), "cat": cat, "pid": PID, "tid": n.thread,
            "ts": n.number, "dur": SLICE, "args": event_json(numbering, tables, &n),
        });
        emit(&mut out, &slice)?;
        // The program's own log lines (tracing events and spans): an instant
        // marker on the thread's track, named by the text, so Perfetto shows
        // them without opening each slice.
        if let Some(text) = crate::views::annotation_text(numbering, &n) {
            let instant = json!({
                "ph": "i", "s": "t", "name": text, "cat": "annotation", "pid": PID, "tid": n.thread,
                "ts": n.number as f64 + ANCHOR,
            });
            emit(&mut out, &instant)?;
        }
    }
    for (id, link) in links.iter().enumerate() {
        let (Some(from), Some(to)) = (numbering.get(link.from), numbering.get(link.to)) else { continue };
        let name = match link.kind {
            LinkKind::Message => "message",
            LinkKind::Lock => "lock",
        };
        let end = |ph: &str, thread: u32, number: u64| {
            json!({"ph": ph, "id": id, "name": name, "cat": name, "pid": PID, "tid": thread,
                   "ts": number as f64 + ANCHOR, "bp": "e"})
        };
        emit(&mut out, &end("s", from.thread, link.from))?;
        emit(&mut out, &end("f", to.thread, link.to))?;
    }
    out.write_all(b"\n]}\n")?;
    out.flush()
}
