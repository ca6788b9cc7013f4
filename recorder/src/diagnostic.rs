//! reprise's own diagnostics (a recording that stopped, a setting it could
//! not read): through `tracing` at target `reprise` when the host installed
//! a global subscriber, so they land in the host's own logs; on stderr
//! otherwise, so that a host without one still hears them.

/// Reports `message` as a warning.
pub fn warn(message: &str) {
    if tracing::dispatcher::has_been_set() {
        tracing::warn!(target: "reprise", "{message}");
    } else {
        eprintln!("reprise: {message}");
    }
}
