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
/// The file stays locked (an advisory lock, `flock` on Unix) while the
/// returned handle lives, and an existing file is emptied only once the lock
/// is held: a second recording into the same path (a child process that
/// inherited `REPRISE_RECORD`, another instance of the program) is refused
/// with [`io::ErrorKind::ResourceBusy`] instead of emptying the first one's
/// trace and writing over it.
///
/// # Errors
///
/// When the file cannot be opened for writing, another handle holds its lock
/// ([`io::ErrorKind::ResourceBusy`]), or an existing one's mode cannot be
/// narrowed.
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
/// // While `file` is open, the path is taken.
/// let second = reprise_recorder::trace::file::create(&path).unwrap_err();
/// assert_eq!(second.kind(), std::io::ErrorKind::ResourceBusy);
/// # drop(file);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn create(path: impl AsRef<Path>) -> io::Result<File> {
    let mut options = OpenOptions::new();
    // Not truncated at open: only once this handle holds the lock.
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(TRACE_FILE_MODE);
        let file = locked(options.open(path)?)?;
        let metadata = file.metadata()?;
        // `mode` applies only to a file this call created.
        if metadata.is_file() && metadata.permissions().mode() & 0o777 != TRACE_FILE_MODE {
            file.set_permissions(std::fs::Permissions::from_mode(TRACE_FILE_MODE))?;
        }
        Ok(file)
    }
    #[cfg(not(unix))]
    {
        locked(options.open(path)?)
    }
}

/// `file`, locked for this handle and emptied; `ResourceBusy` when another
/// handle holds its lock. Only a regular file is locked: `/dev/null` or a
/// pipe is shared by every writer. A file system without locks leaves the
/// file unlocked, written as before locks were taken.
fn locked(file: File) -> io::Result<File> {
    if !file.metadata()?.is_file() {
        return Ok(file);
    }
    match file.try_lock() {
        Ok(()) | Err(std::fs::TryLockError::Error(_)) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(io::Error::new(
                io::ErrorKind::ResourceBusy,
                "another recording is writing this file (a child process that inherited \
                 REPRISE_RECORD, or a second recording into the same path); give each its own \
                 file: REPRISE_RECORD and REPRISE_FLIGHT put the process id where the path says %p",
            ));
        }
    }
    file.set_len(0)?;
    Ok(file)
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

    #[test]
    fn a_second_recording_into_a_file_being_written_is_refused_and_leaves_it_whole() {
        let path = std::env::temp_dir().join(format!("reprise-lock-{}.trace", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut first = super::create(&path).unwrap();
        std::io::Write::write_all(&mut first, b"the first recording").unwrap();
        let second = super::create(&path).unwrap_err();
        assert_eq!(second.kind(), std::io::ErrorKind::ResourceBusy, "{second}");
        assert!(second.to_string().contains("%p"), "{second}");
        assert_eq!(std::fs::read(&path).unwrap(), b"the first recording", "the refused one emptied it");
        drop(first);
        // Once the first is done, the path is free again, and emptied.
        drop(super::create(&path).unwrap());
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn dev_null_takes_any_number_of_recordings() {
        let first = super::create("/dev/null").unwrap();
        let second = super::create("/dev/null").unwrap();
        drop((first, second));
    }
}
