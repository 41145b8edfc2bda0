//! The direct kernel (shaders/conv.wgsl): 8 pixels x 16 output channels
//! per invocation, weights and inputs from global memory. Also what the
//! kernels built on its tiling share ([`tiled_rows`]).

use super::kernel::{Caps, Kernel, Recording, Unsupported, tile_grid};
use super::{ConvParams, ConvSpec, OCB};
use crate::gpu::shaders::{self, Shader};

pub struct Direct;

impl Kernel for Direct {
    fn name(&self) -> &'static str {
        "direct"
    }

    fn supports(&self, _caps: &Caps) -> Result<(), Unsupported> {
        Ok(())
    }

    fn shader(&self, _caps: &Caps) -> Shader {
        shaders::CONV
    }

    fn grid(&self, _caps: &Caps, _spec: &ConvSpec, p: &ConvParams) -> (u64, u32) {
        tile_grid(p, p.height, p.cout_blocks)
    }

    fn configure<'a>(&self, r: Recording<'a>) -> Recording<'a> {
        let quads = quads(r.spec);
        let weights = &r.weights.packed;
        tiled_rows(r).constant("QUADS", quads).bind(3, weights)
    }
}

/// The channel quads a 16-channel block computes (`QUADS`): a layer with
/// fewer than 16 output channels skips the multiply-adds past its last.
pub fn quads(spec: &ConvSpec) -> u32 {
    spec.cout.min(OCB).div_ceil(4)
}

/// What the kernels that tile 8 pixels per invocation share: a and b are
/// also bound as vec4 arrays (bindings 7 and 8), read as such when every
/// row they load starts at a multiple of 4 elements (`VEC`).
pub fn tiled_rows(r: Recording) -> Recording {
    let (a, b) = (r.a, r.b);
    let vec = r.p.vector_rows();
    r.bind(7, a).bind(8, b).constant("VEC", u32::from(vec))
}
