//! Annotations: free text stored in the trace at the point of the thread's
//! run where it was made (an application's `tracing` events and spans, via
//! the `reprise` crate's `TracingLayer`). Offline views show them between
//! the events; replay checks each is made where it was, like any event.
//!
//! ```
//! # use reprise_recorder::{record, RecordConfig};
//! let path = std::env::temp_dir().join(format!("annotate-doc-{}.trace", std::process::id()));
//! record(&path, RecordConfig::new("doc", "1"), || {
//!     reprise_recorder::annotation::annotate("INFO batch 7 opened");
//! })
//! .unwrap();
//! # std::fs::remove_file(&path).ok();
//! ```

use std::panic::Location;

use crate::rt::mode::{self, Mode};
#[cfg(not(reprise_loom))]
use crate::trace::model::{Op, Outcome};

/// Stores `text` in the trace as this thread's next event, when the thread
/// runs in an execution (recorded, replayed or explored); nothing otherwise.
#[track_caller]
pub fn annotate(text: &str) {
    let location = Location::caller();
    match mode::mode() {
        Mode::Off => {}
        #[cfg(not(reprise_loom))]
        Mode::Record | Mode::Coop => store(text, location),
        #[cfg(not(reprise_loom))]
        Mode::Gated => {
            // The recorded annotation stands in for this one: it is checked
            // to be an annotation made here, and nothing waits on it.
            let _ = crate::rt::gated::begin(Op::Annotation, None, location);
        }
    }
    #[cfg(reprise_loom)]
    let _ = (text, location);
}

#[cfg(not(reprise_loom))]
fn store(text: &str, location: &'static Location<'static>) {
    crate::rt::context::with(|ctx| {
        ctx.record_outcome(Outcome::Annotation { len: text.len() as u64 }, 0, location);
        ctx.record_blob(text.as_bytes());
    });
}
