//! The receiver's iterators: receives in a loop, at the caller's site.

use std::fmt;
use std::iter::FusedIterator;
use std::panic::Location;

use super::wait::Wait;
use super::Receiver;

/// Blocking iterator of [`Receiver::iter`].
pub struct Iter<'a, T> {
    receiver: &'a Receiver<T>,
    location: &'static Location<'static>,
}

impl<'a, T> Iter<'a, T> {
    pub(super) fn new(receiver: &'a Receiver<T>, location: &'static Location<'static>) -> Self {
        Iter { receiver, location }
    }
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.receiver.receive(Wait::Forever, self.location).ok()
    }
}

/// Non-blocking iterator of [`Receiver::try_iter`].
pub struct TryIter<'a, T> {
    receiver: &'a Receiver<T>,
    location: &'static Location<'static>,
}

impl<'a, T> TryIter<'a, T> {
    pub(super) fn new(receiver: &'a Receiver<T>, location: &'static Location<'static>) -> Self {
        TryIter { receiver, location }
    }
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.receiver.receive(Wait::No, self.location).ok()
    }
}

/// Owning blocking iterator.
pub struct IntoIter<T> {
    receiver: Receiver<T>,
    location: &'static Location<'static>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.receiver.receive(Wait::Forever, self.location).ok()
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    #[track_caller]
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    #[track_caller]
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { receiver: self, location: Location::caller() }
    }
}

// As crossbeam's: no bound on `T`, and the blocking iterators are fused
// (once every sender is gone, a receive keeps finding none).
impl<T> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Iter { .. }")
    }
}

impl<T> fmt::Debug for TryIter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("TryIter { .. }")
    }
}

impl<T> fmt::Debug for IntoIter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("IntoIter { .. }")
    }
}

impl<T> FusedIterator for Iter<'_, T> {}

impl<T> FusedIterator for IntoIter<T> {}
