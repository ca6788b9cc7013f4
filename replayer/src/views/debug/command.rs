//! The debugger's command language, parsed into [`Command`]s.

use reprise_recorder::trace::model::ObjectIndex;

/// What a breakpoint stops at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Breakpoint {
    /// An op (`lock`, `recv`, ...) or an object kind (`mutex`, `channel`).
    Kind(String),
    /// Any event on this object.
    Object(ObjectIndex),
    /// Any event of this thread (an index or a name).
    Thread(String),
    /// Events whose call site's file ends with `file` at `line`.
    Line {
        /// The file, or the end of its path.
        file: String,
        /// The line.
        line: u32,
    },
}

impl std::fmt::Display for Breakpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Breakpoint::Kind(kind) => write!(f, "every {kind}"),
            Breakpoint::Object(o) => write!(f, "object #{o}"),
            Breakpoint::Thread(t) => write!(f, "thread {t}"),
            Breakpoint::Line { file, line } => write!(f, "{file}:{line}"),
        }
    }
}

/// One debugger command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Forward n events (in the selected thread, if one is).
    Step(u64),
    /// Back n events.
    Back(u64),
    /// To the event with this number.
    Goto(u64),
    /// Select a thread (`None`: every thread again).
    Thread(Option<String>),
    /// Add a breakpoint.
    Break(Breakpoint),
    /// Remove every breakpoint.
    Delete,
    /// Forward to the next breakpoint.
    Continue,
    /// Back to the previous breakpoint.
    ReverseContinue,
    /// Each thread's position and what it waits for.
    Where,
    /// An object's recorded history up to here (`None`: the current event's).
    Print(Option<String>),
    /// The events around the current one.
    List,
    /// The commands.
    Help,
    /// Leave.
    Quit,
}

/// The help text.
pub const HELP: &str = "\
commands (event numbers are the global ones every reprise view uses):
  step [N]            forward N events (1), in the selected thread if any
  back [N]            back N events (1)
  goto EVENT          to event number EVENT (0: before the first)
  thread [T|all]      select thread T (index or name); `all` or nothing: every thread
  break KIND          stop at an op (lock, recv, send, capture: sensitive ones too, ...) or
                      object kind (mutex, channel, ...)
  break object N      stop at any event on object #N
  break thread T      stop at any event of thread T
  break FILE:LINE     stop at events called from FILE:LINE (FILE may be the end of the path)
  delete              remove every breakpoint
  continue            forward to the next breakpoint (or the end)
  reverse-continue    back to the previous breakpoint (or the start)
  where               each thread's position and what its next event waits for
  print [OBJECT]      an object's history up to here (#N or N; `captures`: captured values)
  list                the events around the current one
  help                this text
  quit                leave";

fn count(arg: Option<&str>) -> Result<u64, String> {
    match arg {
        None => Ok(1),
        Some(a) => a.parse().map_err(|_| format!("`{a}` is not a count")),
    }
}

/// Parses one line; `Ok(None)` for an empty line.
///
/// # Errors
///
/// An unknown command or a bad argument, in words.
pub fn parse(line: &str) -> Result<Option<Command>, String> {
    let mut words = line.split_whitespace();
    let Some(name) = words.next() else { return Ok(None) };
    let rest: Vec<&str> = words.collect();
    let one = rest.first().copied();
    let command = match name {
        "step" | "s" | "next" | "n" => Command::Step(count(one)?),
        "back" | "b" => Command::Back(count(one)?),
        "goto" | "g" => match one.map(|a| a.trim_start_matches('#').parse()) {
            Some(Ok(n)) => Command::Goto(n),
            _ => return Err("goto needs an event number".into()),
        },
        "thread" | "t" => Command::Thread(one.filter(|t| *t != "all").map(str::to_string)),
        "break" => Command::Break(breakpoint(&rest)?),
        "delete" => Command::Delete,
        "continue" | "c" => Command::Continue,
        "reverse-continue" | "rc" => Command::ReverseContinue,
        "where" | "w" | "bt" => Command::Where,
        "print" | "p" => Command::Print(one.map(str::to_string)),
        "list" | "l" => Command::List,
        "help" | "h" | "?" => Command::Help,
        "quit" | "q" | "exit" => Command::Quit,
        other => return Err(format!("unknown command `{other}` (try `help`)")),
    };
    Ok(Some(command))
}

fn breakpoint(args: &[&str]) -> Result<Breakpoint, String> {
    match args {
        ["object", n] => n
            .trim_start_matches('#')
            .parse()
            .map(Breakpoint::Object)
            .map_err(|_| format!("`{n}` is not an object number")),
        ["thread", t] => Ok(Breakpoint::Thread((*t).to_string())),
        [spec] => match spec.rsplit_once(':') {
            Some((file, line)) if !file.is_empty() => match line.parse() {
                Ok(line) => Ok(Breakpoint::Line { file: file.to_string(), line }),
                Err(_) => Err(format!("`{line}` is not a line number")),
            },
            _ => Ok(Breakpoint::Kind((*spec).to_string())),
        },
        _ => Err("break takes KIND, object N, thread T or FILE:LINE".into()),
    }
}
