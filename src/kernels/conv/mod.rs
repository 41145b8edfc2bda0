//! 2D convolution: K x K (K = 1 or 3), stride 1, padding
//! `dilation * (K - 1) / 2`, bias, optional ReLU, input = channel
//! concatenation of views `a` and `b`, and optionally a residual tensor
//! added after the ReLU (U²-Net's RSU output, fused into its last conv).
//! `a` may be smaller than the output: it is then read through U²-Net's
//! bilinear upsample (upsample-on-read, see [`ConvParams::with_upsampled_a`]).
//!
//! Several kernels compute it, one file each ([`direct`], [`subgroup`],
//! [`subgroup_uniform`], [`winograd`], [`gemm`], [`coop`]), each a
//! [`Kernel`] listed in the [`registry`]; which one runs a layer is the
//! tuner's choice ([`ConvKernel::untuned`] without one). All read the same
//! params; all but the Winograd and coop kernels give the same sums in
//! the same order as the CPU reference ([`cpu`]).

pub mod coop;
mod cpu;
pub mod direct;
pub mod gemm;
pub mod kernel;
pub mod registry;
pub mod subgroup;
pub mod subgroup_uniform;
mod weights;
pub mod winograd;

use bytemuck::{Pod, Zeroable};

pub use cpu::cpu;
pub use kernel::{Caps, Kernel, Unsupported};
pub use registry::ConvKernel;
pub use weights::ConvWeights;

use super::{Bound, Precision, View, f32_bytes};
use crate::error::{bail, ensure};
use crate::gpu::{Dispatch, DispatchBuilder, GpuContext};
use kernel::Recording;

/// Output pixels per invocation (`PX` in shared/conv_direct.wgsl).
pub const PX: u32 = 8;

/// Output channels per invocation; weights are packed in blocks of this many.
pub const OCB: u32 = 16;

/// `ConvParams` in shaders/shared/conv_params.wgsl (tests/it/layout.rs checks the layout).
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
    /// The layer's dilation, which the kernels read when the `DIL`
    /// constant is 0 (the `subgroup_any` kernel).
    pub dilation: u32,
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
    pub fn upsample_mode(&self) -> u32 {
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
    pub fn vector_rows(&self) -> bool {
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
            dilation: self.dilation,
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
) -> crate::Result<Dispatch> {
    let ConvBuffers {
        a,
        b,
        residual,
        weights,
        bias,
        dst,
    } = buffers;
    assert_eq!(
        residual.is_some(),
        p.residual.channels > 0,
        "conv: a residual buffer goes with a residual view"
    );
    ensure!(
        spec.k == 1 || spec.k == 3,
        Unsupported,
        "conv kernel size {} (only 1 and 3 are implemented)",
        spec.k
    );
    let name = format!(
        "conv{k}x{k}_d{d}{up}",
        k = spec.k,
        d = spec.dilation,
        up = if p.upsamples_a() { "_up" } else { "" }
    );
    let caps = Caps::of(ctx);
    if let Err(why) = kernel.supports(&caps) {
        bail!(
            Unsupported,
            "{name}: {} cannot run the {kernel} kernel ({why})",
            ctx.info.name
        );
    }
    if let Err(why) = kernel.kernel().takes(&caps, spec, p) {
        bail!(
            Unsupported,
            "{name}: the {kernel} kernel cannot take this layer: {why}"
        );
    }
    let label = match kernel == ConvKernel::default() {
        true => name,
        false => format!("{name}_{kernel}"),
    };
    let k = kernel.kernel();
    let (groups, channel_groups) = k.grid(&caps, spec, p);
    let z = batch
        .checked_mul(channel_groups)
        .filter(|&z| z <= ctx.limits.max_compute_workgroups_per_dimension);
    let Some(z) = z else {
        bail!(
            Limit,
            "{label}: {batch} images x {channel_groups} channel blocks exceed the adapter's workgroup limit; use a smaller batch"
        );
    };
    let b = b.unwrap_or(a);
    let recording = Recording {
        ctx,
        builder: DispatchBuilder::new(ctx, k.shader(&caps).storing(precision), "main")
            .constant("K", spec.k)
            .constant("DIL", spec.dilation)
            .constant("UP_A", p.upsample_mode()),
        label,
        spec,
        p: *p,
        a,
        b,
        bindings: vec![
            (1, a),
            (2, b),
            (4, bias),
            (5, dst.buffer),
            (6, residual.unwrap_or(a)),
        ],
        weights,
        groups,
        z,
    };
    let mut d = k.record(k.configure(recording))?;
    let pixels = u64::from(batch) * u64::from(p.height * p.width);
    d.flops = spec.flops(p.height, p.width) * u64::from(batch);
    let a_pixels = u64::from(batch) * u64::from(p.a_height * p.a_width);
    let channels = p.b.channels + spec.cout + p.residual.channels;
    let activations = a_pixels * u64::from(p.a.channels) + pixels * u64::from(channels);
    d.bytes = precision.bytes(activations) + f32_bytes(spec.weight_len() as u64);
    Ok(d)
}
