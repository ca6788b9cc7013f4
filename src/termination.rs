//! What a body run by [`crate::main`] may return, and the exit code each
//! shape stands for: the shapes `fn main` may return in std.
//!
//! std's own `Termination` trait cannot be called on stable Rust (its
//! `report` is unstable) and `ExitCode` has no stable accessor for its number,
//! so reprise has its own trait. An `ExitCode` is read by comparing it with
//! `ExitCode::from(n)` for every `n`: the only codes stable Rust can build
//! are those 256 (`SUCCESS` and `FAILURE` among them).

use std::convert::Infallible;
use std::fmt::Debug;
use std::process::ExitCode;

/// The annotation under which a recording stores the exit code its body
/// returned; a replay under [`crate::main`] sets the code it got against it.
pub const EXIT_CODE_NOTE: &str = "reprise.exit_code";

/// A value `main`'s body may return, as std's `Termination`: `()`,
/// [`ExitCode`], `Result<T, E>` with `T` one of these and `E: Debug`.
///
/// # Examples
///
/// ```
/// use std::process::ExitCode;
/// use reprise::Termination;
///
/// assert_eq!(().exit_code(), 0);
/// assert_eq!(ExitCode::from(2).exit_code(), 2);
/// assert_eq!(Ok::<(), String>(()).exit_code(), 0);
/// // Prints `Error: "no input"` on stderr, as `fn main` does.
/// assert_eq!(Err::<(), _>("no input").exit_code(), 1);
/// ```
pub trait Termination {
    /// The process's exit code for this value; an error is printed on
    /// stderr as `Error: {e:?}` first, as std does.
    fn exit_code(self) -> u8;
}

impl Termination for () {
    fn exit_code(self) -> u8 {
        0
    }
}

impl Termination for ExitCode {
    fn exit_code(self) -> u8 {
        // Every ExitCode stable Rust can build is one of these; FAILURE's
        // number is the platform's, so it is the fallback too.
        (0..=u8::MAX).find(|&n| ExitCode::from(n) == self).unwrap_or(1)
    }
}

impl Termination for Infallible {
    fn exit_code(self) -> u8 {
        match self {}
    }
}

impl<T: Termination, E: Debug> Termination for Result<T, E> {
    fn exit_code(self) -> u8 {
        match self {
            Ok(value) => value.exit_code(),
            Err(e) => {
                eprintln!("Error: {e:?}");
                1
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exit_code_reads_back_as_its_number() {
        for n in 0..=u8::MAX {
            assert_eq!(ExitCode::from(n).exit_code(), n);
        }
        assert_eq!(ExitCode::SUCCESS.exit_code(), 0);
        assert_eq!(ExitCode::FAILURE.exit_code(), 1);
    }

    #[test]
    fn a_result_is_its_value_s_code_or_one() {
        assert_eq!(Ok::<ExitCode, String>(ExitCode::from(7)).exit_code(), 7);
        assert_eq!(Err::<ExitCode, _>("bad").exit_code(), 1);
        assert_eq!(Ok::<Result<(), i32>, i32>(Err(3)).exit_code(), 1);
    }
}
