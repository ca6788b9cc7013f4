//! A two-phase commit coordinator with timeouts: for each transaction it
//! sends `Prepare` to three participants on their own channels, collects
//! votes on one shared channel until a deadline (`recv_deadline` on
//! reprise's clock), and decides: commit only on three yes votes in time,
//! else abort; votes for an older transaction that arrive late are
//! discarded. One participant is slow on some transactions (it sleeps
//! longer than the coordinator waits, decided by a captured schedule) and
//! votes no on one. Planted: a coordinator that presumes a vote it timed
//! out on was a yes, so that a participant that voted no is told to
//! commit (the participants' ledgers then disagree).

use reprise::channel::{self, Receiver, Sender};
use reprise::thread;
use reprise::time::{Duration, Instant};

const TXS: u32 = 4;
const PARTICIPANTS: usize = 3;

#[derive(Debug, Clone, Copy)]
enum Msg {
    Prepare(u32),
    Commit(u32),
    Abort(u32),
}

#[derive(Clone, Copy, PartialEq)]
enum OnTimeout {
    Abort,
    /// Planted: a missing vote counts as yes.
    PresumeYes,
}

/// A participant: votes on each `Prepare` after its (captured) think
/// time, then applies or forgets the transaction; returns its ledger.
fn participant(p: usize, inbox: Receiver<Msg>, votes: Sender<(u32, usize, bool)>) -> Vec<(u32, bool)> {
    // How long it thinks per transaction, as a config service says.
    let think: Vec<u64> =
        reprise::capture(|| (0..TXS).map(|tx| if p == 2 && tx % 2 == 1 { 30 } else { 1 }).collect());
    let mut ledger = Vec::new();
    let mut prepared = None;
    for msg in inbox.iter() {
        match msg {
            Msg::Prepare(tx) => {
                thread::sleep(Duration::from_millis(think[tx as usize]));
                let yes = !(p == 2 && tx == 1);
                prepared = yes.then_some(tx);
                // The coordinator may have moved on; a late vote is fine.
                let _ = votes.send((tx, p, yes));
            }
            Msg::Commit(tx) => {
                assert_eq!(
                    prepared.take(),
                    Some(tx),
                    "planted: participant {p} told to commit tx {tx} it did not prepare"
                );
                ledger.push((tx, true));
            }
            Msg::Abort(tx) => {
                if prepared == Some(tx) {
                    prepared = None;
                }
                ledger.push((tx, false));
            }
        }
    }
    ledger
}

fn run(on_timeout: OnTimeout) -> String {
    let (votes_tx, votes_rx) = channel::bounded::<(u32, usize, bool)>(PARTICIPANTS);
    let mut inboxes = Vec::new();
    let participants: Vec<_> = (0..PARTICIPANTS)
        .map(|p| {
            let (tx, rx) = channel::unbounded::<Msg>();
            inboxes.push(tx);
            let votes = votes_tx.clone();
            thread::Builder::new()
                .name(format!("participant-{p}"))
                .spawn(move || participant(p, rx, votes))
                .expect("spawn a participant")
        })
        .collect();
    drop(votes_tx);
    let mut decisions = Vec::new();
    let mut late = 0;
    for tx in 0..TXS {
        for inbox in &inboxes {
            inbox.send(Msg::Prepare(tx)).expect("a participant is there");
        }
        let deadline = Instant::now() + Duration::from_millis(10);
        let mut ballots: Vec<Option<bool>> = vec![None; PARTICIPANTS];
        while ballots.iter().any(Option::is_none) {
            match votes_rx.recv_deadline(deadline) {
                Ok((t, p, yes)) if t == tx => ballots[p] = Some(yes),
                Ok(_) => late += 1,
                Err(_) => break,
            }
        }
        let timed_out = ballots.iter().any(Option::is_none);
        let commit = ballots.iter().all(|b| match b {
            Some(yes) => *yes,
            None => on_timeout == OnTimeout::PresumeYes,
        });
        for inbox in &inboxes {
            inbox
                .send(if commit { Msg::Commit(tx) } else { Msg::Abort(tx) })
                .expect("a participant is there");
        }
        decisions.push(format!("{tx}{}{}", if commit { 'C' } else { 'A' }, if timed_out { "t" } else { "" }));
    }
    // Late votes may still be on their way: hang up so that a participant
    // blocked sending one into a full channel is refused, not left waiting
    // (the explorer found that deadlock in a first version).
    drop((inboxes, votes_rx));
    let ledgers: Vec<Vec<(u32, bool)>> =
        participants.into_iter().map(|p| p.join().expect("a participant ends")).collect();
    assert!(
        ledgers.windows(2).all(|w| w[0] == w[1]),
        "planted: the participants' ledgers disagree: {ledgers:?}"
    );
    // tx 1 has a no vote: it can never commit.
    assert!(decisions[1].starts_with("1A"), "{decisions:?}");
    // Votes that came after their deadline were drained with later ones.
    format!("decisions {}, late votes drained {late}", decisions.join(" "))
}

pub(crate) fn two_phase_commit() -> String {
    run(OnTimeout::Abort)
}

pub(crate) fn presumed_commit() {
    run(OnTimeout::PresumeYes);
}
