//! Multi-level foreground estimation, Jacobi form (shaders/foreground.wgsl).
//! Colours are stored as 16-bit unorm pairs, `[pack(r, g), pack(b, 0)]`.

use crate::Result;
use bytemuck::{Pod, Zeroable};

use crate::gpu::{Dispatch, DispatchBuilder, GpuContext, groups_for, shaders};

/// `ForegroundParams` in shaders/foreground.wgsl (tests/it/layout.rs checks the layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct ForegroundParams {
    pub width0: u32,
    pub height0: u32,
    pub width: u32,
    pub height: u32,
    pub src_width: u32,
    pub src_height: u32,
    pub regularization: f32,
    pub gradient_weight: f32,
    /// Workgroups of `means`.
    pub n_partials: u32,
    pub _pad: [u32; 3],
}

/// A colour as the shader stores it.
pub type Packed = [u32; 2];

/// WGSL's pack2x16unorm of one value.
fn unorm16(v: f32) -> u32 {
    (0.5 + 65535.0 * v.clamp(0.0, 1.0)).floor() as u32
}

/// Mirrors the shader's `pack`.
pub fn pack(c: [f32; 3]) -> Packed {
    [unorm16(c[0]) | (unorm16(c[1]) << 16), unorm16(c[2])]
}

/// Mirrors the shader's `unpack`.
pub fn unpack(p: Packed) -> [f32; 3] {
    let u = |v: u32| (v & 0xffff) as f32 / 65535.0;
    [u(p[0]), u(p[0] >> 16), u(p[1])]
}

/// Colour of an RGBA8 word, as unpack4x8unorm.
pub fn rgb_of(word: u32) -> [f32; 3] {
    std::array::from_fn(|k| ((word >> (8 * k)) & 0xff) as f32 / 255.0)
}

/// The buffers the steps bind.
pub struct Buffers<'a> {
    pub image: &'a wgpu::Buffer,
    pub alpha: &'a wgpu::Buffer,
    pub f_src: &'a wgpu::Buffer,
    pub b_src: &'a wgpu::Buffer,
    pub f_dst: &'a wgpu::Buffer,
    pub b_dst: &'a wgpu::Buffer,
    pub partials: &'a wgpu::Buffer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Partial colour sums of the sure foreground and background.
    Means,
    /// Their means into pixel 0 of f_dst and b_dst.
    MeansFinish,
    /// f_src, b_src (src size) nearest-resized into f_dst, b_dst.
    Resize,
    /// One Jacobi iteration at this level.
    Iterate,
}

impl Step {
    fn entry(self) -> &'static str {
        match self {
            Self::Means => "means",
            Self::MeansFinish => "means_finish",
            Self::Resize => "resize",
            Self::Iterate => "iterate",
        }
    }

    pub fn dispatch(self, ctx: &GpuContext, p: &ForegroundParams, b: &Buffers) -> Result<Dispatch> {
        let (buffers, groups) = match self {
            Self::Means => (
                vec![(1, b.image), (2, b.alpha), (7, b.partials)],
                u64::from(p.n_partials),
            ),
            Self::MeansFinish => (vec![(5, b.f_dst), (6, b.b_dst), (7, b.partials)], 1),
            Self::Resize => (
                vec![(3, b.f_src), (4, b.b_src), (5, b.f_dst), (6, b.b_dst)],
                groups_for(u64::from(p.width) * u64::from(p.height)),
            ),
            Self::Iterate => (
                vec![
                    (1, b.image),
                    (2, b.alpha),
                    (3, b.f_src),
                    (4, b.b_src),
                    (5, b.f_dst),
                    (6, b.b_dst),
                ],
                groups_for(u64::from(p.width) * u64::from(p.height)),
            ),
        };
        DispatchBuilder::new(ctx, shaders::FOREGROUND, self.entry()).build(
            format!("foreground_{}", self.entry()),
            p,
            &buffers,
            groups,
            1,
        )
    }
}

/// Mirrors the shader's `nearest`.
pub fn nearest(i: u32, src_len: u32, dst_len: u32) -> u32 {
    (i * src_len / dst_len).min(src_len - 1)
}

/// CPU reference of `means` + `means_finish` (summed in f64, not in the
/// shader's workgroup order): the packed mean foreground and background.
pub fn means_cpu(image: &[u32], alpha: &[f32]) -> (Packed, Packed) {
    let (mut f, mut b) = ([0.0f64; 4], [0.0f64; 4]);
    for (&word, &a) in image.iter().zip(alpha) {
        let c = rgb_of(word);
        let acc = if a > 0.9 {
            &mut f
        } else if a < 0.1 {
            &mut b
        } else {
            continue;
        };
        for k in 0..3 {
            acc[k] += f64::from(c[k]);
        }
        acc[3] += 1.0;
    }
    let mean = |s: [f64; 4]| pack(std::array::from_fn(|k| (s[k] / (s[3] + 1e-5)) as f32));
    (mean(f), mean(b))
}

/// CPU reference of `resize`.
pub fn resize_cpu(p: &ForegroundParams, src: &[Packed]) -> Vec<Packed> {
    (0..p.width * p.height)
        .map(|e| {
            let sy = nearest(e / p.width, p.src_height, p.height);
            let sx = nearest(e % p.width, p.src_width, p.width);
            src[(sy * p.src_width + sx) as usize]
        })
        .collect()
}

/// CPU reference of `iterate`: (F, B) of this level from the previous iterate.
pub fn iterate_cpu(
    p: &ForegroundParams,
    image: &[u32],
    alpha: &[f32],
    f_src: &[Packed],
    b_src: &[Packed],
) -> (Vec<Packed>, Vec<Packed>) {
    let full = |x: u32, y: u32| {
        (nearest(y, p.height0, p.height) * p.width0 + nearest(x, p.width0, p.width)) as usize
    };
    (0..p.width * p.height)
        .map(|e| {
            let (px, py) = (e % p.width, e / p.width);
            let a0 = alpha[full(px, py)];
            let a1 = 1.0 - a0;
            let colour = rgb_of(image[full(px, py)]);
            let mut b0 = colour.map(|c| a0 * c);
            let mut b1 = colour.map(|c| a1 * c);
            let mut a_sum = 0.0f32;
            let nx = [px.max(1) - 1, (px + 1).min(p.width - 1), px, px];
            let ny = [py, py, py.max(1) - 1, (py + 1).min(p.height - 1)];
            for d in 0..4 {
                let j = (ny[d] * p.width + nx[d]) as usize;
                let da =
                    p.regularization + p.gradient_weight * (a0 - alpha[full(nx[d], ny[d])]).abs();
                a_sum += da;
                let (fj, bj) = (unpack(f_src[j]), unpack(b_src[j]));
                for k in 0..3 {
                    b0[k] += da * fj[k];
                    b1[k] += da * bj[k];
                }
            }
            let a00 = a0 * a0 + a_sum;
            let a11 = a1 * a1 + a_sum;
            let a01 = a0 * a1;
            let inv_det = 1.0 / (a00 * a11 - a01 * a01);
            let f = std::array::from_fn(|k| inv_det * (a11 * b0[k] - a01 * b1[k]));
            let b = std::array::from_fn(|k| inv_det * (a00 * b1[k] - a01 * b0[k]));
            (pack(f), pack(b))
        })
        .unzip()
}
