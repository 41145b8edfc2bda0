//! A conv's weights on the device, in each layout that a kernel the
//! device runs reads ([`WeightLayout`]).

use super::kernel::{Caps, WeightLayout};
use super::subgroup_uniform::WINDOW_BYTES;
use super::{ConvKernel, ConvSpec, pack_weights, winograd};
use crate::gpu::GpuContext;

pub struct ConvWeights {
    /// [`WeightLayout::Packed`], for every kernel but the Winograd one.
    pub packed: wgpu::Buffer,
    /// [`WeightLayout::Winograd`], where that kernel runs and takes the layer.
    pub winograd: Option<wgpu::Buffer>,
}

impl ConvWeights {
    /// Uploads `spec`'s OIHW weights. Where a kernel reads uniform
    /// windows, `packed` is usable as a uniform buffer and has a window's
    /// worth of zeros after the weights, so a window bound from any
    /// weight's offset stays inside it.
    pub fn upload(ctx: &GpuContext, label: &str, spec: &ConvSpec, oihw: &[f32]) -> Self {
        let caps = Caps::of(ctx);
        let runs: Vec<_> = ConvKernel::all()
            .map(ConvKernel::kernel)
            .filter(|k| k.supports(&caps).is_ok())
            .collect();
        let mut packed = pack_weights(spec, oihw);
        let packed = if runs.iter().any(|k| k.reads_uniform_windows()) {
            packed.resize(packed.len() + WINDOW_BYTES as usize / 4, 0.0);
            ctx.upload_uniform(label, &packed)
        } else {
            ctx.upload(label, &packed)
        };
        let transformed = runs.iter().any(|k| k.weights() == WeightLayout::Winograd);
        let winograd = (transformed && winograd::takes_shape(spec))
            .then(|| ctx.upload(label, &winograd::pack_weights(spec, oihw)));
        Self { packed, winograd }
    }

    /// Device memory held.
    pub fn bytes(&self) -> u64 {
        self.packed.size() + self.winograd.as_ref().map_or(0, wgpu::Buffer::size)
    }
}
