//! The GPU solver's levels: the pyramid of dense inputs and each level's
//! tile flags, recorded at once, then the solve from the coarsest level to
//! the full size, each level's alpha upsampled to start the next.

use super::gpu_solver::solve_level_gpu;
use super::{CfOptions, CfReport, Solver, check_classes, upsample_params};
use crate::Result;
use crate::error::ensure;
use crate::gpu::GpuContext;
use crate::kernels::matting::{self as kernel, FLAG_BG, FLAG_FG, MattingParams, tile_grid};
use crate::kernels::{Precision, upsample};
use crate::matting::gpu::{GpuPlane, GpuRgba, read_words};

/// The dense inputs of one level.
pub(super) struct Dense {
    pub image: wgpu::Buffer,
    pub trimap: wgpu::Buffer,
    pub init: wgpu::Buffer,
    pub size: (u32, u32),
}

/// The parameters of a level of `size` with `n_tiles` tiles.
pub(super) fn params(size: (u32, u32), n_tiles: u32, options: &CfOptions) -> MattingParams {
    MattingParams {
        width: size.0,
        height: size.1,
        tiles_x: tile_grid(size.0, size.1).0,
        n_tiles,
        epsilon: options.epsilon,
        tolerance2: options.tolerance * options.tolerance,
        ..MattingParams::default()
    }
}

/// Records the pyramid and every level's tile flags; returns the levels
/// and their flags once the GPU is done.
fn pyramid_gpu(
    ctx: &GpuContext,
    image: &GpuRgba,
    trimap: &GpuPlane,
    init: &GpuPlane,
    options: &CfOptions,
) -> Result<(Vec<Dense>, Vec<Vec<u32>>)> {
    let sizes = options.level_sizes(image.width, image.height);
    let mut levels = vec![Dense {
        image: image.buffer.clone(),
        trimap: trimap.buffer.clone(),
        init: init.buffer.clone(),
        size: image.size(),
    }];
    let mut dispatches = Vec::new();
    for &(w, h) in &sizes[1..] {
        let fine = levels.last().expect("level 0");
        let pixels = u64::from(w) * u64::from(h) * 4;
        let coarse = Dense {
            image: ctx.storage("cf coarse image", pixels),
            trimap: ctx.storage("cf coarse trimap", pixels),
            init: ctx.storage("cf coarse init", pixels),
            size: (w, h),
        };
        let p = MattingParams {
            other_width: fine.size.0,
            other_height: fine.size.1,
            ..params((w, h), 0, options)
        };
        dispatches.push(kernel::down(
            ctx,
            &p,
            [&fine.image, &fine.trimap, &fine.init],
            [&coarse.image, &coarse.trimap, &coarse.init],
        )?);
        levels.push(coarse);
    }
    let mut flag_buffers = Vec::new();
    for level in &levels {
        let (tx, ty) = tile_grid(level.size.0, level.size.1);
        let buffer = ctx.storage("cf tile flags", u64::from(tx * ty) * 4);
        dispatches.push(kernel::flags(
            ctx,
            &params(level.size, tx * ty, options),
            &level.trimap,
            &buffer,
        )?);
        flag_buffers.push((buffer, (tx * ty) as usize));
    }
    ctx.run(&dispatches);
    let flags = flag_buffers
        .iter()
        .map(|(b, n)| read_words(ctx, b, *n))
        .collect::<Result<_>>()?;
    Ok((levels, flags))
}

/// Solves on the GPU; returns the full-size alpha (the work is submitted;
/// reading it waits for it).
pub fn solve_gpu(
    ctx: &GpuContext,
    image: &GpuRgba,
    trimap: &GpuPlane,
    init: Option<&GpuPlane>,
    options: &CfOptions,
) -> Result<(GpuPlane, CfReport)> {
    options.check()?;
    ensure!(
        image.size() == trimap.size(),
        Input,
        "the trimap is {}x{}, the image {}x{}",
        trimap.width,
        trimap.height,
        image.width,
        image.height
    );
    let init = init.unwrap_or(trimap);
    ensure!(
        init.size() == trimap.size(),
        Input,
        "the initial alpha's size differs from the trimap's"
    );
    let (levels, flags) = pyramid_gpu(ctx, image, trimap, init, options)?;
    let any = |bit| flags[0].iter().any(|f| f & bit != 0);
    check_classes(any(FLAG_FG), any(FLAG_BG))?;
    let mut report = CfReport::new(Solver::Gpu);
    let mut coarser: Option<GpuPlane> = None;
    for (level, flags) in levels.iter().zip(&flags).rev() {
        let upsampled;
        let init = match &coarser {
            None => &level.init,
            Some(c) => {
                let (w, h) = level.size;
                let p = upsample_params(c.size(), level.size);
                upsampled = ctx.storage("cf upsampled init", u64::from(w) * u64::from(h) * 4);
                let up = upsample::dispatch(ctx, Precision::F32, &p, 1, &c.buffer, &upsampled);
                ctx.run([&up?]);
                &upsampled
            }
        };
        let (alpha, level_report) = solve_level_gpu(ctx, level, init, flags, options)?;
        report.levels.push(level_report);
        coarser = Some(alpha);
    }
    Ok((coarser.expect("at least one level"), report))
}
