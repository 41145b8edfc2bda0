//! Pointwise mask operations in 8-bit levels (shaders/maskops.wgsl): the
//! rembg post-process threshold and the trimap's classes.

use crate::Result;
use bytemuck::{Pod, Zeroable};

use crate::gpu::{Dispatch, DispatchBuilder, GpuContext, groups_for, shaders};

/// `MaskParams` in shaders/maskops.wgsl (tests/it/layout.rs checks the layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct MaskParams {
    pub len: u32,
    /// `threshold`: the level from which a pixel is 1; `split`: foreground above it.
    pub level_a: u32,
    /// `split`: background below it.
    pub level_b: u32,
    pub _pad: u32,
}

/// The value rembg's trimap gives unknown pixels (128 of 255).
pub const UNKNOWN: f32 = 128.0 / 255.0;

/// The 8-bit level of a mask value, rounded as an 8-bit conversion rounds.
pub fn level(v: f32) -> u32 {
    (v.clamp(0.0, 1.0) * 255.0).round() as u32
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaskOp {
    /// dst = 1 where the level is >= level_a, else 0.
    Threshold,
    /// dst = level > level_a, dst_b = level < level_b (0 / 1).
    Split,
    /// Trimap: 1 where src, else 0 where src_b, else [`UNKNOWN`].
    Combine,
}

impl MaskOp {
    fn entry(self) -> &'static str {
        match self {
            Self::Threshold => "threshold",
            Self::Split => "split",
            Self::Combine => "combine",
        }
    }

    /// Records the op; `b` is dst_b for `Split`, src_b for `Combine`.
    pub fn dispatch(
        self,
        ctx: &GpuContext,
        p: &MaskParams,
        src: &wgpu::Buffer,
        dst: &wgpu::Buffer,
        b: Option<&wgpu::Buffer>,
    ) -> Result<Dispatch> {
        let mut buffers = vec![(1, src), (2, dst)];
        match self {
            Self::Threshold => {}
            Self::Split => buffers.push((4, b.expect("split writes two masks"))),
            Self::Combine => buffers.push((3, b.expect("combine reads two masks"))),
        }
        DispatchBuilder::new(ctx, shaders::MASKOPS, self.entry()).build(
            format!("mask_{}", self.entry()),
            p,
            &buffers,
            groups_for(u64::from(p.len)),
            1,
        )
    }

    /// CPU reference, mirroring the entry points; `b` as in `dispatch`.
    pub fn cpu(self, p: &MaskParams, src: &[f32], dst: &mut [f32], b: &mut [f32]) {
        for (e, &v) in src.iter().enumerate().take(p.len as usize) {
            match self {
                Self::Threshold => dst[e] = f32::from(u8::from(level(v) >= p.level_a)),
                Self::Split => {
                    dst[e] = f32::from(u8::from(level(v) > p.level_a));
                    b[e] = f32::from(u8::from(level(v) < p.level_b));
                }
                Self::Combine => {
                    dst[e] = if v > 0.5 {
                        1.0
                    } else if b[e] > 0.5 {
                        0.0
                    } else {
                        UNKNOWN
                    }
                }
            }
        }
    }
}
