//! The batch pipeline: images in from any source, through the GPU in full
//! batches, results out to any sink, with the images in flight bounded by
//! a memory budget. What `u2cut remove` and `u2cut bench --pipeline` run,
//! and what a server or a stream can run with their own [`Steps`].
//!
//! Three stages of threads joined by bounded channels:
//!
//! - **decoders** ([`Options::threads`]) take the next input from the
//!   iterator, [open](Steps::open) it (its size known, no pixel decoded
//!   yet), reserve its bytes from the memory budget, waiting while the
//!   budget is spent, and [decode](Opened::decode) it to RGBA;
//! - **the GPU stage** fills batches of
//!   [`Remover::batch`](crate::Remover::batch) images and runs each
//!   through [`Remover::process`](crate::Remover::process). It runs full
//!   batches, and partial ones only when no more images can come: the
//!   decoders are done, held back (by the budget, or by the reorder
//!   window), or waiting for the iterator to yield (a stream with nothing
//!   to give yet) — fuller batches keep the GPU busier. When a pass
//!   fails, its images run again one at a time, so an image the device
//!   cannot take (over a buffer limit) fails alone and the run goes on;
//!   when none of them runs, and not for a limit, the device is likely
//!   gone: they are reported failed, the device is
//!   [reopened](crate::Remover::reopened) and the run goes on there,
//!   unless it cannot be, or fails its first batch again: then no more
//!   inputs are taken;
//! - **encoders** ([`Options::threads`]) turn each result into the caller's
//!   output with [`Steps::encode`], which returns the input's bytes to the
//!   budget.
//!
//! Every input taken gets one [`Event`], delivered on the caller's thread
//! (as it completes, or in input order with [`Options::ordered`]), except
//! the inputs still in flight when a GPU failure stops the run. Decoding
//! and encoding overlap the GPU's work on the batch before.
//!
//! Files as `u2cut remove` has them ([`Files`]):
//!
//! ```no_run
//! use std::sync::Arc;
//! use u2cut::io::{DecodeOptions, Format, paths::Job};
//! use u2cut::pipeline::{self, Files, Options, Outcome};
//! use u2cut::{Model, Network, Remover};
//!
//! # fn jobs() -> Vec<Job> { Vec::new() }
//! let remover = Remover::new(Network::cpu(Arc::new(Model::builtin())), Default::default());
//! let files = Files { decode: DecodeOptions::default(), format: Format::Png, quality: 90 };
//! let summary = pipeline::run(&remover, &Options::default(), jobs().into_iter(), &files, |e| {
//!     match e.outcome {
//!         Outcome::Done { warning, .. } => println!("{}: done {warning:?}", e.item.name()),
//!         Outcome::BadInput(err) | Outcome::Failed(err) => eprintln!("{}: {err}", e.item.name()),
//!     }
//! });
//! println!("GPU busy {:?} of {:?}", summary.times.gpu, summary.times.wall);
//! ```
//!
//! [`Frames`] are the steps for raw video frames (`u2cut frames`, video
//! files). Steps of one's own: frames in, masks out in input order.
//!
//! ```no_run
//! use std::io::Write as _;
//! use image::RgbaImage;
//! use u2cut::pipeline::{self, Options, Outcome, Steps};
//! use u2cut::remove::{Product, Removed};
//!
//! struct Frame {
//!     number: u64,
//!     pixels: RgbaImage,
//! }
//!
//! struct Masks;
//!
//! impl Steps for Masks {
//!     type Item = Frame;
//!     type Opened = RgbaImage; // decoded already
//!     type Output = Vec<u8>;
//!
//!     fn open(&self, frame: &mut Frame) -> u2cut::Result<RgbaImage> {
//!         Ok(std::mem::take(&mut frame.pixels))
//!     }
//!
//!     fn encode(&self, _: &Frame, _: RgbaImage, removed: Removed) -> u2cut::Result<Vec<u8>> {
//!         Ok(removed.mask.into_raw())
//!     }
//! }
//!
//! # fn run(remover: &u2cut::Remover, frames: impl Iterator<Item = Frame> + Send) {
//! let options = Options { product: Product::Mask, ordered: true, ..Options::default() };
//! let mut stdout = std::io::stdout().lock();
//! pipeline::run(remover, &options, frames, &Masks, |e| match e.outcome {
//!     Outcome::Done { output, .. } => stdout.write_all(&output).unwrap(),
//!     Outcome::BadInput(err) | Outcome::Failed(err) => eprintln!("frame {}: {err}", e.item.number),
//! });
//! # }
//! ```

mod budget;
mod files;
mod frames;
mod order;
mod stages;
mod times;

use std::time::Duration;

use image::RgbaImage;

use crate::error::{Error, Result};
use crate::io::{Decoded, Header};
use crate::remove::{Product, Removed};

pub use files::Files;
pub use frames::{FrameOutput, Frames};
pub use stages::run;
pub use times::StageTimes;

/// Bytes of image data in flight at most, by default.
pub const DEFAULT_MEMORY_BUDGET: u64 = 1 << 30;
/// Bytes a pixel holds while in flight, by default: RGBA in, RGBA out, the
/// mask, and the decoder's own buffer before conversion to RGBA.
pub const DEFAULT_BYTES_PER_PIXEL: u64 = 12;

/// How a run goes. The batch size is the [`Remover`](crate::Remover)'s.
#[derive(Clone, Debug)]
pub struct Options {
    /// What [`Remover::process`](crate::Remover::process) makes of each image.
    pub product: Product,
    /// Decoder threads, and as many encoder threads.
    pub threads: usize,
    /// Bytes of image data in flight at most: a decoder waits before
    /// decoding an image that would exceed it (unless nothing is in
    /// flight: a larger single image still runs, alone).
    pub memory_budget: u64,
    /// What an image of N pixels counts against the budget: N times this.
    pub bytes_per_pixel: u64,
    /// Deliver the events in input order rather than as they complete.
    pub ordered: bool,
    /// How long the GPU stage waits for the next image of a batch it is
    /// filling, when no more can come for now, before it runs the batch
    /// as it is: latency against fuller batches, for a stream.
    pub batch_wait: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            product: Product::Cutout,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            memory_budget: DEFAULT_MEMORY_BUDGET,
            bytes_per_pixel: DEFAULT_BYTES_PER_PIXEL,
            ordered: false,
            batch_wait: Duration::from_millis(20),
        }
    }
}

/// What a run does with its inputs at either end: the caller's side of
/// the pipeline. `open` runs on the decoder threads, `encode` on the
/// encoder threads, for many inputs at once.
pub trait Steps: Sync {
    /// An input as the iterator yields it (a file, a request, a frame),
    /// given back with its [`Event`].
    type Item: Send;
    /// An input opened: its size known, its pixels maybe not decoded yet.
    type Opened: Opened;
    /// What encoding a result makes, delivered with the input's event.
    type Output: Send;

    /// Opens an input; an error makes it an [`Outcome::BadInput`]. It may
    /// take what it needs out of the item (a frame's pixels): the rest is
    /// given back with the item's event.
    fn open(&self, item: &mut Self::Item) -> Result<Self::Opened>;

    /// Encodes (or writes, or sends) an input's result, given the image it
    /// was made from; an error makes it an [`Outcome::Failed`].
    fn encode(&self, item: &Self::Item, input: RgbaImage, removed: Removed)
    -> Result<Self::Output>;
}

/// An input whose size is known before its pixels: the budget can hold it
/// back before the memory for them is taken. Opened and decoded on the
/// same decoder thread.
pub trait Opened {
    /// Width and height of the decoded image.
    fn dimensions(&self) -> (u32, u32);
    /// The pixels, upright, and what is wrong with them if they were let
    /// through damaged; an error makes the input an [`Outcome::BadInput`].
    fn decode(self) -> Result<Decoded>;
}

/// An encoded image's header: decoded on a decoder thread.
impl Opened for Header {
    fn dimensions(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn decode(self) -> Result<Decoded> {
        Header::decode(self)
    }
}

/// Pixels already at hand (a raw video frame): nothing to decode.
impl Opened for RgbaImage {
    fn dimensions(&self) -> (u32, u32) {
        RgbaImage::dimensions(self)
    }

    fn decode(self) -> Result<Decoded> {
        Ok(Decoded {
            image: self,
            color: image::ColorType::Rgba8,
            warning: None,
        })
    }
}

/// What happened to one input.
#[derive(Debug)]
pub enum Outcome<O> {
    /// Processed and encoded, with a warning if the result needs one: its
    /// input was damaged ([`Decoded::warning`]), or its mask is
    /// ([`Removed::warning`]).
    Done { output: O, warning: Option<String> },
    /// [`Steps::open`] or [`Opened::decode`] failed: the input is unusable.
    BadInput(Error),
    /// Its GPU pass failed (alone: see the [module docs](self)), or
    /// [`Steps::encode`] did.
    Failed(Error),
}

/// One input's outcome, delivered on the caller's thread.
#[derive(Debug)]
pub struct Event<J, O> {
    /// The input's place in the iterator, from 0.
    pub index: usize,
    pub item: J,
    pub outcome: Outcome<O>,
    /// Width and height of the input's image, once it was opened.
    pub size: Option<(u32, u32)>,
    /// From the input taken from the iterator to its outcome.
    pub time: Duration,
    /// The images of the GPU pass it ran in (0 if it did not reach one).
    pub batch: usize,
}

/// How a run ended.
#[derive(Debug)]
#[must_use = "a GPU failure that stopped the run is in `stopped`"]
pub struct Summary {
    pub times: StageTimes,
    /// Why the run stopped before the inputs ran out: the GPU failed (or
    /// the batch size could not be worked out).
    pub stopped: Option<Error>,
    /// Times the device failed, its batch's inputs with it, and the run
    /// went on on a new one.
    pub reopens: usize,
}
