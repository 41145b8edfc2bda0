//! The memory budget: bytes of image data in flight, reserved by a decoder
//! before it decodes an input and returned once the input's result is
//! encoded, so the images in flight stay bounded however many inputs come.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

/// Image bytes reserved by the images in flight; [`Budget::reserve`]
/// blocks while the budget is spent (but never refuses an image when it is
/// empty: a larger single image still runs, alone).
pub(super) struct Budget {
    used: Mutex<u64>,
    freed: Condvar,
    limit: u64,
    /// Decoders blocked in `reserve`: the GPU stage then runs what it has
    /// rather than wait for a full batch that the budget holds back.
    waiting: AtomicUsize,
}

/// A reservation, returned when dropped.
pub(super) struct Permit<'a> {
    budget: &'a Budget,
    bytes: u64,
}

impl Budget {
    pub(super) fn new(limit: u64) -> Self {
        Self {
            used: Mutex::new(0),
            freed: Condvar::new(),
            limit,
            waiting: AtomicUsize::new(0),
        }
    }

    pub(super) fn reserve(&self, bytes: u64) -> Permit<'_> {
        let mut used = self.used.lock().unwrap();
        while *used > 0 && *used + bytes > self.limit {
            self.waiting.fetch_add(1, Ordering::SeqCst);
            used = self.freed.wait(used).unwrap();
            self.waiting.fetch_sub(1, Ordering::SeqCst);
        }
        *used += bytes;
        Permit {
            budget: self,
            bytes,
        }
    }

    /// Whether a decoder is waiting for bytes to be returned.
    pub(super) fn holds_back(&self) -> bool {
        self.waiting.load(Ordering::SeqCst) > 0
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        *self.budget.used.lock().unwrap() -= self.bytes;
        self.budget.freed.notify_all();
    }
}
