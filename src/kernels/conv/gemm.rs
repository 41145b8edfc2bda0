//! The implicit GEMMs (shaders/conv_gemm.wgsl): pixels x output channels
//! over the input channels and taps, staged in workgroup-memory tiles.
//! One shader for every tile shape: each [`Gemm`] is a pair of override
//! constants, listed as data in the registry.

use super::kernel::{Caps, Kernel, Recording, Unsupported};
use super::{ConvParams, ConvSpec};
use crate::gpu::shaders::{self, Shader};

/// An implicit GEMM with workgroup tiles of 16 `tm` pixels x 16 `tn`
/// output channels (`tm` x 4 `tn` per invocation).
pub struct Gemm {
    pub name: &'static str,
    pub tm: u32,
    pub tn: u32,
}

impl Kernel for Gemm {
    fn name(&self) -> &'static str {
        self.name
    }

    fn supports(&self, _caps: &Caps) -> Result<(), Unsupported> {
        Ok(())
    }

    fn shader(&self, _caps: &Caps) -> Shader {
        shaders::CONV_GEMM
    }

    fn grid(&self, _caps: &Caps, spec: &ConvSpec, p: &ConvParams) -> (u64, u32) {
        workgroup_tiles(spec, p, (16 * self.tm, 16 * self.tn))
    }

    fn configure<'a>(&self, r: Recording<'a>) -> Recording<'a> {
        let weights = &r.weights.packed;
        r.constant("TM", self.tm)
            .constant("TN", self.tn)
            .bind(3, weights)
    }
}

/// The grid of a kernel whose workgroup computes a tile of `pixels` x
/// `channels`: tiles along the image's pixels, channel tiles along z.
pub fn workgroup_tiles(
    spec: &ConvSpec,
    p: &ConvParams,
    (pixels, channels): (u32, u32),
) -> (u64, u32) {
    (
        u64::from(p.height * p.width).div_ceil(u64::from(pixels)),
        spec.cout.div_ceil(channels),
    )
}
