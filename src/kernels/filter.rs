//! Separable filters over planar channels, one axis per pass
//! (shaders/filter.wgsl): OpenCV's Gaussian blur and box means.

use crate::Result;
use bytemuck::{Pod, Zeroable};

use crate::gpu::{Dispatch, DispatchBuilder, GpuContext, groups_for, shaders};

/// `FilterParams` in shaders/filter.wgsl (tests/it/layout.rs checks the layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct FilterParams {
    pub width: u32,
    pub height: u32,
    /// 0: along x, 1: along y.
    pub axis: u32,
    pub radius: u32,
    /// See [`Border`].
    pub border: u32,
    pub _pad: [u32; 3],
}

/// How taps that fall outside the image are handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Border {
    /// OpenCV's BORDER_REFLECT_101, cv2.GaussianBlur's default.
    Reflect101,
    /// Dropped, and the result divided by the weight of the taps inside.
    Renormalize,
}

impl FilterParams {
    pub fn new((width, height): (u32, u32), axis: u32, radius: u32, border: Border) -> Self {
        Self {
            width,
            height,
            axis,
            radius,
            border: match border {
                Border::Reflect101 => 0,
                Border::Renormalize => 1,
            },
            _pad: [0; 3],
        }
    }
}

/// OpenCV's `getGaussianKernel(ksize, sigma)` for sigma > 0: exp(-x^2 /
/// (2 sigma^2)) for x = -(ksize-1)/2 ..= (ksize-1)/2, normalized (in f64,
/// as OpenCV computes it, then rounded to f32).
pub fn gaussian_taps(ksize: u32, sigma: f64) -> Vec<f32> {
    let c = f64::from(ksize - 1) / 2.0;
    let w: Vec<f64> = (0..ksize)
        .map(|i| (-(f64::from(i) - c).powi(2) / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f64 = w.iter().sum();
    w.iter().map(|v| (v / sum) as f32).collect()
}

/// `channels` planes of `src` filtered along one axis into `dst`.
pub fn dispatch(
    ctx: &GpuContext,
    p: &FilterParams,
    channels: u32,
    src: &wgpu::Buffer,
    dst: &wgpu::Buffer,
    taps: &wgpu::Buffer,
) -> Result<Dispatch> {
    DispatchBuilder::new(ctx, shaders::FILTER, "convolve").build(
        format!("filter_r{}", p.radius),
        p,
        &[(1, src), (2, dst), (3, taps)],
        groups_for(u64::from(p.width) * u64::from(p.height)),
        channels,
    )
}

/// Mirrors the shader's `reflect101`.
pub fn reflect101(i: i64, n: i64) -> i64 {
    if n == 1 {
        return 0;
    }
    let mut j = i;
    while j < 0 || j >= n {
        j = if j < 0 { -j } else { 2 * n - 2 - j };
    }
    j
}

/// CPU reference, mirroring `convolve` (taps summed in the same order).
pub fn cpu(p: &FilterParams, channels: u32, src: &[f32], dst: &mut [f32], taps: &[f32]) {
    let (w, h) = (p.width as i64, p.height as i64);
    let plane = (w * h) as usize;
    let r = i64::from(p.radius);
    for c in 0..channels as usize {
        let (src, dst) = (&src[c * plane..][..plane], &mut dst[c * plane..][..plane]);
        for e in 0..plane as i64 {
            let (px, py) = (e % w, e / w);
            let (n, i, stride) = if p.axis == 1 { (h, py, w) } else { (w, px, 1) };
            let line = e - i * stride;
            let (mut acc, mut weight) = (0.0f32, 0.0f32);
            for t in 0..=2 * r {
                let mut j = i + t - r;
                if p.border == 1 {
                    if j < 0 || j >= n {
                        continue;
                    }
                } else {
                    j = reflect101(j, n);
                }
                let tap = taps[t as usize];
                acc += tap * src[(line + j * stride) as usize];
                weight += tap;
            }
            dst[e as usize] = if p.border == 1 { acc / weight } else { acc };
        }
    }
}
