//! A quote hub on crossbeam's `select!`: subscribers send their own
//! `Sender` through a control channel (channels of channels); the hub
//! selects over the control channel, the feed, a `tick` heartbeat and a
//! `never()` arm, fans each quote out over its `Vec<Sender>` and drops
//! subscribers that hung up; the feed's producer offers each quote with a
//! `default` arm and falls back to a blocking send when the hub lags; the
//! subscribers' counts come back on one fan-in channel, and an auditor
//! waits for the hub's end beside an hourly `after` (virtual time under
//! the explorer, which may fire it).

use reprise::channel::{self, select, Receiver, Sender};
use reprise::thread;
use reprise::time::Duration;

const QUOTES: u64 = 12;
const SUBSCRIBERS: usize = 3;

pub(crate) fn quote_hub() -> String {
    let (ctl_tx, ctl_rx) = channel::unbounded::<Sender<u64>>();
    let (feed_tx, feed_rx) = channel::bounded::<u64>(2);
    let (done_tx, done_rx) = channel::bounded::<u64>(0);
    let (fan_in_tx, fan_in_rx) = channel::unbounded::<(usize, u64, u64)>();
    let hub = thread::Builder::new().name("hub".into()).spawn(move || hub(ctl_rx, feed_rx, done_tx)).unwrap();
    let subscribers: Vec<_> = (0..SUBSCRIBERS)
        .map(|i| {
            let (ctl, fan_in) = (ctl_tx.clone(), fan_in_tx.clone());
            thread::spawn(move || {
                let (tx, rx) = channel::bounded::<u64>(1);
                if ctl.send(tx).is_err() {
                    return;
                }
                drop(ctl);
                let (mut count, mut sum) = (0, 0);
                for q in rx.iter().take(if i == 0 { 3 } else { usize::MAX }) {
                    count += 1;
                    sum += q;
                }
                fan_in.send((i, count, sum)).unwrap();
            })
        })
        .collect();
    drop((ctl_tx, fan_in_tx));
    let producer = thread::spawn(move || {
        let mut lagged = 0;
        for q in 1..=QUOTES {
            select! {
                send(feed_tx, q * 10) -> sent => sent.unwrap(),
                default => {
                    lagged += 1;
                    feed_tx.send(q * 10).unwrap();
                }
            }
        }
        lagged
    });
    // A watchdog: it would log a hub that takes an hour, and go on waiting.
    let auditor = thread::spawn(move || loop {
        select! {
            recv(done_rx) -> fanned => break fanned.unwrap(),
            recv(channel::after(Duration::from_secs(3600))) -> _ => thread::yield_now(),
        }
    });
    let lagged = producer.join().unwrap();
    for s in subscribers {
        s.join().unwrap();
    }
    let mut counts: Vec<(usize, u64, u64)> = fan_in_rx.iter().collect();
    counts.sort_unstable();
    let fanned = auditor.join().unwrap();
    hub.join().unwrap();
    let delivered: u64 = counts.iter().map(|c| c.1).sum();
    // The subscriber that leaves after three quotes may leave one in its
    // buffer.
    assert!(delivered <= fanned && fanned <= delivered + 1, "fanned {fanned}, delivered {delivered}");
    assert!(lagged <= QUOTES);
    format!("counts {counts:?}, fanned {fanned}, lagged {}", lagged > 0)
}

/// Selects until the feed ends; returns (through `done`) how many quotes
/// it handed to subscribers.
fn hub(ctl: Receiver<Sender<u64>>, feed: Receiver<u64>, done: Sender<u64>) {
    let heartbeat = channel::tick(Duration::from_millis(50));
    let nothing = channel::never::<()>();
    let mut ctl = Some(ctl);
    let mut subs: Vec<Sender<u64>> = Vec::new();
    let (mut fanned, mut beats) = (0u64, 0u64);
    loop {
        let control = ctl.clone().unwrap_or_else(channel::never);
        select! {
            recv(control) -> sub => match sub {
                Ok(sub) => subs.push(sub),
                Err(_) => ctl = None,
            },
            recv(feed) -> quote => {
                let Ok(quote) = quote else { break };
                subs.retain(|s| s.send(quote).is_ok());
                fanned += subs.len() as u64;
            },
            recv(heartbeat) -> _ => beats += 1,
            recv(nothing) -> _ => unreachable!("never() fired"),
        }
    }
    let _ = beats;
    drop(subs);
    done.send(fanned).unwrap();
}
