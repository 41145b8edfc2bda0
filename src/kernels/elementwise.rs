//! Elementwise ops over equally shaped views (shaders/elementwise.wgsl).

use crate::Result;
use bytemuck::{Pod, Zeroable};

use super::{Precision, View};
use crate::gpu::{Dispatch, DispatchBuilder, GpuContext, shaders};

/// `ElementwiseParams` in shaders/elementwise.wgsl (tests/it/layout.rs checks the layout).
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
    /// dst = 1 / (1 + exp(-a)), written as f32 whatever the storage.
    Sigmoid,
    /// dst = a: the f32 network input into the activations' storage type.
    Convert,
}

impl Elementwise {
    fn entry(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Sigmoid => "sigmoid",
            Self::Convert => "to_act",
        }
    }

    /// Bytes per element moved: (f32 values, stored activations).
    fn traffic(self) -> (u64, u64) {
        match self {
            Self::Add => (0, 3),
            Self::Sigmoid | Self::Convert => (1, 1),
        }
    }

    /// Records the op over `batch` images with activations stored in
    /// `precision`; `b` only for binary ops.
    #[allow(clippy::too_many_arguments)]
    pub fn dispatch(
        self,
        ctx: &GpuContext,
        precision: Precision,
        p: &ElementwiseParams,
        batch: u32,
        a: &wgpu::Buffer,
        b: Option<&wgpu::Buffer>,
        dst: &wgpu::Buffer,
    ) -> Result<Dispatch> {
        // The shader's bindings: f32 arrays for the network's input and
        // outputs, `act` arrays for activations.
        let buffers = match self {
            Self::Add => vec![(1, a), (2, b.expect("add needs two inputs")), (3, dst)],
            Self::Sigmoid => vec![(1, a), (4, dst)],
            Self::Convert => vec![(5, a), (3, dst)],
        };
        let shader = shaders::ELEMENTWISE.storing(precision);
        let mut d = DispatchBuilder::new(ctx, shader, self.entry()).build(
            self.entry().to_owned(),
            p,
            &buffers,
            crate::gpu::groups_for(p.dst.len(1)),
            batch,
        )?;
        let (f32s, acts) = self.traffic();
        d.bytes = p.dst.len(batch) * (4 * f32s + precision.bytes(acts));
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
                        Self::Convert => x,
                    };
                }
            }
        }
    }
}
