//! The subgroup kernel (shaders/conv_subgroup.wgsl): the direct kernel's
//! tiles with each weight loaded once per subgroup and broadcast, and each
//! lane's input rows above and below taken from its neighbour lanes
//! (shared/lane_rows.wgsl). In its any-shape form three pipelines take
//! every 3x3 layer.

use super::direct::{quads, tiled_rows};
use super::kernel::{Caps, Kernel, Recording, Unsupported, tile_grid};
use super::{ConvParams, ConvSpec};
use crate::gpu::shaders::{self, Shader};

pub struct Subgroup {
    pub name: &'static str,
    /// Three pipelines for every 3x3 layer: dilation 1 with `a` read as it
    /// is or upsampled on read, and any other dilation, read at run time;
    /// scalar row loads and all four channel quads. Each distinct set of
    /// constants is a driver compile (on llvmpipe seconds), which on small
    /// layers costs more than the constants save (BENCHMARKS.md).
    pub any_shape: bool,
}

impl Kernel for Subgroup {
    fn name(&self) -> &'static str {
        self.name
    }

    fn takes(&self, _caps: &Caps, spec: &ConvSpec, _p: &ConvParams) -> Result<(), Unsupported> {
        if self.any_shape && spec.k != 3 {
            return Err(Unsupported(
                "the any-shape form takes 3x3 convs only".into(),
            ));
        }
        Ok(())
    }

    fn supports(&self, caps: &Caps) -> Result<(), Unsupported> {
        caps.subgroups_of_8_to_16()
    }

    fn shader(&self, _caps: &Caps) -> Shader {
        shaders::CONV_SUBGROUP
    }

    fn grid(&self, caps: &Caps, _spec: &ConvSpec, p: &ConvParams) -> (u64, u32) {
        tile_grid(p, lane_rows(caps, p.height), p.cout_blocks)
    }

    fn configure<'a>(&self, r: Recording<'a>) -> Recording<'a> {
        let quads = quads(r.spec);
        let weights = &r.weights.packed;
        let r = tiled_rows(r).bind(3, weights);
        if self.any_shape {
            let dilation = match r.spec.dilation {
                1 => 1,
                _ => 0,
            };
            r.constant("DIL", dilation)
                .constant("VEC", 0)
                .constant("QUADS", 4)
        } else {
            r.constant("QUADS", quads)
        }
    }
}

/// The tile rows a grid covers when each subgroup's lanes stack down one
/// tile column: a column's `rows` round up to whole subgroups, at most
/// the largest subgroup's lanes less one more.
pub fn lane_rows(caps: &Caps, rows: u32) -> u32 {
    rows + caps.info.subgroup_max_size - 1
}
