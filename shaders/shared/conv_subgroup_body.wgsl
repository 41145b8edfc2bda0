// The subgroup conv kernels' body (conv_subgroup.wgsl,
// conv_subgroup_uniform.wgsl): the direct conv (shared/conv_direct.wgsl)
// with each weight loaded once per subgroup and broadcast, and the input
// rows above and below a lane's taken from its neighbours. The entry file
// defines `weight(from_b, i)`: vec4 i of the weights for a's (b's)
// channels.
// Needs subgroups of 8 to WG lanes, all active at every broadcast and
// shuffle.

//#include "shared/tensor.wgsl"
//#include "shared/conv_params.wgsl"
//#include "shared/conv_rows.wgsl"
//#include "shared/conv_direct.wgsl"
//#include "shared/lane_rows.wgsl"

// The 36 weight vec4s from w (through the entry file's `weight`): lane i
// loads vec4 8j + i and broadcast8 hands it to all as l{j}[i], so quad q
// of tap k (vec4 4k + q) is l{(4k+q)/8}[(4k+q)%8]. Lanes past 7 load too
// (uniform control flow); past the binding's end WebGPU clamps the load,
// and nothing reads those values (nor l4's last four).
fn accumulate(from_b: bool, w: u32, lane: u32, r0: RowTaps, r1: RowTaps, r2: RowTaps) {
    let l0 = broadcast8(weight(from_b, w + lane));
    let l1 = broadcast8(weight(from_b, w + 8u + lane));
    let l2 = broadcast8(weight(from_b, w + 16u + lane));
    let l3 = broadcast8(weight(from_b, w + 24u + lane));
    let l4 = broadcast8(weight(from_b, w + 32u + lane));
    let q0 = Quad(array(l0[0], l0[4], l1[0], l1[4], l2[0], l2[4], l3[0], l3[4], l4[0]));
    let q1 = Quad(array(l0[1], l0[5], l1[1], l1[5], l2[1], l2[5], l3[1], l3[5], l4[1]));
    let q2 = Quad(array(l0[2], l0[6], l1[2], l1[6], l2[2], l2[6], l3[2], l3[6], l4[2]));
    let q3 = Quad(array(l0[3], l0[7], l1[3], l1[7], l2[3], l2[7], l3[3], l3[7], l4[3]));
    window(r0, r1, r2, q0, q1, q2, q3);
}

// A channel's three input rows for output row y: at dilation 1 the
// lane's own row and its neighbours' (shared/lane_rows.wgsl).
fn rows3(from_b: bool, base: u32, y: u32, x0: u32, lane: u32) -> array<RowTaps, 3> {
    if DIL != 1u {
        return loaded_rows3(from_b, base, y, x0);
    }
    let mine = row10(from_b, base, i32(y), x0);
    let n = neighbour_rows(from_b, base, x0, mine, mine, i32(y) - 1, i32(y) + 1, lane);
    return array(taps(n[0]), taps(mine), taps(n[1]));
}

@compute @workgroup_size(WG)
fn main(ids: LaneIds) {
    let t = lane_tile(ids);
    if subgroupAll(t.row >= p.height) {
        return;
    }
    conv_direct(t.row, t.x0, t.row < p.height, ids.wg.z, ids.lane);
}
