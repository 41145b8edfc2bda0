//! Fast guided filter steps (shaders/guided.wgsl); the box means between
//! them are filter.rs passes.

use crate::Result;
use bytemuck::{Pod, Zeroable};

use super::foreground::rgb_of;
use super::upsample::source_coord;
use crate::gpu::{Dispatch, DispatchBuilder, GpuContext, groups_for, shaders};

/// `GuidedParams` in shaders/guided.wgsl (tests/it/layout.rs checks the layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct GuidedParams {
    pub width: u32,
    pub height: u32,
    pub sub_width: u32,
    pub sub_height: u32,
    pub scale: u32,
    pub eps: f32,
    pub _pad: [u32; 2],
}

/// Planes written by `subsample`: I (3), p, I p (3), I I^T (6).
pub const PRODUCTS: u32 = 13;
/// Planes written by `coefficients`: a (3), b.
pub const COEFFS: u32 = 4;

impl GuidedParams {
    pub fn new((width, height): (u32, u32), scale: u32, eps: f32) -> Self {
        Self {
            width,
            height,
            sub_width: width.div_ceil(scale),
            sub_height: height.div_ceil(scale),
            scale,
            eps,
            _pad: [0; 2],
        }
    }

    fn sub_plane(&self) -> usize {
        (self.sub_width * self.sub_height) as usize
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Subsample,
    Coefficients,
    Apply,
}

impl Step {
    fn entry(self) -> &'static str {
        match self {
            Self::Subsample => "subsample",
            Self::Coefficients => "coefficients",
            Self::Apply => "apply",
        }
    }

    /// Subsample: (image, mask) -> products. Coefficients: means -> coeffs.
    /// Apply: (image, means of coeffs) -> dst. Pass the buffers the step
    /// uses, in that order.
    pub fn dispatch(
        self,
        ctx: &GpuContext,
        p: &GuidedParams,
        buffers: &[&wgpu::Buffer],
    ) -> Result<Dispatch> {
        let (bindings, pixels): (&[u32], u32) = match self {
            Self::Subsample => (&[1, 2, 3], p.sub_width * p.sub_height),
            Self::Coefficients => (&[4, 5], p.sub_width * p.sub_height),
            Self::Apply => (&[1, 4, 6], p.width * p.height),
        };
        assert_eq!(
            bindings.len(),
            buffers.len(),
            "guided {}: buffers",
            self.entry()
        );
        let bound: Vec<(u32, &wgpu::Buffer)> = bindings
            .iter()
            .copied()
            .zip(buffers.iter().copied())
            .collect();
        DispatchBuilder::new(ctx, shaders::GUIDED, self.entry()).build(
            format!("guided_{}", self.entry()),
            p,
            &bound,
            groups_for(u64::from(pixels)),
            1,
        )
    }
}

/// CPU reference of `subsample`: 13 planes.
pub fn subsample_cpu(p: &GuidedParams, image: &[u32], mask: &[f32]) -> Vec<f32> {
    let plane = p.sub_plane();
    let mut out = vec![0.0; PRODUCTS as usize * plane];
    for e in 0..plane {
        let x0 = (e as u32 % p.sub_width) * p.scale;
        let y0 = (e as u32 / p.sub_width) * p.scale;
        let (x1, y1) = ((x0 + p.scale).min(p.width), (y0 + p.scale).min(p.height));
        let (mut c, mut m) = ([0.0f32; 3], 0.0f32);
        for y in y0..y1 {
            for x in x0..x1 {
                let i = (y * p.width + x) as usize;
                let rgb = rgb_of(image[i]);
                for k in 0..3 {
                    c[k] += rgb[k];
                }
                m += mask[i];
            }
        }
        let n = ((x1 - x0) * (y1 - y0)) as f32;
        let c = c.map(|v| v / n);
        let m = m / n;
        let v = [
            c[0],
            c[1],
            c[2],
            m,
            c[0] * m,
            c[1] * m,
            c[2] * m,
            c[0] * c[0],
            c[0] * c[1],
            c[0] * c[2],
            c[1] * c[1],
            c[1] * c[2],
            c[2] * c[2],
        ];
        for (k, v) in v.into_iter().enumerate() {
            out[k * plane + e] = v;
        }
    }
    out
}

/// CPU reference of `coefficients`: 4 planes from the 13 means.
pub fn coefficients_cpu(p: &GuidedParams, means: &[f32]) -> Vec<f32> {
    let plane = p.sub_plane();
    let mut out = vec![0.0; COEFFS as usize * plane];
    for e in 0..plane {
        let m: [f32; 13] = std::array::from_fn(|c| means[c * plane + e]);
        let mi = [m[0], m[1], m[2]];
        let cov = [
            m[4] - mi[0] * m[3],
            m[5] - mi[1] * m[3],
            m[6] - mi[2] * m[3],
        ];
        let s00 = m[7] - mi[0] * mi[0] + p.eps;
        let s01 = m[8] - mi[0] * mi[1];
        let s02 = m[9] - mi[0] * mi[2];
        let s11 = m[10] - mi[1] * mi[1] + p.eps;
        let s12 = m[11] - mi[1] * mi[2];
        let s22 = m[12] - mi[2] * mi[2] + p.eps;
        let c00 = s11 * s22 - s12 * s12;
        let c01 = s02 * s12 - s01 * s22;
        let c02 = s01 * s12 - s02 * s11;
        let c11 = s00 * s22 - s02 * s02;
        let c12 = s01 * s02 - s00 * s12;
        let c22 = s00 * s11 - s01 * s01;
        let det = s00 * c00 + s01 * c01 + s02 * c02;
        let a = [
            (c00 * cov[0] + c01 * cov[1] + c02 * cov[2]) / det,
            (c01 * cov[0] + c11 * cov[1] + c12 * cov[2]) / det,
            (c02 * cov[0] + c12 * cov[1] + c22 * cov[2]) / det,
        ];
        for k in 0..3 {
            out[k * plane + e] = a[k];
        }
        out[3 * plane + e] = m[3] - (a[0] * mi[0] + a[1] * mi[1] + a[2] * mi[2]);
    }
    out
}

/// CPU reference of `apply`: the refined mask at full size.
pub fn apply_cpu(p: &GuidedParams, image: &[u32], means: &[f32]) -> Vec<f32> {
    let plane = p.sub_plane();
    let sw = p.sub_width as usize;
    (0..p.width * p.height)
        .map(|e| {
            let (y0, ty) = source_coord(e / p.width, p.sub_height, p.height);
            let (x0, tx) = source_coord(e % p.width, p.sub_width, p.width);
            let (y0, x0) = (y0 as usize, x0 as usize);
            let y1 = (y0 + 1).min(p.sub_height as usize - 1);
            let x1 = (x0 + 1).min(sw - 1);
            let mix = |a: f32, b: f32, t: f32| a + (b - a) * t;
            let ab: [f32; 4] = std::array::from_fn(|c| {
                let m = &means[c * plane..];
                let top = mix(m[y0 * sw + x0], m[y0 * sw + x1], tx);
                let bottom = mix(m[y1 * sw + x0], m[y1 * sw + x1], tx);
                mix(top, bottom, ty)
            });
            let rgb = rgb_of(image[e as usize]);
            (ab[0] * rgb[0] + ab[1] * rgb[1] + ab[2] * rgb[2] + ab[3]).clamp(0.0, 1.0)
        })
        .collect()
}
