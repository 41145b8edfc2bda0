// Weights and input rows through the subgroup (conv_subgroup_body.wgsl,
// conv_winograd.wgsl). Each lane loads its share of a channel's weights
// and broadcast8 hands them to every lane. A subgroup computes one 8-column tile column, its
// lanes stacked top to bottom, so the input rows a lane needs just above
// and below its own are its neighbours' own rows: they come by shuffle.
// Only the subgroup's first and last lanes load theirs, in one load under
// a branch the other lanes skip. On llvmpipe, where every storage load is
// a loop over the SIMD lanes, the subgroup conv kernel loads one row per
// channel and lane instead of three (BENCHMARKS.md). Needs subgroups of
// at least 2 lanes, every lane active at the shuffles.

//#include "shared/tensor.wgsl"
//#include "shared/conv_params.wgsl"
//#include "shared/conv_rows.wgsl"

// Lanes in this invocation's subgroup.
var<private> lanes: u32;

// A lane's tile: `row` counts the kernel's tile rows (lanes past the
// image's last have rows past it), x0 is the tile's first column.
struct LaneTile {
    row: u32,
    x0: u32,
}

// The builtins the kernels' entry points take: their one parameter.
struct LaneIds {
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(subgroup_id) sg: u32,
    @builtin(subgroup_size) size: u32,
    @builtin(subgroup_invocation_id) lane: u32,
}

// Subgroups numbered across the grid take the tile columns of a block of
// rows in turn. WG is a multiple of the subgroup size (8, 16, 32 or 64),
// and the host sizes the grid for the largest subgroups (conv.rs).
fn lane_tile(ids: LaneIds) -> LaneTile {
    lanes = ids.size;
    let s = linear_group(ids.wg, ids.nwg) * (WG / ids.size) + ids.sg;
    return LaneTile(s / p.tiles_x * ids.size + ids.lane, s % p.tiles_x * 8u);
}

// Eight vec4s, lane i holding vec4 i, broadcast to every lane.
fn broadcast8(l: vec4<f32>) -> array<vec4<f32>, 8> {
    return array(
        subgroupBroadcast(l, 0u), subgroupBroadcast(l, 1u), subgroupBroadcast(l, 2u), subgroupBroadcast(l, 3u),
        subgroupBroadcast(l, 4u), subgroupBroadcast(l, 5u), subgroupBroadcast(l, 6u), subgroupBroadcast(l, 7u),
    );
}

fn shuffle_up(c: Row10) -> Row10 {
    return Row10(subgroupShuffleUp(c.left, 1u), subgroupShuffleUp(c.v0, 1u), subgroupShuffleUp(c.v1, 1u), subgroupShuffleUp(c.right, 1u));
}

fn shuffle_down(c: Row10) -> Row10 {
    return Row10(subgroupShuffleDown(c.left, 1u), subgroupShuffleDown(c.v0, 1u), subgroupShuffleDown(c.v1, 1u), subgroupShuffleDown(c.right, 1u));
}

fn pick(a: Row10, b: Row10, take_b: bool) -> Row10 {
    return Row10(select(a.left, b.left, take_b), select(a.v0, b.v0, take_b), select(a.v1, b.v1, take_b), select(a.right, b.right, take_b));
}

// Rows `above` and `below` of a channel (from `base`) at columns x0-1 ..
// x0+8, for a lane whose own rows are `top` .. `bottom`: the row above
// from the previous lane's bottom row, the row below from the next lane's
// top row, the first and last lanes loading theirs.
fn neighbour_rows(from_b: bool, base: u32, x0: u32, top: Row10, bottom: Row10, above: i32, below: i32, lane: u32) -> array<Row10, 2> {
    let first = lane == 0u;
    let last = lane == lanes - 1u;
    var edge = Row10();
    if first || last {
        edge = row10(from_b, base, select(below, above, first), x0);
    }
    return array(pick(shuffle_up(bottom), edge, first), pick(shuffle_down(top), edge, last));
}
