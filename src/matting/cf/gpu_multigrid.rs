//! The multigrid V-cycle on the GPU (shaders/matting_multigrid.wgsl; the
//! CPU mirror is `multigrid`): each level's tile map, derived on the host
//! from the finer level's active tiles (conservatively: a node no fine row
//! reaches is a zero row), the stencils (level 0 from the window constants,
//! coarser ones by Galerkin products on the GPU), the coarsest level's
//! inverse (read back once and inverted on the host, in f64), and the
//! dispatches of one V-cycle on r, leaving z in [`MultigridGpu::z`].

use std::collections::HashMap;

use super::CfOptions;
use super::gpu_pyramid::params;
use super::gpu_solver::{LevelGpu, tile_map};
use super::multigrid::{Bottom, TAPS};
use crate::Result;
use crate::gpu::{Dispatch, GpuContext};
use crate::kernels::matting::{
    self as kernel, FLAG_ACTIVE, MattingParams, Named, Step, TILE, TILE_PIXELS, tile_grid,
};
use crate::matting::gpu::upload_words;

/// Coarsen while a level's tiles hold more nodes than this (the coarsest
/// level is inverted densely).
const BOTTOM_NODES: u32 = 256;

/// One level's grid and vectors.
struct Grid {
    p: MattingParams,
    map: wgpu::Buffer,
    /// Active tile ids by slot.
    active: Vec<u32>,
    coef: wgpu::Buffer,
    invdiag: wgpu::Buffer,
    b: wgpu::Buffer,
    x: wgpu::Buffer,
    res: wgpu::Buffer,
}

impl Grid {
    fn size(&self) -> (u32, u32) {
        (self.p.width, self.p.height)
    }

    /// This level's parameters with `other` as the other level.
    fn with_other(&self, other: &Grid) -> MattingParams {
        MattingParams {
            other_width: other.p.width,
            other_height: other.p.height,
            other_tiles_x: other.p.tiles_x,
            other_n_tiles: other.p.n_tiles,
            ..self.p
        }
    }
}

/// The V-cycle's levels, finest first, and the coarsest level's inverse.
pub(super) struct MultigridGpu {
    grids: Vec<Grid>,
    bottom_nodes: wgpu::Buffer,
    bottom_inverse: wgpu::Buffer,
    bottom_rows: u32,
}

/// The tile flags of the level coarser than `fine`: every tile holding a
/// coarse node that a node of an active fine tile reads through P.
fn coarse_flags(fine: &Grid, (cw, ch): (u32, u32)) -> Vec<u32> {
    let (tx, ty) = tile_grid(cw, ch);
    let mut flags = vec![0; (tx * ty) as usize];
    let span = |t: u32, n: u32| (4 * t).saturating_sub(1) / TILE..=((4 * t + 4).min(n - 1)) / TILE;
    for &t in &fine.active {
        let (fx, fy) = (t % fine.p.tiles_x, t / fine.p.tiles_x);
        for y in span(fy, ch) {
            for x in span(fx, cw) {
                flags[(y * tx + x) as usize] = FLAG_ACTIVE;
            }
        }
    }
    flags
}

impl MultigridGpu {
    /// Builds the levels for `level`, whose setup (gather, windows,
    /// diagonal) has been recorded; runs the stencil and Galerkin passes and
    /// reads the coarsest level back.
    pub(super) fn new(ctx: &GpuContext, level: &LevelGpu, options: &CfOptions) -> Result<Self> {
        let pixels = |p: &MattingParams| u64::from(p.n_tiles) * u64::from(TILE_PIXELS);
        let n0 = pixels(&level.p);
        let mut grids = vec![Grid {
            p: level.p,
            map: level.map.clone(),
            active: level.active.clone(),
            coef: ctx.storage("cf stencils", n0 * 4 * TAPS as u64),
            invdiag: level.invdiag.clone(),
            b: level.r.clone(),
            x: ctx.storage("cf z", n0 * 4),
            res: ctx.storage("cf level residual", n0 * 4),
        }];
        loop {
            let fine = grids.last().expect("level 0");
            let (w, h) = fine.size();
            if fine.p.n_tiles * TILE_PIXELS <= BOTTOM_NODES || w.max(h) <= 2 {
                break;
            }
            let size = (w.div_ceil(2), h.div_ceil(2));
            let (map_words, n_tiles) = tile_map(&coarse_flags(fine, size));
            let p = params(size, n_tiles, options);
            let n = pixels(&p);
            let vector = |label| ctx.storage(label, n * 4);
            grids.push(Grid {
                p,
                map: upload_words(ctx, "cf coarse tile map", &map_words),
                active: map_words[..n_tiles as usize].to_vec(),
                coef: ctx.storage("cf coarse stencils", n * 4 * TAPS as u64),
                invdiag: vector("cf coarse inverse diagonal"),
                b: vector("cf coarse b"),
                x: vector("cf coarse x"),
                res: vector("cf coarse residual"),
            });
        }
        let mut setup = vec![Step::MgStencil.dispatch(
            ctx,
            &level.p,
            &[
                ("map", &level.map),
                ("img", &level.img),
                ("win", &level.win),
                ("invdiag", &level.invdiag),
                ("coef", &grids[0].coef),
            ],
        )?];
        for pair in grids.windows(2) {
            let (fine, coarse) = (&pair[0], &pair[1]);
            setup.push(Step::MgGalerkin.dispatch(
                ctx,
                &coarse.with_other(fine),
                &[
                    ("map", &coarse.map),
                    ("map_other", &fine.map),
                    ("coef", &coarse.coef),
                    ("coef_other", &fine.coef),
                    ("mg_invdiag", &coarse.invdiag),
                ],
            )?);
        }
        ctx.run(&setup);
        let (nodes, inverse) = bottom_inverse(ctx, grids.last().expect("level 0"))?;
        Ok(Self {
            bottom_rows: nodes.len() as u32,
            bottom_nodes: upload_words(ctx, "cf bottom nodes", &nodes),
            bottom_inverse: ctx.upload("cf bottom inverse", &inverse),
            grids,
        })
    }

    pub(super) fn depth(&self) -> usize {
        self.grids.len()
    }

    /// Level 0's stencils (L_U).
    pub(super) fn stencils(&self) -> &wgpu::Buffer {
        &self.grids[0].coef
    }

    /// z, level 0's solution (the V-cycle of r).
    pub(super) fn z(&self) -> &wgpu::Buffer {
        &self.grids[0].x
    }

    /// The dispatches of one V-cycle on r (level 0's b), then `mg_rz`'s
    /// partials (r.z, r.r); `red` gives the solver's done flag.
    pub(super) fn vcycle(&self, ctx: &GpuContext, red: &wgpu::Buffer) -> Result<Vec<Dispatch>> {
        let step = |s: Step, grid: &Grid, p: &MattingParams, more: &Named| -> Result<Dispatch> {
            let mut named: Vec<(&'static str, &wgpu::Buffer)> = vec![
                ("map", &grid.map),
                ("coef", &grid.coef),
                ("invdiag", &grid.invdiag),
                ("mg_invdiag", &grid.invdiag),
                ("mg_b", &grid.b),
                ("mg_x", &grid.x),
                ("mg_res", &grid.res),
                ("red", red),
            ];
            named.extend_from_slice(more);
            s.dispatch(ctx, p, &named)
        };
        let last = self.grids.len() - 1;
        let g0 = &self.grids[0];
        let mut out = vec![step(Step::MgSmooth, g0, &g0.p, &[])?];
        for k in 0..last {
            let (grid, coarse) = (&self.grids[k], &self.grids[k + 1]);
            out.push(step(Step::MgResidual, grid, &grid.p, &[])?);
            let other: [(&'static str, &wgpu::Buffer); 2] =
                [("map_other", &grid.map), ("vec_other", &grid.res)];
            out.push(step(
                Step::MgRestrict,
                coarse,
                &coarse.with_other(grid),
                &other,
            )?);
        }
        let bottom = &self.grids[last];
        let p = MattingParams {
            bottom_rows: self.bottom_rows,
            ..bottom.p
        };
        out.push(kernel::bottom(
            ctx,
            &p,
            &[
                ("bottom_nodes", &self.bottom_nodes),
                ("bottom_inverse", &self.bottom_inverse),
                ("mg_b", &bottom.b),
                ("mg_x", &bottom.x),
                ("red", red),
            ],
        )?);
        // Post-smoothing is deferred into the next dispatch that reads it,
        // except on the bottom level (solved exactly).
        let relax = |k: usize| u32::from(k != last);
        for k in (0..last).rev() {
            let (grid, coarse) = (&self.grids[k], &self.grids[k + 1]);
            let other: [(&'static str, &wgpu::Buffer); 4] = [
                ("map_other", &coarse.map),
                ("vec_other", &coarse.x),
                ("res_other", &coarse.res),
                ("invdiag_other", &coarse.invdiag),
            ];
            let p = MattingParams {
                relax: relax(k + 1),
                ..grid.with_other(coarse)
            };
            out.push(step(Step::MgProlong, grid, &p, &other)?);
            out.push(step(Step::MgResidual, grid, &grid.p, &[])?);
        }
        let p = MattingParams {
            relax: relax(0),
            ..g0.p
        };
        out.push(step(Step::MgRz, g0, &p, &[])?);
        Ok(out)
    }
}

/// The coarsest level's rows (compact indices of the nodes with a positive
/// diagonal) and the inverse of its matrix over them, row-major, in f32.
fn bottom_inverse(ctx: &GpuContext, grid: &Grid) -> Result<(Vec<u32>, Vec<f32>)> {
    let lanes = TILE_PIXELS as usize;
    let slots = grid.p.n_tiles as usize;
    let coef = ctx.read(&grid.coef, 0, slots * lanes * TAPS)?;
    let invdiag = ctx.read(&grid.invdiag, 0, slots * lanes)?;
    let position = |node: usize| {
        let t = grid.active[node / lanes];
        let li = (node % lanes) as u32;
        (
            (t % grid.p.tiles_x * TILE + li % TILE) as i64,
            (t / grid.p.tiles_x * TILE + li / TILE) as i64,
        )
    };
    let nodes: Vec<usize> = (0..slots * lanes).filter(|&i| invdiag[i] > 0.0).collect();
    let row_of: HashMap<(i64, i64), usize> = nodes
        .iter()
        .enumerate()
        .map(|(r, &i)| (position(i), r))
        .collect();
    let n = nodes.len();
    let mut dense = vec![0.0; n * n];
    for (r, &i) in nodes.iter().enumerate() {
        let (x, y) = position(i);
        for tap in 0..TAPS {
            let c = coef[((i / lanes) * TAPS + tap) * lanes + i % lanes];
            let j = (x + tap as i64 % 5 - 2, y + tap as i64 / 5 - 2);
            if let Some(&col) = row_of.get(&j) {
                dense[r * n + col] = f64::from(c);
            }
        }
    }
    let inverse = Bottom::factor(n, dense).inverse();
    Ok((
        nodes.iter().map(|&i| i as u32).collect(),
        inverse.iter().map(|&v| v as f32).collect(),
    ))
}
