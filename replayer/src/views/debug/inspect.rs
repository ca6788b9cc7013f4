//! `where` and `print`: what the trace says about the threads and objects
//! at the current event.

use std::collections::HashSet;

use reprise_recorder::trace::model::sensitive::captured_value;
use reprise_recorder::trace::model::{ObjectIndex, ObjectKind, Op, Outcome, Received, WaitFor};

use super::Session;

/// How many history lines `print` shows before "... N earlier".
const HISTORY_SHOWN: usize = 20;

impl Session<'_, '_> {
    /// What `wait` needs, and whether the trace has it by the current event.
    fn wait_text(&self, wait: WaitFor) -> String {
        let p = self.position;
        match wait {
            WaitFor::Message { sender, seq } => {
                let sent = self.indexes().sends.get(&(sender, seq)).copied();
                let state = match sent {
                    Some(s) if s <= p => format!("sent at #{s}"),
                    Some(s) => format!("not sent yet: sent at #{s}"),
                    None => "its send is not in the trace".into(),
                };
                format!("message {sender}/{seq} from {} ({state})", self.tables.thread_label(sender))
            }
            WaitFor::Turn { object, number, .. } | WaitFor::WriteTurn { object, number, .. } => {
                let holder = self.holder(object).map_or("free".to_string(), |(t, at)| {
                    format!("held by {} since #{at}", self.tables.thread_label(t))
                });
                format!("turn {number} of {} (now {holder})", self.tables.object_label(object))
            }
            WaitFor::Taken { object, class, number } => {
                format!("{class:?} {number} of {} to have been taken", self.tables.object_label(object))
                    .to_lowercase()
            }
            WaitFor::Exit(t) => format!("{} to exit", self.tables.thread_label(t)),
            WaitFor::Received { sender, seq } => format!("message {sender}/{seq} to be taken"),
            WaitFor::Released { object, .. } => format!("{} to be let go", self.tables.object_label(object)),
            WaitFor::Room { object, taken } => {
                format!("room in {} ({taken} messages taken from it)", self.tables.object_label(object))
            }
        }
    }

    /// Who holds a lock at the current event, and since which event.
    fn holder(&self, object: ObjectIndex) -> Option<(u32, u64)> {
        let events = self.indexes().events.get(&object)?;
        let upto = events.partition_point(|&k| k <= self.position);
        let mut holder = None;
        for &k in &events[..upto] {
            let Some(n) = self.numbering.get(k) else { continue };
            let Ok(outcome) = n.event.outcome() else { continue };
            match outcome {
                Outcome::Unlock | Outcome::WriteUnlock if n.event.object == object => holder = None,
                _ if outcome.turn(n.event.object).is_some_and(|t| t.object == object) => {
                    holder = Some((n.thread, k));
                }
                _ => {}
            }
        }
        holder
    }

    pub(super) fn where_lines(&self) -> Vec<String> {
        let p = self.position;
        let mut lines = vec![format!("at #{p} of {}", self.numbering.len())];
        for t in self.numbering.threads() {
            let done = self.numbering.thread_position(t, p);
            let len = self.numbering.thread_len(t);
            let mark = if self.selected == Some(t) { "*" } else { " " };
            let label = format!("{mark} thread {t} ({})", self.tables.thread_label(t));
            let last = done.checked_sub(1).and_then(|i| self.numbering.at(t, i));
            let next = self.numbering.at(t, done);
            let state = match (last, next) {
                (None, None) => "no events".to_string(),
                (Some(l), None) if l.event.op == Op::ThreadExit => format!("exited at #{}", l.number),
                (Some(l), None) => format!("its events end at #{} (the trace ends)", l.number),
                (last, Some(n)) => {
                    let at = last.map_or("not started".to_string(), |l| format!("after #{}", l.number));
                    let wait = n
                        .event
                        .outcome()
                        .ok()
                        .and_then(|o| o.waits_for(n.event.object))
                        .map_or(String::new(), |w| format!("; waits for {}", self.wait_text(w)));
                    format!("{at}; next {}{wait}", self.event_line(&n))
                }
            };
            lines.push(format!("{label}: {state}"));
            let _ = len;
        }
        lines
    }

    pub(super) fn print(&self, what: Option<&str>) -> Result<Vec<String>, String> {
        let object = match what {
            Some("captures" | "capture" | "inputs") => return Ok(self.captures()),
            Some(o) => o
                .trim_start_matches('#')
                .parse::<ObjectIndex>()
                .map_err(|_| format!("`{o}` is not an object"))?,
            None => match self.numbering.get(self.position) {
                Some(n) if n.event.op.has_object() => n.event.object,
                _ => return Err("the current event has no object: print #N".into()),
            },
        };
        let events =
            self.indexes().events.get(&object).ok_or_else(|| format!("no object #{object} in the trace"))?;
        let upto = events.partition_point(|&k| k <= self.position);
        let mut lines = vec![format!(
            "{}: {} events up to #{} ({} in all)",
            self.tables.object_label(object),
            upto,
            self.position,
            events.len()
        )];
        lines.extend(self.state(object, &events[..upto]));
        if upto > HISTORY_SHOWN {
            lines.push(format!("  ... {} earlier", upto - HISTORY_SHOWN));
        }
        for &k in &events[upto.saturating_sub(HISTORY_SHOWN)..upto] {
            if let Some(n) = self.numbering.get(k) {
                lines.push(format!("  {}", self.event_line(&n)));
            }
        }
        Ok(lines)
    }

    /// The object's state at the current event, by its kind.
    fn state(&self, object: ObjectIndex, history: &[u64]) -> Vec<String> {
        // A trace cut before the object's table entry still shows its kind
        // through its events.
        let kind = self.tables.object(object).map(|o| o.kind).or_else(|| {
            let first = self.numbering.get(*self.indexes().events.get(&object)?.first()?)?;
            kind_of(first.event.op)
        });
        match kind {
            Some(ObjectKind::Mutex | ObjectKind::RwLock) => {
                vec![match self.holder(object) {
                    Some((t, at)) => format!("  held by {} since #{at}", self.tables.thread_label(t)),
                    None => "  free".into(),
                }]
            }
            Some(ObjectKind::Channel) => {
                let mut queue = Vec::new();
                let mut taken = HashSet::new();
                for &k in history {
                    let Some(n) = self.numbering.get(k) else { continue };
                    match n.event.outcome() {
                        Ok(Outcome::Recv(r) | Outcome::TryRecv(r) | Outcome::RecvTimeout(r))
                        | Ok(Outcome::Select { received: r, .. }) => {
                            if let Received::Message { sender, seq } = r {
                                taken.insert((sender, seq));
                            }
                        }
                        _ => {}
                    }
                }
                for (&(sender, seq), &k) in &self.indexes().sends {
                    let on_this = self.numbering.get(k).is_some_and(|n| n.event.object == object);
                    if on_this && k <= self.position && !taken.contains(&(sender, seq)) {
                        queue.push((k, format!("{sender}/{seq} (#{k})")));
                    }
                }
                queue.sort();
                let shown: Vec<String> = queue.into_iter().map(|(_, s)| s).collect();
                vec![format!(
                    "  queue ({} messages sent, not yet taken): [{}]",
                    shown.len(),
                    shown.join(", ")
                )]
            }
            Some(ObjectKind::Atomic) => {
                let last = history.iter().rev().find_map(|&k| {
                    let n = self.numbering.get(k)?;
                    match n.event.outcome().ok()? {
                        Outcome::AtomicLoad { value, .. } => {
                            Some(format!("  last value read: {value} (#{k})"))
                        }
                        Outcome::AtomicCas { seen, succeeded: false, .. } => {
                            Some(format!("  last value read: {seen} (#{k})"))
                        }
                        _ => None,
                    }
                });
                vec![last.unwrap_or_else(|| "  no value read yet".into())]
            }
            _ => Vec::new(),
        }
    }

    /// Captured values up to the current event, through the redacting accessor.
    fn captures(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for n in self.numbering.iter() {
            if n.number > self.position {
                break;
            }
            if matches!(n.event.op, Op::Capture | Op::CaptureSensitive) {
                let blob = self.numbering.blob(n.thread, n.index).unwrap_or_default();
                lines.push(format!("  {} = {}", self.event_line(&n), captured_value(n.event, &blob, None)));
            }
        }
        if lines.is_empty() {
            lines.push(format!("no captured values up to #{}", self.position));
        }
        lines
    }
}

/// The kind of object an op acts on, when the op says.
fn kind_of(op: Op) -> Option<ObjectKind> {
    Some(match op {
        Op::Lock | Op::TryLock | Op::Unlock => ObjectKind::Mutex,
        Op::ReadLock
        | Op::WriteLock
        | Op::TryReadLock
        | Op::TryWriteLock
        | Op::ReadUnlock
        | Op::WriteUnlock => ObjectKind::RwLock,
        Op::Send | Op::Recv | Op::TryRecv | Op::RecvTimeout | Op::Select => ObjectKind::Channel,
        Op::AtomicLoad | Op::AtomicStore | Op::AtomicRmw | Op::AtomicCas => ObjectKind::Atomic,
        _ => return None,
    })
}
