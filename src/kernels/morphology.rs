//! Erosion and dilation by van Herk / Gil-Werman line passes
//! (shaders/morphology.wgsl). The CPU functions mirror the entry points;
//! src/matting/morph.rs composes them into shapes and has the brute-force
//! definition the tests hold both to.

use crate::Result;
use bytemuck::{Pod, Zeroable};

use crate::gpu::{Dispatch, DispatchBuilder, GpuContext, groups_for, shaders};

/// `MorphParams` in shaders/morphology.wgsl (tests/it/layout.rs checks the layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct MorphParams {
    pub width: u32,
    pub height: u32,
    /// 0: along x, 1: along y.
    pub axis: u32,
    /// The window of position i is [i - lo, i + hi].
    pub lo: u32,
    pub hi: u32,
    /// 0: min (erosion), 1: max (dilation).
    pub op: u32,
    /// 0: outside ignored, 1: outside holds `pad`.
    pub pad_mode: u32,
    pub pad: f32,
    /// `rows`: row offset and whether it overwrites the accumulator.
    pub dy: i32,
    pub first: u32,
    pub _pad: [u32; 2],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Minimum: erosion.
    Min,
    /// Maximum: dilation.
    Max,
}

impl Op {
    fn code(self) -> u32 {
        match self {
            Self::Min => 0,
            Self::Max => 1,
        }
    }

    pub fn combine(self, a: f32, b: f32) -> f32 {
        match self {
            Self::Min => a.min(b),
            Self::Max => a.max(b),
        }
    }

    /// The value that changes nothing (the shader's `identity`).
    pub fn identity(self) -> f32 {
        match self {
            Self::Min => HUGE,
            Self::Max => -HUGE,
        }
    }
}

const HUGE: f32 = 3.0e38;

/// What lies outside the image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Border {
    /// Nothing: windows are clipped (OpenCV's default for morphology).
    Ignore,
    /// A constant (scipy's `border_value`).
    Constant(f32),
}

impl MorphParams {
    /// A line pass over `[i - lo, i + hi]` along `axis` (0 = x, 1 = y).
    pub fn line(
        (width, height): (u32, u32),
        axis: u32,
        (lo, hi): (u32, u32),
        op: Op,
        border: Border,
    ) -> Self {
        let (pad_mode, pad) = match border {
            Border::Ignore => (0, 0.0),
            Border::Constant(v) => (1, v),
        };
        Self {
            width,
            height,
            axis,
            lo,
            hi,
            op: op.code(),
            pad_mode,
            pad,
            ..Self::default()
        }
    }

    /// A `rows` pass folding in row offset `dy`.
    pub fn rows(size: (u32, u32), dy: i32, first: bool, op: Op, border: Border) -> Self {
        Self {
            dy,
            first: u32::from(first),
            ..Self::line(size, 0, (0, 0), op, border)
        }
    }

    fn op(&self) -> Op {
        if self.op == 1 { Op::Max } else { Op::Min }
    }

    fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    fn line_len(&self) -> u32 {
        if self.axis == 1 {
            self.height
        } else {
            self.width
        }
    }

    fn lines(&self) -> u32 {
        if self.axis == 1 {
            self.width
        } else {
            self.height
        }
    }

    fn block(&self) -> u32 {
        self.lo + self.hi + 1
    }

    fn at(&self, line: u32, i: u32) -> usize {
        (if self.axis == 1 {
            i * self.width + line
        } else {
            line * self.width + i
        }) as usize
    }
}

/// `scan`: block-prefix and block-suffix extrema of `src`.
pub fn scan(
    ctx: &GpuContext,
    p: &MorphParams,
    src: &wgpu::Buffer,
    prefix: &wgpu::Buffer,
    suffix: &wgpu::Buffer,
) -> Result<Dispatch> {
    let blocks = p.line_len().div_ceil(p.block());
    DispatchBuilder::new(ctx, shaders::MORPHOLOGY, "scan").build(
        "morph_scan".into(),
        p,
        &[(1, src), (3, prefix), (4, suffix)],
        groups_for(u64::from(p.lines()) * u64::from(blocks)),
        1,
    )
}

/// `merge`: the extremum over each window from `scan`'s output.
pub fn merge(
    ctx: &GpuContext,
    p: &MorphParams,
    prefix: &wgpu::Buffer,
    suffix: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) -> Result<Dispatch> {
    DispatchBuilder::new(ctx, shaders::MORPHOLOGY, "merge").build(
        "morph_merge".into(),
        p,
        &[(3, prefix), (4, suffix), (2, dst)],
        groups_for(p.pixels()),
        1,
    )
}

/// `rows`: folds row `y + dy` of `src` into `dst`.
pub fn rows(
    ctx: &GpuContext,
    p: &MorphParams,
    src: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) -> Result<Dispatch> {
    DispatchBuilder::new(ctx, shaders::MORPHOLOGY, "rows").build(
        "morph_rows".into(),
        p,
        &[(1, src), (2, dst)],
        groups_for(p.pixels()),
        1,
    )
}

/// CPU reference of `scan`.
pub fn scan_cpu(p: &MorphParams, src: &[f32], prefix: &mut [f32], suffix: &mut [f32]) {
    let (op, len, block) = (p.op(), p.line_len(), p.block());
    for line in 0..p.lines() {
        for start in (0..len).step_by(block as usize) {
            let end = (start + block).min(len);
            let mut acc = op.identity();
            for i in start..end {
                acc = op.combine(acc, src[p.at(line, i)]);
                prefix[p.at(line, i)] = acc;
            }
            acc = op.identity();
            for i in (start..end).rev() {
                acc = op.combine(acc, src[p.at(line, i)]);
                suffix[p.at(line, i)] = acc;
            }
        }
    }
}

/// CPU reference of `merge`.
pub fn merge_cpu(p: &MorphParams, prefix: &[f32], suffix: &[f32], dst: &mut [f32]) {
    let (op, len, block) = (p.op(), p.line_len(), p.block());
    for line in 0..p.lines() {
        for i in 0..len {
            let a = i64::from(i) - i64::from(p.lo);
            let b = i + p.hi;
            let bc = b.min(len - 1);
            let mut v = if a < 0 {
                prefix[p.at(line, bc)]
            } else if b >= len && a as u32 / block == bc / block {
                suffix[p.at(line, a as u32)]
            } else {
                op.combine(suffix[p.at(line, a as u32)], prefix[p.at(line, bc)])
            };
            if p.pad_mode == 1 && (a < 0 || b >= len) {
                v = op.combine(v, p.pad);
            }
            dst[p.at(line, i)] = v;
        }
    }
}

/// CPU reference of `rows`.
pub fn rows_cpu(p: &MorphParams, src: &[f32], dst: &mut [f32]) {
    let (op, w) = (p.op(), p.width as usize);
    for (e, out) in dst.iter_mut().enumerate() {
        let y = (e / w) as i64 + i64::from(p.dy);
        let v = if (0..i64::from(p.height)).contains(&y) {
            src[y as usize * w + e % w]
        } else if p.pad_mode == 1 {
            p.pad
        } else {
            op.identity()
        };
        *out = if p.first == 1 { v } else { op.combine(*out, v) };
    }
}
