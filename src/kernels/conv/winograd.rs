//! The Winograd kernel (shaders/conv_winograd.wgsl): F(2x2, 3x3), 16
//! multiplies per input channel and 2x2 outputs instead of 36, with the
//! subgroup kernel's weight broadcasts and shared input rows; 3x3 convs
//! at dilation 1 only, on filter transforms U = G g G^T packed once at
//! load. Each lane takes 2 rows x 8 columns for half an output block.

use super::direct::tiled_rows;
use super::kernel::{Caps, Kernel, Recording, Unsupported, WeightLayout, tile_grid};
use super::subgroup::lane_rows;
use super::{ConvParams, ConvSpec, OCB};
use crate::gpu::shaders::{self, Shader};

pub struct Winograd;

impl Kernel for Winograd {
    fn name(&self) -> &'static str {
        "winograd"
    }

    fn supports(&self, caps: &Caps) -> Result<(), Unsupported> {
        caps.subgroups_of_8_to_16()
    }

    fn takes(&self, _caps: &Caps, spec: &ConvSpec, _p: &ConvParams) -> Result<(), Unsupported> {
        match takes_shape(spec) {
            true => Ok(()),
            false => Err(Unsupported(
                "it computes 3x3 convs at dilation 1 only".to_owned(),
            )),
        }
    }

    fn weights(&self) -> WeightLayout {
        WeightLayout::Winograd
    }

    fn shader(&self, _caps: &Caps) -> Shader {
        shaders::CONV_WINOGRAD
    }

    fn grid(&self, caps: &Caps, _spec: &ConvSpec, p: &ConvParams) -> (u64, u32) {
        tile_grid(p, lane_rows(caps, p.height.div_ceil(2)), 2 * p.cout_blocks)
    }

    fn configure<'a>(&self, r: Recording<'a>) -> Recording<'a> {
        let weights = r.weights.winograd.as_ref();
        let weights = weights.expect("uploaded wherever the kernel runs and takes the layer");
        tiled_rows(r).bind(3, weights)
    }
}

/// Whether the kernel takes convs of this shape: 3x3 at dilation 1.
pub fn takes_shape(spec: &ConvSpec) -> bool {
    spec.k == 3 && spec.dilation == 1
}

/// Output channels per invocation of conv_winograd.wgsl: half of a
/// packed [`OCB`] block.
const HALF: u32 = OCB / 2;

/// Elements of a transformed 4x4 tile.
const ELEMENTS: usize = 16;

/// G of F(2x2, 3x3): the 4 x 3 filter transform.
const G: [[f64; 3]; 4] = [
    [1.0, 0.0, 0.0],
    [0.5, 0.5, 0.5],
    [0.5, -0.5, 0.5],
    [0.0, 0.0, 1.0],
];

/// U = G g G^T of one 3x3 filter g (row-major), element 4 r + c at [4 r + c].
/// In f64, so the only rounding is the final one to f32.
fn transform(g: &[f32]) -> [f32; ELEMENTS] {
    let mut u = [0.0; ELEMENTS];
    for (r, gr) in G.iter().enumerate() {
        for (c, gc) in G.iter().enumerate() {
            let mut s = 0.0;
            for i in 0..3 {
                for j in 0..3 {
                    s += gr[i] * f64::from(g[3 * i + j]) * gc[j];
                }
            }
            u[4 * r + c] = s as f32;
        }
    }
    u
}

/// Transforms OIHW 3x3 weights and packs them as the shader reads them:
/// `[halves][cin][16 elements][HALF channels]`, `halves` = twice the
/// conv's [`OCB`] blocks, zero past `cout`.
pub fn pack_weights(spec: &ConvSpec, oihw: &[f32]) -> Vec<f32> {
    assert!(takes_shape(spec), "Winograd F(2x2, 3x3) only");
    assert_eq!(oihw.len(), spec.weight_len());
    let (cin, half) = (spec.cin as usize, HALF as usize);
    let halves = 2 * spec.cout.div_ceil(OCB) as usize;
    let mut packed = vec![0.0; halves * cin * ELEMENTS * half];
    for co in 0..spec.cout as usize {
        for ci in 0..cin {
            let g = &oihw[(co * cin + ci) * 9..][..9];
            for (e, u) in transform(g).into_iter().enumerate() {
                packed[((co / half * cin + ci) * ELEMENTS + e) * half + co % half] = u;
            }
        }
    }
    packed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A^T [U ⊙ (B^T d B)] A for one 4x4 patch d and filter g, against the
    /// direct 2x2 "valid" correlation: checks G and the shader's B and A.
    #[test]
    fn transforms_compute_the_correlation() {
        let g: Vec<f32> = (0..9).map(|i| (i as f32 * 0.37).sin()).collect();
        let d: Vec<f32> = (0..16).map(|i| (i as f32 * 0.91).cos()).collect();
        let u = transform(&g);
        // B^T d B with B^T rows (1,0,-1,0), (0,1,1,0), (0,-1,1,0), (0,1,0,-1).
        let bt = |c: [f32; 4]| [c[0] - c[2], c[1] + c[2], c[2] - c[1], c[1] - c[3]];
        let cols: Vec<[f32; 4]> = (0..4)
            .map(|x| bt([d[x], d[4 + x], d[8 + x], d[12 + x]]))
            .collect();
        let mut m = [0.0f32; 16];
        for r in 0..4 {
            let v = bt([cols[0][r], cols[1][r], cols[2][r], cols[3][r]]);
            for c in 0..4 {
                m[4 * r + c] = v[c] * u[4 * r + c];
            }
        }
        // A^T m A with A^T rows (1,1,1,0), (0,1,-1,-1).
        let at = |c: [f32; 4]| [c[0] + c[1] + c[2], c[1] - c[2] - c[3]];
        let rows: Vec<[f32; 2]> = (0..4)
            .map(|c| at([m[c], m[4 + c], m[8 + c], m[12 + c]]))
            .collect();
        for y in 0..2 {
            let out = at([rows[0][y], rows[1][y], rows[2][y], rows[3][y]]);
            for (x, &o) in out.iter().enumerate() {
                let direct: f32 = (0..9).map(|t| g[t] * d[(y + t / 3) * 4 + x + t % 3]).sum();
                assert!((o - direct).abs() < 1e-5, "({y}, {x}): {o} vs {direct}");
            }
        }
    }
}
