// 3x3 conv at dilation 1 by Winograd's minimal filtering F(2x2, 3x3)
// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
// 2016). Each 2x2 block of outputs is A^T [U ⊙ (B^T d B)] A, summed over
// input channels, with d the 4x4 input patch under it and U = G g G^T the
// channel's 3x3 weights transformed on the host (src/kernels/winograd.rs):
// 16 multiplies per input channel instead of 36. The transforms are adds
// only. Not the CPU reference's summation order: it has its own tolerance.
//
// Each invocation takes output rows y0, y0+1 and columns x0 .. x0+7 (four
// 2x2 tiles side by side, so a row's 10 input columns are the direct
// kernels' 8 pixels plus halo) for 8 output channels, half of a packed
// 16-channel block. Like conv_subgroup.wgsl, lane i loads every 8th of
// an input channel's 32 weight vec4s and the others take them by
// broadcast, and the lanes stack their tiles top to bottom, each loading
// its own two input rows and taking the rows above and below from its
// neighbours (shared/lane_rows.wgsl), so it needs subgroups of 8 to WG
// lanes, all active at every broadcast and shuffle.
// What it sums in the transformed domain (4 tiles x 16 elements x 8
// channels) lives in `m0` .. `m3`.

//#include "shared/tensor.wgsl"
//#include "shared/conv_params.wgsl"
//#include "shared/conv_rows.wgsl"
//#include "shared/lane_rows.wgsl"

// Element e (of the 4x4 transformed tile, e = 4 row + column) for channel
// quad q (channels 4q .. 4q+3 of the half block) is vec4 2e + q: the
// order of the packed weights.
alias Elements = array<vec4<f32>, 32>;

// The four tiles' sums, left to right.
var<private> m0: Elements;
var<private> m1: Elements;
var<private> m2: Elements;
var<private> m3: Elements;

// One channel's 32 transformed weight vec4s, from vec4 w on.
fn channel_weights(w: u32, lane: u32) -> Elements {
    let b0 = broadcast8(weights[w + lane]);
    let b1 = broadcast8(weights[w + 8u + lane]);
    let b2 = broadcast8(weights[w + 16u + lane]);
    let b3 = broadcast8(weights[w + 24u + lane]);
    return Elements(
        b0[0], b0[1], b0[2], b0[3], b0[4], b0[5], b0[6], b0[7],
        b1[0], b1[1], b1[2], b1[3], b1[4], b1[5], b1[6], b1[7],
        b2[0], b2[1], b2[2], b2[3], b2[4], b2[5], b2[6], b2[7],
        b3[0], b3[1], b3[2], b3[3], b3[4], b3[5], b3[6], b3[7],
    );
}

fn sub(a: Row10, b: Row10) -> Row10 {
    return Row10(a.left - b.left, a.v0 - b.v0, a.v1 - b.v1, a.right - b.right);
}

fn add(a: Row10, b: Row10) -> Row10 {
    return Row10(a.left + b.left, a.v0 + b.v0, a.v1 + b.v1, a.right + b.right);
}

// B^T applied along a row: columns c0 .. c3 of one tile.
fn bt(c0: f32, c1: f32, c2: f32, c3: f32) -> vec4<f32> {
    return vec4(c0 - c2, c1 + c2, c2 - c1, c1 - c3);
}

// Row r of a tile's transformed input (x: its 4 elements) times the
// weights u, into the tile's sums. r is a literal at every call, so
// every index is a constant once inlined.
fn mac_row(acc: ptr<private, Elements>, r: u32, x: vec4<f32>, u: Elements) {
    let i = 8u * r;
    (*acc)[i] = fma(vec4(x.x), u[i], (*acc)[i]);
    (*acc)[i + 1u] = fma(vec4(x.x), u[i + 1u], (*acc)[i + 1u]);
    (*acc)[i + 2u] = fma(vec4(x.y), u[i + 2u], (*acc)[i + 2u]);
    (*acc)[i + 3u] = fma(vec4(x.y), u[i + 3u], (*acc)[i + 3u]);
    (*acc)[i + 4u] = fma(vec4(x.z), u[i + 4u], (*acc)[i + 4u]);
    (*acc)[i + 5u] = fma(vec4(x.z), u[i + 5u], (*acc)[i + 5u]);
    (*acc)[i + 6u] = fma(vec4(x.w), u[i + 6u], (*acc)[i + 6u]);
    (*acc)[i + 7u] = fma(vec4(x.w), u[i + 7u], (*acc)[i + 7u]);
}

// Row r of B^T d (the 10 columns after the transform down the rows) into
// the four tiles, whose columns overlap by 2. Row by row, so only one
// row of the transformed input is live at a time (10% faster on
// llvmpipe than transforming the whole channel first).
fn mac_tiles(r: u32, c: Row10, u: Elements) {
    mac_row(&m0, r, bt(c.left, c.v0.x, c.v0.y, c.v0.z), u);
    mac_row(&m1, r, bt(c.v0.y, c.v0.z, c.v0.w, c.v1.x), u);
    mac_row(&m2, r, bt(c.v0.w, c.v1.x, c.v1.y, c.v1.z), u);
    mac_row(&m3, r, bt(c.v1.y, c.v1.z, c.v1.w, c.right), u);
}

// Channel ci of view v, its weights from vec4 w.
fn channel(from_b: bool, v: View, n: u32, ci: u32, w: u32, y0: u32, x0: u32, lane: u32) {
    let u = channel_weights(w, lane);
    let base = view_index(v, n, ci, 0u);
    let y = i32(y0);
    let d1 = row10(from_b, base, y, x0);
    let d2 = row10(from_b, base, y + 1, x0);
    let outer = neighbour_rows(from_b, base, x0, d1, d2, y - 1, y + 2, lane);
    let d0 = outer[0];
    let d3 = outer[1];
    // B^T down the rows.
    mac_tiles(0u, sub(d0, d2), u);
    mac_tiles(1u, add(d1, d2), u);
    mac_tiles(2u, sub(d2, d1), u);
    mac_tiles(3u, sub(d1, d3), u);
}

// Column c of A^T M for channel quad q: (M0 + M1 + M2, M1 - M2 - M3) down
// the rows. c and q are literals, so the indices are constants.
fn at_column(acc: ptr<private, Elements>, c: u32, q: u32) -> array<vec4<f32>, 2> {
    let i = 2u * c + q;
    let e1 = (*acc)[i + 8u];
    let e2 = (*acc)[i + 16u];
    return array((*acc)[i] + e1 + e2, e1 - e2 - (*acc)[i + 24u]);
}

// A^T M A + bias for channel quad q of a tile at (y0, x), activated,
// with the residual, stored; pixels past the image's edge dropped.
fn store_quad(acc: ptr<private, Elements>, q: u32, n: u32, half: u32, y0: u32, x: u32) {
    let c0 = at_column(acc, 0u, q);
    let c1 = at_column(acc, 1u, q);
    let c2 = at_column(acc, 2u, q);
    let c3 = at_column(acc, 3u, q);
    let b = bias[2u * half + q];
    let o = array(c0[0] + c1[0] + c2[0], c1[0] - c2[0] - c3[0], c0[1] + c1[1] + c2[1], c1[1] - c2[1] - c3[1]);
    for (var k = 0u; k < 4u; k++) {
        let y = y0 + k / 2u;
        let xk = x + k % 2u;
        if y < p.height && xk < p.width {
            store4(n, 8u * half + 4u * q, y * p.width + xk, o[k] + b);
        }
    }
}

fn store_tile(acc: ptr<private, Elements>, n: u32, half: u32, y0: u32, x: u32) {
    store_quad(acc, 0u, n, half, y0, x);
    store_quad(acc, 1u, n, half, y0, x);
}

@compute @workgroup_size(WG)
fn main(ids: LaneIds) {
    // Lanes past the image's last rows compute zeros for the broadcasts
    // and their neighbours, and store nothing.
    let t = lane_tile(ids);
    if subgroupAll(t.row >= (p.height + 1u) / 2u) {
        return;
    }
    let y0 = t.row * 2u;
    let x0 = t.x0;
    let halves = 2u * p.cout_blocks;
    let n = ids.wg.z / halves;
    let half = ids.wg.z % halves;
    m0 = Elements();
    m1 = Elements();
    m2 = Elements();
    m3 = Elements();
    // Weights are [halves][cin][16 elements][2 quads] vec4s.
    let w = half * (p.a.channels + p.b.channels) * 32u;
    for (var ci = 0u; ci < p.a.channels; ci++) {
        channel(false, p.a, n, ci, w + ci * 32u, y0, x0, ids.lane);
    }
    let wb = w + p.a.channels * 32u;
    for (var ci = 0u; ci < p.b.channels; ci++) {
        channel(true, p.b, n, ci, wb + ci * 32u, y0, x0, ids.lane);
    }
    store_tile(&m0, n, half, y0, x0);
    store_tile(&m1, n, half, y0, x0 + 2u);
    store_tile(&m2, n, half, y0, x0 + 4u);
    store_tile(&m3, n, half, y0, x0 + 6u);
}
