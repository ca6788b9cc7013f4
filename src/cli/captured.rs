//! The captured values `inspect` shows: the first few of the trace, each read
//! through the trace model's one redacting accessor, so a sensitive capture
//! shows as `<redacted: sensitive capture>`. No key is passed, even with
//! `REPRISE_KEY` set: what inspect prints ends up in logs and tickets.

use std::collections::BTreeMap;

use reprise_recorder::trace::model::sensitive::captured_value;
use reprise_recorder::trace::model::{Event, Op, Record};

/// How many captured values `inspect` keeps and shows.
const SHOWN: usize = 20;
/// How many bytes of one value it shows.
const SHOWN_BYTES: usize = 64;

/// The first [`SHOWN`] captures, gathered as the trace streams by.
#[derive(Debug, Default)]
pub(crate) struct Captured {
    /// (thread, event, bytes) of each kept capture.
    kept: Vec<(u32, Event, Vec<u8>)>,
    /// Per thread: the index in `kept` of the capture whose blob may follow.
    open: BTreeMap<u32, usize>,
    /// Every capture, kept or not.
    pub(crate) total: u64,
}

impl Captured {
    /// Takes one of `thread`'s records, in order.
    pub(crate) fn take(&mut self, thread: u32, record: &Record) {
        match record {
            Record::Event(e) if matches!(e.op, Op::Capture | Op::CaptureSensitive) => {
                self.total += 1;
                if self.kept.len() < SHOWN {
                    self.open.insert(thread, self.kept.len());
                    self.kept.push((thread, *e, Vec::new()));
                } else {
                    self.open.remove(&thread);
                }
            }
            Record::Event(_) => {
                self.open.remove(&thread);
            }
            // A long value is stored as consecutive blob records.
            Record::Blob(bytes) => {
                if let Some(&i) = self.open.get(&thread) {
                    self.kept[i].2.extend_from_slice(bytes);
                }
            }
            _ => {}
        }
    }

    /// The lines `inspect` prints.
    pub(crate) fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (thread, event, bytes) in &self.kept {
            let mut shown = captured_value(event, bytes, None).to_string();
            if shown.len() > 2 * SHOWN_BYTES && !shown.starts_with('<') {
                shown.truncate(2 * SHOWN_BYTES);
                shown.push_str("...");
            }
            lines.push(format!("  thread {thread:>4}  {:<18} {shown}", event.op.name()));
        }
        if self.total > self.kept.len() as u64 {
            lines.push(format!("  ... and {} more", self.total - self.kept.len() as u64));
        }
        lines
    }
}
