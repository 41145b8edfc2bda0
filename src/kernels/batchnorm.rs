//! Batch normalization, eval mode (shaders/batchnorm.wgsl), and its fold
//! into the preceding conv's weights: the fast path.

use crate::Result;
use bytemuck::{Pod, Zeroable};

use super::{Precision, View};
use crate::gpu::{Dispatch, DispatchBuilder, GpuContext, shaders};

/// PyTorch's BatchNorm2d default.
pub const EPS: f32 = 1e-5;

/// `BatchNormParams` in shaders/batchnorm.wgsl (tests/it/layout.rs checks the layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct BatchNormParams {
    pub src: View,
    pub dst: View,
    pub eps: f32,
    pub relu: u32,
    pub _pad: [u32; 2],
}

/// Per-channel statistics and affine parameters of one BatchNorm2d.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNorm {
    pub gamma: Vec<f32>,
    pub beta: Vec<f32>,
    pub mean: Vec<f32>,
    pub var: Vec<f32>,
}

impl BatchNorm {
    /// The shader's `stats` buffer: gamma, beta, mean, var, one after another.
    pub fn packed(&self) -> Vec<f32> {
        [&self.gamma, &self.beta, &self.mean, &self.var]
            .into_iter()
            .flatten()
            .copied()
            .collect()
    }

    /// Folds this BN into the conv before it: w' = w * s, b' = (b - mean) * s
    /// + beta with s = gamma / sqrt(var + eps), computed in f64.
    pub fn fold_into(&self, oihw: &mut [f32], bias: &mut [f32]) {
        let cout = bias.len();
        let per_out = oihw.len() / cout;
        for co in 0..cout {
            let s = f64::from(self.gamma[co]) / (f64::from(self.var[co]) + f64::from(EPS)).sqrt();
            for w in &mut oihw[co * per_out..(co + 1) * per_out] {
                *w = (f64::from(*w) * s) as f32;
            }
            bias[co] = ((f64::from(bias[co]) - f64::from(self.mean[co])) * s
                + f64::from(self.beta[co])) as f32;
        }
    }
}

pub fn dispatch(
    ctx: &GpuContext,
    precision: Precision,
    p: &BatchNormParams,
    batch: u32,
    src: &wgpu::Buffer,
    (stats, dst): (&wgpu::Buffer, &wgpu::Buffer),
) -> Result<Dispatch> {
    let shader = shaders::BATCHNORM.storing(precision);
    let mut d = DispatchBuilder::new(ctx, shader, "main").build(
        "batchnorm".to_owned(),
        p,
        &[(1, src), (2, stats), (3, dst)],
        crate::gpu::groups_for(p.src.len(1)),
        batch,
    )?;
    d.bytes = precision.bytes(p.src.len(batch) * 2);
    Ok(d)
}

/// CPU reference, mirroring batchnorm.wgsl's `main`.
pub fn cpu(p: &BatchNormParams, batch: u32, bn: &BatchNorm, src: &[f32], dst: &mut [f32]) {
    for n in 0..batch {
        for c in 0..p.src.channels {
            let cu = c as usize;
            for pix in 0..p.src.plane {
                let x = src[p.src.index(n, c, pix)];
                let mut v =
                    (x - bn.mean[cu]) / (bn.var[cu] + p.eps).sqrt() * bn.gamma[cu] + bn.beta[cu];
                if p.relu != 0 {
                    v = v.max(0.0);
                }
                dst[p.dst.index(n, c, pix)] = v;
            }
        }
    }
}
