//! `reprise timeline`: the page is self-contained and safe against hostile
//! trace strings, and a headless Chromium draws a lane per thread, marks and
//! arrows (checked from the DOM summary the page's script keeps).
//!
//! The browser tests need Debian's `chromium` (`scripts/install-chromium.sh`,
//! which `.ci/run` runs). Without it they skip with a message, except under
//! `CI`, where a browser that cannot start fails them.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{reprise, scratch, stderr};

const LOST_UPDATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/traces/lost-update.trace");

fn page(trace: &Path, dir: &Path) -> PathBuf {
    let out = dir.join("timeline.html");
    let run = reprise(&["timeline", trace.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    out
}

#[test]
fn the_page_is_self_contained_and_shows_threads_and_the_verdict() {
    let dir = scratch("timeline-page");
    let html = std::fs::read_to_string(page(Path::new(LOST_UPDATE), &dir)).unwrap();
    for fetch in ["http://", "https://", " src=", "<link", "@import"] {
        assert!(!html.contains(fetch), "the page would fetch something: {fetch}");
    }
    for name in ["main", "ingest", "validate", "ledger-0", "ledger-1", "reconciler"] {
        assert!(html.contains(&format!("\"name\":\"{name}\"")), "no lane for {name}");
    }
    assert!(html.contains("violated: conservation"), "the broken invariant is not on the page");
    assert!(html.contains("\"broken\":true"));
}

#[test]
fn a_hostile_thread_name_cannot_end_the_pages_script() {
    let dir = scratch("timeline-hostile");
    let trace = dir.join("hostile.trace");
    reprise::record(&trace, reprise::RecordConfig::new("hostile", "1"), || {
        reprise::thread::Builder::new()
            .name("</script><script>document.title='pwned'</script>".into())
            .spawn(|| ())
            .unwrap()
            .join()
            .unwrap();
    })
    .unwrap();
    let html = std::fs::read_to_string(page(&trace, &dir)).unwrap();
    // The page's own two script elements, and nothing the trace brought.
    assert_eq!(html.matches("</script>").count(), 2, "a trace string closed a script element");
    // The name is still there, as data.
    assert!(html.contains(r"<\/script><script>document.title='pwned'<\/script>"));
}

#[test]
fn the_timeline_command_explains_a_bad_trace() {
    let dir = scratch("timeline-bad");
    let bad = dir.join("bad.trace");
    std::fs::write(&bad, b"not a trace at all").unwrap();
    let out = reprise(&["timeline", bad.to_str().unwrap(), "--out", dir.join("x.html").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert!(stderr(&out).contains("reprise: error:"), "{}", stderr(&out));
    assert!(!dir.join("x.html").exists(), "a page was written for a bad trace");
}

/// The browser, or `None` (skip) when it is missing outside CI.
fn chromium() -> Option<String> {
    let candidates =
        [std::env::var("REPRISE_CHROMIUM").unwrap_or_default(), "chromium".into(), "chromium-browser".into()];
    for c in candidates.iter().filter(|c| !c.is_empty()) {
        if Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()) {
            return Some(c.clone());
        }
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set and no Chromium starts: run scripts/install-chromium.sh (or set REPRISE_CHROMIUM)"
    );
    eprintln!("skipped: no chromium (scripts/install-chromium.sh installs it)");
    None
}

/// The page's DOM after its script ran, as a headless Chromium serializes it.
fn dom(browser: &str, page: &Path, fragment: &str) -> String {
    let url = format!("file://{}{fragment}", page.display());
    let profile = page.with_extension("profile");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=1600,500",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", &url])
        .output()
        .expect("run chromium");
    assert!(out.status.success(), "chromium failed: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `data-NAME="VALUE"` of the `#summary` element.
fn summary(dom: &str, name: &str) -> String {
    let element =
        dom.split("id=\"summary\"").nth(1).and_then(|s| s.split('>').next()).expect("no #summary in the DOM");
    let key = format!("data-{name}=\"");
    let value =
        element.split(&key).nth(1).unwrap_or_else(|| panic!("#summary has no data-{name}: {element}"));
    value.split('"').next().unwrap().to_string()
}

fn number(dom: &str, name: &str) -> u64 {
    summary(dom, name).parse().unwrap()
}

#[test]
fn chromium_draws_a_lane_per_thread_marks_and_arrows() {
    let Some(browser) = chromium() else { return };
    let dir = scratch("timeline-chromium");
    let page = page(Path::new(LOST_UPDATE), &dir);

    let whole = dom(&browser, &page, "");
    assert_eq!(number(&whole, "lanes"), 6);
    assert_eq!(whole.matches("class=\"lane-label\"").count(), 6);
    for name in ["ingest", "ledger-0", "ledger-1", "reconciler"] {
        assert!(whole.contains(&format!(">{name}</div>")), "no lane label {name}");
    }
    let events = reprise::read_trace_file(Path::new(LOST_UPDATE)).unwrap().events;
    assert_eq!(number(&whole, "events"), events);
    assert!(number(&whole, "marks") > 0);
    assert!(number(&whole, "message-arrows") > 0 && number(&whole, "lock-arrows") > 0);
    assert!(number(&whole, "arrows") > 0);
    assert_eq!(summary(&whole, "broken"), "true");
    assert!(whole.contains("violated: conservation"));

    // Zoomed in on the end: one mark per event in view, not an aggregate.
    let from = events - 68;
    let end = dom(&browser, &page, &format!("#from={from}&to={events}"));
    assert_eq!(summary(&end, "aggregated"), "false");
    let (first, last) = (number(&end, "first"), number(&end, "last"));
    assert!(first <= from && last == events, "view {first}..{last}");
    assert_eq!(number(&end, "marks"), last - first + 1);
}

#[test]
fn chromium_aggregates_a_long_trace_into_one_mark_per_pixel() {
    let Some(browser) = chromium() else { return };
    let dir = scratch("timeline-long");
    let trace = dir.join("long.trace");
    let record = reprise(&[
        "record",
        "--pipeline",
        "payments",
        "--payments",
        "20000",
        "--out",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(record.status.code(), Some(0), "{}", stderr(&record));
    let page = page(&trace, &dir);
    let whole = dom(&browser, &page, "");
    let events = number(&whole, "events");
    assert!(events > 100_000, "{events} events");
    assert_eq!(summary(&whole, "aggregated"), "true");
    let lanes = number(&whole, "lanes");
    // At most one mark per lane and pixel column of a 1600-pixel window.
    assert!(number(&whole, "marks") <= lanes * 1600, "{} marks", number(&whole, "marks"));
    // Too many arrows to tell apart: none drawn, the count reported instead.
    assert_eq!(number(&whole, "arrows"), 0);
}
