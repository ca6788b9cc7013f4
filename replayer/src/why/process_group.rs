//! Stopping a `why` run that outlived its backstop together with what it
//! started: `cargo test` runs the test binary as a child of its own, and
//! killing cargo alone would leave the run going. The parent starts each
//! run as the leader of a new process group and, on timeout, kills the
//! group. (The binary forbids `unsafe`, so the one call lives here.)

/// Sends SIGKILL to the process group `leader` leads. Errors (the group
/// ended already) are ignored: the caller kills and reaps the leader next.
#[cfg(unix)]
#[allow(unsafe_code)]
pub fn kill(leader: u32) {
    let Ok(pid) = libc::pid_t::try_from(leader) else { return };
    if pid <= 0 {
        return;
    }
    // SAFETY: kill(2) takes plain integers and touches no memory of ours; a
    // negative pid names the process group whose id is `pid`.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
}

/// Without process groups there is nothing more to kill than the leader.
#[cfg(not(unix))]
pub fn kill(_leader: u32) {}
