//! An event's outcome in words, the same in every view: `message 2/14`,
//! `turn 12`, `read store 3 (value 10)`.

use reprise_recorder::trace::model::{Event, Op, Outcome, Received, Sent};
use reprise_recorder::trace::show::text;

use super::number::{Numbered, Numbering};

/// An annotation's text (an application's `tracing` event or span), made
/// safe to print; `None` for any other event.
pub fn annotation_text(numbering: &Numbering<'_>, n: &Numbered<'_>) -> Option<String> {
    (n.event.op == Op::Annotation).then(|| {
        let blob = numbering.blob(n.thread, n.index).unwrap_or_default();
        text(&String::from_utf8_lossy(&blob))
    })
}

/// What `e` did, in a few words (empty when its op says it all).
pub fn outcome_text(e: &Event) -> String {
    let Ok(outcome) = e.outcome() else {
        return format!("undecodable outcome a={} b={} c={}", e.a, e.b, e.c);
    };
    let received = |r: Received| match r {
        Received::Message { sender, seq } => format!("message {sender}/{seq}"),
        Received::Empty => "empty".into(),
        Received::TimedOut => "timed out".into(),
        Received::Disconnected => "disconnected".into(),
    };
    let sent = |s: Sent| match s {
        Sent::Delivered { seq } => format!("message {seq}"),
        Sent::Full => "full".into(),
        Sent::Disconnected => "disconnected".into(),
        Sent::TimedOut => "timed out".into(),
    };
    match outcome {
        Outcome::ThreadStart | Outcome::Unlock | Outcome::ReadUnlock | Outcome::WriteUnlock => String::new(),
        Outcome::ThreadExit { panicked } => if panicked { "panicked" } else { "" }.into(),
        Outcome::Spawn { child } => format!("thread {child}"),
        Outcome::Join { joined, panicked } => {
            format!("thread {joined}{}", if panicked { " (panicked)" } else { "" })
        }
        Outcome::Send(s) => sent(s),
        Outcome::Recv(r) | Outcome::TryRecv(r) | Outcome::RecvTimeout(r) => received(r),
        Outcome::Select { arm, received: r } => format!("arm {arm}: {}", received(r)),
        Outcome::SelectSend { arm, sent: s } => format!("arm {arm}: sent {}", sent(s)),
        Outcome::SelectReady { arm } => format!("arm {arm} ready"),
        Outcome::SelectTimer { arm } => format!("arm {arm}: timer"),
        Outcome::Lock { acquisition } | Outcome::TryLock { acquisition: Some(acquisition) } => {
            format!("turn {acquisition}")
        }
        Outcome::TryLock { acquisition: None }
        | Outcome::TryReadLock { writes_before: None }
        | Outcome::TryWriteLock { taken: None } => "would block".into(),
        Outcome::ReadLock { writes_before } | Outcome::TryReadLock { writes_before: Some(writes_before) } => {
            format!("after write {writes_before}")
        }
        Outcome::WriteLock { write, readers } | Outcome::TryWriteLock { taken: Some((write, readers)) } => {
            format!("write {write} after {readers} readers")
        }
        Outcome::CondWait { reacquisition, timed_out, mutex } => {
            format!("mutex #{mutex} turn {reacquisition}{}", if timed_out { " (timed out)" } else { "" })
        }
        Outcome::Notify { all } => if all { "all" } else { "one" }.into(),
        Outcome::AtomicLoad { store, value } => format!("read store {store} (value {value})"),
        Outcome::AtomicStore { store } => format!("store {store}"),
        Outcome::AtomicRmw { store, previous } => format!("store {store} (previous {previous})"),
        Outcome::AtomicCas { store, seen, succeeded } => {
            if succeeded {
                format!("store {store} (saw {seen})")
            } else {
                format!("failed: read store {store} (value {seen})")
            }
        }
        Outcome::Now { nanos } => format!("{nanos} ns"),
        Outcome::SystemNow { nanos } => format!("{nanos} ns since the epoch"),
        Outcome::Sleep { nanos } => format!("{nanos} ns"),
        Outcome::Random { value } => format!("{value}"),
        Outcome::Capture { len, panicked: false } | Outcome::CaptureSensitive { len, panicked: false } => {
            format!("{len} bytes")
        }
        Outcome::Capture { len, panicked: true } | Outcome::CaptureSensitive { len, panicked: true } => {
            format!("the read panicked (message of {len} bytes)")
        }
        Outcome::Panic { len } => format!("message of {len} bytes"),
        Outcome::Park { unparks } => format!("after {unparks} unparks"),
        Outcome::Unpark { unpark } => format!("unpark {unpark}"),
        Outcome::Annotation { len } => format!("{len} bytes"),
        Outcome::TrackedRead { access } | Outcome::TrackedWrite { access } => format!("access {access}"),
        Outcome::TimerRecv { fired: Some(at), .. } => format!("fired at {at} ns"),
        Outcome::TimerRecv { fired: None, timed_out } => if timed_out { "timed out" } else { "empty" }.into(),
    }
}
