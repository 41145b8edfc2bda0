//! Bilinear resize, align_corners = False (shaders/upsample.wgsl).

use crate::Result;

use super::{Precision, SpatialParams, spatial_dispatch};
use crate::gpu::{Dispatch, GpuContext, shaders};

pub fn dispatch(
    ctx: &GpuContext,
    precision: Precision,
    p: &SpatialParams,
    batch: u32,
    src: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) -> Result<Dispatch> {
    spatial_dispatch(
        ctx,
        (shaders::UPSAMPLE, false),
        precision,
        p,
        batch,
        (src, dst),
    )
}

/// Mirrors `source_coord` in upsample.wgsl: (lower index, weight of the next).
pub fn source_coord(o: u32, in_len: u32, out_len: u32) -> (u32, f32) {
    if out_len == 1 {
        return (0, 0.0);
    }
    let s = ((o as f32 + 0.5) * in_len as f32 / out_len as f32 - 0.5).max(0.0);
    let i = s.floor().min((in_len - 1) as f32);
    (i as u32, s - i)
}

/// `a + (b - a) * t`, WGSL's `mix`.
fn mix(a: f32, b: f32, t: f32) -> f32 {
    a + (b - a) * t
}

/// CPU reference, mirroring upsample.wgsl's `main`.
pub fn cpu(p: &SpatialParams, batch: u32, src: &[f32], dst: &mut [f32]) {
    for n in 0..batch {
        for c in 0..p.dst.channels {
            for oy in 0..p.out_h {
                let (y0, ty) = source_coord(oy, p.in_h, p.out_h);
                let y1 = (y0 + 1).min(p.in_h - 1);
                for ox in 0..p.out_w {
                    let (x0, tx) = source_coord(ox, p.in_w, p.out_w);
                    let x1 = (x0 + 1).min(p.in_w - 1);
                    let at = |y: u32, x: u32| src[p.src.index(n, c, y * p.in_w + x)];
                    let top = mix(at(y0, x0), at(y0, x1), tx);
                    let bottom = mix(at(y1, x0), at(y1, x1), tx);
                    dst[p.dst.index(n, c, oy * p.out_w + ox)] = mix(top, bottom, ty);
                }
            }
        }
    }
}
