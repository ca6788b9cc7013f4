//! A diff in words, as `reprise diff` prints it.

use reprise_recorder::trace::model::sensitive::captured_value;
use reprise_recorder::trace::model::{Op, ThreadIndex};

use super::objects::{OrderDifference, Taker};
use super::{Diff, Side, CONTEXT};
use crate::views::describe::outcome_text;

/// How many differing objects are listed before "... and N more".
const ORDERS_SHOWN: usize = 12;
/// How many sensitive captures that could not be compared are listed.
const UNOPENED_SHOWN: usize = 5;
/// How many hex digits of a captured value an event line shows.
const VALUE_SHOWN: usize = 128;

/// ` = value` for a capture, through the redacting accessor without a key:
/// a diff's output ends up in tickets, so a sensitive value is never shown
/// even when the key was given to compare it.
fn value(side: &Side<'_, '_>, thread: ThreadIndex, index: u64, op: Op) -> String {
    if !matches!(op, Op::Capture | Op::CaptureSensitive) {
        return String::new();
    }
    let Some(n) = side.numbering.at(thread, index) else { return String::new() };
    let blob = side.numbering.blob(thread, index).unwrap_or_default();
    let mut shown = captured_value(n.event, &blob, None).to_string();
    if shown.len() > VALUE_SHOWN && shown.is_char_boundary(VALUE_SHOWN) {
        shown.truncate(VALUE_SHOWN);
        shown.push_str("...");
    }
    format!(" = {shown}")
}

fn event_line(side: &Side<'_, '_>, thread: ThreadIndex, index: u64) -> Option<String> {
    let n = side.numbering.at(thread, index)?;
    let e = n.event;
    let object =
        if e.op.has_object() { format!(" {}", side.tables.object_label(e.object)) } else { String::new() };
    let outcome = outcome_text(e);
    let outcome = if outcome.is_empty() { String::new() } else { format!(": {outcome}") };
    Some(format!(
        "#{} {}{object}{outcome}  at {}{}",
        n.number,
        e.op.name(),
        side.tables.site_label(thread, e.site),
        value(side, thread, index, e.op)
    ))
}

fn taker(t: &Option<Taker>) -> String {
    match t {
        None => "nobody (its order ends before)".to_string(),
        Some(t) => {
            let message = t.message.map_or(String::new(), |(s, q)| format!("message {s}/{q}, "));
            format!("{} ({message}#{} at {})", t.thread_label, t.number, t.site)
        }
    }
}

/// An object as each trace names it: once when both name it alike.
fn object(o: &OrderDifference) -> String {
    match (&o.label_a, &o.label_b) {
        (Some(a), Some(b)) if a == b => a.clone(),
        (Some(a), Some(b)) => format!("{a} in A, {b} in B"),
        (Some(a), None) => format!("A's {a}"),
        (None, Some(b)) => format!("B's {b}"),
        (None, None) => "an object".to_string(),
    }
}

/// The lines `reprise diff` prints for `diff` of `a` and `b`.
pub fn render(diff: &Diff, a: &Side<'_, '_>, b: &Side<'_, '_>) -> Vec<String> {
    let mut lines = Vec::new();
    if diff.identical() {
        lines.push(format!("identical: {} events, same verdict", a.numbering.len()));
        return lines;
    }
    if diff.undecided() {
        lines.push(format!(
            "no difference found in {} events and the verdict, but {} sensitive captures cannot be compared",
            a.numbering.len(),
            diff.unopened.len()
        ));
    }
    if let Some(d) = &diff.first {
        let number = |n: Option<u64>| n.map_or("-".to_string(), |n| format!("#{n}"));
        lines.push(format!(
            "first divergence: {} (thread {}), its event {}: A {} / B {}; differs in {}",
            a.tables.thread_label(d.thread),
            d.thread,
            d.index,
            number(d.number_a),
            number(d.number_b),
            d.what.join(", ")
        ));
        for (name, side) in [("A", a), ("B", b)] {
            lines.push(format!("  {name}:"));
            for index in d.index.saturating_sub(CONTEXT)..d.index {
                if let Some(line) = event_line(side, d.thread, index) {
                    lines.push(format!("      {line}"));
                }
            }
            match event_line(side, d.thread, d.index) {
                Some(line) => lines.push(format!("    > {line}")),
                None => lines.push("    > (the thread's events end here)".to_string()),
            }
            if let Some(line) = event_line(side, d.thread, d.index + 1) {
                lines.push(format!("      {line}"));
            }
        }
        lines.push(format!("threads that differ: {}", diff.threads_differing));
    }
    if !diff.orders.is_empty() {
        lines.push(format!("objects whose order differs: {}", diff.orders.len()));
        for o in diff.orders.iter().take(ORDERS_SHOWN) {
            lines.push(if o.kind == "message" {
                format!(
                    "  {}: message {} taken by {} in A, by {} in B",
                    object(o),
                    o.position,
                    taker(&o.a),
                    taker(&o.b)
                )
            } else {
                format!(
                    "  {}: A gave {} {} to {}, B to {}",
                    object(o),
                    o.kind,
                    o.position,
                    taker(&o.a),
                    taker(&o.b)
                )
            });
        }
        if diff.orders.len() > ORDERS_SHOWN {
            lines.push(format!("  ... and {} more", diff.orders.len() - ORDERS_SHOWN));
        }
    }
    if !diff.unopened.is_empty() {
        lines.push(format!(
            "sensitive captures that cannot be compared: {} (set REPRISE_KEY to the key they were \
             recorded with; a value recorded without a key was not kept)",
            diff.unopened.len()
        ));
        for u in diff.unopened.iter().take(UNOPENED_SHOWN) {
            lines.push(format!(
                "  {} (thread {}), its event {}: A #{} / B #{}",
                a.tables.thread_label(u.thread),
                u.thread,
                u.index,
                u.number_a,
                u.number_b
            ));
        }
        if diff.unopened.len() > UNOPENED_SHOWN {
            lines.push(format!("  ... and {} more", diff.unopened.len() - UNOPENED_SHOWN));
        }
    }
    if diff.verdicts_differ {
        let verdict = |side: &Side<'_, '_>| match &side.numbering.trace().footer {
            Some(f) => {
                let notes: Vec<String> = f.annotations.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("{} [{}]", f.verdict, notes.join("; "))
            }
            None => "none (the recording did not finish)".to_string(),
        };
        lines.push(format!("verdict: A {}", verdict(a)));
        lines.push(format!("         B {}", verdict(b)));
    }
    lines
}
