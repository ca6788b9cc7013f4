//! What the flight recorder keeps of a thread that exited long ago: its
//! chunks are gone, its window starts after its last event, and of what it
//! defined only what a dump can still need.
//!
//! A program that spawns a thread per task leaves one of these per thread
//! for the whole run, so it is small: the window's start and the table
//! records kept, in one boxed slice. Call sites are per thread (site 3 of
//! thread 1 is not site 3 of thread 2), so a retired thread's sites serve
//! only its own events, which are gone, and the objects it named: those
//! sites stay, the others go. Its thread record stays (other threads'
//! events name it: a spawn, a join, a message's sender).

use std::collections::HashSet;

use crate::trace::codec::{self, decode_chunk, EventEncoder};
use crate::trace::model::{ObjectIndex, Record, SiteIndex};

/// A retired thread's window start and table records.
#[derive(Debug)]
pub(crate) struct Retired {
    /// Events the thread recorded: its window starts after them.
    pub(crate) first_event: u64,
    /// Chunks it handed over (and that were dropped).
    pub(crate) dropped_chunks: u64,
    /// Its thread record, the objects it named and their call sites, encoded.
    pub(crate) tables: Box<[u8]>,
}

/// Which call sites [`kept_tables`] keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sites {
    /// Every one: a live thread's later events use them.
    All,
    /// Those of the objects kept: a retired thread's events are gone.
    OfObjects,
}

/// The table records of `tables` kept: thread records, object records but
/// those `forget` says go (asked once per object), and the call sites
/// `sites` says. Encoded; tables that do not decode (the recorder wrote
/// them: they do) are kept as they are.
pub(crate) fn kept_tables(
    tables: &[u8],
    sites: Sites,
    mut forget: impl FnMut(ObjectIndex) -> bool,
) -> Vec<u8> {
    let Ok(records) = decode_chunk(tables) else { return tables.to_vec() };
    let keep: Vec<bool> = records
        .iter()
        .map(|record| match record {
            Record::Thread { .. } | Record::Site { .. } => true,
            Record::Object { index, .. } => !forget(*index),
            _ => false,
        })
        .collect();
    let named: HashSet<SiteIndex> = records
        .iter()
        .zip(&keep)
        .filter_map(|(record, &kept)| match record {
            Record::Object { site, .. } if kept => Some(*site),
            _ => None,
        })
        .collect();
    let mut encoder = EventEncoder::new();
    let mut kept = Vec::with_capacity(tables.len());
    for (record, &keep) in records.iter().zip(&keep) {
        let keep = match record {
            Record::Site { index, .. } => sites == Sites::All || named.contains(index),
            _ => keep,
        };
        if keep {
            codec::encode_record(&mut encoder, &mut kept, record);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::model::ObjectKind;

    #[test]
    fn a_retired_thread_keeps_its_record_its_objects_and_their_sites_only() {
        let mut tables = Vec::new();
        codec::encode_thread(&mut tables, 7, 0, 3, "task-7");
        codec::encode_site(&mut tables, 0, "src/task.rs", 10, 5);
        codec::encode_site(&mut tables, 1, "src/task.rs", 12, 9);
        codec::encode_site(&mut tables, 2, "src/task.rs", 20, 1);
        codec::encode_object(&mut tables, 40, ObjectKind::Mutex, 1);
        codec::encode_object(&mut tables, 41, ObjectKind::Channel, 2);
        let kept = decode_chunk(&kept_tables(&tables, Sites::OfObjects, |object| object == 41)).unwrap();
        assert_eq!(kept.len(), 3, "{kept:?}");
        assert!(matches!(kept[0], Record::Thread { index: 7, .. }));
        assert!(matches!(kept[1], Record::Site { index: 1, line: 12, .. }), "{kept:?}");
        assert!(matches!(kept[2], Record::Object { index: 40, site: 1, .. }));
    }
}
