//! Background removal end to end, as rembg does it with U²-Net, on in-memory
//! images: the library side of `u2cut remove`.
//!
//! For a batch of images, in one GPU submit: each image's RGBA8 is uploaded
//! and resized to 320x320 with Pillow's 8-bit Lanczos (shaders/resample.wgsl),
//! divided by its maximum and normalized into the network's input
//! (shaders/pixels.wgsl `normalize`); the network runs; d0 is min-max
//! normalized, times 255 and truncated to an 8-bit mask (`mask_u8`), resized
//! back to the image's size with the same Lanczos, and composed with the
//! image (`compose`). Every pass has a CPU reference that is bit-identical;
//! without a GPU ([`Network::cpu`]) the whole pipeline runs on those, and an
//! image too large for one GPU binding takes them for its own resizes.
//!
//! The result is rembg's mask for the same model, to the gray level: the
//! resizes match Pillow's to the bit, and only float rounding differs in the
//! network and the normalizations.

mod gpu;
pub mod post;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use image::{DynamicImage, GrayImage, RgbaImage};

use crate::Network;
use crate::error::{Error, Result, ensure};
use crate::gpu::GpuContext;
use crate::io::Format;
use crate::kernels::View;
use crate::kernels::pixels::{self, Compose, ComposeParams, MaskParams, NormalizeParams};
use crate::kernels::resample::{self, Image8, Resize};
use crate::matting::{self, CfReport, Engine, MattingOptions};

/// The network's input side, as rembg feeds U²-Net.
pub const NET_SIZE: u32 = 320;
/// Default images per GPU pass.
pub const DEFAULT_BATCH: u32 = 4;

/// What is under the subject in a cutout.
#[derive(Clone, Debug, Default)]
pub enum Background {
    /// Transparency: alpha = the mask (times the input's own alpha).
    #[default]
    Transparent,
    /// A flat RGBA color.
    Color([u8; 4]),
    /// An image, scaled to cover each output (Lanczos, centered, cropped).
    Image(Arc<RgbaImage>),
}

impl Background {
    /// Whether a `product` over this background can be written as
    /// `format`: JPEG has no alpha channel, so a cutout there needs an
    /// opaque background. Callers name the fix in their own option names.
    pub fn fits(&self, format: Format, product: Product) -> std::result::Result<(), NeedsOpaque> {
        if format.has_alpha() || product == Product::Mask {
            return Ok(());
        }
        match self {
            Self::Transparent => Err(NeedsOpaque::Transparent),
            Self::Color([.., a]) if *a < 255 => Err(NeedsOpaque::Translucent),
            Self::Color(_) | Self::Image(_) => Ok(()),
        }
    }
}

/// Why a background does not fit a format without alpha.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NeedsOpaque {
    /// There is no background: the cutout is transparent around the subject.
    Transparent,
    /// The background color is not opaque.
    Translucent,
}

/// What [`Remover::process`] makes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Product {
    /// The mask and the cutout (or composite over the background).
    #[default]
    Cutout,
    /// The mask only.
    Mask,
}

#[derive(Clone, Debug)]
pub struct Options {
    pub background: Background,
    /// rembg's `-ppm`: opening, blur, threshold (see [`post::post_process`]).
    pub post_process: bool,
    /// Crop outputs to the subject's bounding box grown by this many pixels.
    pub crop: Option<u32>,
    /// Images per GPU pass (at most what the adapter holds).
    pub batch_size: u32,
    /// rembg's `-a`: refine each mask by alpha matting at full size (after
    /// the post-process, before composing and cropping); cutouts then carry
    /// the estimated foreground colours.
    pub matting: Option<MattingOptions>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            background: Background::Transparent,
            post_process: false,
            crop: None,
            batch_size: DEFAULT_BATCH,
            matting: None,
        }
    }
}

/// One image's result.
#[derive(Clone, Debug)]
pub struct Removed {
    /// The mask (8-bit, the image's size, or the crop's).
    pub mask: GrayImage,
    /// The cutout or composite ([`Product::Cutout`] only).
    pub image: Option<RgbaImage>,
    /// The closed-form matting solver's account, with `matting` on (see
    /// [`CfReport::stopped_early`]).
    pub matting: Option<CfReport>,
}

impl Removed {
    /// The output to write: the cutout when one was made, else the mask.
    pub fn into_image(self) -> DynamicImage {
        match self.image {
            Some(image) => DynamicImage::ImageRgba8(image),
            None => DynamicImage::ImageLuma8(self.mask),
        }
    }

    /// A warning about the result's quality, if it needs one: alpha
    /// matting that stopped before converging.
    pub fn warning(&self) -> Option<String> {
        let report = self.matting.as_ref().filter(|r| r.stopped_early())?;
        Some(format!(
            "alpha matting stopped before converging ({:?} at the full size); \
             the alpha may be rough (--matting-max-iterations raises the cap)",
            report.status()
        ))
    }
}

/// The background remover: a network (GPU or CPU) and what to make. See
/// the [crate docs](crate) for an example.
pub struct Remover {
    net: Network,
    options: Options,
}

impl Remover {
    pub fn new(net: Network, options: Options) -> Self {
        Self { net, options }
    }

    pub fn network(&self) -> &Network {
        &self.net
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The same remover on a new device, for when this one's is lost
    /// (see [`Network::reopened`]).
    pub fn reopened(&self) -> Result<Self> {
        Ok(Self::new(self.net.reopened()?, self.options.clone()))
    }

    /// Images per pass: the option, capped by what one pass holds.
    pub fn batch(&self) -> Result<u32> {
        let cap = self.net.max_batch(NET_SIZE, NET_SIZE)?;
        Ok(self.options.batch_size.clamp(1, cap.max(1)))
    }

    /// Masks of `images` (8-bit gray, each image's size).
    pub fn masks(&self, images: &[DynamicImage]) -> Result<Vec<GrayImage>> {
        let rgba: Vec<RgbaImage> = images.iter().map(DynamicImage::to_rgba8).collect();
        Ok(self
            .process(&rgba, Product::Mask)?
            .into_iter()
            .map(|r| r.mask)
            .collect())
    }

    /// Cutouts of `images`: RGBA with the input's colors and alpha = the
    /// mask, or composed over the background of the options.
    pub fn cutouts(&self, images: &[DynamicImage]) -> Result<Vec<RgbaImage>> {
        let rgba: Vec<RgbaImage> = images.iter().map(DynamicImage::to_rgba8).collect();
        Ok(self
            .process(&rgba, Product::Cutout)?
            .into_iter()
            .map(|r| r.image.expect("cutouts were asked for"))
            .collect())
    }

    /// The pipeline on any number of upright RGBA8 images (their alpha is
    /// ignored for segmentation), in passes of [`Remover::batch`] images.
    pub fn process(&self, images: &[RgbaImage], product: Product) -> Result<Vec<Removed>> {
        let batch = self.batch()?;
        let mut out = Vec::with_capacity(images.len());
        for chunk in images.chunks(batch as usize) {
            out.extend(match self.net.context() {
                Some(ctx) => {
                    // A plan runs any number of images up to its batch; plans
                    // are cached per size, so sizes are powers of two (and the
                    // batch): plans for under 2x the batch's images in all.
                    let plan = (chunk.len() as u32).next_power_of_two().min(batch);
                    self.run_gpu(ctx, chunk, plan, product)?
                }
                None => self.run_cpu(chunk, product)?,
            });
        }
        Ok(out)
    }

    /// [`gpu::run`], with a lost device an error rather than a panic:
    /// wgpu panics on a call it cannot carry out (mapping a buffer of a
    /// destroyed device, say), and a caller with other images to run
    /// needs the error, to reopen the device (see [`Remover::reopened`]).
    fn run_gpu(
        &self,
        ctx: &GpuContext,
        images: &[RgbaImage],
        plan: u32,
        product: Product,
    ) -> Result<Vec<Removed>> {
        let lost = |ctx: &GpuContext| {
            // wgpu reports a destroyed device lost from its next poll.
            let _ = ctx.device.poll(wgpu::PollType::Poll);
            ctx.lost()
                .map(|why| format!("the GPU device was lost ({why})"))
        };
        if let Some(lost) = lost(ctx) {
            return Err(Error::Gpu(lost));
        }
        let run = std::panic::catch_unwind(AssertUnwindSafe(|| {
            gpu::run(self, ctx, images, plan, product)
        }));
        run.unwrap_or_else(|panic| {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("a panic without a message");
            Err(Error::Gpu(
                lost(ctx).unwrap_or_else(|| format!("wgpu failed: {message}")),
            ))
        })
    }

    /// The whole pipeline on the CPU references.
    fn run_cpu(&self, images: &[RgbaImage], product: Product) -> Result<Vec<Removed>> {
        let n = images.len() as u32;
        let resized: Vec<u32> = images.iter().flat_map(shrink_cpu).collect();
        let p = NormalizeParams::new(NET_SIZE, NET_SIZE);
        let mut input = vec![0.0; (n * p.dst_step) as usize];
        pixels::normalize_cpu(&p, n, &resized, &mut input);
        let maps = self.net.infer(&input, n, NET_SIZE, NET_SIZE)?;
        let small = small_masks_cpu(&maps.maps[0], n);
        images
            .iter()
            .enumerate()
            .map(|(i, img)| {
                let mask = grow_cpu(&small, i as u32, img.dimensions());
                self.finish(img, mask, None, product)
            })
            .collect()
    }

    /// Post-processing, composing (unless the GPU did) and cropping.
    fn finish(
        &self,
        img: &RgbaImage,
        mask: GrayImage,
        composed: Option<RgbaImage>,
        product: Product,
    ) -> Result<Removed> {
        self.finish_as(img, mask, composed, &self.options, product)
    }

    /// What `options` make of `img`'s plain mask (a [`Product::Mask`]
    /// made with no post-processing, matting or cropping): the same as
    /// a remover with those options makes, for callers whose images each
    /// want their own (a server's requests). Matting runs on this
    /// remover's GPU, composing and the rest on the CPU.
    pub fn finish_with(
        &self,
        img: &RgbaImage,
        mask: GrayImage,
        options: &Options,
        product: Product,
    ) -> Result<Removed> {
        self.finish_as(img, mask, None, options, product)
    }

    fn finish_as(
        &self,
        img: &RgbaImage,
        mask: GrayImage,
        composed: Option<RgbaImage>,
        opts: &Options,
        product: Product,
    ) -> Result<Removed> {
        let engine = || match self.net.context() {
            Some(ctx) => Engine::Gpu(ctx),
            None => Engine::Cpu,
        };
        let mask = if opts.post_process && composed.is_none() {
            post::post_process(engine(), &mask)?
        } else {
            mask
        };
        let matted;
        let mut report = None;
        let (img, mask) = match &opts.matting {
            Some(m) => {
                let refined = matting::refine(engine(), img, &mask, m)?;
                report = refined.report.clone();
                // The estimated colours, under the input's own alpha.
                matted = RgbaImage::from_fn(img.width(), img.height(), |x, y| {
                    let [r, g, b] = refined.foreground.get_pixel(x, y).0.map(to8);
                    image::Rgba([r, g, b, img.get_pixel(x, y)[3]])
                });
                let alpha = &refined.alpha;
                let mask = GrayImage::from_fn(alpha.width, alpha.height, |x, y| {
                    image::Luma([to8(alpha.data[(y * alpha.width + x) as usize])])
                });
                (&matted, mask)
            }
            None => (img, mask),
        };
        let mut image = match product {
            Product::Mask => None,
            Product::Cutout => {
                Some(composed.unwrap_or_else(|| compose_cpu(img, &mask, &opts.background)))
            }
        };
        let mut mask = mask;
        if let Some(margin) = opts.crop
            && let Some((x, y, w, h)) = post::subject_box(&mask, margin)
        {
            mask = image::imageops::crop_imm(&mask, x, y, w, h).to_image();
            image = image.map(|i| image::imageops::crop_imm(&i, x, y, w, h).to_image());
        }
        ensure!(
            image
                .as_ref()
                .is_none_or(|i| i.dimensions() == mask.dimensions()),
            Gpu,
            "internal: cutout and mask sizes differ"
        );
        Ok(Removed {
            mask,
            image,
            matting: report,
        })
    }
}

/// Words of one 320x320 RGBA image and of one 320x320 mask.
fn resized_words() -> u32 {
    Image8::new(NET_SIZE, NET_SIZE, 4, 0).words() as u32
}

fn small_words() -> u32 {
    Image8::new(NET_SIZE, NET_SIZE, 1, 0).words() as u32
}

/// An image resized to the network's input on the CPU, as words.
fn shrink_cpu(img: &RgbaImage) -> Vec<u32> {
    let bytes = Resize::new(4, img.dimensions(), (NET_SIZE, NET_SIZE)).run_cpu(img.as_raw());
    resample::pack(&bytes, NET_SIZE, NET_SIZE, 4)
}

/// The 8-bit masks of a batch of d0 maps (image after image), as words.
fn small_masks_cpu(d0: &[f32], n: u32) -> Vec<u32> {
    let view = View::whole(1, NET_SIZE * NET_SIZE);
    let p = MaskParams::new(view, NET_SIZE, NET_SIZE);
    let mut out = vec![0; (n * p.dst_step) as usize];
    pixels::mask_cpu(&p, n, d0, &mut out);
    out
}

/// Mask `i` of `small` resized to `(w, h)` on the CPU.
fn grow_cpu(small: &[u32], i: u32, (w, h): (u32, u32)) -> GrayImage {
    let img = Image8::new(NET_SIZE, NET_SIZE, 1, i * small_words());
    let bytes = resample::unpack(small, &img, 1);
    let grown = Resize::new(1, (NET_SIZE, NET_SIZE), (w, h)).run_cpu(&bytes);
    GrayImage::from_raw(w, h, grown).expect("w x h bytes")
}

/// The part of a `(bw, bh)` background that covers a `(w, h)` output:
/// scaled to cover it, centered (Pillow box coordinates).
fn cover_box((bw, bh): (u32, u32), (w, h): (u32, u32)) -> [f32; 4] {
    let scale = f64::max(f64::from(w) / f64::from(bw), f64::from(h) / f64::from(bh));
    let (cw, ch) = (f64::from(w) / scale, f64::from(h) / scale);
    let (x0, y0) = ((f64::from(bw) - cw) / 2.0, (f64::from(bh) - ch) / 2.0);
    [x0 as f32, y0 as f32, (x0 + cw) as f32, (y0 + ch) as f32]
}

/// The resize of a background to an output of `size`.
fn background_resize(bg: &RgbaImage, size: (u32, u32)) -> Resize {
    Resize::with_box(4, bg.dimensions(), size, cover_box(bg.dimensions(), size))
}

fn compose_mode(bg: &Background) -> Compose {
    match bg {
        Background::Transparent => Compose::Cutout,
        Background::Color(c) => Compose::Color(*c),
        Background::Image(_) => Compose::Image,
    }
}

/// `compose` on the CPU reference.
fn compose_cpu(img: &RgbaImage, mask: &GrayImage, bg: &Background) -> RgbaImage {
    let (w, h) = img.dimensions();
    let mut words = resample::pack(img.as_raw(), w, h, 4);
    let mask_words = resample::pack(mask.as_raw(), w, h, 1);
    let background = match bg {
        Background::Image(b) => {
            resample::pack(&background_resize(b, (w, h)).run_cpu(b.as_raw()), w, h, 4)
        }
        _ => Vec::new(),
    };
    let rgba = Image8::new(w, h, 4, 0);
    let p = ComposeParams::new(compose_mode(bg), rgba, Image8::new(w, h, 1, 0), rgba);
    pixels::compose_cpu(&p, &mut words, &mask_words, &background);
    RgbaImage::from_raw(w, h, resample::unpack(&words, &rgba, 4)).expect("w x h pixels")
}

/// A [0, 1] value as rembg stores it: times 255, clipped, truncated.
fn to8(v: f32) -> u8 {
    (v * 255.0).clamp(0.0, 255.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_jpeg_cutouts_need_an_opaque_background() {
        let image = Background::Image(Arc::new(RgbaImage::new(1, 1)));
        let (opaque, translucent) = (Background::Color([1, 2, 3, 255]), Background::Color([0; 4]));
        for format in [Format::Png, Format::Webp] {
            for bg in [&Background::Transparent, &translucent] {
                assert_eq!(bg.fits(format, Product::Cutout), Ok(()));
            }
        }
        for bg in [&Background::Transparent, &translucent, &opaque, &image] {
            assert_eq!(bg.fits(Format::Jpg, Product::Mask), Ok(()));
        }
        let jpg = |bg: &Background| bg.fits(Format::Jpg, Product::Cutout);
        assert_eq!(jpg(&Background::Transparent), Err(NeedsOpaque::Transparent));
        assert_eq!(jpg(&translucent), Err(NeedsOpaque::Translucent));
        assert_eq!(jpg(&opaque), Ok(()));
        assert_eq!(jpg(&image), Ok(()));
    }
}
