//! One event as a JSON object, the same fields in every export format.

use reprise_recorder::trace::model::sensitive::captured_value;
use reprise_recorder::trace::model::Op;
use serde_json::{json, Map, Value};

use crate::views::describe::outcome_text;
use crate::views::number::{Numbered, Numbering};
use crate::views::tables::Tables;

/// `n`'s fields: number, thread (index and name), index in its thread, op,
/// object, call site, outcome in words and fields, captured value
/// (redacted when sensitive), and whether it was placed forced.
pub fn event_json(numbering: &Numbering<'_>, tables: &Tables, n: &Numbered<'_>) -> Map<String, Value> {
    let e = n.event;
    let mut m = Map::new();
    m.insert("event".into(), json!(n.number));
    m.insert("thread".into(), json!(n.thread));
    m.insert("thread_name".into(), json!(tables.name(n.thread).unwrap_or("")));
    m.insert("index".into(), json!(n.index));
    m.insert("op".into(), json!(e.op.name()));
    if e.op.has_object() {
        m.insert("object".into(), json!(e.object));
        let kind = tables.object(e.object).map_or("", |o| o.kind.name());
        m.insert("object_kind".into(), json!(kind));
        let created = tables.object(e.object).and_then(|o| o.created_at.as_ref()).map(ToString::to_string);
        m.insert("object_created_at".into(), json!(created));
    }
    m.insert("site".into(), json!(tables.site(n.thread, e.site).map(ToString::to_string)));
    m.insert("outcome".into(), json!(outcome_text(e)));
    m.insert("fields".into(), json!([e.a, e.b, e.c]));
    if matches!(e.op, Op::Capture | Op::CaptureSensitive) {
        let blob = numbering.blob(n.thread, n.index).unwrap_or_default();
        m.insert("value".into(), json!(captured_value(e, &blob, None).to_string()));
    }
    if let Some(text) = crate::views::annotation_text(numbering, n) {
        m.insert("annotation".into(), json!(text));
    }
    if n.forced {
        m.insert("forced".into(), json!(true));
    }
    m
}
