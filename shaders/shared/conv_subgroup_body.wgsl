// The subgroup conv kernels' body (conv_subgroup.wgsl,
// conv_subgroup_uniform.wgsl): the direct conv (shared/conv_direct.wgsl)
// with each weight loaded once per subgroup and broadcast, and the input
// rows above and below a lane's taken from its neighbours. The entry file
// defines `weight(from_b, i)`: vec4 i of the weights for a's (b's)
// channels.
// Needs subgroups of 8 to WG lanes, all active at every broadcast and
// shuffle.
// Needs shared/tensor.wgsl, shared/bilinear.wgsl, shared/conv_params.wgsl,
// shared/conv_rows.wgsl, shared/conv_direct.wgsl, shared/lane_rows.wgsl.

// The 36 weight vec4s from w (through the entry file's `weight`): lane i
// of l{j} holds vec4 8j + i, so quad q of tap k (vec4 4k + q) comes from
// l{(4k+q)/8}, lane (4k+q)%8. Lanes past 7 load too (uniform control
// flow); past the binding's end WebGPU clamps the load, and nothing reads
// those values.
fn accumulate(from_b: bool, w: u32, lane: u32, r0: RowTaps, r1: RowTaps, r2: RowTaps) {
    let l0 = weight(from_b, w + lane);
    let l1 = weight(from_b, w + 8u + lane);
    let l2 = weight(from_b, w + 16u + lane);
    let l3 = weight(from_b, w + 24u + lane);
    let l4 = weight(from_b, w + 32u + lane);
    let q0 = Quad(array(
        subgroupBroadcast(l0, 0u), subgroupBroadcast(l0, 4u), subgroupBroadcast(l1, 0u),
        subgroupBroadcast(l1, 4u), subgroupBroadcast(l2, 0u), subgroupBroadcast(l2, 4u),
        subgroupBroadcast(l3, 0u), subgroupBroadcast(l3, 4u), subgroupBroadcast(l4, 0u),
    ));
    let q1 = Quad(array(
        subgroupBroadcast(l0, 1u), subgroupBroadcast(l0, 5u), subgroupBroadcast(l1, 1u),
        subgroupBroadcast(l1, 5u), subgroupBroadcast(l2, 1u), subgroupBroadcast(l2, 5u),
        subgroupBroadcast(l3, 1u), subgroupBroadcast(l3, 5u), subgroupBroadcast(l4, 1u),
    ));
    let q2 = Quad(array(
        subgroupBroadcast(l0, 2u), subgroupBroadcast(l0, 6u), subgroupBroadcast(l1, 2u),
        subgroupBroadcast(l1, 6u), subgroupBroadcast(l2, 2u), subgroupBroadcast(l2, 6u),
        subgroupBroadcast(l3, 2u), subgroupBroadcast(l3, 6u), subgroupBroadcast(l4, 2u),
    ));
    let q3 = Quad(array(
        subgroupBroadcast(l0, 3u), subgroupBroadcast(l0, 7u), subgroupBroadcast(l1, 3u),
        subgroupBroadcast(l1, 7u), subgroupBroadcast(l2, 3u), subgroupBroadcast(l2, 7u),
        subgroupBroadcast(l3, 3u), subgroupBroadcast(l3, 7u), subgroupBroadcast(l4, 3u),
    ));
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
