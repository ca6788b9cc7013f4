//! The captured values `inspect` shows: the first few of the trace, each
//! named as inspect names an event (its thread and its index among the
//! thread's events) with the call site that read it, and read through the
//! trace model's one redacting accessor, so a sensitive capture shows as
//! `<redacted: sensitive capture>`. No key is passed, even with
//! `REPRISE_KEY` set: what inspect prints ends up in logs and tickets.

use std::collections::{BTreeMap, HashMap};

use reprise_recorder::trace::model::sensitive::captured_value;
use reprise_recorder::trace::model::{Event, Op, Record, SiteIndex};
use reprise_recorder::trace::show::text;

/// How many captured values `inspect` keeps and shows.
const SHOWN: usize = 20;
/// How many bytes of one value it shows.
const SHOWN_BYTES: usize = 64;

/// One kept capture.
#[derive(Debug)]
struct Kept {
    thread: u32,
    /// Its index among its thread's events in the file.
    index: u64,
    event: Event,
    bytes: Vec<u8>,
}

/// The first [`SHOWN`] captures, gathered as the trace streams by.
#[derive(Debug, Default)]
pub(crate) struct Captured {
    kept: Vec<Kept>,
    /// Per thread: the index in `kept` of the capture whose blob may follow.
    open: BTreeMap<u32, usize>,
    /// Per thread: how many of its events went by.
    events: BTreeMap<u32, u64>,
    /// Every call site, as `file:line:column`: a site record comes once,
    /// before or after the capture that names it.
    sites: HashMap<(u32, SiteIndex), String>,
    /// Every capture, kept or not.
    pub(crate) total: u64,
}

impl Captured {
    /// Takes one of `thread`'s records, in order.
    pub(crate) fn take(&mut self, thread: u32, record: &Record) {
        match record {
            Record::Event(e) => {
                let events = self.events.entry(thread).or_default();
                let index = *events;
                *events += 1;
                if !matches!(e.op, Op::Capture | Op::CaptureSensitive) {
                    self.open.remove(&thread);
                    return;
                }
                self.total += 1;
                if self.kept.len() < SHOWN {
                    self.open.insert(thread, self.kept.len());
                    self.kept.push(Kept { thread, index, event: *e, bytes: Vec::new() });
                } else {
                    self.open.remove(&thread);
                }
            }
            // A long value is stored as consecutive blob records.
            Record::Blob(bytes) => {
                if let Some(&i) = self.open.get(&thread) {
                    self.kept[i].bytes.extend_from_slice(bytes);
                }
            }
            Record::Site { index, file, line, column } => {
                self.sites.insert((thread, *index), format!("{}:{line}:{column}", text(file)));
            }
            _ => {}
        }
    }

    /// The lines `inspect` prints; `first_event` gives where a thread's
    /// events in the file start in the run (a flight-recorder dump's
    /// window), so an event is numbered as the run numbers it.
    pub(crate) fn lines(&self, first_event: impl Fn(u32) -> u64) -> Vec<String> {
        let mut lines = Vec::new();
        for Kept { thread, index, event, bytes } in &self.kept {
            let mut shown = captured_value(event, bytes, None).to_string();
            if shown.len() > 2 * SHOWN_BYTES
                && !shown.starts_with('<')
                && shown.is_char_boundary(2 * SHOWN_BYTES)
            {
                shown.truncate(2 * SHOWN_BYTES);
                shown.push_str("...");
            }
            let site = self.sites.get(&(*thread, event.site)).map_or("?", String::as_str);
            lines.push(format!(
                "  thread {thread:>4}  event {:>6}  at {site}  {:<18} {shown}",
                first_event(*thread) + index,
                event.op.name()
            ));
        }
        if self.total > self.kept.len() as u64 {
            lines.push(format!("  ... and {} more", self.total - self.kept.len() as u64));
        }
        lines
    }
}
