//! Max pooling 2x2, stride 2, ceil_mode (shaders/pool.wgsl).

use crate::Result;

use super::{Precision, SpatialParams, View, spatial_dispatch};
use crate::gpu::{Dispatch, GpuContext, shaders};

/// Output size of a 2x2 stride-2 ceil-mode pool.
pub fn out_size((h, w): (u32, u32)) -> (u32, u32) {
    (h.div_ceil(2), w.div_ceil(2))
}

pub fn params(src: View, dst: View, input: (u32, u32)) -> SpatialParams {
    SpatialParams::new(src, dst, input, out_size(input))
}

pub fn dispatch(
    ctx: &GpuContext,
    precision: Precision,
    p: &SpatialParams,
    batch: u32,
    src: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) -> Result<Dispatch> {
    spatial_dispatch(ctx, (shaders::POOL, true), precision, p, batch, (src, dst))
}

/// CPU reference: the maximum over the window's pixels inside the image.
pub fn cpu(p: &SpatialParams, batch: u32, src: &[f32], dst: &mut [f32]) {
    for n in 0..batch {
        for c in 0..p.dst.channels {
            for oy in 0..p.out_h {
                for ox in 0..p.out_w {
                    let mut m = f32::NEG_INFINITY;
                    for y in (2 * oy)..(2 * oy + 2).min(p.in_h) {
                        for x in (2 * ox)..(2 * ox + 2).min(p.in_w) {
                            m = m.max(src[p.src.index(n, c, y * p.in_w + x)]);
                        }
                    }
                    dst[p.dst.index(n, c, oy * p.out_w + ox)] = m;
                }
            }
        }
    }
}
