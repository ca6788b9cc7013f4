//! What a recording does when something outside the program's own logic
//! happens: a proven deadlock, a trace that cannot be created.

/// What a recording does once it has proven a deadlock
/// ([`crate::RecordConfig::on_deadlock`]). In every case the verdict is
/// written and the trace finished first, so the file on disk is whole.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OnDeadlock {
    /// Leave the program as it is: its deadlocked threads stay blocked, as
    /// they would without reprise, and [`crate::record`] keeps waiting for
    /// the recorded closure. The default: reprise never ends a host.
    #[default]
    Wait,
    /// Exit the process with `code` (see [`OnDeadlock::exit`] for the
    /// usual one).
    Exit {
        /// The process's exit code.
        code: i32,
    },
    /// Make [`crate::record`] return with the verdict, leaving the
    /// deadlocked threads blocked (they cannot be ended). For tests and
    /// tools that record a closure and must not hang. Under
    /// [`crate::start_recording`], whose caller is itself one of the
    /// recorded threads, there is no one to return to: it acts as `Wait`.
    Return,
}

impl OnDeadlock {
    /// Exit with [`crate::DEADLOCK_EXIT_CODE`].
    pub const fn exit() -> OnDeadlock {
        OnDeadlock::Exit { code: crate::DEADLOCK_EXIT_CODE }
    }
}

/// What `reprise::main` does when it cannot create the trace
/// ([`crate::RecordConfig::on_record_error`]); it says why on stderr first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OnRecordError {
    /// Run the program unrecorded. The default: a recording that cannot
    /// start must not keep the program from running.
    #[default]
    RunUnrecorded,
    /// Exit the process with `code` without running the program (see
    /// [`OnRecordError::exit`] for the usual one).
    Exit {
        /// The process's exit code.
        code: i32,
    },
}

impl OnRecordError {
    /// Exit with [`crate::RECORD_ERROR_EXIT_CODE`].
    pub const fn exit() -> OnRecordError {
        OnRecordError::Exit { code: crate::RECORD_ERROR_EXIT_CODE }
    }
}
