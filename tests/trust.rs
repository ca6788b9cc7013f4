//! Never say "matched" when it did not: `verify` checks the footer's counts,
//! `replay` compares what it reproduced with what was recorded, a child that
//! did not replay is a failure, strings from a trace are printed tame, and
//! files that are not regular are refused.

use std::path::Path;
use std::process::Command;

use reprise::trace::format::{
    BlockedThread, Footer, FrameHeader, Verdict, FRAME_CHUNK, FRAME_HEADER_LEN, PREAMBLE_LEN,
};
use reprise::trace::model::Op;
use reprise::trace::write::TraceWriter;

use crate::util::{reprise_on, scratch, stderr, stdout};

/// Records the payments pipeline into `path` with the CLI.
fn record(path: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_reprise"))
        .args(["record", "--pipeline", "payments", "--out"])
        .arg(path)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Each frame of a trace as (offset, header), the end frame last.
fn frames(bytes: &[u8]) -> Vec<(usize, FrameHeader)> {
    let header_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let mut pos = PREAMBLE_LEN + header_len + 4;
    let mut out = Vec::new();
    while let Some(raw) = bytes.get(pos..).and_then(|b| b.first_chunk::<FRAME_HEADER_LEN>()) {
        let h = FrameHeader::from_bytes(raw);
        out.push((pos, h));
        pos += FRAME_HEADER_LEN + h.len as usize;
    }
    out
}

/// `bytes` without frame `k` (a chunk), the later chunks of its thread
/// renumbered and every checksum recomputed, so each frame alone looks whole.
fn relink_without(bytes: &[u8], k: usize) -> Vec<u8> {
    let all = frames(bytes);
    let removed = all[k].1;
    let mut out = bytes[..all[0].0].to_vec();
    for (i, &(pos, h)) in all.iter().enumerate() {
        if i == k {
            continue;
        }
        let payload = &bytes[pos + FRAME_HEADER_LEN..pos + FRAME_HEADER_LEN + h.len as usize];
        let later_of_same_thread = h.tag == FRAME_CHUNK && h.thread == removed.thread && i > k;
        let seq = if later_of_same_thread { h.seq - 1 } else { h.seq };
        out.extend(FrameHeader::new(h.tag, h.thread, seq, payload).to_bytes());
        out.extend(payload);
    }
    out
}

#[test]
fn verify_exits_6_on_a_trace_with_a_chunk_removed_and_its_frames_relinked() {
    let dir = scratch("relinked");
    let path = dir.join("whole.trace");
    record(&path, &["--payments", "3000", "--workers", "3", "--seed", "4"]);
    let bytes = std::fs::read(&path).unwrap();
    let chunks = frames(&bytes).iter().filter(|(_, h)| h.tag == FRAME_CHUNK).count();
    assert!(chunks >= 8, "want a trace of many chunks, got {chunks}");
    let out = reprise_on(&["verify"], &path);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut replays = Vec::new();
    for k in 0..chunks {
        let cut = dir.join(format!("relinked-{k}.trace"));
        std::fs::write(&cut, relink_without(&bytes, k)).unwrap();
        let out = reprise_on(&["verify"], &cut);
        assert_eq!(out.status.code(), Some(6), "chunk {k} removed: {}{}", stdout(&out), stderr(&out));
        let err = stderr(&out);
        let expected = format!("the footer says {chunks} chunks, but the file holds {}", chunks - 1);
        assert!(err.contains(&expected), "chunk {k} removed: {err}");
        assert!(!stdout(&out).contains("intact"), "chunk {k} removed: {}", stdout(&out));
        let out = reprise_on(&["replay"], &cut);
        assert_ne!(out.status.code(), Some(0), "chunk {k} removed, replay matched: {}", stdout(&out));
        replays.push(out.status.code());
    }
    eprintln!("replay exit codes of {chunks} re-linked traces: {replays:?}");
}

/// The trace at `path` rewritten chunk for chunk, with `edit` applied to its
/// footer and the seal recomputed: a footer edited by someone who knew the
/// format, or thread streams taken from another recording.
fn rewrite(
    path: &Path,
    out: &Path,
    chunks_from: &dyn Fn(u32) -> Option<Vec<u8>>,
    edit: &dyn Fn(&mut Footer),
) {
    let bytes = std::fs::read(path).unwrap();
    let trace = reprise::read_trace(&bytes).unwrap();
    let mut w = TraceWriter::create(Vec::new(), &trace.header).unwrap();
    let mut taken = std::collections::BTreeSet::new();
    for (pos, h) in frames(&bytes) {
        if h.tag != FRAME_CHUNK {
            continue;
        }
        match chunks_from(h.thread) {
            Some(other) => {
                if taken.insert(h.thread) {
                    for (opos, oh) in frames(&other) {
                        if oh.tag == FRAME_CHUNK && oh.thread == h.thread {
                            let start = opos + FRAME_HEADER_LEN;
                            w.write_chunk(oh.thread, oh.seq, &other[start..start + oh.len as usize]).unwrap();
                        }
                    }
                }
            }
            None => {
                let start = pos + FRAME_HEADER_LEN;
                w.write_chunk(h.thread, h.seq, &bytes[start..start + h.len as usize]).unwrap();
            }
        }
    }
    let mut footer = trace.footer.clone().unwrap();
    if let Some(thread) = taken.first() {
        // The writer checks the event count: a splicer would fix it up too.
        let other = reprise::read_trace(&chunks_from(*thread).unwrap()).unwrap();
        let events = |t: &reprise::trace::read::TraceFile, th: u32| {
            t.threads[&th].iter().filter(|r| matches!(r, reprise::trace::model::Record::Event(_))).count()
                as u64
        };
        for th in &taken {
            footer.events = footer.events - events(&trace, *th) + events(&other, *th);
        }
    }
    edit(&mut footer);
    std::fs::write(out, w.finish(&footer).unwrap()).unwrap();
}

fn keep_chunks(_: u32) -> Option<Vec<u8>> {
    None
}

fn completed_trace(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("completed.trace");
    record(&path, &["--payments", "60", "--workers", "2", "--seed", "3"]);
    path
}

#[test]
fn replay_exits_8_when_the_footer_verdict_was_edited() {
    let dir = scratch("edited-verdict");
    let path = completed_trace(&dir);
    let edited = dir.join("edited.trace");
    rewrite(&path, &edited, &keep_chunks, &|f| {
        f.verdict = Verdict::Deadlock {
            blocked: vec![BlockedThread {
                thread: 1,
                op: Op::Lock,
                object: 4,
                file: "src/x.rs".into(),
                line: 1,
                column: 1,
                waits_for: None,
            }],
        }
    });
    let out = reprise_on(&["verify"], &edited);
    assert_eq!(out.status.code(), Some(0), "the edit is well-formed: {}", stderr(&out));
    let out = reprise_on(&["replay"], &edited);
    assert_eq!(out.status.code(), Some(8), "{}{}", stdout(&out), stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("verdict:\n    expected: deadlock: thread 1"), "{err}");
    assert!(err.contains("got:      completed"), "{err}");
}

#[test]
fn replay_exits_8_when_the_recorded_digest_differs_from_the_reproduced_one() {
    let dir = scratch("edited-digest");
    let path = completed_trace(&dir);
    let out = reprise_on(&["replay"], &path);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let edited = dir.join("edited.trace");
    rewrite(&path, &edited, &keep_chunks, &|f| {
        for (k, v) in &mut f.annotations {
            if k == "digest" {
                *v = "0000000000000000".into();
            }
        }
    });
    let out = reprise_on(&["replay"], &edited);
    assert_eq!(out.status.code(), Some(8), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stderr(&out).contains("annotation `digest`:\n    expected: 0000000000000000"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn replay_of_a_users_program_compares_its_verdict_and_notes() {
    let dir = scratch("own-notes");
    let trace = dir.join("transfer.trace");
    let exe = example_binary();
    let recorded = Command::new(&exe).env("REPRISE_RECORD", &trace).output().unwrap();
    assert_eq!(recorded.status.code(), Some(0), "{}", stderr(&recorded));
    let replay = |path: &Path| {
        Command::new(env!("CARGO_BIN_EXE_reprise"))
            .arg("replay")
            .arg(path)
            .arg("--")
            .arg(&exe)
            .output()
            .unwrap()
    };
    let out = replay(&trace);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let edited = dir.join("edited-note.trace");
    rewrite(&trace, &edited, &keep_chunks, &|f| f.annotations = vec![("order".into(), "[7, 7]".into())]);
    let out = replay(&edited);
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    assert!(stderr(&out).contains("annotation `order`:\n    expected: [7, 7]"), "{}", stderr(&out));

    let edited = dir.join("edited-verdict.trace");
    rewrite(&trace, &edited, &keep_chunks, &|f| {
        f.verdict = Verdict::Panicked { thread: 0, message: "boom".into() }
    });
    let out = replay(&edited);
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    assert!(stderr(&out).contains("expected: panicked in thread 0: boom"), "{}", stderr(&out));
}

/// The example program `examples/transfer.rs`, which `cargo test` builds.
fn example_binary() -> std::path::PathBuf {
    let deps = std::env::current_exe().unwrap();
    let debug = deps.parent().and_then(|d| d.parent()).unwrap();
    let exe = debug.join("examples").join(format!("transfer{}", std::env::consts::EXE_SUFFIX));
    assert!(exe.exists(), "{} is missing: run `cargo test` (it builds the examples)", exe.display());
    exe
}

#[test]
fn replay_of_a_program_that_never_replays_is_a_failure() {
    let dir = scratch("child-true");
    let path = completed_trace(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_reprise"))
        .arg("replay")
        .arg(&path)
        .args(["--", "/bin/true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("`/bin/true` exited with exit status: 0 without replaying the trace"),
        "{}",
        stderr(&out)
    );
}

#[cfg(unix)]
#[test]
fn replay_of_a_program_killed_by_a_signal_says_so() {
    let dir = scratch("child-killed");
    let path = completed_trace(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_reprise"))
        .arg("replay")
        .arg(&path)
        .args(["--", "/bin/sh", "-c", "kill -9 $$"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(9), "{}", stderr(&out));
    assert!(stderr(&out).contains("`/bin/sh` was killed by signal 9 (SIGKILL)"), "{}", stderr(&out));
}

#[test]
fn non_regular_files_are_refused_with_one_clear_error() {
    let dir = scratch("not-a-file");
    let fifo = dir.join("fifo.trace");
    // Opening a FIFO blocks until a writer comes: it must be refused unopened.
    let made = Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success());
    let mut cases = vec![(Path::new("/dev/zero"), "a character device"), (dir.as_path(), "a directory")];
    if made {
        cases.push((fifo.as_path(), "a FIFO"));
    }
    for (path, what) in cases {
        if !path.exists() {
            continue;
        }
        for sub in ["verify", "inspect", "replay"] {
            let out = reprise_on(&[sub], path);
            assert_eq!(out.status.code(), Some(6), "{sub} {}: {}", path.display(), stderr(&out));
            let err = stderr(&out);
            assert_eq!(err.lines().count(), 1, "{sub}: {err}");
            assert!(err.contains(&format!("is {what}, not a trace file")), "{sub}: {err}");
        }
    }
}

#[test]
fn strings_from_a_trace_are_printed_escaped_and_cut() {
    let dir = scratch("hostile-strings");
    let path = dir.join("hostile.trace");
    let long = "n".repeat(60 * 1024);
    let header = reprise::RecordConfig::new("evil\u{1b}[2J", "1\u{1b}]0;title\u{7}")
        .parameter("note", "\u{1b}[31mred");
    let name = long.clone();
    reprise::record(&path, header, move || {
        let t = reprise::thread::Builder::new()
            .name(format!("\u{1b}[2J{name}"))
            .spawn(|| reprise::annotate("msg", "line\n\u{1b}[2Jforged: intact"))
            .unwrap();
        t.join().unwrap();
    })
    .unwrap();
    for sub in ["inspect", "verify", "replay"] {
        let out = reprise_on(&[sub], &path);
        let (o, e) = (stdout(&out), stderr(&out));
        for text in [&o, &e] {
            assert!(
                !text.contains('\u{1b}') && !text.contains('\u{7}'),
                "{sub} printed a control character: {text:?}"
            );
            assert!(text.lines().all(|l| l.len() < 5000), "{sub} printed a line of {} bytes", text.len());
            assert!(!text.contains("\nforged"), "{sub}: {text}");
        }
        if sub == "inspect" {
            assert!(o.contains("evil\\u{1b}[2J"), "{o}");
            assert!(o.contains(&format!("\\u{{1b}}[2J{}…(", "n".repeat(196))), "{o}");
            assert!(o.contains("more bytes)"), "{o}");
        }
    }
}

#[test]
fn replay_exits_8_when_the_footer_leaves_a_blocked_thread_out_of_its_deadlock() {
    let dir = scratch("trimmed-deadlock");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/deadlock.trace");
    let out = reprise_on(&["replay"], &path);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let edited = dir.join("trimmed.trace");
    rewrite(&path, &edited, &keep_chunks, &|f| {
        // The first is a member of the cycle (the cycle comes first).
        if let Verdict::Deadlock { blocked } = &mut f.verdict {
            blocked.remove(0);
        }
    });
    let out = reprise_on(&["replay"], &edited);
    assert_eq!(out.status.code(), Some(8), "{}{}", stdout(&out), stderr(&out));
    assert!(stderr(&out).contains("verdict:\n    expected: deadlock"), "{}", stderr(&out));
}

#[test]
fn a_trace_spliced_from_two_recordings_replays_as_a_match_only_with_the_recorded_digest() {
    let dir = scratch("spliced");
    let (a, b) = (dir.join("a.trace"), dir.join("b.trace"));
    record(&a, &["--payments", "60", "--workers", "2", "--seed", "3"]);
    record(&b, &["--payments", "60", "--workers", "2", "--seed", "4"]);
    let other = std::fs::read(&b).unwrap();
    let (ta, tb) = (reprise::read_trace_file(&a).unwrap(), reprise::read_trace(&other).unwrap());
    // A thread whose records are the same in both runs makes no splice.
    let threads: Vec<u32> =
        tb.threads.keys().copied().filter(|t| ta.threads.get(t) != tb.threads.get(t)).collect();
    assert!(!threads.is_empty(), "the two recordings are the same");
    let mut codes = Vec::new();
    for thread in threads {
        let spliced = dir.join(format!("spliced-{thread}.trace"));
        let from_b = |t: u32| (t == thread).then(|| other.clone());
        rewrite(&a, &spliced, &from_b, &|_| {});
        let out = reprise_on(&["verify"], &spliced);
        assert_eq!(out.status.code(), Some(0), "the splice is well-formed: {}", stderr(&out));
        let out = reprise_on(&["replay"], &spliced);
        if out.status.code() == Some(0) {
            // A stream that changed nothing the run depends on may replay: then
            // it must have reproduced the recording it claims to be.
            let digest = format!("digest: {}\n", ta.footer.as_ref().unwrap().annotation("digest").unwrap());
            assert!(
                stdout(&out).contains(&digest),
                "thread {thread} spliced in: exit 0 with {}",
                stdout(&out)
            );
        }
        codes.push((thread, out.status.code()));
    }
    eprintln!("spliced thread -> exit code: {codes:?}");
}

/// Varint length of `v` in postcard's encoding.
fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

#[test]
fn verify_says_when_a_trace_is_too_old_to_have_its_counts_checked() {
    use reprise::trace::format::{header_checksum, FormatVersion, FRAME_END};
    let dir = scratch("format-1-1");
    let path = completed_trace(&dir);
    let bytes = std::fs::read(&path).unwrap();
    let trace = reprise::read_trace(&bytes).unwrap();
    let seal = trace.seal.expect("a current trace has a seal");
    // The same file as format 1.1 wrote it: minor 1, no seal after the footer.
    let header_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let mut old = bytes.clone();
    old[10..12].copy_from_slice(&1u16.to_le_bytes());
    let v11 = FormatVersion { major: 1, minor: 1 };
    let sum = header_checksum(v11, &bytes[PREAMBLE_LEN..PREAMBLE_LEN + header_len]);
    old[PREAMBLE_LEN + header_len..PREAMBLE_LEN + header_len + 4].copy_from_slice(&sum.to_le_bytes());
    let (end_at, end) = *frames(&old).last().unwrap();
    assert_eq!(end.tag, FRAME_END);
    let payload = &old[end_at + FRAME_HEADER_LEN..];
    let footer_len = payload.len() - varint_len(seal.chunks) - varint_len(u64::from(seal.chain));
    let footer = payload[..footer_len].to_vec();
    old.truncate(end_at);
    old.extend(FrameHeader::new(FRAME_END, 0, 0, &footer).to_bytes());
    old.extend(footer);
    let old_path = dir.join("old.trace");
    std::fs::write(&old_path, &old).unwrap();
    let out = reprise_on(&["verify"], &old_path);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("intact: "), "{text}");
    assert!(text.contains("trace format 1.1 has no chunk count in its footer"), "{text}");
    let out = reprise_on(&["verify"], &path);
    assert!(!stdout(&out).contains("no chunk count"), "{}", stdout(&out));
}

#[test]
fn replay_help_names_the_codes_for_a_different_ending_and_a_killed_program() {
    let out = crate::util::reprise(&["replay", "--help"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let help = stdout(&out);
    assert!(
        help.contains("8  replay finished but its verdict or annotations differ from the recording"),
        "{help}"
    );
    assert!(help.contains("9  the program run by `replay FILE -- CMD` was killed by a signal"), "{help}");
}

/// `bytes` with frames `k` and `k + 1` (chunks of two different threads)
/// in each other's place, byte for byte: every frame's checksum and every
/// thread's order of chunks stay good, only the footer's chain sees it.
fn swap_neighbours(bytes: &[u8], k: usize) -> Vec<u8> {
    let all = frames(bytes);
    let span = |i: usize| all[i].0..all[i].0 + FRAME_HEADER_LEN + all[i].1.len as usize;
    let mut out = bytes[..all[k].0].to_vec();
    out.extend(&bytes[span(k + 1)]);
    out.extend(&bytes[span(k)]);
    out.extend(&bytes[span(k + 1).end..]);
    out
}

/// The first frame followed by a chunk of another thread.
fn neighbours_of_two_threads(bytes: &[u8]) -> usize {
    let all = frames(bytes);
    (0..all.len() - 1)
        .find(|&i| {
            let (a, b) = (all[i].1, all[i + 1].1);
            a.tag == FRAME_CHUNK && b.tag == FRAME_CHUNK && a.thread != b.thread
        })
        .expect("two neighbouring chunks of different threads")
}

#[test]
fn replay_of_a_trace_whose_chunks_were_moved_does_not_exit_0_even_when_every_event_matches() {
    let dir = scratch("moved-chunk");
    let path = dir.join("whole.trace");
    record(&path, &["--payments", "3000", "--workers", "3", "--seed", "4"]);
    let bytes = std::fs::read(&path).unwrap();
    let moved = dir.join("moved.trace");
    std::fs::write(&moved, swap_neighbours(&bytes, neighbours_of_two_threads(&bytes))).unwrap();
    let out = reprise_on(&["verify"], &moved);
    assert_eq!(out.status.code(), Some(6), "{}{}", stdout(&out), stderr(&out));
    assert!(stderr(&out).contains("a chunk was replaced or moved"), "{}", stderr(&out));
    // Every thread's events are the recording's: the replay matches them
    // all, and still may not say the trace matched.
    for how in [&["replay"][..], &["replay", "--coroutines"][..]] {
        let out = reprise_on(how, &moved);
        assert_eq!(out.status.code(), Some(6), "{how:?}: {}{}", stdout(&out), stderr(&out));
        assert!(stdout(&out).contains("replayed"), "{how:?}: the replay ran: {}", stdout(&out));
        assert!(stderr(&out).contains("not whole"), "{how:?}: {}", stderr(&out));
    }
}

#[test]
fn replay_of_a_users_program_from_a_trace_whose_chunks_were_moved_does_not_exit_0() {
    let dir = scratch("own-moved-chunk");
    let trace = dir.join("transfer.trace");
    let exe = example_binary();
    let recorded = Command::new(&exe).env("REPRISE_RECORD", &trace).output().unwrap();
    assert_eq!(recorded.status.code(), Some(0), "{}", stderr(&recorded));
    let bytes = std::fs::read(&trace).unwrap();
    let moved = dir.join("moved.trace");
    std::fs::write(&moved, swap_neighbours(&bytes, neighbours_of_two_threads(&bytes))).unwrap();
    for coroutines in [false, true] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_reprise"));
        command.arg("replay");
        if coroutines {
            command.arg("--coroutines");
        }
        let out = command.arg(&moved).arg("--").arg(&exe).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(6), "coroutines {coroutines}: {err}");
        assert!(err.contains("the replay matched the events it read, but the trace is not whole"), "{err}");
    }
}
