//! The CLI's offline views on traces of these programs: `inspect`,
//! `verify`, `timeline` and `diff` must exit as documented and name what
//! the program did (its threads, its call sites, the event counts).

use std::path::{Path, PathBuf};

use reprise::{record, RecordConfig};

use crate::util::{reprise_on, scratch, stderr, stdout};

fn recorded(dir: &Path, name: &str, program: fn() -> String) -> PathBuf {
    let path = dir.join(format!("{name}.trace"));
    let run = record(&path, RecordConfig::new(name, "1"), program).unwrap();
    assert!(run.result.is_some(), "{name}: {}", run.verdict);
    path
}

fn pool() -> String {
    super::pool::connection_pool(4, 4, 2)
}

fn bus() -> String {
    super::bus::bus(4, 24)
}

#[test]
fn inspect_verify_timeline_and_diff_read_the_ported_traces() {
    let dir = scratch("ported-cli");
    for (name, program, threads) in [
        ("pool", pool as fn() -> String, &["client-0", "client-3", "health"][..]),
        ("bus", bus, &["publisher", "sub-3"]),
    ] {
        let path = recorded(&dir, name, program);

        let out = reprise_on(&["inspect"], &path);
        assert_eq!(out.status.code(), Some(0), "inspect {name}: {}", stderr(&out));
        let text = stdout(&out);
        for t in threads {
            assert!(text.contains(t), "inspect {name} names no {t}:\n{text}");
        }
        assert!(text.contains("completed"), "inspect {name} gives no verdict:\n{text}");

        let out = reprise_on(&["verify"], &path);
        assert_eq!(out.status.code(), Some(0), "verify {name}: {}", stderr(&out));
        assert!(stdout(&out).contains("intact:"), "verify {name}: {}", stdout(&out));

        let html = dir.join(format!("{name}.html"));
        let out = reprise_on(&["timeline", "--out", html.to_str().unwrap()], &path);
        assert_eq!(out.status.code(), Some(0), "timeline {name}: {}", stderr(&out));
        let page = std::fs::read_to_string(&html).unwrap();
        for t in threads {
            assert!(page.contains(t), "the timeline of {name} has no lane for {t}");
        }

        // A trace against itself: identical.
        let out = reprise_on(&["diff", path.to_str().unwrap()], &path);
        assert_eq!(out.status.code(), Some(0), "diff {name} with itself: {}{}", stdout(&out), stderr(&out));
    }

    // Two recordings of the pool until they differ: diff finds where.
    let a = recorded(&dir, "pool-a", pool);
    for k in 0..20 {
        let b = recorded(&dir, &format!("pool-b{k}"), pool);
        let out = reprise_on(&["diff", a.to_str().unwrap()], &b);
        match out.status.code() {
            Some(0) => continue,
            Some(1) => {
                let text = stdout(&out);
                assert!(text.contains("first divergence") || text.contains("verdict"), "diff:\n{text}");
                assert!(text.contains("pool.rs"), "diff names no call site of the program:\n{text}");
                return;
            }
            other => panic!("diff exited {other:?}: {}{}", stdout(&out), stderr(&out)),
        }
    }
    panic!("20 recordings of the pool were all identical to the first");
}
