//! Mask refinement by the fast guided filter (He & Sun 2015) with the image
//! as guide: much cheaper than matting (a few passes, no solve), for big
//! batches (`--refine guided`). Subsampling averages `scale x scale` blocks;
//! box means drop the part of the window outside the image.

use super::gpu::{GpuPlane, GpuRgba};
use super::{Engine, Plane};
use crate::Result;
use crate::error::ensure;
use crate::gpu::{Dispatch, GpuContext};
use crate::kernels::filter::{self, Border, FilterParams};
use crate::kernels::guided::{self as kernel, COEFFS, GuidedParams, PRODUCTS, Step};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GuidedOptions {
    /// Box radius at full size, in pixels.
    pub radius: u32,
    /// Regularization: edges of the image with variance well above it are kept.
    pub eps: f32,
    /// Subsampling factor of the fast variant (1 = the plain guided filter).
    pub scale: u32,
}

impl Default for GuidedOptions {
    fn default() -> Self {
        Self {
            radius: 8,
            eps: 1e-4,
            scale: 4,
        }
    }
}

impl GuidedOptions {
    fn params(&self, size: (u32, u32)) -> GuidedParams {
        GuidedParams::new(size, self.scale, self.eps)
    }

    /// The box radius on the subsampled grid.
    fn sub_radius(&self) -> u32 {
        (self.radius as f32 / self.scale as f32).round().max(1.0) as u32
    }

    fn boxes(&self, p: &GuidedParams) -> [FilterParams; 2] {
        let size = (p.sub_width, p.sub_height);
        [0, 1].map(|axis| FilterParams::new(size, axis, self.sub_radius(), Border::Renormalize))
    }

    fn check(&self) -> Result<()> {
        ensure!(
            self.scale >= 1,
            Input,
            "guided filter scale must be at least 1"
        );
        ensure!(self.eps > 0.0, Input, "guided filter eps must be positive");
        Ok(())
    }
}

/// Records box means of `channels` planes: src -> tmp (x) -> dst (y).
fn box_means(
    ctx: &GpuContext,
    boxes: &[FilterParams; 2],
    channels: u32,
    taps: &wgpu::Buffer,
    [src, tmp, dst]: [&wgpu::Buffer; 3],
) -> Result<[Dispatch; 2]> {
    Ok([
        filter::dispatch(ctx, &boxes[0], channels, src, tmp, taps)?,
        filter::dispatch(ctx, &boxes[1], channels, tmp, dst, taps)?,
    ])
}

/// The refined mask, submitted.
pub fn guided_gpu(
    ctx: &GpuContext,
    image: &GpuRgba,
    mask: &GpuPlane,
    options: &GuidedOptions,
) -> Result<GpuPlane> {
    options.check()?;
    ensure!(
        image.size() == mask.size(),
        Input,
        "mask and image differ in size"
    );
    let p = options.params(mask.size());
    let boxes = options.boxes(&p);
    let plane = u64::from(p.sub_width) * u64::from(p.sub_height) * 4;
    let taps = ctx.upload(
        "box taps",
        &vec![1.0; 2 * options.sub_radius() as usize + 1],
    );
    let products = ctx.storage("guided products", plane * u64::from(PRODUCTS));
    let tmp = ctx.storage("guided box x", plane * u64::from(PRODUCTS));
    let means = ctx.storage("guided means", plane * u64::from(PRODUCTS));
    let coeffs = ctx.storage("guided coefficients", plane * u64::from(COEFFS));
    let coeff_means = ctx.storage("guided coefficient means", plane * u64::from(COEFFS));
    let dst = GpuPlane::new(ctx, "guided", mask.width, mask.height);
    let mut out =
        vec![Step::Subsample.dispatch(ctx, &p, &[&image.buffer, &mask.buffer, &products])?];
    out.extend(box_means(
        ctx,
        &boxes,
        PRODUCTS,
        &taps,
        [&products, &tmp, &means],
    )?);
    out.push(Step::Coefficients.dispatch(ctx, &p, &[&means, &coeffs])?);
    out.extend(box_means(
        ctx,
        &boxes,
        COEFFS,
        &taps,
        [&coeffs, &tmp, &coeff_means],
    )?);
    out.push(Step::Apply.dispatch(ctx, &p, &[&image.buffer, &coeff_means, &dst.buffer])?);
    ctx.run(&out);
    Ok(dst)
}

/// CPU version, from the kernels' references.
pub fn guided_cpu(image: &[u32], mask: &Plane, options: &GuidedOptions) -> Plane {
    let p = options.params(mask.size());
    let boxes = options.boxes(&p);
    let taps = vec![1.0; 2 * options.sub_radius() as usize + 1];
    let means = |src: &[f32], channels: u32| {
        let mut tmp = vec![0.0; src.len()];
        let mut dst = vec![0.0; src.len()];
        filter::cpu(&boxes[0], channels, src, &mut tmp, &taps);
        filter::cpu(&boxes[1], channels, &tmp, &mut dst, &taps);
        dst
    };
    let products = kernel::subsample_cpu(&p, image, &mask.data);
    let coeffs = kernel::coefficients_cpu(&p, &means(&products, PRODUCTS));
    let data = kernel::apply_cpu(&p, image, &means(&coeffs, COEFFS));
    Plane::new(mask.width, mask.height, data)
}

/// The guided filter of `mask` on either engine.
pub fn guided(
    engine: Engine,
    image: &[u32],
    mask: &Plane,
    options: &GuidedOptions,
) -> Result<Plane> {
    match engine {
        Engine::Cpu => {
            options.check()?;
            Ok(guided_cpu(image, mask, options))
        }
        Engine::Gpu(ctx) => {
            let img = GpuRgba::upload(ctx, "guided image", image, mask.width, mask.height);
            guided_gpu(
                ctx,
                &img,
                &GpuPlane::upload(ctx, "guided mask", mask),
                options,
            )?
            .read(ctx)
        }
    }
}
