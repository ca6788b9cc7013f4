//! Offline views of a trace: what an incident responder reads without the
//! program. Every view (export, diff, debug, timeline) names events by one
//! global number, given by [`number::number`], so an event is "#1234" in all
//! of them.

pub mod number;
mod order;

pub use number::{number, Numbered, Numbering};
