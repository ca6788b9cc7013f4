//! Captured inputs under `--cfg reprise_loom`: nothing to record or replay,
//! so [`capture`] runs the closure. The bounds stay those of reprise's, so
//! the same code compiles in both builds.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Runs `read` and returns its value. Inside a model, `read` must give the
/// same value every time loom runs it (a fixed input, not a real read).
#[track_caller]
pub fn capture<T, F>(read: F) -> T
where
    T: Serialize + DeserializeOwned,
    F: FnOnce() -> T,
{
    read()
}
