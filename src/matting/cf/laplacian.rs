//! A window into the GPU solver for tests: its Laplacian product and
//! diagonal on a whole image, to hold against the CPU references.

use super::CfOptions;
use super::gpu_pyramid::Dense;
use super::gpu_solver::LevelGpu;
use crate::Result;
use crate::error::ensure;
use crate::gpu::GpuContext;
use crate::kernels::matting::{FLAG_ACTIVE, Step, tile_grid};
use crate::matting::Plane;
use crate::matting::gpu::GpuRgba;

/// L v and the diagonal of L on the GPU, through the solver's own kernels
/// with every pixel unknown: for checking them against the references.
pub fn laplacian_gpu(
    ctx: &GpuContext,
    image: &GpuRgba,
    v: &Plane,
    epsilon: f32,
) -> Result<(Plane, Plane)> {
    ensure!(
        image.size() == v.size(),
        Input,
        "image and vector differ in size"
    );
    let (w, h) = image.size();
    let dense = Dense {
        image: image.buffer.clone(),
        trimap: ctx.upload("all unknown", &vec![0.5; (w * h) as usize]),
        init: ctx.upload("v", &v.data),
        size: (w, h),
    };
    let (tx, ty) = tile_grid(w, h);
    let options = CfOptions {
        epsilon,
        ..CfOptions::default()
    };
    let level = LevelGpu::new(
        ctx,
        (w, h),
        &vec![FLAG_ACTIVE; (tx * ty) as usize],
        &options,
    );
    let b = level.buffers(&dense, &dense.init);
    // gather puts v in x; rhs copies x to dir (its r is not used).
    let steps = [
        Step::Gather,
        Step::SetupWindows,
        Step::SetupDiagonal,
        Step::Rhs,
        Step::LapWindows,
        Step::LapPixels,
    ];
    let dispatches = steps
        .iter()
        .map(|s| s.dispatch(ctx, &level.p, &b))
        .collect::<Result<Vec<_>>>()?;
    ctx.run(&dispatches);
    let lv = level.read_dense(ctx, &level.q)?;
    let diag = level
        .read_dense(ctx, &level.invdiag)?
        .into_iter()
        .map(|d| if d > 0.0 { 1.0 / d } else { 0.0 })
        .collect();
    Ok((Plane::new(w, h, lv), Plane::new(w, h, diag)))
}
