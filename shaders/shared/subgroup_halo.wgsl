// The halo of a row of 8 pixels through the subgroup (conv_subgroup_body.wgsl,
// conv_winograd.wgsl). Needs each lane's tile 8 columns right of the previous
// lane's (see lane_tile), and every lane active at the shuffles.
// Needs shared/conv_rows.wgsl.

// Lanes in this invocation's subgroup.
var<private> lanes: u32;

// Columns x0-1 and x0+8 of the row. Lane i's tile is lane i-1's tile plus
// 8 columns (main numbers tiles by lane), so its left neighbour is lane
// i-1's last pixel and its right one lane i+1's first; where that lane's
// tile is on another row, the column is outside this row's image and
// zeroed anyway. Only the two ends of the subgroup load, and in a single
// load (lane 0 its left column, the others their right one), which halves
// the scalar loads of the row.
fn halo(from_b: bool, base: u32, row: u32, ok: bool, x0: u32, lane: u32, first: f32, last: f32) -> vec2<f32> {
    let x = i32(x0);
    let edge = fetch_or_zero(from_b, base, row, ok, select(x + 8, x - 1, lane == 0u));
    let left = select(subgroupShuffleUp(last, 1u), edge, lane == 0u);
    let right = select(subgroupShuffleDown(first, 1u), edge, lane == lanes - 1u);
    return vec2(select(0.0, left, ok && x > 0), select(0.0, right, ok && x0 + 8u < p.width));
}

// This invocation's tile, numbered by subgroup and lane so that
// neighbouring lanes have neighbouring tiles. WG is a multiple of the
// subgroup size (8, 16, 32 or 64), so this covers the workgroup's WG tiles.
fn lane_tile(wg: vec3<u32>, nwg: vec3<u32>, sg: u32, size: u32, lane: u32) -> u32 {
    lanes = size;
    return linear_group(wg, nwg) * WG + sg * size + lane;
}
