//! What a replay reproduced, set against what the recording says: the verdict
//! and the annotations. A replay that followed every recorded event can still
//! end differently (a spliced trace, an edited footer, a program whose result
//! depends on something reprise does not see); this is where that shows.

use std::collections::BTreeSet;
use std::fmt;

use reprise_recorder::trace::format::{BlockedThread, Footer, Verdict};
use reprise_recorder::trace::model::Op;

/// One thing the replay reproduced differently from the recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// What differs: "verdict", or "annotation `digest`".
    pub what: String,
    /// What the recording says.
    pub expected: String,
    /// What the replay reproduced.
    pub got: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: expected {}, got {}", self.what, self.expected, self.got)
    }
}

/// Compares a replay's verdict and annotations with the recording's footer.
///
/// Verdicts must be of the same kind; for a panic the thread and message must
/// match, for a deadlock every recorded blocked thread with its operation and
/// call site (see `same_deadlock`: the replay may show more, since the
/// recording proved its deadlock while other threads still ran). A livelock compares by
/// kind only: its bound is the explorer's, not the program's. Annotations are
/// compared for every key both sides have; when both runs completed, every
/// note of the program's (not reprise's: a key starting with `reprise.`, or
/// the explorer's `failure`) must have been made again. A panic or a deadlock may stop a replay before notes
/// the recording made.
///
/// # Examples
///
/// ```
/// use reprise_recorder::trace::format::{Footer, Verdict};
/// use reprise_replayer::compare::compare;
///
/// let recorded = Footer {
///     verdict: Verdict::Completed,
///     annotations: vec![("digest".into(), "ab12".into())],
///     events: 10,
/// };
/// let same = compare(&recorded, &Verdict::Completed, &[("digest".into(), "ab12".into())]);
/// assert!(same.is_empty());
/// let other = compare(&recorded, &Verdict::Completed, &[("digest".into(), "ff00".into())]);
/// assert_eq!(other[0].to_string(), "annotation `digest`: expected ab12, got ff00");
/// ```
pub fn compare(recorded: &Footer, reproduced: &Verdict, annotations: &[(String, String)]) -> Vec<Mismatch> {
    let mut out = Vec::new();
    if !same_verdict(&recorded.verdict, reproduced) {
        out.push(Mismatch {
            what: "verdict".into(),
            expected: recorded.verdict.to_string(),
            got: reproduced.to_string(),
        });
    }
    for (key, got) in annotations {
        if let Some(expected) = recorded.annotation(key) {
            if expected != got {
                out.push(Mismatch {
                    what: format!("annotation `{key}`"),
                    expected: expected.to_string(),
                    got: got.clone(),
                });
            }
        }
    }
    // A run that completed both times made every note of the program's
    // again, or took another path: a digest noted only when something
    // reprise does not see allowed it is no match when it is missing.
    // A panic or a deadlock may stop a replay before notes it made once.
    if matches!((&recorded.verdict, reproduced), (Verdict::Completed, Verdict::Completed)) {
        for (key, expected) in &recorded.annotations {
            if made_by_the_program(key) && !annotations.iter().any(|(k, _)| k == key) {
                out.push(Mismatch {
                    what: format!("annotation `{key}`"),
                    expected: expected.clone(),
                    got: NOT_NOTED.into(),
                });
            }
        }
    }
    out
}

/// Whether the program made the note `key` (reprise's own notes say what
/// the recorder or the explorer saw, and a replay does not make them).
fn made_by_the_program(key: &str) -> bool {
    !key.starts_with("reprise.") && key != crate::explore::trace_out::FAILURE_NOTE
}

/// What a mismatch shows for a note the recording has and the replay did
/// not make.
const NOT_NOTED: &str = "(not noted by the replay)";

/// The report of a replay that did not reproduce its recording: one line
/// saying so, then each mismatch, expected against got.
pub fn explain(mismatches: &[Mismatch]) -> String {
    let mut out = String::from(
        "replay followed the trace but did not reproduce the recording (a spliced or edited trace, \
         or a result that depends on something reprise does not see)",
    );
    for m in mismatches {
        out.push_str(&format!("\n  {}:\n    expected: {}\n    got:      {}", m.what, m.expected, m.got));
    }
    out
}

fn same_verdict(recorded: &Verdict, reproduced: &Verdict) -> bool {
    match (recorded, reproduced) {
        (Verdict::Completed, Verdict::Completed) => true,
        (Verdict::Panicked { thread: t1, message: m1 }, Verdict::Panicked { thread: t2, message: m2 }) => {
            t1 == t2 && m1 == m2
        }
        (Verdict::Deadlock { blocked: b1 }, Verdict::Deadlock { blocked: b2 }) => same_deadlock(b1, b2),
        (Verdict::Livelock { .. }, Verdict::Livelock { .. }) => true,
        _ => false,
    }
}

/// Whether a replayed deadlock reproduces the recorded one.
///
/// The recording proved its deadlock while other threads may still have been
/// running: its list is a snapshot of a live program, and a thread that was
/// running then ends its log mid-run and shows up blocked in the replay. So
/// every recorded blocked thread must be blocked at the same operation and
/// call site in the replay, and the replay may have more; but a thread the
/// recorded list says someone waits for, and that the replay shows waiting
/// for a lock or a join (an owned resource: it is in the cycle or behind it),
/// must be in the list too: a footer cannot leave out a member of its own
/// cycle. (A thread that was still running when the deadlock was proven and
/// only later blocked behind the cycle, while holding a lock a listed thread
/// waits for, would be reported as a difference.)
fn same_deadlock(recorded: &[BlockedThread], replayed: &[BlockedThread]) -> bool {
    let key = |t: &BlockedThread| (t.thread, t.op.name(), t.file.clone(), t.line, t.column);
    let replayed_keys: BTreeSet<_> = replayed.iter().map(key).collect();
    let recorded_threads: BTreeSet<u32> = recorded.iter().map(|t| t.thread).collect();
    let owned_waits: BTreeSet<u32> = replayed
        .iter()
        .filter(|t| matches!(t.op, Op::Lock | Op::WriteLock | Op::ReadLock | Op::Join))
        .map(|t| t.thread)
        .collect();
    let each_recorded_is_replayed = recorded.iter().all(|t| replayed_keys.contains(&key(t)));
    let cycle_is_listed = recorded
        .iter()
        .filter_map(|t| t.waits_for)
        .filter(|w| owned_waits.contains(w))
        .all(|w| recorded_threads.contains(&w));
    !recorded.is_empty() && each_recorded_is_replayed && cycle_is_listed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn footer(verdict: Verdict) -> Footer {
        Footer { verdict, annotations: vec![("digest".into(), "1".into())], events: 0 }
    }

    fn blocked(thread: u32, line: u32) -> BlockedThread {
        BlockedThread {
            thread,
            op: Op::Lock,
            object: 3,
            file: "a.rs".into(),
            line,
            column: 1,
            waits_for: None,
        }
    }

    #[test]
    fn a_verdict_of_another_kind_is_a_mismatch() {
        let m =
            compare(&footer(Verdict::Deadlock { blocked: vec![blocked(1, 2)] }), &Verdict::Completed, &[]);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].what, "verdict");
        assert_eq!(m[0].got, "completed");
        assert!(compare(&footer(Verdict::Completed), &Verdict::Completed, &digest("1")).is_empty());
    }

    fn digest(value: &str) -> [(String, String); 1] {
        [("digest".into(), value.into())]
    }

    /// A completed replay that did not make a note the recording made took
    /// another path (the note depended on something reprise does not see):
    /// it exited 0 as a match before.
    #[test]
    fn a_completed_replay_that_did_not_make_a_recorded_note_is_a_mismatch() {
        let mut recorded = footer(Verdict::Completed);
        recorded.annotations.push(("reprise.exit_code".into(), "0".into()));
        let m = compare(&recorded, &Verdict::Completed, &[]);
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].to_string(), "annotation `digest`: expected 1, got (not noted by the replay)");
        assert_eq!(compare(&recorded, &Verdict::Completed, &digest("2")).len(), 1);
        assert!(compare(&recorded, &Verdict::Completed, &digest("1")).is_empty());
        // A panic may stop a replay before a note another thread made.
        let p = Verdict::Panicked { thread: 1, message: "x".into() };
        assert!(compare(&footer(p.clone()), &p, &[]).is_empty());
    }

    #[test]
    fn panics_compare_thread_and_message() {
        let p = |thread, message: &str| Verdict::Panicked { thread, message: message.into() };
        assert!(compare(&footer(p(0, "x")), &p(0, "x"), &[]).is_empty());
        assert_eq!(compare(&footer(p(0, "x")), &p(0, "y"), &[]).len(), 1);
        assert_eq!(compare(&footer(p(0, "x")), &p(2, "x"), &[]).len(), 1);
    }

    #[test]
    fn deadlocks_compare_who_is_blocked_where_but_not_what_the_replay_cannot_see() {
        let recorded = footer(Verdict::Deadlock { blocked: vec![blocked(1, 2), blocked(2, 5)] });
        let mut unknown_holder = blocked(2, 5);
        unknown_holder.waits_for = Some(1);
        let same = Verdict::Deadlock { blocked: vec![unknown_holder, blocked(1, 2)] };
        assert!(compare(&recorded, &same, &[]).is_empty());
        let fewer = Verdict::Deadlock { blocked: vec![blocked(1, 2)] };
        assert_eq!(compare(&recorded, &fewer, &[]).len(), 1);
        let elsewhere = Verdict::Deadlock { blocked: vec![blocked(1, 2), blocked(2, 6)] };
        assert_eq!(compare(&recorded, &elsewhere, &[]).len(), 1);
    }

    #[test]
    fn a_replayed_deadlock_may_show_threads_that_were_still_running_when_it_was_proven() {
        let waiting = |thread, line, on| BlockedThread { waits_for: Some(on), ..blocked(thread, line) };
        let cycle = vec![waiting(1, 2, 2), waiting(2, 5, 1)];
        let recorded = footer(Verdict::Deadlock { blocked: cycle.clone() });
        let mut later = cycle.clone();
        later.push(blocked(7, 9));
        assert!(compare(&recorded, &Verdict::Deadlock { blocked: later }, &[]).is_empty());
        // main joined a thread that was still running when the deadlock was
        // proven and that later blocked on a channel: not part of the cycle.
        let join = BlockedThread { op: Op::Join, ..waiting(0, 9, 5) };
        let mut recorded_join = cycle.clone();
        recorded_join.push(join.clone());
        let mut replayed_join = recorded_join.clone();
        replayed_join.push(BlockedThread { op: Op::Send, ..blocked(5, 7) });
        let recorded_join = footer(Verdict::Deadlock { blocked: recorded_join });
        assert!(compare(&recorded_join, &Verdict::Deadlock { blocked: replayed_join }, &[]).is_empty());
        // A footer that leaves out a member of its own cycle is caught.
        let trimmed = footer(Verdict::Deadlock { blocked: vec![waiting(1, 2, 2)] });
        assert_eq!(compare(&trimmed, &Verdict::Deadlock { blocked: cycle }, &[]).len(), 1);
    }

    /// A note only the replay made is no mismatch (a program may note more
    /// than it did once); one only the recording has is (see
    /// `a_completed_replay_that_did_not_make_a_recorded_note_is_a_mismatch`).
    #[test]
    fn annotations_compare_where_both_sides_have_them() {
        let recorded = footer(Verdict::Completed);
        let got = [("digest".to_string(), "2".to_string()), ("extra".to_string(), "x".to_string())];
        let m = compare(&recorded, &Verdict::Completed, &got);
        assert_eq!(
            m,
            vec![Mismatch { what: "annotation `digest`".into(), expected: "1".into(), got: "2".into() }]
        );
    }
}
