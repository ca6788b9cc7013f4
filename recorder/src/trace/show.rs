//! Strings from a trace, made safe to print. A trace is input: a thread name,
//! a file name or a panic message in it may hold terminal escapes (`\x1b[2J`
//! clears the screen), line breaks that forge output lines, or 60 KB of text.
//! Every human-facing output passes trace strings through [`text`], and whole
//! messages through [`block`], so none of that reaches a terminal.

use std::fmt::Write as _;

/// The most characters of one trace string that are shown.
pub const MAX_SHOWN: usize = 200;
/// The most characters of one line of a composed message that are shown.
pub const MAX_LINE: usize = 4000;

/// One string from a trace as it may be printed: control characters (line
/// breaks included) escaped, at most [`MAX_SHOWN`] characters, then
/// `…(N more bytes)`.
///
/// # Examples
///
/// ```
/// use reprise_recorder::trace::show::text;
///
/// assert_eq!(text("ledger-0"), "ledger-0");
/// assert_eq!(text("\u{1b}[2J\nx"), "\\u{1b}[2J\\nx");
/// assert!(text(&"a".repeat(60_000)).ends_with("…(59800 more bytes)"));
/// ```
pub fn text(s: &str) -> String {
    escaped(s, MAX_SHOWN, false)
}

/// A composed message (which may quote trace strings) as it may be printed:
/// its own line breaks kept, every other control character escaped, each
/// line at most [`MAX_LINE`] characters.
///
/// # Examples
///
/// ```
/// use reprise_recorder::trace::show::block;
///
/// assert_eq!(block("replay diverged\n  in `\u{1b}]0;x\u{7}`"), "replay diverged\n  in `\\u{1b}]0;x\\u{7}`");
/// ```
pub fn block(s: &str) -> String {
    escaped(s, MAX_LINE, true)
}

fn escaped(s: &str, max: usize, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(s.len().min(max * 2));
    if !keep_newlines {
        push_line(&mut out, s, max);
        return out;
    }
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        push_line(&mut out, line, max);
    }
    out
}

/// Pushes at most `max` characters of `line`, escaped, then how many bytes
/// were left out.
fn push_line(out: &mut String, line: &str, max: usize) {
    for (shown, (at, c)) in line.char_indices().enumerate() {
        if shown == max {
            let _ = write!(out, "…({} more bytes)", line.len() - at);
            return;
        }
        push_safe(out, c);
    }
}

/// Pushes `c`, escaped if a terminal would act on it rather than show it.
fn push_safe(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        // C0 and C1 controls and DEL, and the bidirectional overrides that
        // reorder what a reader sees.
        c if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_plain_text_is_kept() {
        assert_eq!(text("ok: ünïcode €"), "ok: ünïcode €");
        assert_eq!(
            text("a\u{1b}[2Jb\tc\r\u{7f}\u{9b}\u{202e}"),
            "a\\u{1b}[2Jb\\tc\\r\\u{7f}\\u{9b}\\u{202e}"
        );
        assert!(!text("\u{1b}").contains('\u{1b}'));
    }

    #[test]
    fn long_strings_are_cut_with_the_count_of_what_was_left_out() {
        let long = "é".repeat(300);
        let shown = text(&long);
        assert_eq!(shown, format!("{}…(200 more bytes)", "é".repeat(200)));
        assert_eq!(text(&"x".repeat(MAX_SHOWN)), "x".repeat(MAX_SHOWN));
    }

    #[test]
    fn a_block_keeps_its_lines_and_cuts_each_one() {
        let long = format!("head\n{}\ntail\u{1b}", "y".repeat(MAX_LINE + 5));
        let shown = block(&long);
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1], format!("{}…(5 more bytes)", "y".repeat(MAX_LINE)));
        assert_eq!(lines[2], "tail\\u{1b}");
    }
}
