//! `reprise export`: the numbered trace as Chrome Trace Event JSON (for
//! Perfetto UI and chrome://tracing) or as JSON Lines (one event per line,
//! for scripts). Both carry the global event numbers, the thread names, the
//! call sites and the arrows of [`links`](super::links()).
//!
//! Captured values go through the redacting accessor without a key: an
//! export is a file that travels, so a sensitive value is never in it.

mod chrome;
mod event;
mod jsonl;

use std::io::{self, Write};

use super::links::links;
use super::number::Numbering;
use super::tables::Tables;

pub use event::event_json;

/// The export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Chrome Trace Event JSON.
    Chrome,
    /// JSON Lines, one event per line.
    Jsonl,
}

/// Writes the numbered trace to `out` in `format`.
///
/// # Errors
///
/// Only what `out` returns.
pub fn export(numbering: &Numbering<'_>, format: Format, out: &mut dyn Write) -> io::Result<()> {
    let tables = Tables::of(numbering.trace());
    let links = links(numbering);
    match format {
        Format::Chrome => chrome::write(numbering, &tables, &links, out),
        Format::Jsonl => jsonl::write(numbering, &tables, &links, out),
    }
}
