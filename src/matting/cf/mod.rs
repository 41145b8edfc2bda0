//! Closed-form alpha matting (Levin et al. 2008) with pymatting's model
//! (estimate_alpha_cf: radius 1, epsilon 1e-7, known pixels fixed at 0 / 1,
//! L_U alpha_U = -R alpha_K), solved by preconditioned conjugate gradients
//! on the unknown pixels.
//!
//! Tolerance: the residual is a poor proxy for the error here. L_U has a few
//! tiny eigenvalues (regions of one flat colour that few windows tie to the
//! known pixels), so an alpha with |r| = 1e-4 |b| can still be 0.05 off on
//! average (the 32x32 test image). With Jacobi, 1e-6 reaches pymatting's
//! alpha within its 8-bit rounding on the lemur and the test image; with the
//! V-cycle, whose residual falls faster than its error along those modes,
//! the test image needs 1e-7, pymatting's own rtol, which is the default
//! (the lemur takes 117 iterations instead of 96).
//!
//! The preconditioner ([`Preconditioner`]): by default one multigrid V-cycle
//! (`multigrid`, `gpu_multigrid`): L_U as 5x5 stencils, coarser grids by
//! Galerkin products with bilinear prolongation, damped Jacobi smoothing and
//! a dense solve of the coarsest grid. The coarse grids carry the smooth,
//! far-reaching part of the solution that Jacobi needs thousands of
//! iterations for, so CG converges in tens of iterations, nearly flat in
//! image size (BENCHMARKS.md, "Matting"). With Jacobi, the solve runs coarse
//! to fine instead: the image, trimap and initial guess are halved (2x2
//! means; a coarse pixel is known only if its four are known alike) while
//! the image stays above ~128 pixels, each level is solved to the same
//! tolerance, and its alpha, bilinearly upsampled, starts the next.
//!
//! The modules:
//! - `options` and `report`: [`CfOptions`] and the solver's account
//!   ([`CfReport`], [`LevelReport`], [`Status`]).
//! - `gpu_pyramid`: [`solve_gpu`], the levels on the GPU and the loop from
//!   the coarsest to the full size.
//! - `gpu_solver`: one level on the GPU (shaders/matting_*.wgsl). It keeps
//!   every PCG scalar on the GPU and records `check_every` iterations per
//!   submit; the host reads 64 bytes after each batch to see whether it
//!   converged. Its storage is compact (8x8 tiles near unknown pixels only)
//!   and stays under a 128 MiB binding for 12-megapixel images with
//!   rembg-style trimaps: 84 bytes per active pixel plus ~14 bytes per pixel
//!   of dense pyramid and alpha.
//! - `laplacian`: [`laplacian_gpu`], the GPU's L v and diagonal for tests.
//!   The V-cycle's stencils add 100 bytes per active pixel (25 taps), about a
//!   third of that again for the coarser grids; where they would pass the
//!   binding limit the level falls back to Jacobi.
//! - `gpu_multigrid`: the V-cycle's grids and dispatches on the GPU
//!   (shaders/matting_multigrid.wgsl).
//! - `cpu_solver`, `cpu_problem` and `multigrid`: [`solve_cpu`], the same
//!   algorithm in f64 over lists of unknown pixels and their windows.

mod cpu_problem;
mod cpu_solver;
mod gpu_multigrid;
mod gpu_pyramid;
mod gpu_solver;
mod laplacian;
mod multigrid;
mod options;
mod report;

pub use cpu_solver::solve_cpu;
pub use gpu_pyramid::solve_gpu;
pub use laplacian::laplacian_gpu;
pub use options::{CfOptions, Preconditioner, Solver};
pub use report::{CfReport, LevelReport, Status};

use super::gpu::{GpuPlane, GpuRgba};
use super::{Engine, Plane};
use crate::Result;
use crate::error::bail;
use crate::gpu::GpuContext;
use crate::kernels::{SpatialParams, View};

/// Closed-form alpha for `image` (RGBA words) and `trimap` on either engine;
/// `init` (e.g. the network's mask) starts the coarsest level, else the
/// trimap's own values do. A trimap without sure foreground or background,
/// which pymatting refuses, is an [`Error::Trimap`](crate::Error::Trimap).
pub fn estimate_alpha_cf(
    engine: Engine,
    image: &[u32],
    trimap: &Plane,
    init: Option<&Plane>,
    options: &CfOptions,
) -> Result<(Plane, CfReport)> {
    match engine {
        Engine::Cpu => solve_cpu(image, trimap, init, options),
        Engine::Gpu(ctx) if options.solver.on_cpu(ctx) => solve_cpu(image, trimap, init, options),
        Engine::Gpu(ctx) => {
            let img = GpuRgba::upload(ctx, "cf image", image, trimap.width, trimap.height);
            let tri = GpuPlane::upload(ctx, "cf trimap", trimap);
            let init = init.map(|p| GpuPlane::upload(ctx, "cf init", p));
            let (alpha, report) = solve_gpu(ctx, &img, &tri, init.as_ref(), options)?;
            Ok((alpha.read(ctx)?, report))
        }
    }
}

/// The solve of inputs already on the GPU (`words` are `image`'s pixels),
/// by the solver `options.solver` picks for `ctx`; the alpha is on the GPU
/// either way.
pub fn solve_resident(
    ctx: &GpuContext,
    words: &[u32],
    image: &GpuRgba,
    trimap: &GpuPlane,
    init: Option<&GpuPlane>,
    options: &CfOptions,
) -> Result<(GpuPlane, CfReport)> {
    if !options.solver.on_cpu(ctx) {
        return solve_gpu(ctx, image, trimap, init, options);
    }
    let init = init.map(|p| p.read(ctx)).transpose()?;
    let (alpha, report) = solve_cpu(words, &trimap.read(ctx)?, init.as_ref(), options)?;
    Ok((GpuPlane::upload(ctx, "cf alpha", &alpha), report))
}

/// Refuses a trimap without sure foreground (`fg`) or background (`bg`)
/// pixels, as pymatting does.
fn check_classes(fg: bool, bg: bool) -> Result<()> {
    if !fg {
        bail!(Trimap, "the trimap has no foreground pixels (value 255)");
    }
    if !bg {
        bail!(Trimap, "the trimap has no background pixels (value 0)");
    }
    Ok(())
}

/// Bilinear upsampling of a coarser level's alpha (`from`, width x height)
/// to the next level's size, as both engines start each finer level.
fn upsample_params(from: (u32, u32), to: (u32, u32)) -> SpatialParams {
    SpatialParams::new(
        View::whole(1, from.0 * from.1),
        View::whole(1, to.0 * to.1),
        (from.1, from.0),
        (to.1, to.0),
    )
}
