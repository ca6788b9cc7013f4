//! Never say "matched" when it did not: `verify` checks the footer's counts,
//! `replay` compares what it reproduced with what was recorded, a child that
//! did not replay is a failure, strings from a trace are printed tame, and
//! files that are not regular are refused.

use std::path::Path;
use std::process::Command;

use reprise::trace::format::{FrameHeader, FRAME_CHUNK, FRAME_HEADER_LEN, PREAMBLE_LEN};

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
    for k in 0..chunks {
        let cut = dir.join(format!("relinked-{k}.trace"));
        std::fs::write(&cut, relink_without(&bytes, k)).unwrap();
        let out = reprise_on(&["verify"], &cut);
        assert_eq!(out.status.code(), Some(6), "chunk {k} removed: {}{}", stdout(&out), stderr(&out));
        let err = stderr(&out);
        let expected = format!("the footer says {chunks} chunks, but the file holds {}", chunks - 1);
        assert!(err.contains(&expected), "chunk {k} removed: {err}");
        assert!(!stdout(&out).contains("intact"), "chunk {k} removed: {}", stdout(&out));
    }
}
