//! What a paused `--stop-at` replay reads on its stdin: Enter or `c` runs on
//! to the end, a later event number moves the stop there, `q` quits. At EOF
//! (stdin closed, `/dev/null`) the process stays paused until it is killed,
//! as it did before it took commands.
//!
//! The reader is its own thread, started at the first pause, so every
//! replayed thread stays parked in the gate where a debugger expects it.

use std::io::BufRead;
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::gate::replay_gate::ReplayGate;
use crate::gate::stop_at::{Phase, StopAt};

/// What a paused replay needs from the program around it to take commands:
/// the trace's numbering lives there, and so does the way it exits.
pub trait StopHost: Send + Sync + std::fmt::Debug {
    /// Where each thread stops after `event`; `Err` says why it cannot be
    /// planned (the trace cannot be read again).
    fn plan(&self, event: u64) -> Result<StopAt, String>;

    /// Ends the process: the user quit while paused at `event`. It does not
    /// return (a replay left half done is no result).
    fn quit(&self, event: u64);
}

/// Why the stop did not move; the pause stays as it was.
#[derive(Debug, thiserror::Error)]
pub enum MoveRefused {
    /// The event is not after the current stop: those events already ran.
    #[error("event {asked} is not after the current stop ({current}): give a later event")]
    NotLater {
        /// The event asked for.
        asked: u64,
        /// Where the replay is paused.
        current: u64,
    },
    /// The event is at or past the trace's end: the run would finish first.
    #[error(
        "the trace has {events} events, so a stop at {asked} would never come: give an event below {events}, \
         or Enter to run on to the end"
    )]
    PastEnd {
        /// The event asked for.
        asked: u64,
        /// The trace's event count.
        events: u64,
    },
    /// The replay is not paused (it runs, or stopped).
    #[error("the replay is not paused")]
    NotPaused,
    /// The new stop could not be planned.
    #[error("cannot plan a stop at event {asked}: {reason}")]
    Unplanned {
        /// The event asked for.
        asked: u64,
        /// Why.
        reason: String,
    },
}

/// The commands a pause at `event` accepts, for its announcement.
pub(crate) fn accepted(event: u64) -> String {
    format!(
        "type Enter or `c` to run on to the end, an event number above {event} to stop there instead, \
         `q` to quit (at EOF on stdin it stays paused until killed)"
    )
}

/// One line of stdin, understood.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Continue,
    MoveTo(u64),
    Quit,
    Unknown(String),
}

fn parse(line: &str) -> Command {
    match line.trim() {
        "" | "c" | "continue" => Command::Continue,
        "q" | "quit" => Command::Quit,
        other => match other.parse::<u64>() {
            Ok(event) => Command::MoveTo(event),
            Err(_) => Command::Unknown(other.to_string()),
        },
    }
}

/// Starts the reader of the paused replay in `gate`.
pub(super) fn start(gate: Weak<ReplayGate>, host: Arc<dyn StopHost>) {
    let spawned =
        std::thread::Builder::new().name("reprise-stop-at".into()).spawn(move || read(&gate, &*host));
    if let Err(e) = spawned {
        // Without a reader the pause is as it always was: until killed.
        eprintln!("reprise: cannot read commands ({e}); the process stays paused until it is killed");
    }
}

/// How long the reader waits between looks at a running replay (or a
/// terminal it does not own): it only sets how soon a command is read.
const LOOK_AGAIN: Duration = Duration::from_millis(50);

/// Reads commands while the replay in `gate` is paused; returns at EOF, at
/// a release, or when the replay stopped.
fn read(gate: &Weak<ReplayGate>, host: &dyn StopHost) {
    let stdin = std::io::stdin();
    let mut line = String::new();
    loop {
        let Some(event) = wait_paused(gate) else { return };
        wait_foreground();
        line.clear();
        match stdin.lock().read_line(&mut line) {
            // EOF (or an unreadable stdin): paused until killed, as before.
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let Some(gate) = gate.upgrade() else { return };
        let Some(pause) = &gate.pause else { return };
        match parse(&line) {
            Command::Continue => {
                // Said before the threads run: their output comes after it.
                eprintln!("reprise: running on from event {event} to the end");
                gate.release_stop(pause);
                return;
            }
            Command::Quit => {
                host.quit(event);
                return;
            }
            Command::MoveTo(asked) => {
                let planned = quick_refusal(asked, event, pause_events(&gate)).map_or_else(
                    || host.plan(asked).map_err(|reason| MoveRefused::Unplanned { asked, reason }),
                    Err,
                );
                let moved = planned.and_then(|stop| {
                    // Said before the threads run: the next pause comes after it.
                    eprintln!("reprise: running on from event {event} to event {asked}");
                    gate.move_stop(pause, &stop)
                });
                if let Err(e) = moved {
                    eprintln!("reprise: {e}; still paused at event {event}");
                }
            }
            Command::Unknown(text) => eprintln!(
                "reprise: `{}` is not a command: Enter or `c` runs on to the end, an event number above \
                 {event} moves the stop there, `q` quits; still paused at event {event}",
                text.escape_debug()
            ),
        }
    }
}

/// The trace's event count, as the pause knows it.
fn pause_events(gate: &ReplayGate) -> Option<u64> {
    gate.pause.as_ref().map(|pause| gate.pause_events(pause))
}

/// Refuses a move the pause can judge without planning it (planning reads
/// the trace again).
fn quick_refusal(asked: u64, current: u64, events: Option<u64>) -> Option<MoveRefused> {
    if asked <= current {
        return Some(MoveRefused::NotLater { asked, current });
    }
    match events {
        Some(events) if asked >= events => Some(MoveRefused::PastEnd { asked, events }),
        _ => None,
    }
}

/// Waits until the replay is paused: the event it is paused at, or `None`
/// when it will not pause again (released, stopped, or gone).
fn wait_paused(gate: &Weak<ReplayGate>) -> Option<u64> {
    loop {
        {
            let gate = gate.upgrade()?;
            let pause = gate.pause.as_ref()?;
            match gate.pause_phase(pause) {
                Phase::Paused(event) => return Some(event),
                Phase::Over => return None,
                Phase::Running => {}
            }
        }
        std::thread::sleep(LOOK_AGAIN);
    }
}

/// Waits while stdin is a terminal this process is in the background of:
/// reading it there would stop the whole process (SIGTTIN) under job
/// control, and `reprise replay ... --stop-at N &` is how a debugger
/// session starts. Brought to the foreground (`fg`), it reads.
#[allow(unsafe_code)]
fn wait_foreground() {
    #[cfg(unix)]
    loop {
        // SAFETY: isatty, tcgetpgrp and getpgrp take plain integers and
        // only read the process's and the terminal's state.
        // A terminal that is not this process's controlling one (-1) does
        // not stop a reader: read it.
        let background = unsafe {
            libc::isatty(0) == 1 && {
                let foreground = libc::tcgetpgrp(0);
                foreground != -1 && foreground != libc::getpgrp()
            }
        };
        if !background {
            return;
        }
        std::thread::sleep(LOOK_AGAIN);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_understood() {
        assert_eq!(parse("\n"), Command::Continue);
        assert_eq!(parse(" c \n"), Command::Continue);
        assert_eq!(parse("continue"), Command::Continue);
        assert_eq!(parse("q"), Command::Quit);
        assert_eq!(parse("quit\n"), Command::Quit);
        assert_eq!(parse("700\n"), Command::MoveTo(700));
        assert_eq!(parse("-3"), Command::Unknown("-3".into()));
        assert_eq!(parse("next"), Command::Unknown("next".into()));
    }

    #[test]
    fn a_move_not_after_the_stop_or_past_the_end_is_refused_at_once() {
        assert!(matches!(quick_refusal(500, 500, Some(900)), Some(MoveRefused::NotLater { .. })));
        assert!(matches!(quick_refusal(400, 500, Some(900)), Some(MoveRefused::NotLater { .. })));
        assert!(matches!(quick_refusal(900, 500, Some(900)), Some(MoveRefused::PastEnd { .. })));
        assert!(quick_refusal(899, 500, Some(900)).is_none());
    }
}
