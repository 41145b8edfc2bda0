//! The threads of a run and what each does; see the [module docs](super).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, bounded};
use image::RgbaImage;

use super::budget::{Budget, Permit};
use super::order::{Reorder, Window};
use super::times::{Clocks, Stage};
use super::{Event, Opened as _, Options, Outcome, Steps, Summary};
use crate::Remover;
use crate::error::{Error, Result};
use crate::io::Decoded;
use crate::remove::{Product, Removed};

/// A decoded image on its way to the GPU.
struct Loaded<'a, J> {
    index: usize,
    item: J,
    /// When the input was taken from the iterator.
    taken: Instant,
    image: RgbaImage,
    /// What is wrong with the input, let through damaged.
    warning: Option<String>,
    permit: Permit<'a>,
}

/// A result on its way to the encoders.
struct Done<'a, J> {
    index: usize,
    item: J,
    /// The image it was made from.
    input: RgbaImage,
    /// The images of its GPU pass.
    batch: usize,
    taken: Instant,
    size: (u32, u32),
    removed: Removed,
    warning: Option<String>,
    permit: Permit<'a>,
}

/// Everything the threads share.
struct Shared<'a, S: Steps, I> {
    steps: &'a S,
    options: &'a Options,
    inputs: Mutex<std::iter::Enumerate<I>>,
    budget: Budget,
    window: Window,
    clocks: Clocks,
    /// Set when the GPU stage failed: decoders stop taking inputs.
    stop: AtomicBool,
    /// Times the device failed and was opened again.
    reopens: AtomicUsize,
    /// Set while a decoder waits for the iterator to yield: a stream (a
    /// server's requests, frames from a pipe) that has nothing yet.
    source_waits: AtomicBool,
}

type EventOf<S> = Event<<S as Steps>::Item, <S as Steps>::Output>;

impl<S: Steps, I: Iterator<Item = S::Item> + Send> Shared<'_, S, I> {
    fn decode_worker<'s>(
        &'s self,
        to_gpu: Sender<Loaded<'s, S::Item>>,
        events: Sender<EventOf<S>>,
    ) {
        while !self.stop.load(Ordering::Relaxed) {
            let Some((index, mut item)) = self.next_input() else {
                return;
            };
            let taken = Instant::now();
            self.window.enter(index);
            if self.stop.load(Ordering::Relaxed) {
                return;
            }
            let mut size = None;
            let loaded = self.load(&mut item, &mut size);
            let sent = match loaded {
                Ok((decoded, permit)) => to_gpu
                    .send(Loaded {
                        index,
                        item,
                        taken,
                        image: decoded.image,
                        warning: decoded.warning,
                        permit,
                    })
                    .is_ok(),
                Err(e) => events
                    .send(Event {
                        index,
                        item,
                        outcome: Outcome::BadInput(e),
                        size,
                        time: taken.elapsed(),
                        batch: 0,
                    })
                    .is_ok(),
            };
            if !sent {
                return;
            }
        }
    }

    fn next_input(&self) -> Option<(usize, S::Item)> {
        let mut inputs = self.inputs.lock().unwrap();
        self.source_waits.store(true, Ordering::SeqCst);
        let next = inputs.next();
        self.source_waits.store(false, Ordering::SeqCst);
        next
    }

    /// Opens `item`, sets `size` from its header, reserves its bytes,
    /// decodes it.
    fn load(
        &self,
        item: &mut S::Item,
        size: &mut Option<(u32, u32)>,
    ) -> Result<(Decoded, Permit<'_>)> {
        let opened = self.clocks.time(Stage::Decode, || self.steps.open(item))?;
        let (w, h) = opened.dimensions();
        *size = Some((w, h));
        let bytes = u64::from(w) * u64::from(h) * self.options.bytes_per_pixel;
        let permit = self.budget.reserve(bytes);
        let decoded = self.clocks.time(Stage::Decode, || opened.decode())?;
        Ok((decoded, permit))
    }

    /// Runs full batches, partial ones only when no more images can come
    /// (see the [module docs](super)). An image that fails its pass fails
    /// alone (see [`run_batch`]); when nothing in a batch ran and not for
    /// one of the device's limits, the device is taken to be gone: the
    /// decoders stop and the stage ends with the error.
    fn gpu_stage<'s>(
        &'s self,
        remover: &Remover,
        batch: usize,
        from_decoders: Receiver<Loaded<'s, S::Item>>,
        to_encoders: Sender<Done<'s, S::Item>>,
        events: Sender<EventOf<S>>,
    ) -> Result<()> {
        let mut reopened: Option<Remover> = None;
        // Whether a batch ran since the device was last opened: one that
        // fails its first batch again is not worth reopening.
        let mut ran = true;
        while let Ok(first) = from_decoders.recv() {
            let remover = reopened.as_ref().unwrap_or(remover);
            let mut loaded = vec![first];
            while loaded.len() < batch {
                match from_decoders.recv_timeout(self.options.batch_wait) {
                    Ok(l) => loaded.push(l),
                    Err(RecvTimeoutError::Timeout) if !self.held_back() => {}
                    Err(_) => break,
                }
            }
            let sizes: Vec<(u32, u32)> = loaded.iter().map(|l| l.image.dimensions()).collect();
            let images: Vec<RgbaImage> = loaded
                .iter_mut()
                .map(|l| std::mem::take(&mut l.image))
                .collect();
            let results = self.clocks.time(Stage::Gpu, || {
                run_batch(remover, &images, self.options.product)
            });
            // Nothing in the batch ran, and not for a limit of the device's:
            // the device is likely gone, and so is the rest of the run.
            let device_failed = results
                .iter()
                .all(|r| matches!(r, Err(e) if !matches!(e, Error::Limit(_))));
            let mut first_error = None;
            let batch = images.len();
            let inputs = loaded.into_iter().zip(images).zip(sizes);
            for (((l, input), size), result) in inputs.zip(results) {
                match result {
                    Ok(removed) => {
                        let done = Done {
                            index: l.index,
                            item: l.item,
                            input,
                            batch,
                            taken: l.taken,
                            size,
                            removed,
                            warning: l.warning,
                            permit: l.permit,
                        };
                        if to_encoders.send(done).is_err() {
                            return Ok(());
                        }
                    }
                    Err(err) => {
                        let message = err.to_string();
                        first_error.get_or_insert(err);
                        let _ = events.send(Event {
                            index: l.index,
                            item: l.item,
                            outcome: Outcome::Failed(Error::Gpu(format!(
                                "the GPU pass failed: {message}"
                            ))),
                            size: Some(size),
                            time: l.taken.elapsed(),
                            batch,
                        });
                    }
                }
            }
            let Some(err) = first_error.filter(|_| device_failed) else {
                ran = true;
                continue;
            };
            let reopen = if ran {
                remover.reopened()
            } else {
                Err(Error::Gpu("it failed its first batch again".to_owned()))
            };
            match reopen {
                Ok(r) => {
                    reopened = Some(r);
                    ran = false;
                    self.reopens.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    self.stop();
                    let err = err.context("running a batch");
                    return Err(Error::Gpu(format!("{err}; reopening the device: {e}")));
                }
            }
        }
        Ok(())
    }

    fn encode_worker(&self, from_gpu: Receiver<Done<'_, S::Item>>, events: Sender<EventOf<S>>) {
        for done in from_gpu {
            let warning = match (done.warning, done.removed.warning()) {
                (Some(input), Some(mask)) => Some(format!("{input}; {mask}")),
                (input, mask) => input.or(mask),
            };
            let encoded = self.clocks.time(Stage::Encode, || {
                self.steps.encode(&done.item, done.input, done.removed)
            });
            let outcome = match encoded {
                Ok(output) => Outcome::Done { output, warning },
                Err(e) => Outcome::Failed(e),
            };
            let event = Event {
                index: done.index,
                item: done.item,
                outcome,
                size: Some(done.size),
                time: done.taken.elapsed(),
                batch: done.batch,
            };
            let sent = events.send(event).is_ok();
            drop(done.permit);
            if !sent {
                return;
            }
        }
    }

    /// Whether decoders wait: for the budget or the reorder window, whose
    /// images will not come until the GPU stage moves on, or for the
    /// source, which has none to give now.
    fn held_back(&self) -> bool {
        self.budget.holds_back()
            || self.window.holds_back()
            || self.source_waits.load(Ordering::SeqCst)
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.window.close();
    }
}

/// Runs `inputs` through the pipeline (see the [module docs](super)),
/// calling `deliver` with each input's [`Event`] on this thread; returns
/// when every input is done, or the GPU failed.
pub fn run<S: Steps>(
    remover: &Remover,
    options: &Options,
    inputs: impl Iterator<Item = S::Item> + Send,
    steps: &S,
    mut deliver: impl FnMut(Event<S::Item, S::Output>),
) -> Summary {
    let start = Instant::now();
    let batch = match remover.batch() {
        Ok(b) => b as usize,
        Err(e) => {
            return Summary {
                times: Clocks::default().read(start.elapsed()),
                stopped: Some(e),
                reopens: 0,
            };
        }
    };
    let threads = options.threads.max(1);
    // Room for every input the stages can hold, twice over: in order, the
    // window only closes on the inputs behind one that is stuck.
    let window = options.ordered.then_some(2 * (2 * threads + 3 * batch));
    let shared = Shared {
        steps,
        options,
        inputs: Mutex::new(inputs.enumerate()),
        budget: Budget::new(options.memory_budget),
        window: Window::new(window),
        clocks: Clocks::default(),
        stop: AtomicBool::new(false),
        reopens: AtomicUsize::new(0),
        source_waits: AtomicBool::new(false),
    };
    let shared = &shared;
    let stopped = std::thread::scope(|s| {
        let (to_gpu, from_decoders) = bounded(batch);
        let (to_encoders, from_gpu) = bounded(batch);
        let (events, delivered) = bounded(batch + threads);
        for _ in 0..threads {
            let (tx, ev) = (to_gpu.clone(), events.clone());
            s.spawn(move || shared.decode_worker(tx, ev));
        }
        for _ in 0..threads {
            let (rx, ev) = (from_gpu.clone(), events.clone());
            s.spawn(move || shared.encode_worker(rx, ev));
        }
        drop((to_gpu, from_gpu));
        let gpu =
            s.spawn(move || shared.gpu_stage(remover, batch, from_decoders, to_encoders, events));
        // Should `deliver` panic, the decoders must not wait on the window
        // for events that will never be delivered.
        let _close = CloseOnDrop(&shared.window);
        let mut reorder = Reorder::new();
        for event in delivered {
            if options.ordered {
                reorder
                    .push(event.index, event)
                    .into_iter()
                    .for_each(&mut deliver);
                shared.window.advance(reorder.next());
            } else {
                deliver(event);
            }
        }
        reorder.rest().for_each(&mut deliver);
        gpu.join().expect("the GPU stage does not panic").err()
    });
    Summary {
        times: shared.clocks.read(start.elapsed()),
        stopped,
        reopens: shared.reopens.load(Ordering::Relaxed),
    }
}

/// Runs a batch through the GPU; if the pass fails, runs each of its
/// images alone, so that one image the device cannot take (over a
/// buffer limit, say) fails alone with its own error and the others are
/// done.
fn run_batch(remover: &Remover, images: &[RgbaImage], product: Product) -> Vec<Result<Removed>> {
    match remover.process(images, product) {
        Ok(removed) => removed.into_iter().map(Ok).collect(),
        Err(err) if images.len() == 1 => vec![Err(err)],
        Err(_) => images
            .iter()
            .map(|image| {
                let mut removed = remover.process(std::slice::from_ref(image), product)?;
                Ok(removed.pop().expect("one result per image"))
            })
            .collect(),
    }
}

/// Closes the window when the delivering loop ends, however it ends.
struct CloseOnDrop<'a>(&'a Window);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}
