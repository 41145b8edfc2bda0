//! Alpha matting and mask refinement as GPU passes, each with a CPU
//! reference: trimaps from masks ([`trimap`]), morphology, blur, island
//! removal and rembg's post-process ([`morph`]), closed-form alpha matting
//! ([`cf`]), multi-level foreground estimation ([`foreground`]) and the fast
//! guided filter ([`guided`]).
//!
//! [`refine`] is `u2cut remove -a`: rembg's `alpha_matting_cutout` (trimap,
//! pymatting's estimate_alpha_cf, estimate_foreground_ml) at the image's
//! own resolution. Every step takes an [`Engine`]: the GPU passes, or their
//! CPU references (slow; for checks and machines without a GPU).
//!
//! Masks, trimaps and alphas are [`Plane`]s of f32 in [0, 1]; images are
//! 8-bit RGB (RGBA with the alpha ignored), as rembg and pymatting read them.

pub mod cf;
pub mod foreground;
mod gpu;
pub mod guided;
pub mod morph;
pub mod trimap;

use image::{GrayImage, Rgb32FImage, RgbImage, RgbaImage};

pub use cf::{CfOptions, CfReport};
pub use foreground::ForegroundOptions;
pub use gpu::{GpuColors, GpuPlane, GpuRgba};
pub use guided::GuidedOptions;
pub use trimap::TrimapOptions;

use crate::gpu::GpuContext;
use crate::{Error, Result, error::ensure};

/// Where a matting step runs.
#[derive(Clone, Copy)]
pub enum Engine<'a> {
    /// The WGSL passes on this device.
    Gpu(&'a GpuContext),
    /// The plain-Rust references.
    Cpu,
}

/// A one-channel f32 image, row-major: masks, trimaps and alphas in [0, 1].
#[derive(Clone, Debug, PartialEq)]
pub struct Plane {
    pub width: u32,
    pub height: u32,
    pub data: Vec<f32>,
}

impl Plane {
    /// # Panics
    /// If `data` does not hold `width * height` values.
    pub fn new(width: u32, height: u32, data: Vec<f32>) -> Self {
        assert_eq!(
            data.len(),
            width as usize * height as usize,
            "plane of {width}x{height}"
        );
        Self {
            width,
            height,
            data,
        }
    }

    pub fn filled(width: u32, height: u32, value: f32) -> Self {
        Self::new(width, height, vec![value; width as usize * height as usize])
    }

    /// An 8-bit mask as values k / 255.
    pub fn from_gray8(img: &GrayImage) -> Self {
        let data = img.as_raw().iter().map(|&v| f32::from(v) / 255.0).collect();
        Self::new(img.width(), img.height(), data)
    }

    /// Rounded to 8 bits (values clamped to [0, 1]).
    pub fn to_gray8(&self) -> GrayImage {
        let data = self
            .data
            .iter()
            .map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
            .collect();
        GrayImage::from_raw(self.width, self.height, data).expect("size checked at construction")
    }

    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }
}

/// The pixels of an RGBA image as the GPU passes read them: one word each,
/// R in the low byte (the alpha byte is ignored).
pub fn rgba_words(img: &RgbaImage) -> Vec<u32> {
    img.pixels().map(|p| u32::from_le_bytes(p.0)).collect()
}

/// The pixels of an RGB image as words (alpha 255).
pub fn rgb_words(img: &RgbImage) -> Vec<u32> {
    img.pixels()
        .map(|p| u32::from_le_bytes([p.0[0], p.0[1], p.0[2], 255]))
        .collect()
}

/// How `refine` turns a mask into an alpha.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// Trimap from the mask, then closed-form matting (rembg -a).
    ClosedForm,
    /// The fast guided filter of the mask with the image as guide.
    Guided(GuidedOptions),
}

/// Options of [`refine`]; the defaults are rembg's.
#[derive(Clone, Debug)]
pub struct MattingOptions {
    pub method: Method,
    pub trimap: TrimapOptions,
    pub cf: CfOptions,
    /// Estimate the foreground colours (else the image's colours are kept).
    pub estimate_foreground: bool,
    pub foreground: ForegroundOptions,
}

impl Default for MattingOptions {
    fn default() -> Self {
        Self {
            method: Method::ClosedForm,
            trimap: TrimapOptions::default(),
            cf: CfOptions::default(),
            estimate_foreground: true,
            foreground: ForegroundOptions::default(),
        }
    }
}

/// The result of [`refine`].
pub struct Refined {
    pub alpha: Plane,
    /// Colours in [0, 1]: estimated, or the image's own.
    pub foreground: Rgb32FImage,
    /// The closed-form solver's account (None for the guided filter, or when
    /// the trimap lacked sure foreground or background).
    pub report: Option<CfReport>,
}

impl Refined {
    /// rembg's cutout: foreground and alpha stacked, times 255, clipped and
    /// truncated to 8 bits (`np.clip(cutout * 255, 0, 255).astype(np.uint8)`).
    pub fn cutout(&self) -> RgbaImage {
        let to8 = |v: f32| (v * 255.0).clamp(0.0, 255.0) as u8;
        RgbaImage::from_fn(self.alpha.width, self.alpha.height, |x, y| {
            let f = self.foreground.get_pixel(x, y).0;
            let a = self.alpha.data[(y * self.alpha.width + x) as usize];
            image::Rgba([to8(f[0]), to8(f[1]), to8(f[2]), to8(a)])
        })
    }
}

/// The image's own colours in [0, 1].
fn colours_of(words: &[u32], width: u32, height: u32) -> Rgb32FImage {
    let data = words
        .iter()
        .flat_map(|&w| crate::kernels::foreground::rgb_of(w))
        .collect();
    Rgb32FImage::from_raw(width, height, data).expect("one word a pixel")
}

/// rembg's alpha matting of `image` with the network's `mask` (same size),
/// at full resolution: trimap, closed-form alpha warm-started from the mask,
/// foreground colours. With `Method::Guided`, the guided filter replaces
/// the trimap and the solver. A trimap without sure foreground or sure
/// background (pymatting refuses those) gives the mask itself as alpha and
/// the image's colours, as rembg falls back to its plain cutout.
pub fn refine(
    engine: Engine,
    image: &RgbaImage,
    mask: &GrayImage,
    options: &MattingOptions,
) -> Result<Refined> {
    ensure!(
        image.dimensions() == mask.dimensions(),
        Input,
        "the mask is {}x{}, the image {}x{}",
        mask.width(),
        mask.height(),
        image.width(),
        image.height()
    );
    let (width, height) = image.dimensions();
    let words = rgba_words(image);
    let mask = Plane::from_gray8(mask);
    let plain = |mask: Plane| Refined {
        alpha: mask,
        foreground: colours_of(&words, width, height),
        report: None,
    };
    match engine {
        Engine::Gpu(ctx) => {
            let img = GpuRgba::upload(ctx, "matting image", &words, width, height);
            let gmask = GpuPlane::upload(ctx, "matting mask", &mask);
            let (alpha, report) = match options.method {
                Method::ClosedForm => {
                    let tri = trimap::trimap_gpu(ctx, &gmask, &options.trimap)?;
                    match cf::solve_resident(ctx, &words, &img, &tri, Some(&gmask), &options.cf) {
                        Ok((alpha, report)) => (alpha, Some(report)),
                        Err(Error::Trimap(_)) => return Ok(plain(mask)),
                        Err(e) => return Err(e),
                    }
                }
                Method::Guided(g) => (guided::guided_gpu(ctx, &img, &gmask, &g)?, None),
            };
            let foreground = if options.estimate_foreground {
                foreground::estimate_gpu(ctx, &img, &alpha, &options.foreground)?.read(ctx)?
            } else {
                colours_of(&words, width, height)
            };
            Ok(Refined {
                alpha: alpha.read(ctx)?,
                foreground,
                report,
            })
        }
        Engine::Cpu => {
            let (alpha, report) = match options.method {
                Method::ClosedForm => {
                    let tri = trimap::trimap_cpu(&mask, &options.trimap);
                    match cf::solve_cpu(&words, &tri, Some(&mask), &options.cf) {
                        Ok((alpha, report)) => (alpha, Some(report)),
                        Err(Error::Trimap(_)) => return Ok(plain(mask)),
                        Err(e) => return Err(e),
                    }
                }
                Method::Guided(g) => (guided::guided_cpu(&words, &mask, &g), None),
            };
            let foreground = if options.estimate_foreground {
                foreground::estimate_cpu(&words, &alpha, &options.foreground)
            } else {
                colours_of(&words, width, height)
            };
            Ok(Refined {
                alpha,
                foreground,
                report,
            })
        }
    }
}
