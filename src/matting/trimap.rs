//! Trimaps from masks, as rembg's alpha_matting_cutout makes them:
//! foreground = mask > fg_threshold, background = mask < bg_threshold (8-bit
//! levels), each eroded with a square of `erode_size` (scipy's
//! binary_erosion: the foreground's border counts as 0, the background's as
//! 1), everything else unknown (128). rembg passes `structure=None` when
//! the size is 0, which scipy takes as the 3x3 cross.

use super::gpu::GpuPlane;
use super::morph::{self, Border, Element, MorphOp};
use super::{Engine, Plane};
use crate::Result;
use crate::gpu::{Dispatch, GpuContext};
use crate::kernels::maskops::{MaskOp, MaskParams};

/// rembg's defaults: 240, 10, 10.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrimapOptions {
    /// Mask levels above this are sure foreground.
    pub fg_threshold: u8,
    /// Mask levels below this are sure background.
    pub bg_threshold: u8,
    /// Side of the square both sure regions are eroded with.
    pub erode_size: u32,
}

impl Default for TrimapOptions {
    fn default() -> Self {
        Self {
            fg_threshold: 240,
            bg_threshold: 10,
            erode_size: 10,
        }
    }
}

impl TrimapOptions {
    fn element(&self) -> Element {
        if self.erode_size == 0 {
            Element::ellipse(3, 3)
        } else {
            Element::square(self.erode_size)
        }
    }

    fn params(&self, len: usize) -> MaskParams {
        MaskParams {
            len: len as u32,
            level_a: u32::from(self.fg_threshold),
            level_b: u32::from(self.bg_threshold),
            _pad: 0,
        }
    }
}

/// Records the trimap of `mask`: 1 foreground, 0 background, 128/255 unknown.
pub fn record_gpu(
    ctx: &GpuContext,
    mask: &GpuPlane,
    options: &TrimapOptions,
) -> Result<(GpuPlane, Vec<Dispatch>)> {
    let (w, h) = mask.size();
    let p = options.params(mask.pixels());
    let fg = GpuPlane::new(ctx, "sure foreground", w, h);
    let bg = GpuPlane::new(ctx, "sure background", w, h);
    let mut out =
        vec![MaskOp::Split.dispatch(ctx, &p, &mask.buffer, &fg.buffer, Some(&bg.buffer))?];
    let element = options.element();
    let (fg, d) = morph::morph_gpu(ctx, &fg, &element, MorphOp::Erode, Border::Constant(0.0))?;
    out.extend(d);
    let (bg, d) = morph::morph_gpu(ctx, &bg, &element, MorphOp::Erode, Border::Constant(1.0))?;
    out.extend(d);
    let trimap = GpuPlane::new(ctx, "trimap", w, h);
    out.push(MaskOp::Combine.dispatch(ctx, &p, &fg.buffer, &trimap.buffer, Some(&bg.buffer))?);
    Ok((trimap, out))
}

/// The trimap of `mask`, computed on the GPU (submitted, not waited for).
pub fn trimap_gpu(ctx: &GpuContext, mask: &GpuPlane, options: &TrimapOptions) -> Result<GpuPlane> {
    let (trimap, dispatches) = record_gpu(ctx, mask, options)?;
    ctx.run(&dispatches);
    Ok(trimap)
}

/// CPU version, from the kernels' references.
pub fn trimap_cpu(mask: &Plane, options: &TrimapOptions) -> Plane {
    let n = mask.data.len();
    let p = options.params(n);
    let (mut fg, mut bg) = (vec![0.0; n], vec![0.0; n]);
    MaskOp::Split.cpu(&p, &mask.data, &mut fg, &mut bg);
    let element = options.element();
    let fg = morph::morph_cpu(
        &Plane::new(mask.width, mask.height, fg),
        &element,
        MorphOp::Erode,
        Border::Constant(0.0),
    );
    let mut bg = morph::morph_cpu(
        &Plane::new(mask.width, mask.height, bg),
        &element,
        MorphOp::Erode,
        Border::Constant(1.0),
    )
    .data;
    let mut trimap = vec![0.0; n];
    MaskOp::Combine.cpu(&p, &fg.data, &mut trimap, &mut bg);
    Plane::new(mask.width, mask.height, trimap)
}

/// The trimap of `mask` on either engine.
pub fn trimap(engine: Engine, mask: &Plane, options: &TrimapOptions) -> Result<Plane> {
    match engine {
        Engine::Cpu => Ok(trimap_cpu(mask, options)),
        Engine::Gpu(ctx) => {
            trimap_gpu(ctx, &GpuPlane::upload(ctx, "mask", mask), options)?.read(ctx)
        }
    }
}
