//! Damaged and hostile trace files: `verify` exits 6 on every one; `inspect`
//! and `replay` give a clear error and never panic or hang.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{reprise_on, scratch, stderr, stdout};

/// A small valid trace of the payments pipeline, made by the CLI.
fn valid_trace(dir: &Path) -> Vec<u8> {
    let path = dir.join("valid.trace");
    let out = Command::new(env!("CARGO_BIN_EXE_reprise"))
        .args(["record", "--pipeline", "payments", "--payments", "40", "--workers", "2", "--out"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::read(&path).unwrap()
}

fn corruptions(valid: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut cases = vec![
        ("empty".to_string(), Vec::new()),
        ("wrong magic".to_string(), b"NOTATRACE-at-all".to_vec()),
        ("magic only".to_string(), valid[..8].to_vec()),
    ];
    let mut future = valid.to_vec();
    future[8] = 0x7f; // major version 127
    cases.push(("future version".into(), future));
    for cut in [9, 20, valid.len() / 3, valid.len() / 2, valid.len() - 1] {
        cases.push((format!("truncated at {cut}"), valid[..cut].to_vec()));
    }
    for at in [10, 30, valid.len() / 2, valid.len() - 3] {
        let mut flipped = valid.to_vec();
        flipped[at] ^= 0x10;
        cases.push((format!("bit flipped at {at}"), flipped));
    }
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    cases.push(("random bytes".into(), random.clone()));
    let mut magic_then_random = valid[..8].to_vec();
    magic_then_random.extend_from_slice(&random);
    cases.push(("magic then random".into(), magic_then_random));
    // Absurd length fields: the header length, and the first frame's length.
    let mut header_len = valid.to_vec();
    header_len[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    cases.push(("absurd header length".into(), header_len));
    let header_end = 16 + u32::from_le_bytes(valid[12..16].try_into().unwrap()) as usize + 4;
    let mut frame_len = valid.to_vec();
    frame_len[header_end + 9..header_end + 13].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    cases.push(("absurd frame length".into(), frame_len));
    let mut trailing = valid.to_vec();
    trailing.extend_from_slice(b"junk after the end");
    cases.push(("bytes after the end marker".into(), trailing));
    cases
}

/// Runs the binary with a deadline: a hang is a failure, not a stuck test.
fn run_bounded(args: &[&str], path: &Path) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_reprise"))
        .args(args)
        .arg(path)
        // `debug` reads its commands from stdin: none here.
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(_status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            return (out.status.code(), stdout(&out), stderr(&out));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("`reprise {args:?} {}` hung", path.display());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn every_damaged_file_gets_one_clear_error_and_no_panic_or_hang() {
    let dir = scratch("bad-input");
    let valid = valid_trace(&dir);
    let out = reprise_on(&["verify"], &dir.join("valid.trace"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for (i, (name, bytes)) in corruptions(&valid).into_iter().enumerate() {
        let path: PathBuf = dir.join(format!("bad-{i}.trace"));
        std::fs::write(&path, &bytes).unwrap();

        let (code, _, err) = run_bounded(&["verify"], &path);
        assert_eq!(code, Some(6), "verify on {name}: {err}");
        let first = err.lines().next().unwrap_or_default();
        assert!(first.starts_with("reprise: error:"), "verify on {name}: {err}");
        assert!(!err.contains("panicked"), "verify on {name}: {err}");

        let (code, _, err) = run_bounded(&["inspect"], &path);
        assert!(matches!(code, Some(0 | 6)), "inspect on {name} exited {code:?}: {err}");
        assert!(!err.contains("panicked"), "inspect on {name}: {err}");

        let (code, _, err) = run_bounded(&["replay"], &path);
        assert!(matches!(code, Some(0 | 3 | 4 | 5 | 6)), "replay on {name} exited {code:?}: {err}");
        assert!(!err.contains("panicked"), "replay on {name}: {err}");

        // The offline views read what is whole and say the rest is not.
        for format in ["chrome", "jsonl"] {
            // To a file: run_bounded reads stdout only once the child exits.
            let out = dir.join(format!("export-{i}.{format}"));
            let (code, _, err) =
                run_bounded(&["export", "--format", format, "--out", out.to_str().unwrap()], &path);
            assert!(matches!(code, Some(0 | 6)), "export {format} on {name} exited {code:?}: {err}");
            assert!(!err.contains("panicked"), "export on {name}: {err}");
            if code == Some(6) {
                assert_eq!(err.lines().count(), 1, "export on {name}: {err}");
            }
        }
        let valid_path = dir.join("valid.trace");
        let (code, _, err) = run_bounded(&["diff", valid_path.to_str().unwrap()], &path);
        assert!(matches!(code, Some(0 | 1 | 6)), "diff on {name} exited {code:?}: {err}");
        assert!(!err.contains("panicked"), "diff on {name}: {err}");
        let (code, _, err) = run_bounded(&["debug"], &path);
        assert!(matches!(code, Some(0 | 6)), "debug on {name} exited {code:?}: {err}");
        assert!(!err.contains("panicked"), "debug on {name}: {err}");
    }
}

#[test]
fn a_missing_file_is_an_io_error() {
    let out = reprise_on(&["verify"], Path::new("/nonexistent/reprise.trace"));
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
}

#[test]
fn a_recording_killed_mid_run_leaves_its_complete_chunks_readable() {
    let dir = scratch("sigkill");
    let path = dir.join("killed.trace");
    let mut child = Command::new(env!("CARGO_BIN_EXE_reprise"))
        .args(["record", "--pipeline", "payments", "--payments", "5000000", "--workers", "4", "--out"])
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) < 256 * 1024 {
        assert!(Instant::now() < deadline, "the recording wrote too little");
        assert!(child.try_wait().unwrap().is_none(), "the recording ended before it was killed");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();

    let out = reprise_on(&["verify"], &path);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    let line = stdout(&out);
    let chunks: u64 = line
        .strip_prefix("intact: ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no intact line: {line}"));
    assert!(chunks > 0, "{line}");

    let out = reprise_on(&["inspect"], &path);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("not whole"), "{}", stderr(&out));

    let out = reprise_on(&["replay"], &path);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
}
