//! Closed-form alpha matting (Levin et al. 2008) with pymatting's model
//! (estimate_alpha_cf: radius 1, epsilon 1e-7, known pixels fixed at 0 / 1,
//! L_U alpha_U = -R alpha_K), solved by Jacobi-preconditioned conjugate
//! gradients on the unknown pixels, coarse to fine.
//!
//! Tolerance: the residual is a poor proxy for the error here. L_U has a few
//! tiny eigenvalues (regions of one flat colour that few windows tie to the
//! known pixels), so an alpha with |r| = 1e-4 |b| can still be 0.05 off on
//! average (the 32x32 test image); 1e-6 reaches pymatting's alpha within its
//! 8-bit rounding on the lemur and the test image. pymatting stops at 1e-7
//! with an incomplete-Cholesky preconditioner.
//!
//! Coarse to fine: Jacobi-PCG needs many iterations for the smooth, far-
//! reaching part of the solution. So the image, trimap and initial guess are
//! halved (2x2 means; a coarse pixel is known only if its four are known
//! alike) while the image stays above ~128 pixels, each level is solved to
//! the same tolerance, and its alpha, bilinearly upsampled, starts the next.
//! On the lemur (680x440, tolerance 1e-6) the full size then needs ~750
//! iterations instead of ~1130, and the 340x220 and 170x110 levels (~430 and
//! ~230) cost a quarter and a sixteenth as much: ~1.3x less work in all (3x
//! at a tolerance of 1e-4).
//!
//! The GPU solver (shaders/matting.wgsl) keeps every PCG scalar on the GPU
//! and records `check_every` iterations per submit; the host reads 64 bytes
//! after each batch to see whether it converged. Its storage is compact (8x8
//! tiles near unknown pixels only) and stays under a 128 MiB binding for
//! 12-megapixel images with rembg-style trimaps: 84 bytes per active pixel
//! plus ~14 bytes per pixel of dense pyramid and alpha. The CPU solver is the
//! same algorithm in f64 over lists of unknown pixels and their windows.

use anyhow::{Result, bail, ensure};
use rayon::prelude::*;

use super::gpu::{GpuPlane, GpuRgba, read_words, upload_words};
use super::{Engine, Plane};
use crate::gpu::{Dispatch, GpuContext};
use crate::kernels::matting::{
    self as kernel, FLAG_ACTIVE, FLAG_BG, FLAG_FG, LevelBuffers, MattingParams, NONE, RefImage,
    Step, TILE, TILE_PIXELS, Window, is_unknown, known_value, scalar, tile_grid,
};
use crate::kernels::{Precision, SpatialParams, View, upsample};

/// Solver settings. The defaults reach pymatting's alpha within its 8-bit
/// rounding on the lemur (mean absolute difference 7e-4).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CfOptions {
    /// Regularization of the window covariances (pymatting: 1e-7).
    pub epsilon: f32,
    /// Each level stops once |r| <= tolerance |b| (pymatting's rtol; it
    /// uses 1e-7 with a much stronger preconditioner).
    pub tolerance: f32,
    /// At most this many iterations per level.
    pub max_iterations: u32,
    /// Iterations recorded per submit, between convergence checks (GPU).
    pub check_every: u32,
    /// Pyramid levels including the full size; None = halve while the
    /// longer side stays >= 128 and the shorter >= 16.
    pub levels: Option<u32>,
}

impl Default for CfOptions {
    fn default() -> Self {
        Self {
            epsilon: 1e-7,
            tolerance: 1e-6,
            max_iterations: 5000,
            check_every: 32,
            levels: None,
        }
    }
}

impl CfOptions {
    fn check(&self) -> Result<()> {
        ensure!(
            self.epsilon > 0.0 && self.epsilon.is_finite(),
            "matting epsilon must be positive (got {})",
            self.epsilon
        );
        ensure!(
            self.tolerance >= 0.0 && self.tolerance.is_finite(),
            "matting tolerance must be >= 0 (got {})",
            self.tolerance
        );
        ensure!(self.check_every > 0, "check_every must be at least 1");
        ensure!(self.levels != Some(0), "at least one pyramid level");
        Ok(())
    }

    /// Level sizes, finest first.
    pub fn level_sizes(&self, width: u32, height: u32) -> Vec<(u32, u32)> {
        let mut sizes = vec![(width, height)];
        loop {
            let (w, h) = *sizes.last().expect("one level");
            let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
            let more = match self.levels {
                Some(n) => (sizes.len() as u32) < n && cw >= 3 && ch >= 3,
                None => cw.max(ch) >= 128 && cw.min(ch) >= 16,
            };
            if !more {
                return sizes;
            }
            sizes.push((cw, ch));
        }
    }
}

/// Why a level stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// |r| <= tolerance |b|.
    Converged,
    /// Stopped at max_iterations before converging.
    IterationCap,
    /// p.Ap <= 0 or a non-finite residual (should not happen: L_U is
    /// positive definite; reported rather than hidden).
    Breakdown,
    /// No unknown pixels at this level: nothing to solve.
    Nothing,
}

/// One pyramid level's account.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LevelReport {
    pub width: u32,
    pub height: u32,
    /// Unknown pixels (CPU) or pixels of active tiles (GPU) worked on.
    pub active_pixels: u64,
    pub iterations: u32,
    /// |r| / |b| at the end (0 when b = 0).
    pub residual: f32,
    pub status: Status,
}

/// The solver's account, coarsest level first.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct CfReport {
    pub levels: Vec<LevelReport>,
}

impl CfReport {
    /// The full-size level's status.
    pub fn status(&self) -> Status {
        self.levels.last().map_or(Status::Nothing, |l| l.status)
    }

    /// Whether the full-size level stopped before converging.
    pub fn stopped_early(&self) -> bool {
        matches!(self.status(), Status::IterationCap | Status::Breakdown)
    }

    pub fn iterations(&self) -> u32 {
        self.levels.iter().map(|l| l.iterations).sum()
    }

    /// One line: iterations and final residual per level.
    pub fn summary(&self) -> String {
        self.levels
            .iter()
            .map(|l| {
                format!(
                    "{}x{}: {} iterations, |r|/|b| = {:.1e} ({:?})",
                    l.width, l.height, l.iterations, l.residual, l.status
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// A trimap pymatting refuses: it needs sure foreground and background.
#[derive(Debug, thiserror::Error)]
pub enum TrimapError {
    #[error("the trimap has no foreground pixels (value 255)")]
    NoForeground,
    #[error("the trimap has no background pixels (value 0)")]
    NoBackground,
}

/// Closed-form alpha for `image` (RGBA words) and `trimap` on either engine;
/// `init` (e.g. the network's mask) starts the coarsest level, else the
/// trimap's own values do.
pub fn estimate_alpha_cf(
    engine: Engine,
    image: &[u32],
    trimap: &Plane,
    init: Option<&Plane>,
    options: &CfOptions,
) -> Result<(Plane, CfReport)> {
    match engine {
        Engine::Cpu => solve_cpu(image, trimap, init, options),
        Engine::Gpu(ctx) => {
            let img = GpuRgba::upload(ctx, "cf image", image, trimap.width, trimap.height);
            let tri = GpuPlane::upload(ctx, "cf trimap", trimap);
            let init = init.map(|p| GpuPlane::upload(ctx, "cf init", p));
            let (alpha, report) = solve_gpu(ctx, &img, &tri, init.as_ref(), options)?;
            Ok((alpha.read(ctx)?, report))
        }
    }
}

fn check_classes(fg: bool, bg: bool) -> Result<()> {
    if !fg {
        bail!(TrimapError::NoForeground);
    }
    if !bg {
        bail!(TrimapError::NoBackground);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// GPU

/// The dense inputs of one level.
struct Dense {
    image: wgpu::Buffer,
    trimap: wgpu::Buffer,
    init: wgpu::Buffer,
    size: (u32, u32),
}

/// Active tiles of one level, as `map` holds them.
fn tile_map(flags: &[u32]) -> (Vec<u32>, u32) {
    let active: Vec<u32> = (0..flags.len() as u32)
        .filter(|&t| flags[t as usize] & FLAG_ACTIVE != 0)
        .collect();
    let n = active.len() as u32;
    let mut slot_of = vec![NONE; flags.len()];
    for (slot, &t) in active.iter().enumerate() {
        slot_of[t as usize] = slot as u32;
    }
    let mut map = active;
    map.extend(slot_of);
    (map, n)
}

fn params(size: (u32, u32), n_tiles: u32, options: &CfOptions) -> MattingParams {
    MattingParams {
        width: size.0,
        height: size.1,
        tiles_x: tile_grid(size.0, size.1).0,
        n_tiles,
        epsilon: options.epsilon,
        tolerance2: options.tolerance * options.tolerance,
        src_width: 0,
        src_height: 0,
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
            src_width: fine.size.0,
            src_height: fine.size.1,
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

/// The compact buffers of one level.
struct LevelGpu {
    p: MattingParams,
    map: wgpu::Buffer,
    active: Vec<u32>,
    img: wgpu::Buffer,
    win: wgpu::Buffer,
    wa: wgpu::Buffer,
    x: wgpu::Buffer,
    r: wgpu::Buffer,
    dir: wgpu::Buffer,
    q: wgpu::Buffer,
    invdiag: wgpu::Buffer,
    red: wgpu::Buffer,
}

impl LevelGpu {
    fn new(ctx: &GpuContext, size: (u32, u32), flags: &[u32], options: &CfOptions) -> Self {
        let (map_words, n_tiles) = tile_map(flags);
        let pixels = u64::from(n_tiles) * u64::from(TILE_PIXELS);
        let vec4 = |label| ctx.storage(label, pixels * 16);
        let plane = |label| ctx.storage(label, pixels * 4);
        Self {
            p: params(size, n_tiles, options),
            map: upload_words(ctx, "cf tile map", &map_words),
            active: map_words[..n_tiles as usize].to_vec(),
            img: vec4("cf colours"),
            win: ctx.storage("cf windows", pixels * 32),
            wa: vec4("cf window products"),
            x: plane("cf x"),
            r: plane("cf r"),
            dir: plane("cf p"),
            q: plane("cf q"),
            invdiag: plane("cf inverse diagonal"),
            red: ctx.upload(
                "cf scalars",
                &vec![0.0; scalar::PARTIALS + 2 * n_tiles as usize],
            ),
        }
    }

    fn buffers<'a>(&'a self, dense: &'a Dense, init: &'a wgpu::Buffer) -> LevelBuffers<'a> {
        LevelBuffers {
            image_dense: &dense.image,
            trimap: &dense.trimap,
            init,
            map: &self.map,
            img: &self.img,
            win: &self.win,
            wa: &self.wa,
            x: &self.x,
            r: &self.r,
            dir: &self.dir,
            q: &self.q,
            invdiag: &self.invdiag,
            red: &self.red,
        }
    }

    fn pixels(&self) -> u64 {
        u64::from(self.p.n_tiles) * u64::from(TILE_PIXELS)
    }

    /// A compact per-pixel buffer read back into a dense image (0 outside
    /// the active tiles).
    fn read_dense(&self, ctx: &GpuContext, buffer: &wgpu::Buffer) -> Result<Vec<f32>> {
        let compact = ctx.read(buffer, 0, self.pixels() as usize)?;
        let (w, h) = (self.p.width, self.p.height);
        let mut dense = vec![0.0; (w * h) as usize];
        for (slot, &t) in self.active.iter().enumerate() {
            let (x0, y0) = (t % self.p.tiles_x * TILE, t / self.p.tiles_x * TILE);
            for (li, &v) in compact[slot * TILE_PIXELS as usize..][..TILE_PIXELS as usize]
                .iter()
                .enumerate()
            {
                let (x, y) = (x0 + li as u32 % TILE, y0 + li as u32 / TILE);
                if x < w && y < h {
                    dense[(y * w + x) as usize] = v;
                }
            }
        }
        Ok(dense)
    }
}

/// Solves one level, returning its dense alpha.
fn solve_level_gpu(
    ctx: &GpuContext,
    dense: &Dense,
    init: &wgpu::Buffer,
    flags: &[u32],
    options: &CfOptions,
) -> Result<(GpuPlane, LevelReport)> {
    let level = LevelGpu::new(ctx, dense.size, flags, options);
    let p = level.p;
    let b = level.buffers(dense, init);
    let d = |s: Step| s.dispatch(ctx, &p, &b);
    let alpha = GpuPlane::new(ctx, "cf alpha", dense.size.0, dense.size.1);
    let scatter = kernel::scatter(ctx, &p, &dense.trimap, &level.map, &level.x, &alpha.buffer)?;
    let mut report = LevelReport {
        width: dense.size.0,
        height: dense.size.1,
        active_pixels: level.pixels(),
        iterations: 0,
        residual: 0.0,
        status: Status::Nothing,
    };
    if p.n_tiles == 0 {
        ctx.run([&scatter]);
        return Ok((alpha, report));
    }
    let (lap_w, lap_p) = (d(Step::LapWindows)?, d(Step::LapPixels)?);
    let setup = [
        d(Step::Gather)?,
        d(Step::SetupWindows)?,
        d(Step::SetupDiagonal)?,
        d(Step::Rhs)?,
        d(Step::FinishRhs)?,
        d(Step::Residual)?,
        d(Step::FinishResidual)?,
    ];
    let iteration = [
        d(Step::FinishPq)?,
        d(Step::Update)?,
        d(Step::FinishRz)?,
        d(Step::Direction)?,
    ];
    // Setup: x and dir = x_known; b = -(L dir); dir = x; r = -(L x).
    let [
        gather,
        windows,
        diagonal,
        rhs,
        finish_rhs,
        residual,
        finish_residual,
    ] = &setup;
    let start = [
        gather,
        windows,
        diagonal,
        &lap_w,
        &lap_p,
        rhs,
        finish_rhs,
        &lap_w,
        &lap_p,
        residual,
        finish_residual,
    ];
    let [finish_pq, update, finish_rz, direction] = &iteration;
    let step = [&lap_w, &lap_p, finish_pq, update, finish_rz, direction];
    let mut first = true;
    let mut recorded = 0u32;
    let scalars = loop {
        let n = options.check_every.min(options.max_iterations - recorded);
        let prefix: &[&Dispatch] = if first { &start } else { &[] };
        let body = (0..n).flat_map(|_| step.iter().copied());
        ctx.run(prefix.iter().copied().chain(body));
        first = false;
        recorded += n;
        let s = ctx.read(&level.red, 0, scalar::PARTIALS)?;
        if s[scalar::DONE] != 0.0 || recorded >= options.max_iterations {
            break s;
        }
    };
    ctx.run([&scatter]);
    report.iterations = scalars[scalar::ITERS] as u32;
    report.residual = relative(scalars[scalar::RR], scalars[scalar::BB]);
    report.status = match scalars[scalar::DONE] {
        scalar::CONVERGED => Status::Converged,
        scalar::BREAKDOWN => Status::Breakdown,
        _ => Status::IterationCap,
    };
    Ok((alpha, report))
}

/// L v and the diagonal of L on the GPU, through the solver's own kernels
/// with every pixel unknown: for checking them against the references.
pub fn laplacian_gpu(
    ctx: &GpuContext,
    image: &GpuRgba,
    v: &Plane,
    epsilon: f32,
) -> Result<(Plane, Plane)> {
    ensure!(image.size() == v.size(), "image and vector differ in size");
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
        .collect::<crate::Result<Vec<_>>>()?;
    ctx.run(&dispatches);
    let lv = level.read_dense(ctx, &level.q)?;
    let diag = level
        .read_dense(ctx, &level.invdiag)?
        .into_iter()
        .map(|d| if d > 0.0 { 1.0 / d } else { 0.0 })
        .collect();
    Ok((Plane::new(w, h, lv), Plane::new(w, h, diag)))
}

fn relative(rr: f32, bb: f32) -> f32 {
    if bb > 0.0 { (rr / bb).sqrt() } else { 0.0 }
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
        "the trimap is {}x{}, the image {}x{}",
        trimap.width,
        trimap.height,
        image.width,
        image.height
    );
    let init = init.unwrap_or(trimap);
    ensure!(
        init.size() == trimap.size(),
        "the initial alpha's size differs from the trimap's"
    );
    let (levels, flags) = pyramid_gpu(ctx, image, trimap, init, options)?;
    let any = |bit| flags[0].iter().any(|f| f & bit != 0);
    check_classes(any(FLAG_FG), any(FLAG_BG))?;
    let mut report = CfReport::default();
    let mut coarser: Option<GpuPlane> = None;
    for (level, flags) in levels.iter().zip(&flags).rev() {
        let upsampled;
        let init = match &coarser {
            None => &level.init,
            Some(c) => {
                let (w, h) = level.size;
                let p = SpatialParams::new(
                    View::whole(1, c.width * c.height),
                    View::whole(1, w * h),
                    (c.height, c.width),
                    (h, w),
                );
                upsampled = ctx.storage("cf upsampled init", u64::from(w) * u64::from(h) * 4);
                ctx.run([&upsample::dispatch(
                    ctx,
                    Precision::F32,
                    &p,
                    1,
                    &c.buffer,
                    &upsampled,
                )?]);
                &upsampled
            }
        };
        let (alpha, level_report) = solve_level_gpu(ctx, level, init, flags, options)?;
        report.levels.push(level_report);
        coarser = Some(alpha);
    }
    Ok((coarser.expect("at least one level"), report))
}

// ---------------------------------------------------------------------------
// CPU

/// A level's dense inputs on the CPU.
struct CpuLevel {
    width: u32,
    height: u32,
    image: Vec<u32>,
    trimap: Vec<f32>,
    init: Vec<f32>,
}

/// WGSL's pack4x8unorm of one channel.
fn unorm8(v: f32) -> u32 {
    (0.5 + 255.0 * v.clamp(0.0, 1.0)).floor() as u32
}

/// Mirrors `down`.
fn down_cpu(fine: &CpuLevel, (w, h): (u32, u32)) -> CpuLevel {
    let mut out = CpuLevel {
        width: w,
        height: h,
        image: Vec::with_capacity((w * h) as usize),
        trimap: Vec::with_capacity((w * h) as usize),
        init: Vec::with_capacity((w * h) as usize),
    };
    for e in 0..w * h {
        let (cx, cy) = (e % w, e / w);
        let (mut colour, mut guess, mut n_fg, mut n_bg) = ([0.0f32; 4], 0.0f32, 0, 0);
        for j in 0..4 {
            let sx = (2 * cx + j % 2).min(fine.width - 1);
            let sy = (2 * cy + j / 2).min(fine.height - 1);
            let s = (sy * fine.width + sx) as usize;
            let word = fine.image[s];
            for (k, c) in colour.iter_mut().enumerate() {
                *c += ((word >> (8 * k)) & 0xff) as f32 / 255.0;
            }
            guess += fine.init[s];
            let t = fine.trimap[s];
            n_fg += u32::from(t >= kernel::FG_MIN);
            n_bg += u32::from(t <= kernel::BG_MAX);
        }
        out.image.push(
            colour
                .iter()
                .enumerate()
                .map(|(k, &c)| unorm8(c * 0.25) << (8 * k))
                .sum(),
        );
        out.init.push(guess * 0.25);
        out.trimap.push(if n_fg == 4 {
            1.0
        } else if n_bg == 4 {
            0.0
        } else {
            0.5
        });
    }
    out
}

/// The unknown pixels of a level and the windows that touch them.
struct CpuProblem {
    width: usize,
    rgb: Vec<[f64; 3]>,
    /// Unknown pixels with at least one window.
    unknown: Vec<usize>,
    /// Centres of windows containing an unknown pixel, and their constants.
    centres: Vec<usize>,
    windows: Vec<Window>,
    /// Window index by centre pixel (NONE elsewhere).
    window_of: Vec<u32>,
    inv_diag: Vec<f64>,
}

impl CpuProblem {
    fn new(level: &CpuLevel, epsilon: f64) -> Self {
        let (w, h) = (level.width as usize, level.height as usize);
        let rgb: Vec<[f64; 3]> = level
            .image
            .iter()
            .map(|&p| std::array::from_fn(|k| f64::from((p >> (8 * k)) & 0xff)))
            .collect();
        let image = RefImage {
            width: w,
            height: h,
            rgb: &rgb,
        };
        let mut is_centre_needed = vec![false; w * h];
        let mut candidates = Vec::new();
        for i in 0..w * h {
            if !is_unknown(level.trimap[i]) {
                continue;
            }
            candidates.push(i);
            for k in image.windows_of(i) {
                is_centre_needed[k] = true;
            }
        }
        let centres: Vec<usize> = (0..w * h).filter(|&k| is_centre_needed[k]).collect();
        let mut window_of = vec![NONE; w * h];
        for (n, &k) in centres.iter().enumerate() {
            window_of[k] = n as u32;
        }
        let windows: Vec<Window> = centres
            .par_iter()
            .map(|&k| image.window(k % w, k / w, epsilon))
            .collect();
        let diag: Vec<f64> = candidates
            .par_iter()
            .map(|&i| {
                image
                    .windows_of(i)
                    .map(|k| {
                        let wi = windows[window_of[k] as usize].whiten(rgb[i]);
                        1.0 - (1.0 + dot3(wi, wi)) / 9.0
                    })
                    .sum()
            })
            .collect();
        let (unknown, inv_diag) = candidates
            .iter()
            .zip(&diag)
            .filter(|&(_, &d)| d > 0.0)
            .map(|(&i, &d)| (i, 1.0 / d))
            .unzip();
        Self {
            width: w,
            rgb,
            unknown,
            centres,
            windows,
            window_of,
            inv_diag,
        }
    }

    fn image(&self) -> RefImage<'_> {
        RefImage {
            width: self.width,
            height: self.rgb.len() / self.width,
            rgb: &self.rgb,
        }
    }

    /// (L v)_i for the unknown pixels, v dense (mirrors the shader).
    fn apply(&self, v: &[f64]) -> Vec<f64> {
        let w = self.width;
        let image = self.image();
        let wa: Vec<([f64; 3], f64)> = self
            .centres
            .par_iter()
            .zip(&self.windows)
            .map(|(&k, win)| {
                let (cx, cy) = (k % w, k / w);
                let (mut a, mut s) = ([0.0; 3], 0.0);
                for j in 0..9 {
                    let e = (cy + j / 3 - 1) * w + cx + j % 3 - 1;
                    let vj = v[e] - v[k];
                    let wj = win.whiten(self.rgb[e]);
                    for d in 0..3 {
                        a[d] += wj[d] * vj;
                    }
                    s += vj;
                }
                (a, s)
            })
            .collect();
        self.unknown
            .par_iter()
            .map(|&i| {
                let mut acc = 0.0;
                for k in image.windows_of(i) {
                    let n = self.window_of[k] as usize;
                    let (a, s) = wa[n];
                    let wi = self.windows[n].whiten(self.rgb[i]);
                    acc += (v[i] - v[k]) - (s + dot3(wi, a)) / 9.0;
                }
                acc
            })
            .collect()
    }
}

fn dot3(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// PCG on one level (f64), the GPU's algorithm and stopping rule.
fn solve_level_cpu(level: &CpuLevel, init: &[f32], options: &CfOptions) -> (Vec<f32>, LevelReport) {
    let problem = CpuProblem::new(level, f64::from(options.epsilon));
    let n = level.trimap.len();
    let mut x: Vec<f64> = (0..n)
        .map(|i| f64::from(known_value(level.trimap[i])))
        .collect();
    let mut report = LevelReport {
        width: level.width,
        height: level.height,
        active_pixels: problem.unknown.len() as u64,
        iterations: 0,
        residual: 0.0,
        status: Status::Nothing,
    };
    let finish = |x: &[f64]| x.iter().map(|&v| v.clamp(0.0, 1.0) as f32).collect();
    if problem.unknown.is_empty() {
        return (finish(&x), report);
    }
    let b: Vec<f64> = problem.apply(&x).iter().map(|v| -v).collect();
    let bb: f64 = b.iter().map(|v| v * v).sum();
    // Unknown pixels in no window are not solved for and keep their guess.
    for i in 0..n {
        if is_unknown(level.trimap[i]) {
            x[i] = f64::from(init[i]);
        }
    }
    let mut r: Vec<f64> = problem.apply(&x).iter().map(|v| -v).collect();
    let z = |r: &[f64]| -> Vec<f64> {
        r.iter()
            .zip(&problem.inv_diag)
            .map(|(a, b)| a * b)
            .collect()
    };
    let mut p = z(&r);
    let mut rz: f64 = r.iter().zip(&p).map(|(a, b)| a * b).sum();
    let mut rr: f64 = r.iter().map(|v| v * v).sum();
    let tol2 = f64::from(options.tolerance).powi(2);
    let mut dense = vec![0.0; n];
    report.status = Status::IterationCap;
    if rr <= tol2 * bb {
        report.status = Status::Converged;
    }
    while report.status == Status::IterationCap && report.iterations < options.max_iterations {
        for (&i, &v) in problem.unknown.iter().zip(&p) {
            dense[i] = v;
        }
        let q = problem.apply(&dense);
        let pq: f64 = p.iter().zip(&q).map(|(a, b)| a * b).sum();
        if !(pq > 0.0 && pq.is_finite()) {
            report.status = Status::Breakdown;
            break;
        }
        let alpha = rz / pq;
        for (k, &i) in problem.unknown.iter().enumerate() {
            x[i] += alpha * p[k];
            r[k] -= alpha * q[k];
        }
        let zk = z(&r);
        let rz_new: f64 = r.iter().zip(&zk).map(|(a, b)| a * b).sum();
        rr = r.iter().map(|v| v * v).sum();
        report.iterations += 1;
        if !rr.is_finite() {
            report.status = Status::Breakdown;
        } else if rr <= tol2 * bb {
            report.status = Status::Converged;
        }
        let beta = rz_new / rz;
        rz = rz_new;
        for (pk, zk) in p.iter_mut().zip(zk) {
            *pk = zk + beta * *pk;
        }
    }
    report.residual = if bb > 0.0 {
        (rr / bb).sqrt() as f32
    } else {
        0.0
    };
    (finish(&x), report)
}

/// Solves on the CPU (f64), with the GPU solver's pyramid and stopping rule.
pub fn solve_cpu(
    image: &[u32],
    trimap: &Plane,
    init: Option<&Plane>,
    options: &CfOptions,
) -> Result<(Plane, CfReport)> {
    options.check()?;
    let init = init.unwrap_or(trimap);
    ensure!(
        image.len() == trimap.data.len() && init.size() == trimap.size(),
        "image, trimap and initial alpha differ in size"
    );
    let has = |f: fn(f32) -> bool| trimap.data.iter().any(|&t| f(t));
    check_classes(has(|t| t >= kernel::FG_MIN), has(|t| t <= kernel::BG_MAX))?;
    let sizes = options.level_sizes(trimap.width, trimap.height);
    let mut levels = vec![CpuLevel {
        width: trimap.width,
        height: trimap.height,
        image: image.to_vec(),
        trimap: trimap.data.clone(),
        init: init.data.clone(),
    }];
    for &size in &sizes[1..] {
        levels.push(down_cpu(levels.last().expect("level 0"), size));
    }
    let mut report = CfReport::default();
    let mut coarser: Option<Plane> = None;
    for level in levels.iter().rev() {
        let init = match &coarser {
            None => level.init.clone(),
            Some(c) => {
                let (w, h) = (level.width, level.height);
                let p = SpatialParams::new(
                    View::whole(1, c.width * c.height),
                    View::whole(1, w * h),
                    (c.height, c.width),
                    (h, w),
                );
                let mut out = vec![0.0; (w * h) as usize];
                upsample::cpu(&p, 1, &c.data, &mut out);
                out
            }
        };
        let (alpha, level_report) = solve_level_cpu(level, &init, options);
        report.levels.push(level_report);
        coarser = Some(Plane::new(level.width, level.height, alpha));
    }
    Ok((coarser.expect("at least one level"), report))
}
