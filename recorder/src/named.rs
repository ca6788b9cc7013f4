//! Labels for objects in the explorer's reports:
//! `reprise::named(&balance, "balance")` makes the report say `` `balance` ``
//! where it would say `atomic@bank.rs:12` (the kind and where the object was
//! first used). A function, not a constructor, so the primitives keep std's
//! API.
//!
//! A label is kept with the execution's notes under [`label_key`] (in a
//! recorded trace's footer, and in an explored run's annotations); naming
//! the object on the spot makes the labelling call its first use, whose
//! site the trace keeps. Replay ignores labels. Under loom, and outside a
//! recording or an exploration, labelling does nothing.

use std::panic::Location;

#[cfg(not(reprise_loom))]
use crate::rt::mode::{self, Mode};
#[cfg(not(reprise_loom))]
use crate::rt::{context, object::ObjectSlot};
use crate::trace::model::ObjectIndex;
#[cfg(not(reprise_loom))]
use crate::trace::model::ObjectKind;

/// A primitive reprise can label: the locks, condvars, atomics and channel
/// ends of [`crate::sync`] and [`crate::channel`], and `Arc`s of them.
pub trait Nameable {
    /// Labels the object in the current execution (see [`named`]).
    #[doc(hidden)]
    fn label(&self, label: &str, location: &'static Location<'static>);
}

/// Labels `object` as `label` in the explorer's reports and the current
/// recording's notes; returns it, so it can wrap a use.
///
/// ```
/// use reprise_recorder::{named, sync::Mutex};
///
/// let ledger = Mutex::new(0u64);
/// named(&ledger, "ledger");
/// *named(&ledger, "ledger").lock().unwrap() += 1;
/// assert_eq!(*ledger.lock().unwrap(), 1);
/// ```
#[track_caller]
pub fn named<'a, T: Nameable + ?Sized>(object: &'a T, label: &str) -> &'a T {
    object.label(label, Location::caller());
    object
}

/// The note key under which object `index`'s label is kept.
pub fn label_key(index: ObjectIndex) -> String {
    format!("reprise.object.{index}")
}

/// Keeps `label` for `slot`'s object when this thread records or explores.
#[cfg(not(reprise_loom))]
pub(crate) fn label_slot(
    slot: &ObjectSlot,
    kind: ObjectKind,
    label: &str,
    location: &'static Location<'static>,
) {
    if !matches!(mode::mode(), Mode::Record | Mode::Coop) {
        return;
    }
    context::try_with(|ctx| {
        if ctx.exec.sink().is_none() {
            return;
        }
        let key = label_key(ctx.object(slot, kind, location));
        let mut notes = ctx.exec.annotations.lock();
        notes.retain(|(k, _)| *k != key);
        notes.push((key, label.to_string()));
    });
}

impl<T: Nameable + ?Sized> Nameable for std::sync::Arc<T> {
    fn label(&self, label: &str, location: &'static Location<'static>) {
        (**self).label(label, location);
    }
}

/// `impl Nameable` for a type whose object slot is at `$slot` (not under loom).
macro_rules! nameable {
    ([$($g:tt)*] $ty:ty, $kind:ident, |$this:ident| $slot:expr) => {
        impl<$($g)*> $crate::named::Nameable for $ty {
            fn label(&self, label: &str, location: &'static ::std::panic::Location<'static>) {
                #[cfg(not(reprise_loom))]
                {
                    let $this = self;
                    $crate::named::label_slot(&$slot, $crate::trace::model::ObjectKind::$kind, label, location);
                }
                #[cfg(reprise_loom)]
                let _ = (label, location);
            }
        }
    };
}
pub(crate) use nameable;
