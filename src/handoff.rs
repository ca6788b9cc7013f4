//! The report a program replayed by `reprise replay FILE -- CMD` hands back:
//! `reprise::main`'s replay writes its exit code into the file named by
//! [`REPORT_ENV`], so the CLI can tell a program that replayed the trace from
//! one that never read it (`-- /bin/true` exits 0 too).

use std::path::Path;

/// The environment variable naming the report file.
pub const REPORT_ENV: &str = "REPRISE_REPLAY_REPORT";

/// Writes `code` and a one-line summary into the report file, if the
/// environment names one. A failure to write is said once on stderr: the
/// replay's own exit code still stands.
pub(crate) fn write(code: i32, summary: &str) {
    // A child forked from the replayed program is not the replay: its word
    // would stand for the parent's.
    if reprise_recorder::hook::is_forked_child() {
        return;
    }
    let Some(path) = crate::inherited::var(REPORT_ENV).filter(|p| !p.is_empty()) else {
        return;
    };
    let first = summary.lines().next().unwrap_or_default();
    if let Err(e) = std::fs::write(&path, format!("{code}\n{first}\n")) {
        eprintln!("reprise: cannot write the replay report `{}`: {e}", Path::new(&path).display());
    }
}

/// A fresh report path for one child.
#[cfg(feature = "cli")]
pub(crate) fn new_path() -> std::path::PathBuf {
    let stamp =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    std::env::temp_dir().join(format!("reprise-replay-{}-{stamp}.report", std::process::id()))
}

/// The exit code a report holds; `None` when there is no report or it is not
/// one (the program did not replay).
#[cfg(feature = "cli")]
pub(crate) fn read(path: &Path) -> Option<i32> {
    let text = std::fs::read(path).ok()?;
    let text = String::from_utf8_lossy(&text[..text.len().min(4096)]).into_owned();
    text.lines().next()?.trim().parse().ok()
}

#[cfg(all(test, feature = "cli"))]
mod tests {
    use super::*;

    #[test]
    fn a_report_holds_its_code_and_junk_is_no_report() {
        let path = new_path();
        assert_eq!(read(&path), None);
        std::fs::write(&path, "8\nreplay followed the trace but\n").unwrap();
        assert_eq!(read(&path), Some(8));
        std::fs::write(&path, "\u{1b}[2J").unwrap();
        assert_eq!(read(&path), None);
        std::fs::remove_file(&path).unwrap();
    }
}
