//! `reprise timeline`: the numbered trace as one self-contained HTML page
//! (inline script and style, nothing fetched): a swimlane per thread, each
//! event a mark colored by its kind at its global number, arrows from each
//! send to its receive and from each unlock to the next lock of the object,
//! zoom and pan, details on hover, and the verdict on top.
//!
//! The events travel as columns of small integers with string tables (see
//! `data.rs`) and are drawn on a canvas, so a trace of a million events is a
//! page of a few tens of megabytes that draws in a blink: zoomed out, each
//! lane shows one mark per pixel column (the aggregate); zoomed in, one mark
//! per event. Arrows are drawn once few enough are in view to tell apart.
//!
//! The script also keeps a small DOM summary of what it drew (a label
//! element per lane, and `#summary`'s `data-marks` / `data-arrows`), which is
//! what tests read from a headless browser.

mod data;

use std::io::{self, Write};

use super::links::links;
use super::number::Numbering;
use super::tables::Tables;

const PAGE: &str = include_str!("page.html");
const SCRIPT: &str = include_str!("timeline.js");
/// Where in the page the data goes.
const DATA_SLOT: &str = "/*DATA*/";
/// Where in the page the script goes.
const SCRIPT_SLOT: &str = "/*SCRIPT*/";

/// Writes the page of the numbered trace to `out`.
///
/// # Errors
///
/// Only what `out` returns.
pub fn timeline(numbering: &Numbering<'_>, out: &mut dyn Write) -> io::Result<()> {
    let tables = Tables::of(numbering.trace());
    let links = links(numbering);
    let mut out = io::BufWriter::new(out);
    let (head, rest) = PAGE.split_once(DATA_SLOT).expect("page.html has a data slot");
    let (middle, tail) = rest.split_once(SCRIPT_SLOT).expect("page.html has a script slot");
    out.write_all(head.as_bytes())?;
    data::write(numbering, &tables, &links, &mut out)?;
    out.write_all(middle.as_bytes())?;
    out.write_all(SCRIPT.as_bytes())?;
    out.write_all(tail.as_bytes())?;
    out.flush()
}
