//! `reprise explore --json`: the exploration's result as one JSON object on
//! stdout, for CI to read (the human report still goes to stderr).
//!
//! ```text
//! {"pipeline":"payments","bug":"lost-update","strategy":"pct3","seed":0,
//!  "budget":1000,"shard":[0,1],"schedules":1,"uncertain":0,"exhausted":false,
//!  "blocked":null,"stuck_unwinding":null,"failure":{"schedule":1,"strategy":"pct3","kind":"check",
//!  "summary":"invariants: violated: conservation","steps":915,
//!  "preemptions":0,"one_minimal":true,"minimize_runs":59,
//!  "trace":"/tmp/…trace","digest":"…","replay":"reprise replay /tmp/…trace"}}
//! ```

use std::fmt::Write as _;

use reprise_replayer::explore::{ExploreOutcome, FailureKind};

/// What the JSON says besides the outcome: the run's settings.
pub(crate) struct Settings<'a> {
    pub(crate) pipeline: &'a str,
    pub(crate) bug: &'a str,
    pub(crate) strategy: String,
    pub(crate) seed: u64,
    pub(crate) budget: u64,
    pub(crate) shard: (u64, u64),
}

/// A JSON string literal of `s`.
pub(crate) fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn kind_name(kind: &FailureKind) -> &'static str {
    match kind {
        FailureKind::Panic { .. } => "panic",
        FailureKind::Deadlock { .. } => "deadlock",
        FailureKind::Livelock { .. } => "livelock",
        FailureKind::Check { .. } => "check",
    }
}

/// The exploration's result as one line of JSON.
pub(crate) fn render(settings: &Settings<'_>, outcome: &ExploreOutcome) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "{{\"pipeline\":{},\"bug\":{},\"strategy\":{},\"seed\":{},\"budget\":{},\"shard\":[{},{}],\"schedules\":{},\"uncertain\":{},\"exhausted\":{}",
        string(settings.pipeline),
        string(settings.bug),
        string(&settings.strategy),
        settings.seed,
        settings.budget,
        settings.shard.0,
        settings.shard.1,
        outcome.schedules,
        outcome.uncertain,
        outcome.exhausted,
    );
    match &outcome.blocked {
        Some(blocked) => {
            let _ = write!(out, ",\"blocked\":{}", string(&blocked.to_string()));
        }
        None => out.push_str(",\"blocked\":null"),
    }
    match &outcome.stuck_unwinding {
        Some(stuck) => {
            let _ = write!(out, ",\"stuck_unwinding\":{}", string(&stuck.to_string()));
        }
        None => out.push_str(",\"stuck_unwinding\":null"),
    }
    match &outcome.failure {
        None => out.push_str(",\"failure\":null"),
        Some(f) => {
            let trace = f.trace.as_ref().map(|t| t.display().to_string());
            let optional = |v: Option<String>| v.map_or_else(|| "null".to_string(), |v| string(&v));
            let _ = write!(
                out,
                ",\"failure\":{{\"schedule\":{},\"strategy\":{},\"kind\":{},\"summary\":{},\"steps\":{},\"preemptions\":{},\"one_minimal\":{},\"minimize_runs\":{},\"trace\":{},\"digest\":{},\"replay\":{}}}",
                f.schedule,
                string(&f.strategy),
                string(kind_name(&f.kind)),
                string(&f.kind.summary()),
                f.steps,
                f.preemptions,
                f.one_minimal,
                f.minimize_runs,
                optional(trace.clone()),
                optional(f.annotation("digest").map(str::to_string)),
                optional(trace.map(|t| format!("reprise replay {t}"))),
            );
        }
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::string;

    #[test]
    fn strings_are_escaped_as_json_wants() {
        assert_eq!(string("a\"b\\c\nd\u{1b}"), r#""a\"b\\c\nd\u001b""#);
    }
}
