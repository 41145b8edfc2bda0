//! Input order, for [`Options::ordered`](super::Options::ordered): events
//! wait in a reorder buffer until those of every earlier input are
//! delivered, and the decoders take no input too far ahead of the oldest
//! undelivered one, so an input that is slow to decode cannot make the
//! buffer grow with everything that overtakes it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

/// How far ahead of the first undelivered input a decoder may start one;
/// unbounded when events go out as they complete.
pub(super) struct Window {
    state: Mutex<WindowState>,
    moved: Condvar,
    size: Option<usize>,
    /// Decoders blocked in `enter`: like those the budget blocks, they
    /// make the GPU stage run what it has.
    waiting: AtomicUsize,
}

struct WindowState {
    /// Inputs before this one are delivered.
    delivered: usize,
    /// Set when the run stops: nobody waits any more.
    closed: bool,
}

impl Window {
    pub(super) fn new(size: Option<usize>) -> Self {
        Self {
            state: Mutex::new(WindowState {
                delivered: 0,
                closed: false,
            }),
            moved: Condvar::new(),
            size,
            waiting: AtomicUsize::new(0),
        }
    }

    /// Blocks until input `index` is within the window (or it is closed).
    pub(super) fn enter(&self, index: usize) {
        let Some(size) = self.size else { return };
        let mut state = self.state.lock().unwrap();
        while !state.closed && index >= state.delivered + size {
            self.waiting.fetch_add(1, Ordering::SeqCst);
            state = self.moved.wait(state).unwrap();
            self.waiting.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Every input before `delivered` has been delivered.
    pub(super) fn advance(&self, delivered: usize) {
        self.state.lock().unwrap().delivered = delivered;
        self.moved.notify_all();
    }

    /// Lets every waiting decoder go (the run is stopping).
    pub(super) fn close(&self) {
        self.state.lock().unwrap().closed = true;
        self.moved.notify_all();
    }

    pub(super) fn holds_back(&self) -> bool {
        self.waiting.load(Ordering::SeqCst) > 0
    }
}

/// Events held back until every earlier input's is out.
pub(super) struct Reorder<E> {
    next: usize,
    held: BTreeMap<usize, E>,
}

impl<E> Reorder<E> {
    pub(super) fn new() -> Self {
        Self {
            next: 0,
            held: BTreeMap::new(),
        }
    }

    /// Takes input `index`'s event; returns those now due, in input order.
    pub(super) fn push(&mut self, index: usize, event: E) -> Vec<E> {
        self.held.insert(index, event);
        let mut due = Vec::new();
        while let Some(e) = self.held.remove(&self.next) {
            due.push(e);
            self.next += 1;
        }
        due
    }

    /// Inputs before this one have been returned by [`Reorder::push`].
    pub(super) fn next(&self) -> usize {
        self.next
    }

    /// What is left when no more events come (inputs a stopped run never
    /// finished leave gaps), in input order.
    pub(super) fn rest(self) -> impl Iterator<Item = E> {
        self.held.into_values()
    }
}
