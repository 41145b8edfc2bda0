//! Where a run's time goes: each stage's busy time, summed over its
//! threads, and the run's wall time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Busy time of each stage, summed over its threads (so decode and encode
/// can exceed the wall time), and the wall time of the whole run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StageTimes {
    /// [`Steps::open`](super::Steps::open) and [`Opened::decode`](super::Opened::decode).
    pub decode: Duration,
    /// [`Remover::process`](crate::Remover::process) on the batches.
    pub gpu: Duration,
    /// [`Steps::encode`](super::Steps::encode).
    pub encode: Duration,
    /// From the start of [`run`](super::run) to its return.
    pub wall: Duration,
}

#[derive(Clone, Copy)]
pub(super) enum Stage {
    Decode,
    Gpu,
    Encode,
}

/// The busy times as the threads add to them, in nanoseconds.
#[derive(Default)]
pub(super) struct Clocks {
    nanos: [AtomicU64; 3],
}

impl Clocks {
    /// Runs `f`, adding its duration to `stage`.
    pub(super) fn time<T>(&self, stage: Stage, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        let nanos = u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.nanos[stage as usize].fetch_add(nanos, Ordering::Relaxed);
        out
    }

    pub(super) fn read(&self, wall: Duration) -> StageTimes {
        let busy =
            |stage: Stage| Duration::from_nanos(self.nanos[stage as usize].load(Ordering::Relaxed));
        StageTimes {
            decode: busy(Stage::Decode),
            gpu: busy(Stage::Gpu),
            encode: busy(Stage::Encode),
            wall,
        }
    }
}
