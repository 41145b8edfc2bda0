//! What a conv kernel is: the [`Kernel`] trait that each family file
//! implements, what it may ask of the device ([`Caps`]), why it declines
//! ([`Unsupported`]), and the half-built dispatch it finishes
//! ([`Recording`]).

use std::fmt;

use super::{ConvParams, ConvSpec, ConvWeights};
use crate::gpu::{Dispatch, DispatchBuilder, GpuContext, shaders::Shader};

/// What a kernel may need to know of an adapter: enough to decide without
/// a device, so `u2cut info --adapters` asks the same questions.
#[derive(Clone, Copy)]
pub struct Caps<'a> {
    pub info: &'a wgpu::AdapterInfo,
    pub features: wgpu::Features,
    pub limits: &'a wgpu::Limits,
    /// The cooperative matrix side, where the device was opened with them.
    pub coop_matrix: Option<u32>,
}

impl<'a> Caps<'a> {
    pub fn of(ctx: &'a GpuContext) -> Self {
        Self {
            info: &ctx.info,
            features: ctx.features,
            limits: &ctx.limits,
            coop_matrix: ctx.coop_matrix,
        }
    }

    /// Subgroups of 8 to [`LANES_VERIFIED`] lanes: the subgroup kernels
    /// broadcast weights from lanes 0-7 and number their tiles by lane
    /// within the workgroup.
    pub fn subgroups_of_8_to_16(&self) -> Result<(), Unsupported> {
        let ok = self.features.contains(wgpu::Features::SUBGROUP)
            && self.info.subgroup_min_size >= 8
            && self.info.subgroup_max_size <= LANES_VERIFIED;
        ok.then_some(()).ok_or_else(|| {
            Unsupported(format!(
                "it needs subgroups of 8 to {LANES_VERIFIED} lanes ({} has {})",
                self.info.name,
                match self.features.contains(wgpu::Features::SUBGROUP) {
                    true => format!(
                        "{} to {}",
                        self.info.subgroup_min_size, self.info.subgroup_max_size
                    ),
                    false => "none".to_owned(),
                }
            ))
        })
    }
}

/// The widest subgroups the lane-row kernels (subgroup, subgroup_any,
/// subgroup_uniform, winograd) are known to be right on. On an NVIDIA H200
/// (32 lanes) they wrote wrong rows on layers taller than two subgroups
/// (tests/it/kernels.rs, the 71-row case), while llvmpipe's 8 lanes pass:
/// until that is found they stay off wider subgroups, where the direct
/// and GEMM kernels take every layer.
pub const LANES_VERIFIED: u32 = 16;

/// Why a kernel cannot run on a device or take a layer: the message users
/// see, e.g. "it computes 3x3 convs at dilation 1 only".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported(pub String);

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which weights a kernel reads ([`ConvWeights`] holds each layout the
/// device's kernels need).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightLayout {
    /// `[cout_blocks][cin][K*K][OCB]` ([`super::pack_weights`]).
    Packed,
    /// F(2x2, 3x3) transforms ([`super::winograd::pack_weights`]).
    Winograd,
}

/// One conv kernel family member: everything that differs between
/// kernels. All of them read the same params and bind the inputs, bias,
/// output and residual at the same bindings (shared/conv_params.wgsl).
pub trait Kernel: Sync {
    /// The name in reports, the tuning cache and `info --adapters`.
    fn name(&self) -> &'static str;

    /// Whether the device runs this kernel at all.
    fn supports(&self, caps: &Caps) -> Result<(), Unsupported>;

    /// Whether it takes this layer, on a device it [`supports`](Kernel::supports).
    fn takes(&self, _caps: &Caps, _spec: &ConvSpec, _p: &ConvParams) -> Result<(), Unsupported> {
        Ok(())
    }

    fn weights(&self) -> WeightLayout {
        WeightLayout::Packed
    }

    /// Whether the packed weights must be bindable as 64 KiB uniform windows.
    fn reads_uniform_windows(&self) -> bool {
        false
    }

    /// Whether it multiplies in f16 whatever the storage: it has its own
    /// tolerance (BENCHMARKS.md). The others multiply in f32; all but the
    /// Winograd kernel also sum in the CPU reference's order.
    fn f16_products(&self) -> bool {
        false
    }

    /// The shader file (its storage precision is set by the caller).
    fn shader(&self, caps: &Caps) -> Shader;

    /// Workgroups per image and output-channel group, and the number of
    /// channel groups (the grid's z per image).
    fn grid(&self, caps: &Caps, spec: &ConvSpec, p: &ConvParams) -> (u64, u32);

    /// Sets the kernel's constants and bindings beyond the common ones.
    fn configure<'a>(&self, r: Recording<'a>) -> Recording<'a>;

    /// Builds the dispatch (one grid, unless the kernel splits its work).
    fn record(&self, r: Recording) -> crate::Result<Dispatch> {
        r.build()
    }
}

/// A conv dispatch being built: the pipeline's constants, the bindings,
/// the grid. Kernels add to it in [`Kernel::configure`].
#[derive(Clone)]
pub struct Recording<'a> {
    pub ctx: &'a GpuContext,
    pub builder: DispatchBuilder<'a>,
    pub label: String,
    pub spec: &'a ConvSpec,
    pub p: ConvParams,
    /// The inputs (`b` is `a` again where the conv has one input).
    pub a: &'a wgpu::Buffer,
    pub b: &'a wgpu::Buffer,
    pub bindings: Vec<(u32, &'a wgpu::Buffer)>,
    pub weights: &'a ConvWeights,
    pub groups: u64,
    pub z: u32,
}

impl<'a> Recording<'a> {
    pub fn constant(mut self, name: &'static str, value: u32) -> Self {
        self.builder = self.builder.constant(name, value);
        self
    }

    pub fn bind(mut self, binding: u32, buffer: &'a wgpu::Buffer) -> Self {
        self.bindings.push((binding, buffer));
        self
    }

    pub fn build(self) -> crate::Result<Dispatch> {
        self.builder
            .build(self.label, &self.p, &self.bindings, self.groups, self.z)
    }
}

/// The grid of the kernels that tile per invocation (8 pixels by up to 16
/// channels): `rows` tile rows of the output, `blocks` channel groups.
pub fn tile_grid(p: &ConvParams, rows: u32, blocks: u32) -> (u64, u32) {
    (
        crate::gpu::groups_for(u64::from(rows) * u64::from(p.tiles_x)),
        blocks,
    )
}
