//! [`TracingLayer`]: a `tracing-subscriber` layer that stores the
//! application's tracing events, and its spans' entries and exits, in the
//! trace as annotations, so that `timeline`, `debug` and `export` show the
//! program's own log between the events it explains.

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// Stores tracing events and span entries/exits as trace annotations.
///
/// Outside an execution (no recording, replay or exploration on the thread)
/// it does nothing. reprise's own diagnostics (targets starting with
/// `reprise`) are left out: they differ between a recording and its replay.
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let subscriber = tracing_subscriber::registry().with(reprise::TracingLayer::new());
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info!(batch = 7, "batch opened");
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct TracingLayer {
    _private: (),
}

impl TracingLayer {
    /// The layer.
    pub fn new() -> TracingLayer {
        TracingLayer::default()
    }
}

/// Collects an event's message and fields as `message k=v k=v`.
#[derive(Default)]
struct Text {
    message: String,
    fields: String,
}

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value}", field.name());
        }
    }
}

fn ours(target: &str) -> bool {
    target.starts_with("reprise")
}

impl<S> Layer<S> for TracingLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if ours(meta.target()) {
            return;
        }
        let mut text = Text::default();
        event.record(&mut text);
        reprise_recorder::annotation::annotate(&format!(
            "{} {}: {}{}",
            meta.level(),
            meta.target(),
            text.message,
            text.fields
        ));
    }

    fn on_new_span(&self, _attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {}

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id).filter(|s| !ours(s.metadata().target())) {
            reprise_recorder::annotation::annotate(&format!("enter span {}", span.name()));
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id).filter(|s| !ours(s.metadata().target())) {
            reprise_recorder::annotation::annotate(&format!("exit span {}", span.name()));
        }
    }
}
