//! The library's batch pipeline with steps of the tests' own: results
//! matched to their inputs, input order kept when asked for, per-input
//! errors, the memory budget bounding the images in flight, a stream
//! source answered without waiting for a full batch. A tiny
//! random U²-Net on the CPU references (bit-exact, no GPU needed), and once
//! on the GPU.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use image::{GrayImage, Rgba, RgbaImage};
use u2cut::gpu::GpuContext;
use u2cut::io::Decoded;
use u2cut::model::U2NetConfig;
use u2cut::pipeline::{self, Event, Opened, Outcome, StageTimes, Steps};
use u2cut::remove::{Options, Product, Removed};
use u2cut::{Error, Model, Network, Remover, Result};

/// The real topology with widths 2 to 8 and random weights: fast anywhere.
fn tiny_network(gpu: Option<&GpuContext>) -> Network {
    let widths = std::array::from_fn(|stage| {
        let cin = match stage {
            0 => 3,
            // The decoder stages take two stages' outputs, concatenated.
            6.. => 8,
            _ => 4,
        };
        (cin, 2, 4)
    });
    let model = Arc::new(Model::random(
        U2NetConfig::from_widths("tiny", widths).unwrap(),
        7,
    ));
    match gpu {
        Some(ctx) => Network::gpu(ctx, model),
        None => Network::cpu(model),
    }
}

fn remover(net: Network, batch: u32) -> Remover {
    let options = Options {
        batch_size: batch,
        ..Options::default()
    };
    Remover::new(net, options)
}

/// Image `i`: its own size and pattern, so a result given to the wrong
/// input shows.
fn image(i: usize) -> RgbaImage {
    let i = i as u32;
    RgbaImage::from_fn(20 + 3 * i, 16 + (i * 7) % 11, |x, y| {
        let inside = x.abs_diff(10 + i) + y.abs_diff(8) < 6 + i % 4;
        let v = if inside { 230 } else { (x * 9 + y * i) as u8 };
        Rgba([v, (y * 13) as u8, 255 - v, 255])
    })
}

/// In-memory steps: inputs are indices into `images`; the output is the
/// mask. Opening input `i` waits `delays[i]` (scrambling the completion
/// order); `bad` inputs fail to open, `unwritable` ones to encode. Counts
/// the images between decode and encode, and the most at once.
#[derive(Default)]
struct Memory {
    images: Vec<RgbaImage>,
    delays: Vec<Duration>,
    bad: Vec<usize>,
    unwritable: Vec<usize>,
    /// Destroys this device when opening input `.0`: what a driver reset
    /// leaves behind.
    lose_device: Option<(usize, GpuContext)>,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
}

impl Memory {
    /// Steps on these images, none delayed or failing.
    fn of(images: Vec<RgbaImage>) -> Self {
        Self {
            images,
            ..Self::default()
        }
    }
}

struct Counted<'a> {
    image: RgbaImage,
    steps: &'a Memory,
}

impl Opened for Counted<'_> {
    fn dimensions(&self) -> (u32, u32) {
        self.image.dimensions()
    }

    fn decode(self) -> Result<Decoded> {
        let now = self.steps.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.steps.most_in_flight.fetch_max(now, Ordering::SeqCst);
        Opened::decode(self.image)
    }
}

impl<'a> Steps for &'a Memory {
    type Item = usize;
    type Opened = Counted<'a>;
    type Output = GrayImage;

    fn open(&self, &mut i: &mut usize) -> Result<Counted<'a>> {
        std::thread::sleep(self.delays.get(i).copied().unwrap_or_default());
        if self.bad.contains(&i) {
            return Err(Error::Input(format!("input {i} is unreadable")));
        }
        if let Some((_, ctx)) = self.lose_device.as_ref().filter(|(at, _)| *at == i) {
            ctx.device.destroy();
        }
        Ok(Counted {
            image: self.images[i].clone(),
            steps: self,
        })
    }

    fn encode(&self, &i: &usize, input: RgbaImage, removed: Removed) -> Result<GrayImage> {
        assert_eq!(input, self.images[i], "input {i}: another image came back");
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        if self.unwritable.contains(&i) {
            return Err(Error::io(
                format_args!("writing output {i}"),
                std::io::ErrorKind::StorageFull.into(),
            ));
        }
        Ok(removed.mask)
    }
}

fn images(n: usize) -> Vec<RgbaImage> {
    (0..n).map(image).collect()
}

/// Masks, with `threads` decoder and encoder threads.
fn options(threads: usize, ordered: bool) -> pipeline::Options {
    pipeline::Options {
        product: Product::Mask,
        threads,
        ordered,
        ..pipeline::Options::default()
    }
}

/// Runs `steps` on its images, which must not stop it; the events in the
/// order delivered.
fn run(
    remover: &Remover,
    options: &pipeline::Options,
    steps: &Memory,
) -> (Vec<Event<usize, GrayImage>>, StageTimes) {
    let mut events = Vec::new();
    let summary = pipeline::run(remover, options, 0..steps.images.len(), &steps, |e| {
        events.push(e)
    });
    assert!(summary.stopped.is_none(), "{:?}", summary.stopped);
    (events, summary.times)
}

fn mask(event: &Event<usize, GrayImage>) -> &GrayImage {
    match &event.outcome {
        Outcome::Done { output, .. } => output,
        other => panic!("input {}: {other:?}", event.item),
    }
}

/// Several threads, later inputs opened sooner: delivered in input order
/// all the same, each with its own mask, equal to the library's.
#[test]
fn ordered_runs_deliver_in_input_order() {
    let n = 11;
    let remover = remover(tiny_network(None), 3);
    let mut steps = Memory::of(images(n));
    steps.delays = (0..n)
        .map(|i| Duration::from_millis(5 * (n - i) as u64))
        .collect();
    let (events, t) = run(&remover, &options(4, true), &steps);
    let order: Vec<usize> = events.iter().map(|e| e.index).collect();
    assert_eq!(order, (0..n).collect::<Vec<_>>());
    let want = remover.process(&steps.images, Product::Mask).unwrap();
    for (e, w) in events.iter().zip(&want) {
        assert_eq!(e.item, e.index);
        assert_eq!(mask(e), &w.mask, "input {}", e.item);
    }
    assert!(t.gpu > Duration::ZERO && t.gpu <= t.wall, "{t:?}");
    assert!(
        t.decode > Duration::ZERO && t.encode > Duration::ZERO,
        "{t:?}"
    );
}

/// An input that cannot be opened and one that cannot be encoded are
/// reported as such, with the library's error; the others complete.
#[test]
fn per_input_errors_leave_the_others_done() {
    let n = 9;
    let remover = remover(tiny_network(None), 4);
    let mut steps = Memory::of(images(n));
    (steps.bad, steps.unwritable) = (vec![2, 7], vec![4]);
    let (mut events, _) = run(&remover, &options(3, false), &steps);
    events.sort_by_key(|e| e.index);
    assert_eq!(events.len(), n);
    for e in &events {
        match (&e.outcome, e.index) {
            (Outcome::BadInput(err), 2 | 7) => {
                assert!(err.is_input() && err.to_string().contains("unreadable"));
            }
            (Outcome::Failed(err), 4) => assert!(matches!(err, Error::Io { .. }), "{err}"),
            (Outcome::Done { output, warning }, _) => {
                assert_eq!(output.dimensions(), steps.images[e.index].dimensions());
                assert!(warning.is_none());
            }
            (other, i) => panic!("input {i}: {other:?}"),
        }
    }
}

/// The budget bounds the images between decode and encode: with room for
/// two images at most two are in flight, with less than one image's bytes
/// one at a time (a partial batch each: the GPU stage sees the decoders
/// held back); every input completes.
#[test]
fn the_memory_budget_bounds_the_images_in_flight() {
    let n = 8;
    let remover = remover(tiny_network(None), 4);
    // Same-sized images, so the budget counts whole images.
    let same = vec![image(3); n];
    let bytes = {
        let (w, h) = same[0].dimensions();
        u64::from(w * h) * pipeline::DEFAULT_BYTES_PER_PIXEL
    };
    for (budget, most) in [(2 * bytes, 2), (1, 1)] {
        let steps = Memory::of(same.clone());
        let options = pipeline::Options {
            memory_budget: budget,
            ..options(4, false)
        };
        let (events, _) = run(&remover, &options, &steps);
        assert_eq!(events.len(), n);
        assert!(
            events
                .iter()
                .all(|e| matches!(e.outcome, Outcome::Done { .. }))
        );
        let seen = steps.most_in_flight.load(Ordering::SeqCst);
        assert!(seen <= most, "budget {budget}: {seen} images in flight");
        assert_eq!(steps.in_flight.load(Ordering::SeqCst), 0);
    }
}

/// A stream with nothing to give yet (a server between requests): the
/// GPU stage runs what it has rather than wait for a full batch, so each
/// request is answered while the stream stays open.
#[test]
fn a_waiting_source_does_not_wait_for_a_full_batch() {
    let remover = remover(tiny_network(None), 4);
    let steps = Memory::of(images(2));
    let (requests, source) = std::sync::mpsc::channel();
    let (answer, answers) = std::sync::mpsc::channel();
    let client = std::thread::spawn(move || {
        for i in 0..2 {
            requests.send(i).unwrap();
            assert_eq!(answers.recv_timeout(Duration::from_secs(60)), Ok(i));
        }
    });
    let summary = pipeline::run(
        &remover,
        &options(1, false),
        source.into_iter(),
        &&steps,
        |e| {
            let _ = answer.send(e.index);
        },
    );
    client.join().expect("every request answered in time");
    assert!(summary.stopped.is_none(), "{:?}", summary.stopped);
}

/// On the GPU, batched through the pipeline: each input gets its own mask,
/// the CPU reference's to a gray level.
#[test]
fn gpu_results_match_their_inputs() {
    let Some(ctx) = common::gpu() else { return };
    let n = 5;
    let gpu = remover(tiny_network(Some(&ctx)), 2);
    let steps = Memory::of(images(n));
    let (events, _) = run(&gpu, &options(2, true), &steps);
    assert_eq!(events.len(), n);
    assert_cpu_masks(&events, &steps.images);
}

/// A device lost mid-run (destroyed, as a driver reset leaves it): the
/// batch it was lost under fails, each input named with the reason, and
/// the rest of the run goes on on a new device, with the right masks.
#[test]
fn a_lost_device_fails_its_batch_and_the_run_goes_on() {
    let Some(shared) = common::gpu() else { return };
    // A device of the test's own: this one is destroyed.
    let ctx = shared.reopen().unwrap();
    let (n, batch) = (9, 2);
    let gpu = remover(tiny_network(Some(&ctx)), batch);
    let mut steps = Memory::of(images(n));
    steps.lose_device = Some((4, ctx.clone()));
    let mut events = Vec::new();
    let summary = pipeline::run(&gpu, &options(1, true), 0..n, &&steps, |e| events.push(e));
    assert!(summary.stopped.is_none(), "{:?}", summary.stopped);
    assert_eq!(summary.reopens, 1);
    assert!(ctx.lost().is_some());
    let (done, failed): (Vec<_>, Vec<_>) = events
        .into_iter()
        .partition(|e| matches!(e.outcome, Outcome::Done { .. }));
    assert!((1..=batch as usize).contains(&failed.len()), "{failed:?}");
    for e in &failed {
        let Outcome::Failed(err) = &e.outcome else {
            panic!("input {}: {:?}", e.item, e.outcome)
        };
        assert!(
            err.to_string().contains("the GPU device was lost"),
            "input {}: {err}",
            e.item
        );
    }
    assert_eq!(done.len() + failed.len(), n);
    let inputs: Vec<RgbaImage> = done.iter().map(|e| steps.images[e.item].clone()).collect();
    assert_cpu_masks(&done, &inputs);
}

/// Each event's mask is the CPU reference's for `inputs` (one per event,
/// in the same order), to a gray level.
fn assert_cpu_masks(events: &[Event<usize, GrayImage>], inputs: &[RgbaImage]) {
    let want = remover(tiny_network(None), 2)
        .process(inputs, Product::Mask)
        .unwrap();
    for (e, w) in events.iter().zip(&want) {
        let got = mask(e);
        assert_eq!(got.dimensions(), w.mask.dimensions(), "input {}", e.item);
        let worst = got
            .iter()
            .zip(w.mask.iter())
            .map(|(a, b)| a.abs_diff(*b))
            .max();
        assert!(worst <= Some(1), "input {}: off by {worst:?}", e.item);
    }
}
