//! The subgroup kernel (shaders/conv_subgroup.wgsl): the direct kernel's
//! tiles with each weight loaded once per subgroup and broadcast, and each
//! lane's input rows above and below taken from its neighbour lanes
//! (shared/lane_rows.wgsl).

use super::direct::{quads, tiled_rows};
use super::kernel::{Caps, Kernel, Recording, Unsupported, tile_grid};
use super::{ConvParams, ConvSpec};
use crate::gpu::shaders::{self, Shader};

pub struct Subgroup;

impl Kernel for Subgroup {
    fn name(&self) -> &'static str {
        "subgroup"
    }

    fn supports(&self, caps: &Caps) -> Result<(), Unsupported> {
        caps.subgroups_of_8()
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
        tiled_rows(r).constant("QUADS", quads).bind(3, weights)
    }
}

/// The tile rows a grid covers when each subgroup's lanes stack down one
/// tile column: a column's `rows` round up to whole subgroups, at most
/// the largest subgroup's lanes less one more.
pub fn lane_rows(caps: &Caps, rows: u32) -> u32 {
    rows + caps.info.subgroup_max_size - 1
}
