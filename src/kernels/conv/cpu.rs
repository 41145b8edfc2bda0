//! The conv's CPU reference: what every conv kernel must compute.

use rayon::prelude::*;

use super::{ConvData, ConvParams, ConvSpec};
use crate::kernels::{SpatialParams, View};

/// CPU reference. Mirrors the conv kernels' arithmetic: for each output, a sum
/// over input channels, then rows, then columns of the window (zero outside
/// the image), then + bias, then ReLU, then + residual. The shader blocks
/// 8 pixels x 16 channels per invocation; here each output plane is one
/// task, filled tap by tap in the same summation order.
pub fn cpu(spec: &ConvSpec, p: &ConvParams, batch: u32, data: &ConvData, dst: &mut [f32]) {
    if p.upsamples_a() {
        // The upsample first, as the unfused graph computes it.
        let plane = p.height * p.width;
        let up = View::whole(p.a.channels, plane);
        let resize = SpatialParams::new(p.a, up, (p.a_height, p.a_width), (p.height, p.width));
        let mut a = vec![0.0; up.len(batch) as usize];
        crate::kernels::upsample::cpu(&resize, batch, data.a, &mut a);
        let p = ConvParams {
            a: up,
            a_height: p.height,
            a_width: p.width,
            ..*p
        };
        return cpu(spec, &p, batch, &ConvData { a: &a, ..*data }, dst);
    }
    let ConvData {
        a,
        b,
        residual,
        weight: oihw,
        bias,
    } = *data;
    let (h, w) = (p.height as usize, p.width as usize);
    let (k, dil, pad) = (spec.k as usize, spec.dilation as i64, spec.padding() as i64);
    let planes: Vec<(u32, u32, Vec<f32>)> = (0..batch)
        .flat_map(|n| (0..spec.cout).map(move |co| (n, co)))
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|(n, co)| {
            let mut acc = vec![0.0f32; h * w];
            for ci in 0..spec.cin {
                let (src, base) = if ci < p.a.channels {
                    (a, p.a.index(n, ci, 0))
                } else {
                    (b, p.b.index(n, ci - p.a.channels, 0))
                };
                for ky in 0..k {
                    for kx in 0..k {
                        let wv = oihw[((co * spec.cin + ci) as usize * k + ky) * k + kx];
                        let dy = ky as i64 * dil - pad;
                        let dx = kx as i64 * dil - pad;
                        for y in 0..h {
                            let iy = y as i64 + dy;
                            if iy < 0 || iy >= h as i64 {
                                continue;
                            }
                            for x in 0..w {
                                let ix = x as i64 + dx;
                                if ix >= 0 && ix < w as i64 {
                                    acc[y * w + x] = wv.mul_add(
                                        src[base + iy as usize * w + ix as usize],
                                        acc[y * w + x],
                                    );
                                }
                            }
                        }
                    }
                }
            }
            let res = (p.residual.channels > 0).then(|| p.residual.index(n, co, 0));
            for (i, v) in acc.iter_mut().enumerate() {
                *v += bias[co as usize];
                if spec.relu {
                    *v = v.max(0.0);
                }
                if let Some(r) = res {
                    *v += residual[r + i];
                }
            }
            (n, co, acc)
        })
        .collect();
    for (n, co, plane) in planes {
        let start = p.dst.index(n, co, 0);
        dst[start..start + h * w].copy_from_slice(&plane);
    }
}
