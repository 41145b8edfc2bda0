//! Closed-form matting kernels: the matting Laplacian applied matrix-free
//! over active 8x8 tiles, and the steps of a preconditioned conjugate
//! gradient whose scalars stay on the GPU, with its multigrid V-cycle. The
//! WGSL is split by stage (shaders/matting_pyramid.wgsl, matting_setup.wgsl,
//! matting_laplacian.wgsl, matting_solver.wgsl, matting_multigrid.wgsl, over
//! shaders/shared/matting_layout.wgsl); reference.rs, re-exported here, is
//! their CPU mirror.
//!
//! Buffers are bound by their WGSL names: each dispatch binds the ones its
//! entry point uses, as naga reports them ([`crate::gpu::reflect`]).

mod reference;

use bytemuck::{Pod, Zeroable};

pub use reference::{LEVELS2, RefImage, Window, flags_cpu, is_centre, is_unknown, known_value};

use crate::Result;
use crate::gpu::shaders::{self, Shader};
use crate::gpu::{Dispatch, DispatchBuilder, GpuContext, groups_for, reflect};

/// Side of the tiles the solver stores and dispatches (`TILE` in the shader).
pub const TILE: u32 = 8;
/// Pixels per tile: one workgroup of `WG` invocations.
pub const TILE_PIXELS: u32 = TILE * TILE;
/// slot_of value of an inactive tile (`NONE` in the shader).
pub const NONE: u32 = u32::MAX;
/// Trimap values at or above this are foreground, at or below
/// [`BG_MAX`] background, as pymatting's `trimap_split`.
pub const FG_MIN: f32 = 0.9;
pub const BG_MAX: f32 = 0.1;

/// Scalars at the head of the `red` buffer (indices as in the shader).
pub mod scalar {
    pub const RZ: usize = 0;
    pub const ALPHA: usize = 2;
    pub const RR: usize = 4;
    pub const BB: usize = 5;
    pub const DONE: usize = 6;
    pub const ITERS: usize = 7;
    pub const RR0: usize = 8;
    /// Partial sums start here, two per tile.
    pub const PARTIALS: usize = 16;
    /// `DONE` values.
    pub const CONVERGED: f32 = 1.0;
    pub const BREAKDOWN: f32 = 2.0;
}

/// `MattingParams` in shaders/shared/matting_layout.wgsl (tests/it/layout.rs checks the layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct MattingParams {
    pub width: u32,
    pub height: u32,
    pub tiles_x: u32,
    /// Active tiles (tile kernels) or all tiles (`flags`).
    pub n_tiles: u32,
    pub epsilon: f32,
    /// Stop once |r|^2 <= tolerance2 |b|^2.
    pub tolerance2: f32,
    /// The other level of kernels that read two: `down` and the
    /// multigrid's `mg_galerkin`, `mg_restrict` (the finer level),
    /// `mg_prolong` (the coarser).
    pub other_width: u32,
    pub other_height: u32,
    pub other_tiles_x: u32,
    pub other_n_tiles: u32,
    /// `mg_bottom`: rows of the coarsest level.
    pub bottom_rows: u32,
    /// `mg_prolong`, `mg_rz`: apply the deferred post-smoothing (of the
    /// coarser level, of this one).
    pub relax: u32,
    pub pad1: u32,
    pub pad2: u32,
}

/// Tiles along x and y of a `width x height` image.
pub fn tile_grid(width: u32, height: u32) -> (u32, u32) {
    (width.div_ceil(TILE), height.div_ceil(TILE))
}

/// Buffers by their names in the WGSL (shaders/shared/matting_layout.wgsl
/// and the entry files); a dispatch binds those its entry point uses.
pub type Named<'a> = [(&'static str, &'a wgpu::Buffer)];

/// The solver's kernels that run over active tiles or reduce their partials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Gather,
    SetupWindows,
    SetupDiagonal,
    LapWindows,
    LapPixels,
    Rhs,
    Residual,
    Update,
    Direction,
    FinishRhs,
    FinishResidual,
    FinishPq,
    FinishRz,
    // The multigrid V-cycle (shaders/matting_multigrid.wgsl).
    MgStencil,
    MgGalerkin,
    MgSmooth,
    MgResidual,
    MgRestrict,
    MgProlong,
    MgRz,
    MgDirection,
    MgApply,
}

impl Step {
    fn entry(self) -> &'static str {
        match self {
            Self::Gather => "gather",
            Self::SetupWindows => "setup_windows",
            Self::SetupDiagonal => "setup_diagonal",
            Self::LapWindows => "lap_windows",
            Self::LapPixels => "lap_pixels",
            Self::Rhs => "rhs",
            Self::Residual => "residual",
            Self::Update => "update",
            Self::Direction => "direction",
            Self::FinishRhs => "finish_rhs",
            Self::FinishResidual => "finish_residual",
            Self::FinishPq => "finish_pq",
            Self::FinishRz => "finish_rz",
            Self::MgStencil => "mg_stencil",
            Self::MgGalerkin => "mg_galerkin",
            Self::MgSmooth => "mg_smooth",
            Self::MgResidual => "mg_residual",
            Self::MgRestrict => "mg_restrict",
            Self::MgProlong => "mg_prolong",
            Self::MgRz => "mg_rz",
            Self::MgDirection => "mg_direction",
            Self::MgApply => "mg_apply",
        }
    }

    fn shader(self) -> Shader {
        match self {
            Self::Gather | Self::SetupWindows | Self::SetupDiagonal => shaders::MATTING_SETUP,
            Self::LapWindows | Self::LapPixels => shaders::MATTING_LAPLACIAN,
            Self::MgStencil
            | Self::MgGalerkin
            | Self::MgSmooth
            | Self::MgResidual
            | Self::MgRestrict
            | Self::MgProlong
            | Self::MgRz
            | Self::MgDirection
            | Self::MgApply => shaders::MATTING_MULTIGRID,
            _ => shaders::MATTING_SOLVER,
        }
    }

    fn is_finish(self) -> bool {
        matches!(
            self,
            Self::FinishRhs | Self::FinishResidual | Self::FinishPq | Self::FinishRz
        )
    }

    /// Records this step: one workgroup per active tile, or one in all for
    /// the reductions.
    pub fn dispatch(
        self,
        ctx: &GpuContext,
        p: &MattingParams,
        buffers: &Named,
    ) -> Result<Dispatch> {
        let groups = if self.is_finish() {
            1
        } else {
            u64::from(p.n_tiles)
        };
        build(ctx, self.shader(), self.entry(), p, buffers, groups)
    }
}

/// Records `entry` of `shader`, binding each storage buffer the entry point
/// uses to the one of that name in `buffers`.
///
/// # Panics
/// If the entry point uses a buffer `buffers` does not name: the WGSL and
/// this module disagree, which the first test run shows.
fn build(
    ctx: &GpuContext,
    shader: Shader,
    entry: &'static str,
    p: &MattingParams,
    buffers: &Named,
    groups: u64,
) -> Result<Dispatch> {
    let bound: Vec<(u32, &wgpu::Buffer)> = reflect::storage_buffers(shader, entry)
        .iter()
        .map(|used| {
            let (_, buffer) = buffers
                .iter()
                .find(|(name, _)| *name == used.name)
                .unwrap_or_else(|| {
                    panic!(
                        "{}.wgsl: nothing to bind to {entry}'s {}",
                        shader.name, used.name
                    )
                });
            (used.binding, *buffer)
        })
        .collect();
    DispatchBuilder::new(ctx, shader, entry).build(format!("matting_{entry}"), p, &bound, groups, 1)
}

/// `mg_bottom`: the coarsest level's solve, one invocation per row
/// (p.bottom_rows).
pub fn bottom(ctx: &GpuContext, p: &MattingParams, buffers: &Named) -> Result<Dispatch> {
    let groups = groups_for(u64::from(p.bottom_rows));
    build(
        ctx,
        shaders::MATTING_MULTIGRID,
        "mg_bottom",
        p,
        buffers,
        groups,
    )
}

/// Bits of a tile's flags: active (an unknown pixel within 2 pixels), and
/// a foreground or background pixel within 2 pixels.
pub const FLAG_ACTIVE: u32 = 1;
pub const FLAG_FG: u32 = 2;
pub const FLAG_BG: u32 = 4;

/// `flags`: one u32 per tile of the whole image (p.n_tiles = all tiles).
pub fn flags(
    ctx: &GpuContext,
    p: &MattingParams,
    trimap: &wgpu::Buffer,
    flags: &wgpu::Buffer,
) -> Result<Dispatch> {
    build(
        ctx,
        shaders::MATTING_PYRAMID,
        "flags",
        p,
        &[("trimap", trimap), ("flags_out", flags)],
        u64::from(p.n_tiles),
    )
}

/// `down`: the next coarser level (p.width x p.height) of image, trimap and
/// initial guess from the finer one (p.other_width x p.other_height).
pub fn down(
    ctx: &GpuContext,
    p: &MattingParams,
    fine: [&wgpu::Buffer; 3],
    coarse: [&wgpu::Buffer; 3],
) -> Result<Dispatch> {
    build(
        ctx,
        shaders::MATTING_PYRAMID,
        "down",
        p,
        &[
            ("image_dense", fine[0]),
            ("trimap", fine[1]),
            ("init", fine[2]),
            ("image_down", coarse[0]),
            ("trimap_down", coarse[1]),
            ("init_down", coarse[2]),
        ],
        groups_for(u64::from(p.width) * u64::from(p.height)),
    )
}

/// `scatter`: dense alpha (clamped) from the compact solution.
pub fn scatter(
    ctx: &GpuContext,
    p: &MattingParams,
    trimap: &wgpu::Buffer,
    map: &wgpu::Buffer,
    x: &wgpu::Buffer,
    alpha: &wgpu::Buffer,
) -> Result<Dispatch> {
    build(
        ctx,
        shaders::MATTING_SETUP,
        "scatter",
        p,
        &[
            ("trimap", trimap),
            ("map", map),
            ("x", x),
            ("alpha_out", alpha),
        ],
        groups_for(u64::from(p.width) * u64::from(p.height)),
    )
}
