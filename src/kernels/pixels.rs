//! The image-side passes around the network (shaders/pixels.wgsl), rembg's
//! numerics in f32: `normalize` (resized RGBA8 -> the network's NCHW input),
//! `mask_u8` (d0 -> 8-bit mask) and `compose` (image + mask -> output).

use crate::Result;
use bytemuck::{Pod, Zeroable};

use super::View;
use super::resample::Image8;
use crate::gpu::{Dispatch, DispatchBuilder, GpuContext, groups_for, shaders};

/// Invocations per workgroup of the reducing kernels (`RWG` in pixels.wgsl):
/// `normalize` and `mask_u8` run one workgroup per image.
pub const REDUCE_WG: u32 = 256;

/// ImageNet channel means and standard deviations (RGB), as rembg uses them.
pub const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
pub const STD: [f32; 3] = [0.229, 0.224, 0.225];

/// `NormalizeParams` in shaders/pixels.wgsl (tests/it/layout.rs checks the layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct NormalizeParams {
    /// Image 0's resized RGBA; image `n` starts `src_step` words later.
    pub src: Image8,
    pub src_step: u32,
    /// Image `n`'s R, G, B planes start at `dst_offset + n * dst_step` floats.
    pub dst_offset: u32,
    pub dst_step: u32,
    pub _pad: u32,
    pub mean: [f32; 4],
    pub stddev: [f32; 4],
}

impl NormalizeParams {
    /// RGBA images of `width x height` packed back to back from word 0, into
    /// a tensor of 3 x height x width floats per image from float 0.
    pub fn new(width: u32, height: u32) -> Self {
        let src = Image8::new(width, height, 4, 0);
        Self {
            src,
            src_step: src.words() as u32,
            dst_offset: 0,
            dst_step: 3 * width * height,
            _pad: 0,
            mean: [MEAN[0], MEAN[1], MEAN[2], 0.0],
            stddev: [STD[0], STD[1], STD[2], 1.0],
        }
    }
}

/// `MaskParams` in shaders/pixels.wgsl (tests/it/layout.rs checks the layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct MaskParams {
    /// Channel 0 of this view is the map; its plane is `dst.width x dst.height`.
    pub src: View,
    /// Image 0's mask; image `n` starts `dst_step` words later.
    pub dst: Image8,
    pub dst_step: u32,
    pub _pad: [u32; 3],
}

impl MaskParams {
    /// Masks of `width x height` packed back to back from word 0.
    pub fn new(src: View, width: u32, height: u32) -> Self {
        assert_eq!(src.plane, width * height, "map size");
        let dst = Image8::new(width, height, 1, 0);
        Self {
            src,
            dst,
            dst_step: dst.words() as u32,
            _pad: [0; 3],
        }
    }
}

/// What `compose` makes of an image and its mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compose {
    /// The image with alpha = its own alpha x the mask (straight alpha).
    Cutout,
    /// The cutout over a flat RGBA color.
    Color([u8; 4]),
    /// The cutout over a background image of the same size.
    Image,
}

/// `ComposeParams` in shaders/pixels.wgsl (tests/it/layout.rs checks the layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct ComposeParams {
    /// RGBA, rewritten in place.
    pub image: Image8,
    /// One byte per pixel, the same size.
    pub mask: Image8,
    /// RGBA, the same size (`Compose::Image` only).
    pub background: Image8,
    pub mode: u32,
    /// RGBA8, packed like a pixel.
    pub color: u32,
    pub _pad: [u32; 2],
}

impl ComposeParams {
    pub fn new(mode: Compose, image: Image8, mask: Image8, background: Image8) -> Self {
        assert_eq!((image.width, image.height), (mask.width, mask.height));
        let (mode, color) = match mode {
            Compose::Cutout => (0, 0),
            Compose::Color(c) => (1, u32::from_le_bytes(c)),
            Compose::Image => {
                assert_eq!(
                    (image.width, image.height),
                    (background.width, background.height)
                );
                (2, 0)
            }
        };
        Self {
            image,
            mask,
            background,
            mode,
            color,
            _pad: [0; 2],
        }
    }
}

/// Records a reducing entry point for `batch` images: one workgroup each
/// (the batch along z), reading `src` and writing `dst`; `bytes_per_image`
/// of traffic for reports.
fn per_image<P: Pod>(
    ctx: &GpuContext,
    entry: &'static str,
    p: &P,
    (batch, bytes_per_image): (u32, u64),
    src: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) -> Result<Dispatch> {
    let mut d = DispatchBuilder::new(ctx, shaders::PIXELS, entry).build(
        entry.to_owned(),
        p,
        &[(1, src), (2, dst)],
        1,
        batch,
    )?;
    d.bytes = bytes_per_image * u64::from(batch);
    Ok(d)
}

/// Records `normalize` for `batch` images.
pub fn normalize(
    ctx: &GpuContext,
    p: &NormalizeParams,
    batch: u32,
    src: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) -> Result<Dispatch> {
    // RGBA in, three floats out.
    let bytes = u64::from(p.src.width * p.src.height) * (4 + 12);
    per_image(ctx, "normalize", p, (batch, bytes), src, dst)
}

/// Records `mask_u8` for `batch` images.
pub fn mask(
    ctx: &GpuContext,
    p: &MaskParams,
    batch: u32,
    src: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) -> Result<Dispatch> {
    // A float in, a byte out.
    let bytes = u64::from(p.src.plane) * 5;
    per_image(ctx, "mask_u8", p, (batch, bytes), src, dst)
}

/// Records `compose` for one image; `background` only for `Compose::Image`.
pub fn compose(
    ctx: &GpuContext,
    p: &ComposeParams,
    image: &wgpu::Buffer,
    mask: &wgpu::Buffer,
    background: Option<&wgpu::Buffer>,
) -> Result<Dispatch> {
    let mut buffers = vec![(1, image), (2, mask)];
    // Unused by the other modes, but the pipeline's layout has the binding.
    buffers.push((3, background.unwrap_or(mask)));
    let pixels = u64::from(p.image.width) * u64::from(p.image.height);
    let mut d = DispatchBuilder::new(ctx, shaders::PIXELS, "compose").build(
        "compose".to_owned(),
        p,
        &buffers,
        groups_for(pixels),
        1,
    )?;
    d.bytes = pixels * 9;
    Ok(d)
}

/// CPU reference of `normalize`, mirroring the shader's arithmetic in f32.
pub fn normalize_cpu(p: &NormalizeParams, batch: u32, src: &[u32], dst: &mut [f32]) {
    let pixels = (p.src.width * p.src.height) as usize;
    for n in 0..batch {
        let first = (p.src.offset + n * p.src_step) as usize;
        let image = &src[first..first + pixels];
        let max = image
            .iter()
            .flat_map(|w| w.to_le_bytes().into_iter().take(3))
            .max()
            .unwrap_or(0);
        let div = f32::from(max).max(1e-6);
        let base = (p.dst_offset + n * p.dst_step) as usize;
        for (i, w) in image.iter().enumerate() {
            for (c, &v) in w.to_le_bytes()[..3].iter().enumerate() {
                dst[base + c * pixels + i] = (f32::from(v) / div - p.mean[c]) / p.stddev[c];
            }
        }
    }
}

/// The shader's `mask_byte`.
fn mask_byte(x: f32, (lo, hi): (f32, f32)) -> u8 {
    if hi <= lo {
        return 0;
    }
    ((x - lo) / (hi - lo) * 255.0).clamp(0.0, 255.0) as u8
}

/// CPU reference of `mask_u8`.
pub fn mask_cpu(p: &MaskParams, batch: u32, src: &[f32], dst: &mut [u32]) {
    let (w, h) = (p.dst.width, p.dst.height);
    for n in 0..batch {
        let base = p.src.index(n, 0, 0);
        let map = &src[base..base + p.src.plane as usize];
        let lo = map.iter().copied().fold(map[0], f32::min);
        let hi = map.iter().copied().fold(map[0], f32::max);
        let first = (p.dst.offset + n * p.dst_step) as usize;
        let mut bytes = vec![0u8; (p.dst.stride * 4) as usize];
        for y in 0..h {
            for (x, b) in bytes[..w as usize].iter_mut().enumerate() {
                *b = mask_byte(map[(y * w) as usize + x], (lo, hi));
            }
            let row = first + (y * p.dst.stride) as usize;
            for (o, c) in dst[row..row + p.dst.stride as usize]
                .iter_mut()
                .zip(bytes.chunks_exact(4))
            {
                *o = u32::from_le_bytes(c.try_into().expect("4 bytes"));
            }
        }
    }
}

/// The shader's `over`: straight-alpha `fg` with alpha `a` (0..=65025) over
/// straight-alpha `bg`, in exact integers.
fn over(fg: [u8; 4], a: u32, bg: [u8; 4]) -> [u8; 4] {
    let wf = a * 255;
    let wb = u32::from(bg[3]) * (65025 - a);
    let total = wf + wb;
    if total == 0 {
        return [0; 4];
    }
    let c = |i: usize| ((u32::from(fg[i]) * wf + u32::from(bg[i]) * wb + total / 2) / total) as u8;
    [c(0), c(1), c(2), ((total + 32512) / 65025) as u8]
}

/// CPU reference of `compose`.
pub fn compose_cpu(p: &ComposeParams, image: &mut [u32], mask: &[u32], background: &[u32]) {
    for y in 0..p.image.height {
        for x in 0..p.image.width {
            let at = (p.image.offset + y * p.image.stride + x) as usize;
            let fg = image[at].to_le_bytes();
            let m = u32::from(p.mask.byte(mask, y, x));
            let a = u32::from(fg[3]) * m;
            let out = match p.mode {
                0 => [fg[0], fg[1], fg[2], ((a + 127) / 255) as u8],
                1 => over(fg, a, p.color.to_le_bytes()),
                _ => {
                    let bg =
                        background[(p.background.offset + y * p.background.stride + x) as usize];
                    over(fg, a, bg.to_le_bytes())
                }
            };
            image[at] = u32::from_le_bytes(out);
        }
    }
}
