//! Property tests of the reader: any trace round-trips, and no mutation of
//! one makes it panic or allocate beyond what it can justify.

use super::*;

/// Arbitrary threads' records, cut into chunks, interleaved across threads.
pub(crate) fn arb_chunks() -> impl Strategy<Value = Vec<(u32, u32, Vec<Record>)>> {
    let thread = prop::collection::vec(prop::collection::vec(arb_record(), 0..12), 1..4);
    (prop::collection::vec(thread, 1..4), prop::collection::vec(any::<u8>(), 0..16)).prop_map(
        |(threads, order)| {
            let mut queues: Vec<_> = threads
                .into_iter()
                .enumerate()
                .map(|(t, c)| (t as u32 * 7, c.into_iter().enumerate()))
                .collect();
            let mut out = Vec::new();
            let mut pick = order.into_iter().cycle();
            while !queues.is_empty() {
                let i = pick.next().map_or(0, usize::from) % queues.len();
                let thread = queues[i].0;
                match queues[i].1.next() {
                    Some((seq, records)) => out.push((thread, seq as u32, records)),
                    None => drop(queues.remove(i)),
                }
            }
            out
        },
    )
}

proptest! {
    #[test]
    fn any_trace_round_trips(chunks in arb_chunks(), note in ".{0,10}") {
        let footer = Footer {
            verdict: Verdict::Panicked { thread: 2, message: note.clone() },
            annotations: vec![("note".into(), note)],
            events: event_count(&chunks),
        };
        let bytes = write(&chunks, Some(&footer));
        let f = read_trace(&bytes).unwrap();
        prop_assert!(f.is_whole(), "{:?}", f.damage);
        prop_assert_eq!(&f.footer, &Some(footer));
        prop_assert_eq!(f.chunks, chunks.len() as u64);
        prop_assert_eq!(f.unshared_threads(), expected_threads(&chunks));
    }

    #[test]
    fn random_bytes_never_panic(mut bytes in prop::collection::vec(any::<u8>(), 0..300), prefix in 0..3) {
        let sample = sample();
        let keep = [0, MAGIC.len(), PREAMBLE_LEN][prefix as usize];
        bytes.splice(0..0, sample[..keep].iter().copied());
        if let Ok(f) = read_trace(&bytes) {
            prop_assert!(f.damage.is_some());
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Overwrite(usize, u32),
}

pub(crate) fn arb_mutation() -> impl Strategy<Value = Mutation> {
    let lengths = prop_oneof![Just(u32::MAX), Just(0), Just(MAX_CHUNK_PAYLOAD), any::<u32>(), 0u32..64];
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..24)).prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), lengths).prop_map(|(i, v)| Mutation::Overwrite(i, v)),
    ]
}

pub(crate) fn mutate(bytes: &mut Vec<u8>, m: &Mutation) {
    let n = bytes.len();
    match m {
        Mutation::Flip(i, b) => bytes[i % n] ^= 1 << b,
        Mutation::Truncate(i) => bytes.truncate(i % n),
        Mutation::Insert(i, v) => {
            bytes.splice(i % (n + 1)..i % (n + 1), v.iter().copied());
        }
        Mutation::Overwrite(i, v) => {
            // Aim at length fields: frame starts + 9 or the header length.
            let at = (i % n).saturating_sub(4);
            for (k, b) in v.to_le_bytes().into_iter().enumerate() {
                if let Some(slot) = bytes.get_mut(at + k) {
                    *slot = b;
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn mutated_traces_are_detected_and_bounded(
        chunks in arb_chunks(),
        mutations in prop::collection::vec(arb_mutation(), 1..4),
    ) {
        let original = write(&chunks, Some(&Footer { events: event_count(&chunks), ..footer() }));
        let whole = read_trace(&original).unwrap();
        let mut bytes = original.clone();
        for m in &mutations {
            if !bytes.is_empty() {
                mutate(&mut bytes, m);
            }
        }
        match read_trace(&bytes) {
            Err(e) => prop_assert!(e.offset <= bytes.len() as u64),
            Ok(f) => {
                let len = bytes.len() as u64;
                prop_assert!(f.intact_bytes <= len && f.bytes == len);
                prop_assert!(f.events <= len && f.chunks <= len);
                if bytes != original {
                    let damage = f.damage.as_ref();
                    prop_assert!(damage.is_some(), "{:?} went unseen", mutations);
                    prop_assert!(damage.is_some_and(|d| d.offset <= len));
                }
                if bytes.len() <= original.len() {
                    assert_prefix_of(&whole, &f);
                }
            }
        }
    }
}
