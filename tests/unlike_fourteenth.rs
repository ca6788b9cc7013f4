//! A fourteenth set of programs (more to come): what it found in reprise,
//! reduced (found.rs).

mod found;

/// found.rs: two receivers waiting on one explored rendezvous woke each
/// other for ever (a false livelock under DFS, PCT and Portfolio).
#[test]
fn two_takers_on_one_rendezvous_are_no_livelock() {
    crate::util::survives_every_strategy("fourteenth", &[("two-takers", found::two_takers_waiting)], 30, 14);
}
