//! `reprise debug`: an offline stepper over a numbered trace. No program
//! runs: the position is an event number, and everything shown (where each
//! thread stands, what it waits for, an object's history) is read from the
//! trace. Moving is a lookup in the numbering's index, so `goto` costs the
//! same on a 10M-event trace as on a small one.

mod command;
mod inspect;

use std::cell::OnceCell;
use std::collections::HashMap;

use reprise_recorder::trace::model::{ObjectIndex, Op, Outcome, Sent, ThreadIndex};

use super::describe::outcome_text;
use super::number::{Numbered, Numbering};
use super::tables::Tables;

pub use command::{parse, Breakpoint, Command, HELP};

/// What one command printed, and whether the session is over.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    /// The lines to show.
    pub lines: Vec<String>,
    /// Whether the user asked to leave.
    pub quit: bool,
}

/// Per object, the numbers of its events; per message, its send's number.
#[derive(Debug, Default)]
struct ObjectIndexes {
    events: HashMap<ObjectIndex, Vec<u64>>,
    sends: HashMap<(ThreadIndex, u64), u64>,
}

/// A debugging session over one numbered trace.
#[derive(Debug)]
pub struct Session<'a, 't> {
    numbering: &'a Numbering<'t>,
    tables: Tables,
    /// The current event's number; 0 before the first.
    position: u64,
    selected: Option<ThreadIndex>,
    breaks: Vec<Breakpoint>,
    objects: OnceCell<ObjectIndexes>,
}

impl<'a, 't> Session<'a, 't> {
    /// A session at the start of the trace (before event 1).
    pub fn new(numbering: &'a Numbering<'t>) -> Session<'a, 't> {
        let tables = Tables::of(numbering.trace());
        Session {
            numbering,
            tables,
            position: 0,
            selected: None,
            breaks: Vec::new(),
            objects: OnceCell::new(),
        }
    }

    /// The current event's number (0: before the first).
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Moves to event `number` (clamped to the trace); returns the event.
    pub fn goto(&mut self, number: u64) -> Option<Numbered<'t>> {
        self.position = number.min(self.numbering.len());
        self.numbering.get(self.position)
    }

    /// Runs one command line.
    pub fn execute(&mut self, line: &str) -> Reply {
        let command = match parse(line) {
            Ok(Some(command)) => command,
            Ok(None) => return Reply::default(),
            Err(e) => return Reply { lines: vec![format!("error: {e}")], quit: false },
        };
        let lines = match self.run(command) {
            Ok(lines) => lines,
            Err(e) => vec![format!("error: {e}")],
        };
        Reply { lines, quit: false }
    }

    fn run(&mut self, command: Command) -> Result<Vec<String>, String> {
        match command {
            Command::Step(n) => self.step(n),
            Command::Back(n) => self.back(n),
            Command::Goto(n) => {
                if n > self.numbering.len() {
                    return Err(format!("there is no event {n}: the trace has {}", self.numbering.len()));
                }
                self.goto(n);
                Ok(self.here())
            }
            Command::Thread(None) => {
                self.selected = None;
                Ok(vec!["every thread".into()])
            }
            Command::Thread(Some(t)) => {
                let thread = self.thread(&t)?;
                self.selected = Some(thread);
                Ok(vec![format!("thread {thread} ({})", self.tables.thread_label(thread))])
            }
            Command::Break(b) => {
                if let Breakpoint::Thread(t) = &b {
                    self.thread(t)?;
                }
                let shown = format!("breakpoint {}: {b}", self.breaks.len() + 1);
                self.breaks.push(b);
                Ok(vec![shown])
            }
            Command::Delete => {
                self.breaks.clear();
                Ok(vec!["no breakpoints".into()])
            }
            Command::Continue => Ok(self.continue_forward()),
            Command::ReverseContinue => Ok(self.continue_back()),
            Command::Where => Ok(self.where_lines()),
            Command::Print(what) => self.print(what.as_deref()),
            Command::List => Ok(self.list()),
            Command::Help => Ok(HELP.lines().map(str::to_string).collect()),
            Command::Quit => Ok(Vec::new()),
        }
    }

    /// Runs one command line, telling whether it was `quit`.
    pub fn execute_line(&mut self, line: &str) -> Reply {
        if matches!(parse(line), Ok(Some(Command::Quit))) {
            return Reply { lines: Vec::new(), quit: true };
        }
        self.execute(line)
    }

    /// A thread by index or name.
    fn thread(&self, t: &str) -> Result<ThreadIndex, String> {
        let known = |i: ThreadIndex| self.numbering.threads().any(|x| x == i);
        if let Ok(i) = t.parse::<ThreadIndex>() {
            if known(i) {
                return Ok(i);
            }
        }
        self.numbering
            .threads()
            .find(|&i| self.tables.name(i) == Some(t))
            .ok_or_else(|| format!("no thread `{t}`"))
    }

    /// `#N [thread] op object: outcome  at site`.
    fn event_line(&self, n: &Numbered<'_>) -> String {
        let e = n.event;
        let object = if e.op.has_object() {
            format!(" {}", self.tables.object_label(e.object))
        } else {
            String::new()
        };
        let outcome = crate::views::annotation_text(self.numbering, n).unwrap_or_else(|| outcome_text(e));
        let outcome = if outcome.is_empty() { String::new() } else { format!(": {outcome}") };
        let forced = if n.forced { " (placed without what it waited for: the trace is damaged)" } else { "" };
        format!(
            "#{} [{}] {}{object}{outcome}  at {}{forced}",
            n.number,
            self.tables.thread_label(n.thread),
            e.op.name(),
            self.tables.site_label(n.thread, e.site)
        )
    }

    /// Where the session is, as printed after a move.
    fn here(&self) -> Vec<String> {
        let mut lines = match self.numbering.get(self.position) {
            Some(n) => vec![self.event_line(&n)],
            None => vec!["at the start, before event 1".into()],
        };
        if self.position == self.numbering.len() {
            lines.push(self.ending());
        }
        lines
    }

    /// How the recorded run ended.
    fn ending(&self) -> String {
        match &self.numbering.trace().footer {
            Some(f) => {
                let notes: Vec<&str> = f.annotations.iter().map(|(_, v)| v.as_str()).collect();
                format!("end of the trace: {} ({})", f.verdict, notes.join("; "))
            }
            None => "end of the trace: the recording did not finish (a crash or a kill)".into(),
        }
    }

    fn step(&mut self, n: u64) -> Result<Vec<String>, String> {
        // Zero events is no move, in a selected thread as in all of them.
        if n == 0 {
            return Ok(self.here());
        }
        match self.selected {
            None => {
                self.goto(self.position.saturating_add(n));
            }
            Some(t) => {
                let next = self.numbering.thread_position(t, self.position);
                let target = next + n - 1;
                let last = self.numbering.thread_len(t);
                match self.numbering.global(t, target.min(last.saturating_sub(1))) {
                    Some(number) if number > self.position => {
                        self.goto(number);
                    }
                    _ => return Err(format!("thread {t} has no event after #{}", self.position)),
                }
            }
        }
        Ok(self.here())
    }

    fn back(&mut self, n: u64) -> Result<Vec<String>, String> {
        if n == 0 {
            return Ok(self.here());
        }
        match self.selected {
            None => {
                self.goto(self.position.saturating_sub(n));
            }
            Some(t) => {
                let before = self.numbering.thread_position(t, self.position.saturating_sub(1));
                match before.checked_sub(n).and_then(|i| self.numbering.global(t, i)) {
                    Some(number) => {
                        self.goto(number);
                    }
                    None => {
                        self.goto(0);
                    }
                }
            }
        }
        Ok(self.here())
    }

    fn matches(&self, n: &Numbered<'_>) -> Option<usize> {
        if self.selected.is_some_and(|t| t != n.thread) {
            return None;
        }
        self.breaks.iter().position(|b| match b {
            Breakpoint::Kind(kind) => {
                n.event.op.name() == kind
                    // Every view calls both "captures"; a sensitive one is
                    // still a capture, as `print captures` lists it.
                    || (kind == Op::Capture.name() && n.event.op == Op::CaptureSensitive)
                    || (n.event.op.has_object()
                        && self.tables.object(n.event.object).is_some_and(|o| o.kind.name() == kind))
            }
            Breakpoint::Object(o) => {
                (n.event.op.has_object() && n.event.object == *o)
                    || matches!(n.event.outcome(), Ok(Outcome::CondWait { mutex, .. }) if mutex == *o)
            }
            Breakpoint::Thread(t) => self.thread(t).is_ok_and(|t| t == n.thread),
            Breakpoint::Line { file, line } => self
                .tables
                .site(n.thread, n.event.site)
                .is_some_and(|s| s.line == *line && s.file.ends_with(file.as_str())),
        })
    }

    fn stopped(&mut self, found: Option<(Numbered<'t>, usize)>, end: u64) -> Vec<String> {
        match found {
            Some((n, b)) => {
                self.goto(n.number);
                let mut lines = vec![format!("breakpoint {}:", b + 1)];
                lines.extend(self.here());
                lines
            }
            None => {
                self.goto(end);
                let mut lines = vec!["no breakpoint hit".to_string()];
                lines.extend(self.here());
                lines
            }
        }
    }

    fn continue_forward(&mut self) -> Vec<String> {
        let found = self.numbering.iter_from(self.position + 1).find_map(|n| Some((n, self.matches(&n)?)));
        self.stopped(found, self.numbering.len())
    }

    fn continue_back(&mut self) -> Vec<String> {
        let found = (1..self.position).rev().find_map(|k| {
            let n = self.numbering.get(k)?;
            Some((n, self.matches(&n)?))
        });
        self.stopped(found, 0)
    }

    fn list(&self) -> Vec<String> {
        let from = self.position.saturating_sub(3).max(1);
        (from..=self.position + 3)
            .filter_map(|k| self.numbering.get(k))
            .map(|n| format!("{} {}", if n.number == self.position { ">" } else { " " }, self.event_line(&n)))
            .collect()
    }

    fn indexes(&self) -> &ObjectIndexes {
        self.objects.get_or_init(|| {
            let mut ix = ObjectIndexes::default();
            for n in self.numbering.iter() {
                let e = n.event;
                if e.op.has_object() {
                    ix.events.entry(e.object).or_default().push(n.number);
                }
                match e.outcome() {
                    Ok(Outcome::CondWait { mutex, .. }) => ix.events.entry(mutex).or_default().push(n.number),
                    Ok(
                        Outcome::Send(Sent::Delivered { seq })
                        | Outcome::SelectSend { sent: Sent::Delivered { seq }, .. },
                    ) => {
                        ix.sends.insert((n.thread, seq), n.number);
                    }
                    _ => {}
                }
            }
            ix
        })
    }
}

#[cfg(test)]
mod tests;
