//! Offline views of a trace: what an incident responder reads without the
//! program. Every view (export, diff, debug, timeline) names events by one
//! global number, given by [`number::number`], so an event is "#1234" in all
//! of them.

pub mod debug;
pub mod describe;
pub mod diff;
pub mod export;
pub mod links;
pub mod number;
mod order;
pub mod races;
pub mod tables;
pub mod timeline;

pub use describe::{annotation_text, outcome_text};
pub use links::{links, Link, LinkKind};
pub use number::{number, Numbered, Numbering};
pub use tables::{ObjectInfo, Site, Tables};
