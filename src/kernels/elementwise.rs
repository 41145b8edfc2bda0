//! Elementwise ops over equally shaped views (shaders/elementwise.wgsl).

use anyhow::Result;
use bytemuck::{Pod, Zeroable};

use super::{View, f32_bytes};
use crate::gpu::{Dispatch, DispatchBuilder, GpuContext, shaders};

/// Keep in sync with `ElementwiseParams` in shaders/elementwise.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct ElementwiseParams {
    pub a: View,
    /// Unused by unary ops.
    pub b: View,
    pub dst: View,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elementwise {
    /// dst = a + b (the RSU residual).
    Add,
    /// dst = 1 / (1 + exp(-a)).
    Sigmoid,
}

impl Elementwise {
    fn entry(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Sigmoid => "sigmoid",
        }
    }

    fn inputs(self) -> u64 {
        match self {
            Self::Add => 2,
            Self::Sigmoid => 1,
        }
    }

    /// Records the op over `batch` images; `b` only for binary ops.
    pub fn dispatch(
        self,
        ctx: &GpuContext,
        p: &ElementwiseParams,
        batch: u32,
        a: &wgpu::Buffer,
        b: Option<&wgpu::Buffer>,
        dst: &wgpu::Buffer,
    ) -> Result<Dispatch> {
        let mut buffers = vec![(1, a), (3, dst)];
        if self == Self::Add {
            buffers.push((2, b.expect("add needs two inputs")));
        }
        let mut d = DispatchBuilder::new(ctx, shaders::ELEMENTWISE, self.entry()).build(
            self.entry().to_owned(),
            p,
            &buffers,
            crate::gpu::groups_for(p.dst.len(1)),
            batch,
        )?;
        d.bytes = f32_bytes(p.dst.len(batch) * (self.inputs() + 1));
        d.flops = p.dst.len(batch);
        Ok(d)
    }

    /// CPU reference, mirroring the shader's entry points.
    pub fn cpu(self, p: &ElementwiseParams, batch: u32, a: &[f32], b: &[f32], dst: &mut [f32]) {
        for n in 0..batch {
            for c in 0..p.dst.channels {
                for pix in 0..p.dst.plane {
                    let x = a[p.a.index(n, c, pix)];
                    dst[p.dst.index(n, c, pix)] = match self {
                        Self::Add => x + b[p.b.index(n, c, pix)],
                        Self::Sigmoid => 1.0 / (1.0 + (-x).exp()),
                    };
                }
            }
        }
    }
}
