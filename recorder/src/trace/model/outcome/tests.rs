use proptest::prelude::*;

use super::*;
use crate::trace::model::dependency::{Happened, TurnClass, WaitFor};

fn received() -> impl Strategy<Value = Received> {
    prop_oneof![
        (0..ThreadIndex::MAX, any::<u64>()).prop_map(|(sender, seq)| Received::Message { sender, seq }),
        Just(Received::Empty),
        Just(Received::TimedOut),
        Just(Received::Disconnected),
    ]
}

fn outcome() -> impl Strategy<Value = Outcome> {
    let n = 1..u64::MAX;
    prop_oneof![
        Just(Outcome::ThreadStart),
        any::<bool>().prop_map(|panicked| Outcome::ThreadExit { panicked }),
        any::<u32>().prop_map(|child| Outcome::Spawn { child }),
        (any::<u32>(), any::<bool>()).prop_map(|(joined, panicked)| Outcome::Join { joined, panicked }),
        prop_oneof![
            any::<u64>().prop_map(|seq| Sent::Delivered { seq }),
            Just(Sent::Full),
            Just(Sent::Disconnected),
            Just(Sent::TimedOut)
        ]
        .prop_map(Outcome::Send),
        received().prop_map(Outcome::Recv),
        received().prop_map(Outcome::TryRecv),
        received().prop_map(Outcome::RecvTimeout),
        (any::<u32>(), received()).prop_map(|(arm, received)| Outcome::Select { arm, received }),
        n.clone().prop_map(|acquisition| Outcome::Lock { acquisition }),
        proptest::option::of(n.clone()).prop_map(|acquisition| Outcome::TryLock { acquisition }),
        Just(Outcome::Unlock),
        any::<u64>().prop_map(|writes_before| Outcome::ReadLock { writes_before }),
        (n.clone(), any::<u64>()).prop_map(|(write, readers)| Outcome::WriteLock { write, readers }),
        proptest::option::of(0..u64::MAX - 1)
            .prop_map(|writes_before| Outcome::TryReadLock { writes_before }),
        proptest::option::of((1..u64::MAX - 1, any::<u64>()))
            .prop_map(|taken| Outcome::TryWriteLock { taken }),
        Just(Outcome::ReadUnlock),
        Just(Outcome::WriteUnlock),
        (n.clone(), any::<bool>(), any::<u32>()).prop_map(|(reacquisition, timed_out, mutex)| {
            Outcome::CondWait { reacquisition, timed_out, mutex }
        }),
        any::<bool>().prop_map(|all| Outcome::Notify { all }),
        (any::<u64>(), any::<u64>()).prop_map(|(store, value)| Outcome::AtomicLoad { store, value }),
        n.clone().prop_map(|store| Outcome::AtomicStore { store }),
        (n.clone(), any::<u64>()).prop_map(|(store, previous)| Outcome::AtomicRmw { store, previous }),
        (n, any::<u64>(), any::<bool>()).prop_map(|(store, seen, succeeded)| Outcome::AtomicCas {
            store,
            seen,
            succeeded
        }),
        any::<u64>().prop_map(|nanos| Outcome::Now { nanos }),
        any::<u64>().prop_map(|nanos| Outcome::SystemNow { nanos }),
        any::<u64>().prop_map(|nanos| Outcome::Sleep { nanos }),
        any::<u64>().prop_map(|value| Outcome::Random { value }),
        (0..1u64 << 63, any::<bool>()).prop_map(|(len, panicked)| Outcome::Capture { len, panicked }),
        (0..1u64 << 63, any::<bool>())
            .prop_map(|(len, panicked)| Outcome::CaptureSensitive { len, panicked }),
        any::<u64>().prop_map(|len| Outcome::Panic { len }),
        (
            any::<u32>(),
            prop_oneof![any::<u64>().prop_map(|seq| Sent::Delivered { seq }), Just(Sent::Disconnected)]
        )
            .prop_map(|(arm, sent)| Outcome::SelectSend { arm, sent }),
        any::<u32>().prop_map(|arm| Outcome::SelectReady { arm }),
        any::<u32>().prop_map(|arm| Outcome::SelectTimer { arm }),
        (0..u64::MAX).prop_map(|nanos| Outcome::TimerRecv { fired: Some(nanos), timed_out: false }),
        any::<bool>().prop_map(|timed_out| Outcome::TimerRecv { fired: None, timed_out }),
    ]
}

proptest! {
    #[test]
    fn every_outcome_decodes_to_itself(outcome in outcome(), object in any::<u32>(), site in any::<u32>()) {
        let event = Event::new(outcome, object, site);
        prop_assert_eq!(event.op, outcome.op());
        prop_assert_eq!(event.outcome(), Ok(outcome));
    }

    #[test]
    fn decoding_any_fields_never_panics_and_what_decodes_encodes_back(
        op in 0..Op::ALL.len(), a in any::<u64>(), b in any::<u64>(), c in any::<u64>()
    ) {
        let op = Op::ALL[op];
        if let Ok(outcome) = Outcome::decode(op, [a, b, c]) {
            prop_assert_eq!(outcome.fields(), [a, b, c]);
        }
    }
}

#[test]
fn the_fields_of_every_op_are_the_ones_its_arity_encodes() {
    // A field beyond an op's arity is not written to the file: an outcome
    // that set one would not survive a round trip through the codec.
    let samples = [
        Outcome::ThreadExit { panicked: true },
        Outcome::Send(Sent::Full),
        Outcome::Select { arm: 2, received: Received::TimedOut },
        Outcome::TryWriteLock { taken: Some((3, 4)) },
        Outcome::CondWait { reacquisition: 2, timed_out: true, mutex: 7 },
        Outcome::AtomicCas { store: 5, seen: 9, succeeded: true },
        Outcome::Capture { len: 12, panicked: false },
        Outcome::Capture { len: 30, panicked: true },
        Outcome::CaptureSensitive { len: 61, panicked: false },
    ];
    for outcome in samples {
        let fields = outcome.fields();
        assert!(fields[outcome.op().arity()..].iter().all(|&f| f == 0), "{outcome:?}");
    }
}

#[test]
fn fields_no_recorder_writes_are_refused_with_the_reason() {
    let refused = [
        (Op::Send, [1, 4, 0], "unknown send result"),
        (Op::TimerRecv, [0, 0, 0], "no instant and no reason"),
        (Op::TimerRecv, [0, 3, 0], "no instant and no reason"),
        (Op::TimerRecv, [5, 1, 0], "an instant with a reason"),
        (Op::TryRecv, [0, 4, 0], "not a message and no reason"),
        (Op::TryRecv, [0, 0, 0], "not a message and no reason"),
        (Op::Lock, [0, 0, 0], "acquisition numbers start at 1"),
        (Op::Lock, [1, 1, 0], "a field this operation does not use is set"),
        (Op::ThreadExit, [2, 0, 0], "panicked is not 0 or 1"),
        (Op::Spawn, [u64::from(u32::MAX) + 1, 0, 0], "not a thread index"),
        (Op::TryWriteLock, [1, 0, 0], "write numbers start at 1"),
        (Op::TryWriteLock, [0, 2, 0], "readers counted on a WouldBlock"),
        (Op::CondWait, [1, 0, u64::from(u32::MAX) + 1], "not an object index"),
        (Op::AtomicCas, [0, 5, 1], "store numbers start at 1"),
        (Op::Select, [1, 1, 4 << 32], "arm out of range"),
        (Op::Select, [0, 1, (1 << 32) | 2], "a select's send is neither sent nor disconnected"),
        (Op::Select, [3, 0, (2 << 32) | 2], "a ready arm with a message"),
    ];
    for (op, fields, why) in refused {
        let err = Outcome::decode(op, fields).expect_err(&format!("{op:?} {fields:?}"));
        assert_eq!(err.why, why, "{op:?} {fields:?}");
        assert!(err.to_string().contains(op.name()));
    }
}

#[test]
fn what_a_replay_waits_for_follows_from_the_outcome() {
    let cases = [
        (
            Outcome::Lock { acquisition: 3 },
            Some(WaitFor::Turn { object: 1, class: TurnClass::Lock, number: 3 }),
        ),
        (Outcome::TryLock { acquisition: None }, None),
        (
            Outcome::TryLock { acquisition: Some(2) },
            Some(WaitFor::Turn { object: 1, class: TurnClass::Lock, number: 2 }),
        ),
        (
            Outcome::CondWait { reacquisition: 4, timed_out: false, mutex: 9 },
            Some(WaitFor::Turn { object: 9, class: TurnClass::Lock, number: 4 }),
        ),
        (
            Outcome::ReadLock { writes_before: 2 },
            Some(WaitFor::Taken { object: 1, class: TurnClass::Write, number: 2 }),
        ),
        (Outcome::TryReadLock { writes_before: None }, None),
        (
            Outcome::WriteLock { write: 3, readers: 5 },
            Some(WaitFor::WriteTurn { object: 1, number: 3, readers: 5 }),
        ),
        (
            Outcome::TryWriteLock { taken: Some((3, 5)) },
            Some(WaitFor::WriteTurn { object: 1, number: 3, readers: 5 }),
        ),
        (
            Outcome::AtomicStore { store: 6 },
            Some(WaitFor::Turn { object: 1, class: TurnClass::Store, number: 6 }),
        ),
        (
            Outcome::AtomicLoad { store: 6, value: 0 },
            Some(WaitFor::Taken { object: 1, class: TurnClass::Store, number: 6 }),
        ),
        (
            Outcome::AtomicCas { store: 6, seen: 0, succeeded: false },
            Some(WaitFor::Taken { object: 1, class: TurnClass::Store, number: 6 }),
        ),
        (
            Outcome::AtomicCas { store: 7, seen: 0, succeeded: true },
            Some(WaitFor::Turn { object: 1, class: TurnClass::Store, number: 7 }),
        ),
        (
            Outcome::Recv(Received::Message { sender: 4, seq: 8 }),
            Some(WaitFor::Message { sender: 4, seq: 8 }),
        ),
        (Outcome::TryRecv(Received::Empty), None),
        (
            Outcome::Select { arm: 1, received: Received::Message { sender: 2, seq: 1 } },
            Some(WaitFor::Message { sender: 2, seq: 1 }),
        ),
        (Outcome::Join { joined: 5, panicked: false }, Some(WaitFor::Exit(5))),
        (Outcome::Send(Sent::Delivered { seq: 1 }), None),
        (Outcome::SelectSend { arm: 0, sent: Sent::Delivered { seq: 1 } }, None),
        (Outcome::SelectReady { arm: 2 }, None),
        (Outcome::Now { nanos: 5 }, None),
    ];
    for (outcome, expected) in cases {
        assert_eq!(outcome.waits_for(1), expected, "{outcome:?}");
    }
}

#[test]
fn what_an_outcome_lets_others_go_on() {
    assert_eq!(
        Outcome::Send(Sent::Delivered { seq: 3 }).makes_happen(2, 1),
        Some(Happened::Sent { sender: 2, seq: 3 })
    );
    assert_eq!(Outcome::Send(Sent::Full).makes_happen(2, 1), None);
    assert_eq!(
        Outcome::SelectSend { arm: 1, sent: Sent::Delivered { seq: 3 } }.makes_happen(2, 1),
        Some(Happened::Sent { sender: 2, seq: 3 })
    );
    assert_eq!(Outcome::SelectSend { arm: 1, sent: Sent::Disconnected }.makes_happen(2, 1), None);
    assert_eq!(Outcome::SelectReady { arm: 0 }.makes_happen(2, 1), None);
    assert_eq!(
        Outcome::CondWait { reacquisition: 1, timed_out: true, mutex: 4 }.makes_happen(0, 3),
        Some(Happened::Turn { object: 4, class: TurnClass::Lock })
    );
    assert_eq!(Outcome::ReadLock { writes_before: 0 }.makes_happen(0, 3), Some(Happened::Read(3)));
    assert_eq!(Outcome::Unlock.makes_happen(0, 3), Some(Happened::Released(3)));
    assert_eq!(Outcome::ReadUnlock.makes_happen(0, 3), Some(Happened::Released(3)));
    assert_eq!(Outcome::WriteUnlock.makes_happen(0, 3), Some(Happened::Released(3)));
    assert_eq!(Outcome::TryReadLock { writes_before: None }.makes_happen(0, 3), None);
    assert_eq!(Outcome::AtomicCas { store: 2, seen: 0, succeeded: false }.makes_happen(0, 3), None);
}
