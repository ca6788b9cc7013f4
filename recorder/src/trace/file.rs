//! Creating a trace file: readable by its owner only, since a trace holds
//! what the program captured (account numbers, balances, payloads).

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// The permission bits of a trace file on Unix: owner read and write.
pub const TRACE_FILE_MODE: u32 = 0o600;

/// Creates (or truncates) the trace file at `path`, with mode
/// [`TRACE_FILE_MODE`] on Unix. A regular file that already exists with a
/// wider mode is narrowed to it, since its old contents are replaced by
/// the new trace.
///
/// # Errors
///
/// When the file cannot be opened for writing, or an existing one's mode
/// cannot be narrowed.
///
/// # Examples
///
/// ```
/// let path = std::env::temp_dir().join(format!("file-doc-{}.trace", std::process::id()));
/// let file = reprise_recorder::trace::file::create(&path)?;
/// # #[cfg(unix)]
/// # {
/// use std::os::unix::fs::PermissionsExt;
/// assert_eq!(file.metadata()?.permissions().mode() & 0o777, 0o600);
/// # }
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn create(path: impl AsRef<Path>) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(TRACE_FILE_MODE);
        let file = options.open(path)?;
        let metadata = file.metadata()?;
        // `mode` applies only to a file this call created.
        if metadata.is_file() && metadata.permissions().mode() & 0o777 != TRACE_FILE_MODE {
            file.set_permissions(std::fs::Permissions::from_mode(TRACE_FILE_MODE))?;
        }
        Ok(file)
    }
    #[cfg(not(unix))]
    {
        options.open(path)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    fn mode_of(path: &std::path::Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_trace_file_is_readable_by_its_owner_only() {
        let path = std::env::temp_dir().join(format!("reprise-mode-new-{}.trace", std::process::id()));
        let _ = std::fs::remove_file(&path);
        super::create(&path).unwrap();
        assert_eq!(mode_of(&path), 0o600);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn an_existing_world_readable_file_is_narrowed_when_overwritten() {
        let path = std::env::temp_dir().join(format!("reprise-mode-old-{}.trace", std::process::id()));
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        super::create(&path).unwrap();
        assert_eq!(mode_of(&path), 0o600);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
        std::fs::remove_file(&path).unwrap();
    }
}
