//! The cooperative-matrix kernel (shaders/conv_coop.wgsl): the implicit
//! GEMM on tensor cores, f16 x f16 products summed in f32. Only on
//! devices opened with `U2CUT_COOP_MATRIX=1` (`GpuContext::coop_matrix`).

use super::gemm::workgroup_tiles;
use super::kernel::{Caps, Kernel, Recording, Unsupported};
use super::{ConvParams, ConvSpec};
use crate::gpu::COOP_MATRIX_ENV;
use crate::gpu::shaders::{self, Shader};

/// Pixels and output channels of a workgroup tile.
const TILE: (u32, u32) = (64, 32);

pub struct Coop;

impl Kernel for Coop {
    fn name(&self) -> &'static str {
        "coop"
    }

    fn supports(&self, caps: &Caps) -> Result<(), Unsupported> {
        match caps.coop_matrix {
            Some(_) => Ok(()),
            None => Err(Unsupported(format!(
                "it needs {COOP_MATRIX_ENV}=1 and square f16 cooperative matrices into f32"
            ))),
        }
    }

    fn f16_products(&self) -> bool {
        true
    }

    fn shader(&self, caps: &Caps) -> Shader {
        let size = caps.coop_matrix.expect("supports() checked it");
        shaders::CONV_COOP.with_matrix(size)
    }

    fn grid(&self, _caps: &Caps, spec: &ConvSpec, p: &ConvParams) -> (u64, u32) {
        workgroup_tiles(spec, p, TILE)
    }

    fn configure<'a>(&self, r: Recording<'a>) -> Recording<'a> {
        let weights = &r.weights.packed;
        r.bind(3, weights)
    }
}
