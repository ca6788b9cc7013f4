//! Cutting a damaged trace to its largest consistent prefix: no receive whose
//! send was lost, no turn whose earlier turns were lost, no join of a thread
//! whose exit was lost.

use std::collections::{HashMap, HashSet};

use reprise_recorder::rt::gate::TurnClass;
use reprise_recorder::trace::model::{Event, ObjectIndex, Op, ThreadIndex};

use crate::log::{turn_of, ReplayLog};

/// Cuts `log` in place; returns how many events were dropped.
pub fn cut_to_consistent_prefix(log: &mut ReplayLog) -> u64 {
    let before = log.event_count();
    loop {
        let sent: HashSet<(ThreadIndex, u64)> = log
            .threads
            .iter()
            .flat_map(|(&t, l)| {
                l.events.iter().filter(|e| e.op == Op::Send && e.b == 0).map(move |e| (t, e.a))
            })
            .collect();
        let exited: HashSet<ThreadIndex> =
            log.threads.iter().filter(|(_, l)| l.exited()).map(|(&t, _)| t).collect();
        let mut turns: HashMap<(ObjectIndex, TurnClass), Vec<u64>> = HashMap::new();
        for l in log.threads.values() {
            for e in &l.events {
                if let Some((object, class, number)) = turn_of(e) {
                    turns.entry((object, class)).or_default().push(number);
                }
            }
        }
        // The highest number up to which every turn of a counter is present.
        let complete_upto: HashMap<(ObjectIndex, TurnClass), u64> = turns
            .into_iter()
            .map(|(key, mut numbers)| {
                numbers.sort_unstable();
                numbers.dedup();
                let upto = numbers.iter().enumerate().take_while(|&(i, &n)| n == i as u64 + 1).count() as u64;
                (key, upto)
            })
            .collect();
        let depends_on_lost = |e: &Event| -> bool {
            let message = match e.op {
                Op::Recv | Op::TryRecv | Op::RecvTimeout | Op::Select if e.a != 0 => {
                    Some(((e.a - 1) as ThreadIndex, e.b))
                }
                _ => None,
            };
            if let Some(id) = message {
                if !sent.contains(&id) {
                    return true;
                }
            }
            if let Some((object, class, number)) = turn_of(e) {
                if number > complete_upto.get(&(object, class)).copied().unwrap_or(0) {
                    return true;
                }
            }
            let seen = match e.op {
                Op::AtomicLoad => Some((e.object, TurnClass::Store, e.a)),
                Op::AtomicCas if e.c == 0 => Some((e.object, TurnClass::Store, e.a)),
                Op::ReadLock => Some((e.object, TurnClass::Write, e.a)),
                Op::TryReadLock if e.a != 0 => Some((e.object, TurnClass::Write, e.a - 1)),
                _ => None,
            };
            if let Some((object, class, number)) = seen {
                if number > complete_upto.get(&(object, class)).copied().unwrap_or(0) {
                    return true;
                }
            }
            e.op == Op::Join && !exited.contains(&(e.a as ThreadIndex))
        };
        let mut changed = false;
        for l in log.threads.values_mut() {
            if let Some(at) = l.events.iter().position(depends_on_lost) {
                l.events.truncate(at);
                l.blobs.retain(|&i, _| i < at);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    log.index_turns();
    before - log.event_count()
}
