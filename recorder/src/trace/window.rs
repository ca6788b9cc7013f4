//! The window of a flight-recorder dump: from which event of each thread its
//! records start.
//!
//! A dump ([`TraceMode::FlightRecorder`]) keeps only the last chunks of each
//! thread, so a thread's first event in the file may be its event 1 000 000
//! in the run. The header says where each thread starts, under the parameter
//! [`WINDOW_PARAMETER`], as `thread:event` pairs separated by commas (threads
//! not listed start at event 0). A dump's chunks are numbered from 0 as in
//! any trace, so every reader opens it; only replay needs the run from its
//! first event, and refuses a window that does not cover it
//! ([`Window::refusal`]), naming the first event it holds.

use std::collections::BTreeMap;
use std::fmt;

use super::format::{Header, TraceMode};

/// The header parameter holding a dump's window.
pub const WINDOW_PARAMETER: &str = "reprise.window";

/// From which event of each thread a flight-recorder dump starts.
///
/// # Examples
///
/// ```
/// use reprise_recorder::trace::window::Window;
///
/// let window: Window = "0:0,2:4096".parse().unwrap();
/// assert_eq!(window.first_event(2), 4096);
/// assert_eq!(window.first_event(1), 0);
/// assert!(!window.covers_run());
/// assert_eq!(window.to_string(), "2:4096");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Window {
    /// Threads whose first event in the file is not their first event in the
    /// run, and how many of their events came before it.
    starts: BTreeMap<u32, u64>,
}

impl Window {
    /// A window covering the whole run.
    pub fn whole() -> Window {
        Window::default()
    }

    /// Says that `thread`'s records start at its event `event` (0: from its start).
    pub fn set_start(&mut self, thread: u32, event: u64) {
        if event == 0 {
            self.starts.remove(&thread);
        } else {
            self.starts.insert(thread, event);
        }
    }

    /// The run's event index of `thread`'s first event in the file.
    pub fn first_event(&self, thread: u32) -> u64 {
        self.starts.get(&thread).copied().unwrap_or(0)
    }

    /// Whether every thread's records start at its first event.
    pub fn covers_run(&self) -> bool {
        self.starts.is_empty()
    }

    /// The threads that start later than their first event, with that event.
    pub fn late_starts(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.starts.iter().map(|(&t, &e)| (t, e))
    }

    /// The window `header` states: `None` for a trace that is not a
    /// flight-recorder dump.
    ///
    /// # Errors
    ///
    /// A dump whose window parameter is missing or does not parse: it cannot
    /// be told whether it covers the run.
    pub fn of(header: &Header) -> Result<Option<Window>, WindowError> {
        if header.mode != TraceMode::FlightRecorder {
            return Ok(None);
        }
        let text = header.parameter(WINDOW_PARAMETER).ok_or(WindowError::Missing)?;
        text.parse().map(Some)
    }

    /// Why a replay of the trace with `header` cannot be done, or `None`
    /// when it can: any trace but a dump, and a dump covering the whole run.
    pub fn refusal(header: &Header) -> Option<WindowRefusal> {
        match Window::of(header) {
            Ok(None) => None,
            Ok(Some(window)) if window.covers_run() => None,
            Ok(Some(window)) => {
                let (thread, event) = window.late_starts().next().unwrap_or((0, 0));
                let threads = window.starts.len();
                Some(WindowRefusal::Partial { thread, event, threads, window: window.listed(8) })
            }
            Err(error) => Some(WindowRefusal::Unreadable(error)),
        }
    }
}

impl Window {
    /// The first `most` late starts as the header states them, and how many
    /// more there are: a refusal naming 137 pairs buried its advice.
    fn listed(&self, most: usize) -> String {
        let mut text = String::new();
        for (i, (thread, event)) in self.starts.iter().take(most).enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&format!("{thread}:{event}"));
        }
        if self.starts.len() > most {
            text.push_str(&format!(" and {} more", self.starts.len() - most));
        }
        text
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (thread, event)) in self.starts.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{thread}:{event}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Window {
    type Err = WindowError;

    fn from_str(text: &str) -> Result<Window, WindowError> {
        let mut window = Window::default();
        for pair in text.split(',').filter(|p| !p.is_empty()) {
            let bad = || WindowError::Malformed(pair.to_owned());
            let (thread, event) = pair.split_once(':').ok_or_else(bad)?;
            let thread: u32 = thread.trim().parse().map_err(|_| bad())?;
            let event: u64 = event.trim().parse().map_err(|_| bad())?;
            if window.starts.contains_key(&thread) {
                return Err(bad());
            }
            window.set_start(thread, event);
        }
        Ok(window)
    }
}

/// Why a dump's window cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    /// A flight-recorder dump without the window parameter.
    #[error(
        "the flight-recorder dump does not say where its window starts (no `{WINDOW_PARAMETER}` parameter)"
    )]
    Missing,
    /// A pair that is not `thread:event`, or a thread listed twice.
    #[error(
        "the flight-recorder dump's window has a bad entry `{0}` (expected thread:event, each thread once)"
    )]
    Malformed(String),
}

/// Why a flight-recorder dump cannot be replayed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WindowRefusal {
    /// The dump lost the start of the run: replay cannot rebuild the state
    /// (balances, queues, locks) the program had when the window starts.
    #[error(
        "cannot replay: this flight-recorder dump holds only the end of the run (a thread's ring \
         overwrote its older events, or the thread had exited before the last threads that keep \
         theirs); its window starts at event {event} of thread {thread} ({threads} thread(s) start \
         late: {window}). Replay needs every thread from its first event; `reprise inspect` and \
         `reprise verify` read the window. To replay the next dump, keep more: \
         REPRISE_FLIGHT=path,events=N or bytes=N (per thread), exited=N (threads that exited; \
         default 64)."
    )]
    Partial {
        /// The first thread that starts late.
        thread: u32,
        /// The run's event index at which that thread's records start.
        event: u64,
        /// How many threads start late.
        threads: usize,
        /// The whole window, as the header states it.
        window: String,
    },
    /// The window cannot be read, so it cannot be known to cover the run.
    #[error("cannot replay: {0}")]
    Unreadable(WindowError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(mode: TraceMode, window: Option<&str>) -> Header {
        Header {
            program: "p".into(),
            program_version: "1".into(),
            recorder_version: "0".into(),
            mode,
            parameters: window.map(|w| vec![(WINDOW_PARAMETER.into(), w.into())]).unwrap_or_default(),
            start_unix_ms: 0,
        }
    }

    #[test]
    fn a_recording_and_a_whole_dump_replay_and_a_partial_one_is_refused_with_its_start() {
        assert_eq!(Window::refusal(&header(TraceMode::Record, None)), None);
        assert_eq!(Window::refusal(&header(TraceMode::FlightRecorder, Some(""))), None);
        assert_eq!(Window::refusal(&header(TraceMode::FlightRecorder, Some("0:0,1:0"))), None);
        let refusal = Window::refusal(&header(TraceMode::FlightRecorder, Some("3:1200,1:77"))).unwrap();
        assert_eq!(
            refusal,
            WindowRefusal::Partial { thread: 1, event: 77, threads: 2, window: "1:77,3:1200".into() }
        );
        assert!(refusal.to_string().contains("starts at event 77 of thread 1"), "{refusal}");
        assert!(refusal.to_string().contains("exited=N"), "the advice names every budget: {refusal}");
        // A fan-in whose exited threads were retired: the refusal names a
        // few of them, and its advice stays readable.
        let many: Vec<String> = (1..=137).map(|t| format!("{t}:3")).collect();
        let refusal = Window::refusal(&header(TraceMode::FlightRecorder, Some(&many.join(",")))).unwrap();
        let said = refusal.to_string();
        assert!(
            said.contains("137 thread(s) start late: 1:3,2:3,3:3,4:3,5:3,6:3,7:3,8:3 and 129 more"),
            "{said}"
        );
        assert!(!said.contains("9:3"), "{said}");
    }

    #[test]
    fn a_dump_without_a_readable_window_is_refused() {
        let missing = Window::refusal(&header(TraceMode::FlightRecorder, None)).unwrap();
        assert_eq!(missing, WindowRefusal::Unreadable(WindowError::Missing));
        for bad in ["1", "x:2", "1:y", "1:2,1:3", "1:-4"] {
            let refusal = Window::refusal(&header(TraceMode::FlightRecorder, Some(bad)));
            assert!(matches!(refusal, Some(WindowRefusal::Unreadable(WindowError::Malformed(_)))), "{bad}");
        }
    }

    #[test]
    fn a_window_reads_back_what_it_writes() {
        let mut window = Window::whole();
        window.set_start(4, 9);
        window.set_start(0, 123_456_789_012);
        window.set_start(2, 0);
        let text = window.to_string();
        assert_eq!(text, "0:123456789012,4:9");
        assert_eq!(text.parse::<Window>().unwrap(), window);
    }
}
