//! One module per shader family: the `Pod` parameter struct (its layout
//! checked against the WGSL struct by tests/it/layout.rs), the dispatch
//! math, and a plain-Rust CPU reference that mirrors the shader and
//! defines what the kernel must compute. The conv has a folder of its own:
//! one file per kernel family and their registry ([`conv`]).

pub mod batchnorm;
pub mod components;
pub mod conv;
pub mod elementwise;
pub mod filter;
pub mod foreground;
pub mod guided;
pub mod maskops;
pub mod matting;
pub mod morphology;
pub mod pixels;
pub mod pool;
pub mod resample;
pub mod upsample;

use bytemuck::{Pod, Zeroable};

// Defined in gpu, whose shader variants it selects; the kernels take it,
// so callers find it here too.
pub use crate::gpu::Precision;

/// A range of channels of an NCHW f32 tensor, `View` in
/// shaders/shared/tensor.wgsl (tests/it/layout.rs checks the layout). Element (n, c, p) of the view
/// lives at `((n * c_total + c_offset + c) * plane + p)`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct View {
    pub c_total: u32,
    pub c_offset: u32,
    pub channels: u32,
    pub plane: u32,
}

impl View {
    /// All channels of a tensor with `channels` channels of `plane` pixels.
    pub fn whole(channels: u32, plane: u32) -> Self {
        Self {
            c_total: channels,
            c_offset: 0,
            channels,
            plane,
        }
    }

    /// Channels `offset .. offset + channels` of a tensor with `c_total`.
    pub fn slice(c_total: u32, offset: u32, channels: u32, plane: u32) -> Self {
        assert!(
            offset + channels <= c_total,
            "view past the tensor's channels"
        );
        Self {
            c_total,
            c_offset: offset,
            channels,
            plane,
        }
    }

    pub fn index(&self, n: u32, c: u32, p: u32) -> usize {
        ((n * self.c_total + self.c_offset + c) * self.plane + p) as usize
    }

    /// Elements of the view over `batch` images.
    pub fn len(&self, batch: u32) -> u64 {
        u64::from(batch) * u64::from(self.channels) * u64::from(self.plane)
    }
}

/// Parameters of pooling and resizing, `SpatialParams` in
/// shaders/shared/tensor.wgsl (tests/it/layout.rs checks the layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SpatialParams {
    pub src: View,
    pub dst: View,
    pub in_h: u32,
    pub in_w: u32,
    pub out_h: u32,
    pub out_w: u32,
}

impl SpatialParams {
    /// `channels` channels of `src` (in_h x in_w) into `dst` (out_h x out_w).
    pub fn new(src: View, dst: View, (in_h, in_w): (u32, u32), (out_h, out_w): (u32, u32)) -> Self {
        assert_eq!(
            src.channels, dst.channels,
            "spatial op changes channel count"
        );
        assert_eq!(src.plane, in_h * in_w);
        assert_eq!(dst.plane, out_h * out_w);
        Self {
            src,
            dst,
            in_h,
            in_w,
            out_h,
            out_w,
        }
    }
}

/// A GPU buffer and the view of it an op reads or writes.
#[derive(Clone, Copy)]
pub struct Bound<'a> {
    pub buffer: &'a wgpu::Buffer,
    pub view: View,
}

/// Bytes of `elements` f32 values.
pub(crate) fn f32_bytes(elements: u64) -> u64 {
    elements * 4
}

/// Outputs per invocation of the pooling and resizing kernels, adjacent
/// in a row (`SPX` in shaders/shared/tensor.wgsl).
pub const SPATIAL_PX: u32 = 4;

/// Records a pooling or resizing kernel: one invocation per SPATIAL_PX
/// outputs of a row, activations stored in `precision`. With `vectors`
/// the shader also reads and writes its buffers as vec4 arrays (bindings
/// 3 and 4) where rows are 4-aligned (`VEC_IN`, `VEC_OUT`).
pub(crate) fn spatial_dispatch(
    ctx: &crate::gpu::GpuContext,
    (shader, vectors): (crate::gpu::shaders::Shader, bool),
    precision: Precision,
    p: &SpatialParams,
    batch: u32,
    (src, dst): (&wgpu::Buffer, &wgpu::Buffer),
) -> crate::Result<crate::gpu::Dispatch> {
    let shader = shader.storing(precision);
    let mut builder = crate::gpu::DispatchBuilder::new(ctx, shader, "main");
    let mut buffers = vec![(1, src), (2, dst)];
    if vectors {
        builder = builder
            .constant("VEC_IN", u32::from(p.in_w.is_multiple_of(4)))
            .constant("VEC_OUT", u32::from(p.out_w.is_multiple_of(4)));
        buffers.extend([(3, src), (4, dst)]);
    }
    let mut d = builder.build(
        shader.name.to_owned(),
        p,
        &buffers,
        crate::gpu::groups_for(
            u64::from(p.dst.channels)
                * u64::from(p.out_h)
                * u64::from(p.out_w.div_ceil(SPATIAL_PX)),
        ),
        batch,
    )?;
    d.bytes = precision.bytes(p.src.len(batch) + p.dst.len(batch));
    Ok(d)
}
