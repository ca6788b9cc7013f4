//! The page's data: the numbered trace as columns of small integers plus
//! string tables, so that a million events stay a few bytes each in the
//! page and the script reads them into typed arrays without per-event
//! objects.

use std::collections::HashMap;
use std::io::{self, Write};

use reprise_recorder::trace::format::Verdict;
use reprise_recorder::trace::model::sensitive::captured_value;
use reprise_recorder::trace::model::Op;
use serde_json::json;

use crate::views::describe::outcome_text;
use crate::views::links::{Link, LinkKind};
use crate::views::number::Numbering;
use crate::views::tables::Tables;

/// Strings stored once, referred to by index from the columns.
#[derive(Default)]
struct Interned {
    index: HashMap<String, u32>,
    strings: Vec<String>,
}

impl Interned {
    fn id(&mut self, s: String) -> u32 {
        if let Some(&i) = self.index.get(&s) {
            return i;
        }
        let i = self.strings.len() as u32;
        self.strings.push(s.clone());
        self.index.insert(s, i);
        i
    }
}

/// One column of numbers, written as a JSON array.
fn column(out: &mut dyn Write, name: &str, values: impl Iterator<Item = i64>) -> io::Result<()> {
    write!(out, "\"{name}\":[")?;
    for (i, v) in values.enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write!(out, "{v}")?;
    }
    out.write_all(b"]")
}

/// A JSON value made safe inside a `<script>` element: `</` would end it.
fn script_safe(value: &serde_json::Value) -> String {
    value.to_string().replace("</", "<\\/")
}

/// How the run ended, in words, and whether the page shows it as a failure.
fn verdict(numbering: &Numbering<'_>) -> (String, Vec<String>, bool) {
    match &numbering.trace().footer {
        Some(footer) => {
            let notes: Vec<String> = footer.annotations.iter().map(|(_, v)| v.clone()).collect();
            let broken = !matches!(footer.verdict, Verdict::Completed)
                || footer.annotations.iter().any(|(_, v)| v.contains("violated"));
            (footer.verdict.to_string(), notes, broken)
        }
        None => ("the recording did not finish (a crash or a kill)".into(), Vec::new(), true),
    }
}

/// Writes the data as one JSON object (script-safe) to `out`.
pub(super) fn write(
    numbering: &Numbering<'_>,
    tables: &Tables,
    links: &[Link],
    out: &mut dyn Write,
) -> io::Result<()> {
    let trace = numbering.trace();
    let threads: Vec<u32> = numbering.threads().collect();
    let lane_of: HashMap<u32, usize> = threads.iter().enumerate().map(|(lane, &t)| (t, lane)).collect();
    let lanes: Vec<_> = threads
        .iter()
        .map(|&t| json!({"thread": t, "name": tables.thread_label(t), "events": numbering.thread_len(t)}))
        .collect();

    let mut sites = Interned::default();
    let mut objects = Interned::default();
    let mut outcomes = Interned::default();
    let len = numbering.len() as usize;
    let (mut lane, mut kind, mut object, mut site, mut outcome) = (
        Vec::with_capacity(len),
        Vec::with_capacity(len),
        Vec::with_capacity(len),
        Vec::with_capacity(len),
        Vec::with_capacity(len),
    );
    for n in numbering.iter() {
        let e = n.event;
        lane.push(lane_of.get(&n.thread).copied().unwrap_or(0) as i64);
        kind.push(e.op as i64);
        object.push(if e.op.has_object() {
            i64::from(objects.id(tables.object_label(e.object)))
        } else {
            -1
        });
        site.push(i64::from(sites.id(tables.site_label(n.thread, e.site))));
        let mut text = crate::views::annotation_text(numbering, &n).unwrap_or_else(|| outcome_text(e));
        if matches!(e.op, Op::Capture | Op::CaptureSensitive) {
            // Without a key: a page is a file that travels.
            let blob = numbering.blob(n.thread, n.index).unwrap_or_default();
            text = format!("{text} value {}", captured_value(e, &blob, None));
        }
        if n.forced {
            text.push_str(" (placed without what it waited for: a damaged trace)");
        }
        outcome.push(i64::from(outcomes.id(text)));
    }

    let (verdict, notes, broken) = verdict(numbering);
    let meta = json!({
        "program": format!("{} {}", trace.header.program, trace.header.program_version),
        "verdict": verdict,
        "notes": notes,
        "broken": broken,
        "events": len,
        "lanes": lanes,
        "kinds": Op::ALL.iter().map(|op| op.name()).collect::<Vec<_>>(),
        "sites": sites.strings,
        "objects": objects.strings,
        "outcomes": outcomes.strings,
    });
    let meta = script_safe(&meta);
    // The meta object's closing brace is replaced by the columns.
    out.write_all(&meta.as_bytes()[..meta.len() - 1])?;
    out.write_all(b",\"ev\":{")?;
    column(out, "lane", lane.into_iter())?;
    out.write_all(b",")?;
    column(out, "kind", kind.into_iter())?;
    out.write_all(b",")?;
    column(out, "object", object.into_iter())?;
    out.write_all(b",")?;
    column(out, "site", site.into_iter())?;
    out.write_all(b",")?;
    column(out, "outcome", outcome.into_iter())?;
    out.write_all(b"},\"links\":{")?;
    column(out, "from", links.iter().map(|l| l.from as i64))?;
    out.write_all(b",")?;
    column(out, "to", links.iter().map(|l| l.to as i64))?;
    out.write_all(b",")?;
    column(out, "kind", links.iter().map(|l| i64::from(l.kind == LinkKind::Lock)))?;
    out.write_all(b"}}")
}
