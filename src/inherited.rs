//! What the program's own child processes inherit of reprise's variables.
//!
//! A process under `reprise::main` that starts another instrumented program
//! (itself as a helper, a batch step) would hand it `REPRISE_RECORD`: the
//! helper recorded into the same file and made the trace a mix of both
//! (`verify`: "a chunk was replaced or moved"); under `REPRISE_REPLAY` the
//! helper replayed its parent's trace, diverged and exited 3 where the
//! recorded helper had run plainly. So `reprise::main` reads its variables
//! once and takes them out of the environment: the program's children run
//! plainly in every mode. A path that says `%p` names one file per process,
//! and stays: each child records its own.

use std::ffi::{OsStr, OsString};
use std::sync::OnceLock;

use crate::env::COROUTINES_ENV;
use crate::handoff::REPORT_ENV;
use crate::stop_at::{STOP_AT_ENV, STOP_AT_PARENT_ENV};
use reprise_replayer::why::child::{WHY_RESULT_ENV, WHY_RUN_ENV, WHY_TRACE_ENV};

/// The variables of one replay or `why` run: no child of the program is
/// part of it.
const SESSION: [&str; 8] = [
    "REPRISE_REPLAY",
    COROUTINES_ENV,
    REPORT_ENV,
    STOP_AT_ENV,
    STOP_AT_PARENT_ENV,
    WHY_TRACE_ENV,
    WHY_RUN_ENV,
    WHY_RESULT_ENV,
];

/// The variables naming where a recording goes: taken out unless their path
/// says `%p`.
const RECORDING: [&str; 2] = ["REPRISE_RECORD", "REPRISE_FLIGHT"];

/// Each variable of [`SESSION`] and [`RECORDING`] as it was when
/// [`withhold`] took them out.
static SEEN: OnceLock<Vec<(&'static str, Option<OsString>)>> = OnceLock::new();

/// `name`'s value for this process: as it was before [`withhold`], if that
/// ran, else the environment's.
pub(crate) fn var(name: &str) -> Option<OsString> {
    match SEEN.get() {
        Some(seen) => match seen.iter().find(|(n, _)| *n == name) {
            Some((_, value)) => value.clone(),
            None => std::env::var_os(name),
        },
        None => std::env::var_os(name),
    }
}

/// Takes reprise's variables out of the environment the program's child
/// processes will inherit, keeping their values for [`var`]; `REPRISE_RECORD`
/// and `REPRISE_FLIGHT` stay when their path says `%p`. Only while the
/// process runs one thread: changing the environment while another thread
/// may read it (C's `getenv`) is undefined; then they stay, and a child
/// recording into its parent's file is refused by the file's lock.
pub(crate) fn withhold() {
    let names = SESSION.iter().chain(RECORDING.iter()).copied();
    let seen = SEEN.get_or_init(|| names.map(|name| (name, std::env::var_os(name))).collect());
    if !single_threaded() {
        return;
    }
    for (name, value) in seen {
        let per_process = RECORDING.contains(name) && value.as_deref().is_some_and(says_pid);
        if value.is_some() && !per_process {
            std::env::remove_var(name);
        }
    }
}

/// Whether this process runs one thread, as far as it can tell.
fn single_threaded() -> bool {
    #[cfg(target_os = "linux")]
    {
        std::fs::read_dir("/proc/self/task").is_ok_and(|tasks| tasks.count() == 1)
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// Whether `spec` has a `%p` for [`with_pid`] to fill.
fn says_pid(spec: &OsStr) -> bool {
    let mut chars = spec.to_str().unwrap_or_default().chars();
    while let Some(c) = chars.next() {
        if c == '%' && chars.next() == Some('p') {
            return true;
        }
    }
    false
}

/// `spec` with this process's id where it says `%p`, and `%` where it says
/// `%%`; any other `%` stays as it is, and so does a spec that is not UTF-8.
pub(crate) fn with_pid(spec: &OsStr) -> OsString {
    let Some(text) = spec.to_str() else { return spec.to_owned() };
    let mut out = String::with_capacity(text.len() + 10);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('%', Some('p')) => {
                out.push_str(&std::process::id().to_string());
                chars.next();
            }
            ('%', Some('%')) => {
                out.push('%');
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_gets_the_process_id_where_it_says_percent_p() {
        let pid = std::process::id();
        assert_eq!(with_pid(OsStr::new("/tmp/t-%p.trace")), OsString::from(format!("/tmp/t-{pid}.trace")));
        assert_eq!(with_pid(OsStr::new("a%%p-%q%")), OsString::from("a%p-%q%"));
        assert_eq!(with_pid(OsStr::new("plain.trace")), OsString::from("plain.trace"));
        assert!(says_pid(OsStr::new("t-%p.trace,events=10")));
        assert!(!says_pid(OsStr::new("t-%%p.trace")));
    }
}
