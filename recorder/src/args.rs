//! The recorded program's command-line arguments in the trace header: always a
//! stable hash, the clear values only on request (they can hold secrets), and
//! the comparison a replay makes with its own arguments.
//!
//! The arguments are those after the program's path (`std::env::args_os()`
//! without its first item): the same program started from another directory or
//! through another path is the same run, while `--accounts 3` and
//! `--accounts 4` are not.
//!
//! ```
//! use reprise_recorder::args::{args_hash, ArgsCheck};
//!
//! assert_eq!(args_hash(["--seed", "7"]), args_hash(["--seed", "7"]));
//! // A boundary moved between two arguments is a different command line.
//! assert_ne!(args_hash(["--seed", "7"]), args_hash(["--seed7"]));
//! # let _ = ArgsCheck::Same;
//! ```

use std::ffi::OsStr;
use std::fmt::Write as _;

use crate::trace::format::Header;

/// The header parameter holding [`args_hash`] of the recorded run's arguments.
pub const ARGS_HASH_PARAMETER: &str = "reprise.args_hash";

/// The header parameter holding the recorded run's arguments in clear
/// ([`render_args`]), present only when `RecordConfig::record_arguments` asked
/// for it.
pub const ARGS_PARAMETER: &str = "reprise.args";

/// The longest [`render_args`] stores; longer command lines are cut with a
/// marker (the hash still covers all of them).
pub const MAX_RENDERED_ARGS: usize = 4096;

/// A stable hash of `args`: `fnv1a64:` and 16 hex digits of FNV-1a 64 over each
/// argument's length (8 bytes, little-endian) and bytes. The same in every
/// build, release and platform of reprise that has the same bytes, unlike std's
/// hasher.
pub fn args_hash<I>(args: I) -> String
where
    I: IntoIterator,
    I::Item: AsRef<OsStr>,
{
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut write = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for arg in args {
        let bytes = os_bytes(arg.as_ref());
        write(&(bytes.len() as u64).to_le_bytes());
        write(&bytes);
    }
    format!("fnv1a64:{h:016x}")
}

/// `args` for people: each argument quoted and escaped like a Rust string
/// literal (so spaces, quotes and control characters cannot mislead), separated
/// by spaces, cut at [`MAX_RENDERED_ARGS`] bytes with `... (cut)`.
pub fn render_args<I>(args: I) -> String
where
    I: IntoIterator,
    I::Item: AsRef<OsStr>,
{
    let mut out = String::new();
    for (i, arg) in args.into_iter().enumerate() {
        let arg = arg.as_ref().to_string_lossy();
        let quoted = format!("{}{:?}", if i > 0 { " " } else { "" }, &*arg);
        if out.len() + quoted.len() > MAX_RENDERED_ARGS {
            out.push_str(" ... (cut)");
            break;
        }
        let _ = write!(out, "{quoted}");
    }
    out
}

/// A value read from a trace's header, made safe to print: control characters
/// escaped (a crafted trace must not drive the terminal), cut at
/// [`MAX_RENDERED_ARGS`] characters with `... (cut)`. What [`render_args`] wrote
/// comes back unchanged.
pub fn shown(value: &str) -> String {
    let mut out = String::new();
    for (i, c) in value.chars().enumerate() {
        if i == MAX_RENDERED_ARGS {
            out.push_str(" ... (cut)");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(unix)]
fn os_bytes(arg: &OsStr) -> std::borrow::Cow<'_, [u8]> {
    use std::os::unix::ffi::OsStrExt as _;
    std::borrow::Cow::Borrowed(arg.as_bytes())
}

#[cfg(not(unix))]
fn os_bytes(arg: &OsStr) -> std::borrow::Cow<'_, [u8]> {
    std::borrow::Cow::Owned(arg.to_string_lossy().into_owned().into_bytes())
}

/// How a run's arguments compare with those a trace was recorded with.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArgsCheck {
    /// The same arguments.
    Same,
    /// The trace names no arguments (an explorer's trace, or one from an older
    /// reprise).
    NotRecorded,
    /// Different arguments.
    Differ {
        /// The recorded arguments in clear, when the recording stored them.
        recorded: Option<String>,
        /// This run's arguments in clear, shown only when the recorded ones are
        /// (a user who kept secrets out of the trace keeps them off the screen too).
        now: Option<String>,
    },
}

impl ArgsCheck {
    /// Compares `args` (a run's arguments, without the program path) with what
    /// `header` recorded.
    pub fn of<I>(header: &Header, args: I) -> ArgsCheck
    where
        I: IntoIterator,
        I::Item: AsRef<OsStr>,
    {
        let Some(recorded_hash) = header.parameter(ARGS_HASH_PARAMETER) else {
            return ArgsCheck::NotRecorded;
        };
        let args: Vec<_> = args.into_iter().collect();
        if args_hash(&args) == recorded_hash {
            return ArgsCheck::Same;
        }
        let recorded = header.parameter(ARGS_PARAMETER).map(shown);
        let now = recorded.is_some().then(|| render_args(&args));
        ArgsCheck::Differ { recorded, now }
    }

    /// The warning to print, if the arguments differ: one line, or three with
    /// the clear values.
    pub fn warning(&self) -> Option<String> {
        let ArgsCheck::Differ { recorded, now } = self else { return None };
        let mut text = "this run's arguments differ from the recorded run's (their hashes differ); \
                        a difference that changes what the program does shows up as a divergence"
            .to_owned();
        if let (Some(recorded), Some(now)) = (recorded, now) {
            let _ = write!(text, "\n  recorded: {recorded}\n  this run: {now}");
        }
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::format::TraceMode;

    fn header(parameters: &[(&str, &str)]) -> Header {
        Header {
            program: "p".into(),
            program_version: "1".into(),
            recorder_version: "1".into(),
            mode: TraceMode::Record,
            parameters: parameters.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            start_unix_ms: 0,
        }
    }

    #[test]
    fn the_hash_is_stable_and_sees_order_and_boundaries() {
        // Pinned: a change to the hash would make every stored trace warn.
        assert_eq!(args_hash(Vec::<String>::new()), "fnv1a64:cbf29ce484222325");
        assert_eq!(args_hash(["a"]), args_hash(["a"]));
        assert_ne!(args_hash(["a", "b"]), args_hash(["b", "a"]));
        assert_ne!(args_hash(["ab"]), args_hash(["a", "b"]));
        assert_ne!(args_hash([""]), args_hash(Vec::<String>::new()));
    }

    #[test]
    fn rendering_escapes_and_is_bounded() {
        assert_eq!(render_args(["--name", "a b", "\u{1b}[2J"]), r#""--name" "a b" "\u{1b}[2J""#);
        let long = render_args(std::iter::repeat_n("x".repeat(100), 1000));
        assert!(long.len() <= MAX_RENDERED_ARGS + 16, "{}", long.len());
        assert!(long.ends_with("... (cut)"));
    }

    #[test]
    fn a_replay_with_other_arguments_is_told_and_shown_them_only_when_stored() {
        let hash = args_hash(["--rounds", "5"]);
        let hashed = header(&[(ARGS_HASH_PARAMETER, &hash)]);
        assert_eq!(ArgsCheck::of(&hashed, ["--rounds", "5"]), ArgsCheck::Same);
        assert_eq!(ArgsCheck::of(&hashed, ["--rounds", "5"]).warning(), None);
        let differ = ArgsCheck::of(&hashed, ["--rounds", "6"]);
        assert_eq!(differ, ArgsCheck::Differ { recorded: None, now: None });
        let warning = differ.warning().unwrap();
        assert!(warning.contains("arguments differ"), "{warning}");
        assert!(!warning.contains("--rounds"), "no clear values unless stored: {warning}");

        let clear = render_args(["--rounds", "5"]);
        let stored = header(&[(ARGS_HASH_PARAMETER, &hash), (ARGS_PARAMETER, &clear)]);
        let warning = ArgsCheck::of(&stored, ["--rounds", "6"]).warning().unwrap();
        assert!(warning.contains(r#"recorded: "--rounds" "5""#), "{warning}");
        assert!(warning.contains(r#"this run: "--rounds" "6""#), "{warning}");

        assert_eq!(ArgsCheck::of(&header(&[]), ["x"]), ArgsCheck::NotRecorded);
    }

    #[test]
    fn stored_values_are_shown_without_control_characters_and_bounded() {
        let clear = render_args(["a\tb", "c"]);
        assert_eq!(shown(&clear), clear, "what reprise wrote comes back as it was");
        assert_eq!(shown("x\u{1b}[2Jy"), "x\\u{1b}[2Jy");
        assert!(shown(&"z".repeat(100_000)).ends_with("... (cut)"));
        let crafted = header(&[(ARGS_HASH_PARAMETER, "fnv1a64:0"), (ARGS_PARAMETER, "\u{1b}]0;pwned\u{7}")]);
        let warning = ArgsCheck::of(&crafted, ["x"]).warning().unwrap();
        assert!(!warning.contains('\u{1b}'), "{warning:?}");
    }
}
