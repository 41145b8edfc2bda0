//! 2D convolution (shaders/conv.wgsl, conv_subgroup.wgsl,
//! conv_subgroup_uniform.wgsl, conv_winograd.wgsl, conv_gemm.wgsl,
//! conv_coop.wgsl): K x K (K = 1 or 3), stride 1, padding
//! `dilation * (K - 1) / 2`, bias, optional ReLU, input = channel
//! concatenation of views `a` and `b`, and optionally a residual tensor
//! added after the ReLU (U²-Net's RSU output, fused into its last conv).
//! `a` may be smaller than the output: it is then read through U²-Net's
//! bilinear upsample (upsample-on-read, see [`ConvParams::with_upsampled_a`]).

use anyhow::{Context as _, Result, ensure};
use bytemuck::{Pod, Zeroable};
use rayon::prelude::*;

use super::{Bound, Precision, SpatialParams, View, f32_bytes, winograd};
use crate::gpu::{
    COOP_MATRIX_ENV, Dispatch, DispatchBuilder, GpuContext, WORKGROUP, groups_for, shaders,
};

/// Output pixels per invocation (`PX` in shared/conv_direct.wgsl).
pub const PX: u32 = 8;
/// Pixels and output channels of a conv_coop.wgsl workgroup tile.
const COOP_TILE: (u32, u32) = (64, 32);

/// Which kernel computes a conv. All of them read the same params, and
/// all but the Winograd kernel the same packed weights; all but the
/// Winograd and coop kernels give the same sums in the same order as the
/// CPU reference.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ConvKernel {
    /// conv.wgsl: 8 pixels x 16 channels per invocation from global memory.
    #[default]
    Direct,
    /// conv_subgroup.wgsl: the direct kernel with each weight loaded once
    /// per subgroup and broadcast (subgroups of 8 lanes or more).
    Subgroup,
    /// conv_subgroup_uniform.wgsl: the subgroup kernel reading its weights
    /// from 64 KiB uniform windows, one 16-channel output block per grid;
    /// only where each input view's weights fit a window ([`ConvKernel::fits`]).
    #[serde(rename = "subgroup_uniform")]
    SubgroupUniform,
    /// conv_winograd.wgsl: Winograd F(2x2, 3x3), 16 multiplies per input
    /// channel and 2x2 outputs instead of 36, with the subgroup kernels'
    /// weight broadcasts and shared input rows; 3x3 convs at dilation 1
    /// only, on weights transformed at load ([`ConvWeights::winograd`]).
    Winograd,
    /// conv_gemm.wgsl: implicit GEMM over workgroup-memory tiles of 64
    /// pixels x 32 channels (4 x 8 per invocation). Caches written before
    /// there were several tiles call it "gemm".
    #[serde(rename = "gemm64x32", alias = "gemm")]
    Gemm64x32,
    /// The implicit GEMM with 128 x 32 tiles (8 x 8 per invocation).
    #[serde(rename = "gemm128x32")]
    Gemm128x32,
    /// The implicit GEMM with 64 x 64 tiles (4 x 16 per invocation).
    #[serde(rename = "gemm64x64")]
    Gemm64x64,
    /// The implicit GEMM with 128 x 64 tiles (8 x 16 per invocation).
    #[serde(rename = "gemm128x64")]
    Gemm128x64,
    /// conv_coop.wgsl: the implicit GEMM on cooperative matrices (tensor
    /// cores), f16 x f16 products summed in f32. Only on devices opened
    /// with `U2CUT_COOP_MATRIX=1` (GpuContext::coop_matrix).
    Coop,
}

impl ConvKernel {
    pub const ALL: [ConvKernel; 9] = [
        ConvKernel::Direct,
        ConvKernel::Subgroup,
        ConvKernel::SubgroupUniform,
        ConvKernel::Winograd,
        ConvKernel::Gemm64x32,
        ConvKernel::Gemm128x32,
        ConvKernel::Gemm64x64,
        ConvKernel::Gemm128x64,
        ConvKernel::Coop,
    ];

    /// The name in reports and the tuning cache.
    pub fn name(self) -> &'static str {
        match self {
            ConvKernel::Direct => "direct",
            ConvKernel::Subgroup => "subgroup",
            ConvKernel::SubgroupUniform => "subgroup_uniform",
            ConvKernel::Winograd => "winograd",
            ConvKernel::Gemm64x32 => "gemm64x32",
            ConvKernel::Gemm128x32 => "gemm128x32",
            ConvKernel::Gemm64x64 => "gemm64x64",
            ConvKernel::Gemm128x64 => "gemm128x64",
            ConvKernel::Coop => "coop",
        }
    }

    /// The pixels and output channels of a workgroup's tile, for the
    /// implicit GEMMs (the direct kernels tile per invocation instead).
    fn workgroup_tile(self) -> Option<(u32, u32)> {
        match (self, self.gemm_blocking()) {
            (_, Some((tm, tn))) => Some((16 * tm, 16 * tn)),
            (ConvKernel::Coop, None) => Some(COOP_TILE),
            _ => None,
        }
    }

    /// An implicit GEMM's pixels and channel quads per invocation (`TM`,
    /// `TN` in conv_gemm.wgsl): its workgroup tile is 16 TM pixels x
    /// 16 TN channels.
    fn gemm_blocking(self) -> Option<(u32, u32)> {
        match self {
            ConvKernel::Direct
            | ConvKernel::Subgroup
            | ConvKernel::SubgroupUniform
            | ConvKernel::Winograd
            | ConvKernel::Coop => None,
            ConvKernel::Gemm64x32 => Some((4, 2)),
            ConvKernel::Gemm128x32 => Some((8, 2)),
            ConvKernel::Gemm64x64 => Some((4, 4)),
            ConvKernel::Gemm128x64 => Some((8, 4)),
        }
    }

    /// Whether this device can run the kernel (on some layers, for the
    /// uniform-window kernel: see [`ConvKernel::fits`]).
    pub fn runs_on(self, ctx: &GpuContext) -> bool {
        match self {
            ConvKernel::Coop => ctx.coop_matrix.is_some(),
            ConvKernel::SubgroupUniform => {
                self.runs_with(ctx.features, &ctx.info)
                    && ctx.limits.max_uniform_buffer_binding_size >= WINDOW_BYTES
            }
            _ => self.runs_with(ctx.features, &ctx.info),
        }
    }

    /// Whether the kernel can compute the conv `p` of `spec` on this
    /// device: it runs there, for the uniform-window kernel each output
    /// block's weights for each input view fit one window, and the
    /// Winograd kernel takes 3x3 convs at dilation 1.
    pub fn fits(self, ctx: &GpuContext, spec: &ConvSpec, p: &ConvParams) -> bool {
        self.runs_on(ctx)
            && match self {
                ConvKernel::SubgroupUniform => weight_windows(ctx, spec, p).is_some(),
                ConvKernel::Winograd => winograd::takes(spec),
                _ => true,
            }
    }

    /// Whether the kernel multiplies in f16 whatever the storage (the coop
    /// kernel): it has its own tolerance (BENCHMARKS.md). The others
    /// multiply in f32; all but the Winograd one also sum in the CPU
    /// reference's order.
    pub fn f16_products(self) -> bool {
        self == ConvKernel::Coop
    }

    /// Whether an adapter with these features can run the kernel: the
    /// subgroup variant broadcasts from lanes 0-7 and numbers its tiles
    /// by lane within the workgroup, so its subgroups must have 8 to
    /// [`WORKGROUP`] lanes. The coop kernel needs a device opened for it
    /// ([`ConvKernel::runs_on`]), so never here.
    pub fn runs_with(self, features: wgpu::Features, info: &wgpu::AdapterInfo) -> bool {
        match self {
            ConvKernel::Subgroup | ConvKernel::SubgroupUniform | ConvKernel::Winograd => {
                features.contains(wgpu::Features::SUBGROUP)
                    && info.subgroup_min_size >= 8
                    && info.subgroup_max_size <= WORKGROUP
            }
            ConvKernel::Coop => false,
            _ => true,
        }
    }

    /// The kernel for convs that were never tuned: on CPU adapters
    /// (llvmpipe) the subgroup kernel (1.7-2x faster than the direct one
    /// there: BENCHMARKS.md), in uniform windows where those pay (see
    /// [`MIN_SPLIT_GROUPS`]); elsewhere the direct kernel. `u2cut bench
    /// --tune` measures them all.
    pub fn untuned(ctx: &GpuContext, spec: &ConvSpec, p: &ConvParams) -> Self {
        let cpu = ctx.info.device_type == wgpu::DeviceType::Cpu;
        let groups = groups_for(u64::from(p.height) * u64::from(p.tiles_x));
        let windows_pay = spec.k == 3 && (p.cout_blocks == 1 || groups >= MIN_SPLIT_GROUPS);
        [ConvKernel::SubgroupUniform, ConvKernel::Subgroup]
            .into_iter()
            .filter(|&k| windows_pay || k != ConvKernel::SubgroupUniform)
            .find(|k| cpu && k.fits(ctx, spec, p))
            .unwrap_or(ConvKernel::Direct)
    }
}

/// The uniform-window kernel runs one grid per 16-channel output block.
/// Against the subgroup kernel on llvmpipe (`u2cut bench --tune`, u2netp
/// at 160x160) it was 4-15% faster on single-block 3x3 convs, ~5% on
/// 64-channel ones at 160x160 (50 workgroups per grid), level at 80x80
/// (13), and 1.1-2.2x slower at 40x40 and below, where each grid is too
/// short to keep the threads busy. The untuned default splits grids of at
/// least this many workgroups. (The 1x1 fuse conv ran 2x slower, cause
/// unknown: the default leaves 1x1 convs to the subgroup kernel.)
const MIN_SPLIT_GROUPS: u64 = 16;

/// Bytes of one uniform weight window of conv_subgroup_uniform.wgsl
/// (`WINDOW` vec4s): WebGPU's guaranteed uniform binding size.
const WINDOW_BYTES: u64 = 64 << 10;

/// The uniform windows of conv_subgroup_uniform.wgsl, per output block:
/// for a's and for b's channels, the byte offset to bind a window from
/// (aligned as the adapter requires, at or below the view's first weight)
/// and the vec4 of that window where the view's weights begin. None if
/// some view's weights overrun their window.
fn weight_windows(
    ctx: &GpuContext,
    spec: &ConvSpec,
    p: &ConvParams,
) -> Option<Vec<[(u64, u32); 2]>> {
    let align = u64::from(ctx.limits.min_uniform_buffer_offset_alignment);
    let channel_bytes = u64::from(spec.k * spec.k * OCB) * 4;
    let window = |block: u32, first: u32, channels: u32| {
        let start = u64::from(block * spec.cin + first) * channel_bytes;
        let offset = start / align * align;
        let end = start + u64::from(channels) * channel_bytes;
        (end - offset <= WINDOW_BYTES).then_some((offset, ((start - offset) / 16) as u32))
    };
    (0..p.cout_blocks)
        .map(|block| {
            let a = window(block, 0, p.a.channels)?;
            // An empty b reads nothing; its binding repeats a's window.
            let b = match p.b.channels {
                0 => a,
                channels => window(block, p.a.channels, channels)?,
            };
            Some([a, b])
        })
        .collect()
}

/// A conv's weights on the device: packed for every kernel but the
/// Winograd one, and transformed for that one where it can run.
pub struct ConvWeights {
    pub packed: wgpu::Buffer,
    pub winograd: Option<wgpu::Buffer>,
}

impl ConvWeights {
    /// Uploads `spec`'s OIHW weights. Where the uniform-window kernel
    /// runs, `packed` is usable as a uniform buffer and has a window's
    /// worth of zeros after the weights, so a window bound from any
    /// weight's offset stays inside it.
    pub fn upload(ctx: &GpuContext, label: &str, spec: &ConvSpec, oihw: &[f32]) -> Self {
        let mut packed = pack_weights(spec, oihw);
        let packed = if ConvKernel::SubgroupUniform.runs_on(ctx) {
            packed.resize(packed.len() + WINDOW_BYTES as usize / 4, 0.0);
            ctx.upload_uniform(label, &packed)
        } else {
            ctx.upload(label, &packed)
        };
        let winograd = (ConvKernel::Winograd.runs_on(ctx) && winograd::takes(spec))
            .then(|| ctx.upload(label, &winograd::pack_weights(spec, oihw)));
        Self { packed, winograd }
    }

    /// Device memory held.
    pub fn bytes(&self) -> u64 {
        self.packed.size() + self.winograd.as_ref().map_or(0, wgpu::Buffer::size)
    }
}

/// Output channels per invocation; weights are packed in blocks of this many.
pub const OCB: u32 = 16;

/// Keep in sync with `ConvParams` in shaders/shared/conv_params.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct ConvParams {
    pub a: View,
    /// Second input, channels `a.channels..` of the concatenation; `channels = 0` if none.
    pub b: View,
    pub dst: View,
    /// Added to the output after the ReLU; `channels = 0` if none.
    pub residual: View,
    pub height: u32,
    pub width: u32,
    pub tiles_x: u32,
    pub cout_blocks: u32,
    pub relu: u32,
    /// The size of `a`: the output's, or smaller when upsampled on read.
    pub a_height: u32,
    pub a_width: u32,
    /// For the direct kernels: the first output channel block of the grid,
    /// and the vec4 where its weights for a's and b's channels begin.
    pub first_block: u32,
    pub w_a: u32,
    pub w_b: u32,
    pub _pad: u32,
}

impl ConvParams {
    /// Adds `residual` (same shape as the output) after the ReLU.
    pub fn with_residual(self, residual: View) -> Self {
        assert_eq!(
            residual.channels, self.dst.channels,
            "conv residual channels"
        );
        Self { residual, ..self }
    }

    /// Reads `a` (of `height x width`) through the bilinear resize to the
    /// output's size, as upsample.wgsl computes it.
    pub fn with_upsampled_a(self, (a_height, a_width): (u32, u32)) -> Self {
        Self {
            a_height,
            a_width,
            ..self
        }
    }

    /// Whether `a` is upsampled on read.
    pub fn upsamples_a(&self) -> bool {
        (self.a_height, self.a_width) != (self.height, self.width)
    }

    /// The shaders' `UP_A`: 0 no upsample on read, 2 exactly 2x in both
    /// directions (the direct kernels read a's rows whole), 1 any other.
    fn upsample_mode(&self) -> u32 {
        if !self.upsamples_a() {
            0
        } else if (2 * self.a_height, 2 * self.a_width) == (self.height, self.width) {
            2
        } else {
            1
        }
    }

    /// The direct kernels' `VEC`: every row they load starts at a multiple
    /// of 4 elements, the output's and, upsampled exactly 2x, a's too.
    fn vector_rows(&self) -> bool {
        self.width.is_multiple_of(4)
            && (self.upsample_mode() != 2 || self.a_width.is_multiple_of(4))
    }
}

/// The GPU buffers of one conv: inputs, packed weights and bias, output.
#[derive(Clone, Copy)]
pub struct ConvBuffers<'a> {
    pub a: &'a wgpu::Buffer,
    pub b: Option<&'a wgpu::Buffer>,
    pub residual: Option<&'a wgpu::Buffer>,
    pub weights: &'a ConvWeights,
    pub bias: &'a wgpu::Buffer,
    pub dst: Bound<'a>,
}

/// The CPU reference's inputs: OIHW weights; `b` and `residual` are empty
/// when the params have none.
pub struct ConvData<'a> {
    pub a: &'a [f32],
    pub b: &'a [f32],
    pub residual: &'a [f32],
    pub weight: &'a [f32],
    pub bias: &'a [f32],
}

/// The static shape of a conv layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvSpec {
    pub cin: u32,
    pub cout: u32,
    pub k: u32,
    pub dilation: u32,
    pub relu: bool,
}

impl ConvSpec {
    pub fn padding(&self) -> u32 {
        self.dilation * (self.k - 1) / 2
    }

    /// Weight elements in PyTorch's OIHW layout.
    pub fn weight_len(&self) -> usize {
        (self.cout * self.cin * self.k * self.k) as usize
    }

    pub fn params(
        &self,
        a: View,
        b: Option<View>,
        dst: View,
        height: u32,
        width: u32,
    ) -> ConvParams {
        let b = b.unwrap_or(View { channels: 0, ..a });
        assert_eq!(a.channels + b.channels, self.cin, "conv input channels");
        assert_eq!(dst.channels, self.cout, "conv output channels");
        ConvParams {
            a,
            b,
            dst,
            residual: View { channels: 0, ..dst },
            height,
            width,
            tiles_x: width.div_ceil(PX),
            cout_blocks: self.cout.div_ceil(OCB),
            relu: u32::from(self.relu),
            a_height: height,
            a_width: width,
            first_block: 0,
            w_a: 0,
            w_b: a.channels * self.k * self.k * OCB / 4,
            _pad: 0,
        }
    }

    /// Multiply-adds times 2, per image of `height x width`.
    pub fn flops(&self, height: u32, width: u32) -> u64 {
        2 * u64::from(height * width) * self.weight_len() as u64
    }
}

/// Repacks OIHW weights to the shader's `[cout_blocks][cin][K*K][OCB]`
/// layout, zero-padding the last block past `cout`.
pub fn pack_weights(spec: &ConvSpec, oihw: &[f32]) -> Vec<f32> {
    assert_eq!(oihw.len(), spec.weight_len());
    let taps = (spec.k * spec.k) as usize;
    let (cin, cout, ocb) = (spec.cin as usize, spec.cout as usize, OCB as usize);
    let blocks = cout.div_ceil(ocb);
    let mut packed = vec![0.0; blocks * cin * taps * ocb];
    for co in 0..cout {
        let (block, lane) = (co / ocb, co % ocb);
        for ci in 0..cin {
            for t in 0..taps {
                packed[((block * cin + ci) * taps + t) * ocb + lane] =
                    oihw[(co * cin + ci) * taps + t];
            }
        }
    }
    packed
}

/// Bias zero-padded to whole blocks of [`OCB`].
pub fn pack_bias(spec: &ConvSpec, bias: &[f32]) -> Vec<f32> {
    assert_eq!(bias.len(), spec.cout as usize);
    let mut packed = bias.to_vec();
    packed.resize((spec.cout.div_ceil(OCB) * OCB) as usize, 0.0);
    packed
}

/// Records the conv over `batch` images with `kernel`, activations stored
/// in `precision`. `weights` and `bias` are packed (f32).
pub fn dispatch(
    ctx: &GpuContext,
    (kernel, precision): (ConvKernel, Precision),
    spec: &ConvSpec,
    p: &ConvParams,
    batch: u32,
    buffers: ConvBuffers,
) -> Result<Dispatch> {
    let ConvBuffers {
        a,
        b,
        residual,
        weights,
        bias,
        dst,
    } = buffers;
    ensure!(
        residual.is_some() == (p.residual.channels > 0),
        "conv: a residual buffer goes with a residual view"
    );
    ensure!(
        spec.k == 1 || spec.k == 3,
        "conv kernel size {} (only 1 and 3 are implemented)",
        spec.k
    );
    let name = format!(
        "conv{k}x{k}_d{d}{up}",
        k = spec.k,
        d = spec.dilation,
        up = if p.upsamples_a() { "_up" } else { "" }
    );
    ensure!(
        kernel.runs_on(ctx),
        "{name}: {} cannot run the {} kernel ({})",
        ctx.info.name,
        kernel.name(),
        match kernel {
            ConvKernel::Coop =>
                format!("it needs {COOP_MATRIX_ENV}=1 and square f16 cooperative matrices into f32"),
            ConvKernel::SubgroupUniform =>
                format!("it needs subgroups of 8 to {WORKGROUP} lanes and 64 KiB uniform bindings"),
            _ => format!("it needs subgroups of 8 to {WORKGROUP} lanes"),
        }
    );
    ensure!(
        kernel.fits(ctx, spec, p),
        "{name}: the {} kernel cannot take this layer: {}",
        kernel.name(),
        match kernel {
            ConvKernel::Winograd => "it computes 3x3 convs at dilation 1 only".to_string(),
            _ => format!(
                "its weights for {} + {} input channels overrun a 64 KiB uniform window",
                p.a.channels, p.b.channels
            ),
        }
    );
    let weights = match kernel {
        ConvKernel::Winograd => weights.winograd.as_ref().context(
            "conv: the Winograd kernel needs the transformed weights (ConvWeights::upload)",
        )?,
        _ => &weights.packed,
    };
    let shader = match kernel {
        ConvKernel::Direct => shaders::CONV,
        ConvKernel::Subgroup => shaders::CONV_SUBGROUP,
        ConvKernel::SubgroupUniform => shaders::CONV_SUBGROUP_UNIFORM,
        ConvKernel::Winograd => shaders::CONV_WINOGRAD,
        ConvKernel::Coop => {
            shaders::CONV_COOP.with_matrix(ctx.coop_matrix.expect("runs_on checked it"))
        }
        _ => shaders::CONV_GEMM,
    };
    let label = match kernel {
        ConvKernel::Direct => name,
        _ => format!("{name}_{}", kernel.name()),
    };
    // The uniform-window kernel binds one output block's weights at a
    // time, so its grid covers one block and runs once per block.
    let windows = match kernel {
        ConvKernel::SubgroupUniform => weight_windows(ctx, spec, p).expect("fits checked it"),
        _ => Vec::new(),
    };
    let (groups, channel_groups) = match kernel.workgroup_tile() {
        Some((pixels, channels)) => (
            u64::from(p.height * p.width).div_ceil(u64::from(pixels)),
            spec.cout.div_ceil(channels),
        ),
        None => {
            // The subgroup kernels stack each subgroup's lanes down a tile
            // column (shared/lane_rows.wgsl), so a column's rows round up
            // to whole subgroups: at most the largest subgroup's lanes
            // less one more.
            let rows = match kernel {
                ConvKernel::Winograd => p.height.div_ceil(2),
                _ => p.height,
            };
            let rows = match kernel {
                ConvKernel::Direct => rows,
                _ => rows + ctx.info.subgroup_max_size - 1,
            };
            // The Winograd kernel takes half a block per invocation, the
            // uniform-window one a block per grid.
            let blocks = match kernel {
                ConvKernel::Winograd => 2 * p.cout_blocks,
                ConvKernel::SubgroupUniform => 1,
                _ => p.cout_blocks,
            };
            (groups_for(u64::from(rows) * u64::from(p.tiles_x)), blocks)
        }
    };
    let z = batch
        .checked_mul(channel_groups)
        .filter(|&z| z <= ctx.limits.max_compute_workgroups_per_dimension);
    let Some(z) = z else {
        anyhow::bail!(
            "{label}: {batch} images x {channel_groups} channel blocks exceed the adapter's workgroup limit; use a smaller batch"
        );
    };
    let mut bindings = vec![
        (1, a),
        (2, b.unwrap_or(a)),
        (4, bias),
        (5, dst.buffer),
        (6, residual.unwrap_or(a)),
    ];
    if windows.is_empty() {
        bindings.push((3, weights));
    }
    let mut builder = DispatchBuilder::new(ctx, shader.storing(precision), "main")
        .constant("K", spec.k)
        .constant("DIL", spec.dilation)
        .constant("UP_A", p.upsample_mode());
    if let Some((tm, tn)) = kernel.gemm_blocking() {
        builder = builder.constant("TM", tm).constant("TN", tn);
    } else if kernel != ConvKernel::Coop {
        // The direct kernels read a and b as vec4 arrays too, when rows
        // start at multiples of 4 elements.
        bindings.extend([(7, a), (8, b.unwrap_or(a))]);
        builder = builder.constant("VEC", u32::from(p.vector_rows()));
        if kernel != ConvKernel::Winograd {
            builder = builder.constant("QUADS", spec.cout.min(OCB).div_ceil(4));
        }
    }
    let mut d = if windows.is_empty() {
        builder.build(label, p, &bindings, groups, z)?
    } else {
        let mut parts = windows
            .iter()
            .zip(0..)
            .map(|(&[(at_a, w_a), (at_b, w_b)], block)| {
                let p = ConvParams {
                    cout_blocks: 1,
                    first_block: block,
                    w_a,
                    w_b,
                    ..*p
                };
                builder
                    .clone()
                    .range(9, weights, at_a, WINDOW_BYTES)
                    .range(10, weights, at_b, WINDOW_BYTES)
                    .build(label.clone(), &p, &bindings, groups, z)
            });
        let first = parts.next().expect("a conv has an output block")?;
        parts.try_fold(first, |d, part| Ok::<_, anyhow::Error>(d.then(part?)))?
    };
    let pixels = u64::from(batch) * u64::from(p.height * p.width);
    d.flops = spec.flops(p.height, p.width) * u64::from(batch);
    let a_pixels = u64::from(batch) * u64::from(p.a_height * p.a_width);
    let channels = p.b.channels + spec.cout + p.residual.channels;
    let activations = a_pixels * u64::from(p.a.channels) + pixels * u64::from(channels);
    d.bytes = precision.bytes(activations) + f32_bytes(spec.weight_len() as u64);
    Ok(d)
}

/// CPU reference. Mirrors the conv kernels' arithmetic: for each output, a sum
/// over input channels, then rows, then columns of the window (zero outside
/// the image), then + bias, then ReLU, then + residual. The shader blocks
/// 8 pixels x 16 channels per invocation; here each output plane is one
/// task, filled tap by tap in the same summation order.
pub fn cpu(spec: &ConvSpec, p: &ConvParams, batch: u32, data: &ConvData, dst: &mut [f32]) {
    if p.upsamples_a() {
        // The upsample first, as the unfused graph computes it.
        let plane = p.height * p.width;
        let up = View::whole(p.a.channels, plane);
        let resize = SpatialParams::new(p.a, up, (p.a_height, p.a_width), (p.height, p.width));
        let mut a = vec![0.0; up.len(batch) as usize];
        super::upsample::cpu(&resize, batch, data.a, &mut a);
        let p = ConvParams {
            a: up,
            a_height: p.height,
            a_width: p.width,
            ..*p
        };
        return cpu(spec, &p, batch, &ConvData { a: &a, ..*data }, dst);
    }
    let ConvData {
        a,
        b,
        residual,
        weight: oihw,
        bias,
    } = *data;
    let (h, w) = (p.height as usize, p.width as usize);
    let (k, dil, pad) = (spec.k as usize, spec.dilation as i64, spec.padding() as i64);
    let planes: Vec<(u32, u32, Vec<f32>)> = (0..batch)
        .flat_map(|n| (0..spec.cout).map(move |co| (n, co)))
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|(n, co)| {
            let mut acc = vec![0.0f32; h * w];
            for ci in 0..spec.cin {
                let (src, base) = if ci < p.a.channels {
                    (a, p.a.index(n, ci, 0))
                } else {
                    (b, p.b.index(n, ci - p.a.channels, 0))
                };
                for ky in 0..k {
                    for kx in 0..k {
                        let wv = oihw[((co * spec.cin + ci) as usize * k + ky) * k + kx];
                        let dy = ky as i64 * dil - pad;
                        let dx = kx as i64 * dil - pad;
                        for y in 0..h {
                            let iy = y as i64 + dy;
                            if iy < 0 || iy >= h as i64 {
                                continue;
                            }
                            for x in 0..w {
                                let ix = x as i64 + dx;
                                if ix >= 0 && ix < w as i64 {
                                    acc[y * w + x] = wv.mul_add(
                                        src[base + iy as usize * w + ix as usize],
                                        acc[y * w + x],
                                    );
                                }
                            }
                        }
                    }
                }
            }
            let res = (p.residual.channels > 0).then(|| p.residual.index(n, co, 0));
            for (i, v) in acc.iter_mut().enumerate() {
                *v += bias[co as usize];
                if spec.relu {
                    *v = v.max(0.0);
                }
                if let Some(r) = res {
                    *v += residual[r + i];
                }
            }
            (n, co, acc)
        })
        .collect();
    for (n, co, plane) in planes {
        let start = p.dst.index(n, co, 0);
        dst[start..start + h * w].copy_from_slice(&plane);
    }
}
