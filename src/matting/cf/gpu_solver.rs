//! One level on the GPU: its compact buffers (8x8 tiles near unknown
//! pixels), and conjugate gradients preconditioned by the multigrid V-cycle
//! (`gpu_multigrid`) or by Jacobi, with every scalar on the GPU,
//! `check_every` iterations recorded per submit.

use super::gpu_multigrid::MultigridGpu;
use super::gpu_pyramid::{Dense, params};
use super::multigrid::TAPS;
use super::{CfOptions, LevelReport, Preconditioner, Status};
use crate::Result;
use crate::gpu::{Dispatch, GpuContext};
use crate::kernels::matting::{
    self as kernel, FLAG_ACTIVE, MattingParams, NONE, Step, TILE, TILE_PIXELS, scalar,
};
use crate::matting::gpu::{GpuPlane, upload_words};

/// Active tiles of one level, as `map` holds them.
pub(super) fn tile_map(flags: &[u32]) -> (Vec<u32>, u32) {
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

/// The compact buffers of one level.
pub(super) struct LevelGpu {
    pub(super) p: MattingParams,
    pub(super) map: wgpu::Buffer,
    /// Active tile ids by slot.
    pub(super) active: Vec<u32>,
    pub(super) img: wgpu::Buffer,
    pub(super) win: wgpu::Buffer,
    wa: wgpu::Buffer,
    x: wgpu::Buffer,
    pub(super) r: wgpu::Buffer,
    dir: wgpu::Buffer,
    pub(super) q: wgpu::Buffer,
    pub(super) invdiag: wgpu::Buffer,
    red: wgpu::Buffer,
}

impl LevelGpu {
    pub(super) fn new(
        ctx: &GpuContext,
        size: (u32, u32),
        flags: &[u32],
        options: &CfOptions,
    ) -> Self {
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

    /// The level's buffers by their WGSL names, `init` starting x.
    pub(super) fn buffers<'a>(
        &'a self,
        dense: &'a Dense,
        init: &'a wgpu::Buffer,
    ) -> [(&'static str, &'a wgpu::Buffer); 13] {
        [
            ("image_dense", &dense.image),
            ("trimap", &dense.trimap),
            ("init", init),
            ("map", &self.map),
            ("img", &self.img),
            ("win", &self.win),
            ("wa", &self.wa),
            ("x", &self.x),
            ("r", &self.r),
            ("dir", &self.dir),
            ("q", &self.q),
            ("invdiag", &self.invdiag),
            ("red", &self.red),
        ]
    }

    fn pixels(&self) -> u64 {
        u64::from(self.p.n_tiles) * u64::from(TILE_PIXELS)
    }

    /// A compact per-pixel buffer read back into a dense image (0 outside
    /// the active tiles).
    pub(super) fn read_dense(&self, ctx: &GpuContext, buffer: &wgpu::Buffer) -> Result<Vec<f32>> {
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
pub(super) fn solve_level_gpu(
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
    let mut report = LevelReport::start(dense.size.0, dense.size.1, level.pixels());
    if p.n_tiles == 0 {
        ctx.run([&scatter]);
        return Ok((alpha, report));
    }
    let (lap_w, lap_p) = (d(Step::LapWindows)?, d(Step::LapPixels)?);
    let prepare = [
        d(Step::Gather)?,
        d(Step::SetupWindows)?,
        d(Step::SetupDiagonal)?,
    ];
    let setup = [
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
    // The preconditioner: z = r / L_ii inside `residual` and `update`
    // (Jacobi), or one V-cycle on r after them, ending in the partials
    // (r.z, r.r), and dir = z + beta dir from its z.
    // The V-cycle's stencils (25 values per pixel) must fit one binding;
    // past that the solve falls back to Jacobi (the report says which ran).
    let stencil_bytes = level.pixels() * 4 * TAPS as u64;
    let fits = stencil_bytes <= ctx.limits.max_storage_buffer_binding_size;
    let multigrid = if options.preconditioner == Preconditioner::Multigrid && fits {
        ctx.run(&prepare);
        let mg = MultigridGpu::new(ctx, &level, options)?;
        report.multigrid_levels = mg.depth() as u32;
        let mut b = b.to_vec();
        b.push(("mg_x", mg.z()));
        b.push(("coef", mg.stencils()));
        Some((
            mg.vcycle(ctx, &level.red)?,
            Step::MgDirection.dispatch(ctx, &p, &b)?,
            Step::MgApply.dispatch(ctx, &p, &b)?,
        ))
    } else {
        None
    };
    // Setup: x and dir = x_known; b = -(L dir); dir = x; r = -(L x).
    let [rhs, finish_rhs, residual, finish_residual] = &setup;
    let [finish_pq, update, finish_rz, direction] = &iteration;
    let mut start: Vec<&Dispatch> = Vec::new();
    if multigrid.is_none() {
        start.extend(&prepare);
    }
    start.extend([&lap_w, &lap_p, rhs, finish_rhs, &lap_w, &lap_p, residual]);
    let mut step: Vec<&Dispatch> = Vec::new();
    match &multigrid {
        None => {
            start.push(finish_residual);
            step.extend([&lap_w, &lap_p, finish_pq, update, finish_rz, direction]);
        }
        Some((vcycle, mg_direction, apply)) => {
            start.extend(vcycle);
            start.extend([finish_residual, mg_direction]);
            step.extend([apply, finish_pq, update]);
            step.extend(vcycle);
            step.extend([finish_rz, mg_direction]);
        }
    }
    report.dispatches_per_iteration = step.len() as u32;
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

fn relative(rr: f32, bb: f32) -> f32 {
    if bb > 0.0 { (rr / bb).sqrt() } else { 0.0 }
}
