//! The clock, random numbers, the environment, a file and a sealed secret.

use crate::util::{reprise_on, scratch, stderr, stdout};

use super::{digest_line, replay, run, KEY};

const WRONG_KEY: &str = "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd";
const SECRET: &str = "topsecret-0451-7788";

/// Recorded with the key, the file and the variable; replayed after the
/// files are gone and the variable changed: with the key, both replays
/// give the recorded digest (exit 0); without it, or with a wrong one,
/// both stop at the sealed capture (exit 10) saying why. The secret is
/// nowhere in the trace, `inspect` or `export`, even with the key set.
#[test]
fn captured_inputs_replay_with_the_key_and_stop_without_it() {
    let inputs = scratch("twelfth-inputs-files");
    let manifest = inputs.join("manifest.txt");
    std::fs::write(&manifest, "manifest: 42 crates\n").unwrap();
    std::fs::write(inputs.join("manifest.txt.secret"), SECRET).unwrap();
    let path = scratch("twelfth-inputs").join("i.trace");
    let file = manifest.to_str().unwrap();
    let out = run(
        "REPRISE_RECORD",
        path.to_str().unwrap(),
        &["inputs"],
        &[("REPRISE_KEY", KEY), ("TWELFTH_REGION", "north"), ("TWELFTH_FILE", file)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let told = format!("region north, manifest 20 bytes, secret {} bytes", SECRET.len());
    assert!(stdout(&out).contains(&told), "{}", stdout(&out));
    let recorded = digest_line(&out);
    std::fs::remove_dir_all(&inputs).unwrap();

    let bytes = std::fs::read(&path).unwrap();
    assert!(!bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()), "the secret is in the trace");
    let shown = reprise_on(&["inspect"], &path);
    let exported = reprise_on(&["export", "--format", "jsonl"], &path);
    for out in [&shown, &exported] {
        assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
        assert!(!stdout(out).contains(SECRET));
        assert!(stdout(out).contains("<redacted: sensitive capture>"), "{}", stdout(out));
    }

    let elsewhere = [("TWELFTH_REGION", "south"), ("TWELFTH_FILE", file)];
    for coroutines in [false, true] {
        let keyed =
            replay(&path, coroutines, &["inputs"], &[elsewhere[0], elsewhere[1], ("REPRISE_KEY", KEY)]);
        assert_eq!(keyed.status.code(), Some(0), "coroutines {coroutines}: {}", stderr(&keyed));
        assert!(stdout(&keyed).contains(&told), "coroutines {coroutines}: {}", stdout(&keyed));
        assert_eq!(digest_line(&keyed), recorded, "coroutines {coroutines}");

        let keyless = replay(&path, coroutines, &["inputs"], &elsewhere);
        assert_eq!(keyless.status.code(), Some(10), "coroutines {coroutines}: {}", stderr(&keyless));
        assert!(stderr(&keyless).contains("set REPRISE_KEY"), "{}", stderr(&keyless));
        assert!(!stdout(&keyless).contains(" digest "), "no value reached the program: {}", stdout(&keyless));

        let wrong =
            replay(&path, coroutines, &["inputs"], &[elsewhere[0], elsewhere[1], ("REPRISE_KEY", WRONG_KEY)]);
        assert_eq!(wrong.status.code(), Some(10), "coroutines {coroutines}: {}", stderr(&wrong));
        assert!(stderr(&wrong).contains("wrong key"), "{}", stderr(&wrong));
    }
}

/// Recorded without a key, the sealed value was never kept: a replay given
/// a key cannot give it back and says so (exit 10), both ways; the plain
/// captures were kept.
#[test]
fn a_secret_recorded_without_a_key_cannot_be_replayed_even_with_one() {
    let path = scratch("twelfth-inputs-keyless").join("i.trace");
    let out = run("REPRISE_RECORD", path.to_str().unwrap(), &["inputs"], &[("TWELFTH_REGION", "east")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("REPRISE_KEY is not set"), "{}", stderr(&out));
    for coroutines in [false, true] {
        let replayed = replay(&path, coroutines, &["inputs"], &[("REPRISE_KEY", KEY)]);
        assert_eq!(replayed.status.code(), Some(10), "coroutines {coroutines}: {}", stderr(&replayed));
        assert!(stderr(&replayed).contains("recorded without a key"), "{}", stderr(&replayed));
    }
}
