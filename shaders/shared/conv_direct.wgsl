// The direct conv's body, shared by its three entry files, which differ only
// in how the weights reach the invocations: conv.wgsl loads them in every
// invocation, conv_subgroup.wgsl and conv_subgroup_uniform.wgsl load each
// once per subgroup and broadcast it, and take rows from neighbour lanes.
// Each defines `accumulate(from_b, w, lane, r0, r1, r2)`: loads the 36
// weight vec4s of a channel of a (or b) from w and calls `window`; and
// `rows3(from_b, base, y, x0, lane)`: a channel's three input rows for
// output row y (row_taps).
//
// 2D convolution, stride 1, "same" padding: K x K kernel (K = 1 or 3) with
// dilation DIL, bias, optional ReLU, then an optional residual added (the
// RSU block's `hx1d + hxin`, so that sum never takes its own pass). The
// input is the channel concatenation of two views `a` and `b`
// (b.channels = 0 for a plain conv), so decoder convs never materialize
// their concat.
//
// Register blocking: each invocation computes PX = 8 adjacent output pixels
// of one row for OCB = 16 output channels (128 accumulators), so each input
// value loaded is used 16 times and each weight 8 times. On llvmpipe, where
// every load costs a loop over the SIMD lanes, multiply-adds per load is
// what sets the speed: 4 px x 8 ch ran 2.7x slower than 8 x 8, which ran
// 1.5x slower than 8 x 16 (BENCHMARKS.md). The output channel block comes
// from workgroup_id.z, so weight addresses are uniform across the workgroup.
//
// No control flow depends on the invocation until the final stores: the
// borders are handled by clamped loads and selects, and invocations past
// the last tile compute a copy of it (or, in the subgroup kernels, of the
// rows below the image) and store nothing. The subgroup variant needs
// that (every lane must reach every broadcast), and on llvmpipe branches
// around loads cost more than the selects. The entry points return early
// only where no lane that goes on needs them: past the last tile
// (conv.wgsl), or with the whole subgroup (conv_subgroup.wgsl), which on
// small layers skips llvmpipe's idle SIMD groups.

//#include "shared/tensor.wgsl"
//#include "shared/conv_params.wgsl"
//#include "shared/conv_rows.wgsl"

const PX: u32 = 8u;

// Accumulators: acc{pixel}_{q} holds channels 4q..4q+3. Named variables,
// not an array: dynamically indexed private arrays spill on some drivers.
var<private> acc0_0: vec4<f32>;
var<private> acc0_1: vec4<f32>;
var<private> acc0_2: vec4<f32>;
var<private> acc0_3: vec4<f32>;
var<private> acc1_0: vec4<f32>;
var<private> acc1_1: vec4<f32>;
var<private> acc1_2: vec4<f32>;
var<private> acc1_3: vec4<f32>;
var<private> acc2_0: vec4<f32>;
var<private> acc2_1: vec4<f32>;
var<private> acc2_2: vec4<f32>;
var<private> acc2_3: vec4<f32>;
var<private> acc3_0: vec4<f32>;
var<private> acc3_1: vec4<f32>;
var<private> acc3_2: vec4<f32>;
var<private> acc3_3: vec4<f32>;
var<private> acc4_0: vec4<f32>;
var<private> acc4_1: vec4<f32>;
var<private> acc4_2: vec4<f32>;
var<private> acc4_3: vec4<f32>;
var<private> acc5_0: vec4<f32>;
var<private> acc5_1: vec4<f32>;
var<private> acc5_2: vec4<f32>;
var<private> acc5_3: vec4<f32>;
var<private> acc6_0: vec4<f32>;
var<private> acc6_1: vec4<f32>;
var<private> acc6_2: vec4<f32>;
var<private> acc6_3: vec4<f32>;
var<private> acc7_0: vec4<f32>;
var<private> acc7_1: vec4<f32>;
var<private> acc7_2: vec4<f32>;
var<private> acc7_3: vec4<f32>;

// The PX pixels under each of the 3 taps of one input row (v: pixels 0-3,
// u: pixels 4-7), zero outside the image; for K = 1, three channels'
// pixels (channels3).
struct RowTaps {
    v0: vec4<f32>,
    u0: vec4<f32>,
    v1: vec4<f32>,
    u1: vec4<f32>,
    v2: vec4<f32>,
    u2: vec4<f32>,
}

// The three taps at dilation 1 of a row's columns x0-1 .. x0+8.
fn taps(c: Row10) -> RowTaps {
    let r0 = vec4(c.left, c.v0.xyz);
    let r1 = vec4(c.v0.w, c.v1.xyz);
    let r2 = vec2(c.v1.w, c.right);
    return RowTaps(r0, r1, vec4(r0.yzw, r1.x), vec4(r1.yzw, r2.x), vec4(r0.zw, r1.xy), vec4(r1.zw, r2));
}

// Row ky of the 3x3 window for output row y, pixels x0 .. x0+7.
fn row_taps(from_b: bool, base: u32, y: u32, x0: u32, ky: u32) -> RowTaps {
    let iy = i32(y + ky * dilation()) - i32(padding());
    if DIL == 1u {
        // The three taps of a row overlap: columns x0-1 .. x0+8 serve all
        // 24 of their inputs.
        return taps(row10(from_b, base, iy, x0));
    }
    let ok = iy >= 0 && iy < i32(p.height);
    let row = u32(clamp(iy, 0, i32(p.height) - 1));
    let d = i32(dilation());
    return RowTaps(
        fetch4(from_b, base, row, ok, x0, -d),
        fetch4(from_b, base, row, ok, x0, 4 - d),
        fetch4(from_b, base, row, ok, x0, 0),
        fetch4(from_b, base, row, ok, x0, 4),
        fetch4(from_b, base, row, ok, x0, d),
        fetch4(from_b, base, row, ok, x0, d + 4),
    );
}

// The window's three rows, each loaded (row_taps).
fn loaded_rows3(from_b: bool, base: u32, y: u32, x0: u32) -> array<RowTaps, 3> {
    return array(row_taps(from_b, base, y, x0, 0u), row_taps(from_b, base, y, x0, 1u), row_taps(from_b, base, y, x0, 2u));
}

// Pointwise (K = 1): the 8 pixels of channel c of view v at row y, zero
// past the view's last channel.
fn pixels8(from_b: bool, v: View, n: u32, c: u32, y: u32, x0: u32) -> array<vec4<f32>, 2> {
    let ok = c < v.channels;
    let base = view_index(v, n, min(c, v.channels - 1u), 0u);
    return array(fetch4(from_b, base, y, ok, x0, 0), fetch4(from_b, base, y, ok, x0, 4));
}

// Channels c, c+1, c+2 as the three taps of a RowTaps.
fn channels3(from_b: bool, v: View, n: u32, c: u32, y: u32, x0: u32) -> RowTaps {
    let a = pixels8(from_b, v, n, c, y, x0);
    let b = pixels8(from_b, v, n, c + 1u, y, x0);
    let d = pixels8(from_b, v, n, c + 2u, y, x0);
    return RowTaps(a[0], a[1], b[0], b[1], d[0], d[1]);
}

// The 3x3 conv of all of view v's channels, weights from w on.
fn conv3x3(from_b: bool, v: View, n: u32, y: u32, x0: u32, w: u32, lane: u32) {
    for (var ci = 0u; ci < v.channels; ci++) {
        let r = rows3(from_b, view_index(v, n, ci, 0u), y, x0, lane);
        accumulate(from_b, w + ci * 36u, lane, r[0], r[1], r[2]);
    }
}

// The 1x1 conv of view v's channels, nine at a time: their weights are
// laid out as a 3x3 window's would be (one vec4 per channel and quad), and
// nine channels in order are the reference's summation order too. Past
// the last channel the inputs are zero, so the weights read there (the
// next channels') add exactly nothing.
fn conv1x1(from_b: bool, v: View, n: u32, y: u32, x0: u32, w: u32, lane: u32) {
    for (var ci = 0u; ci < v.channels; ci += 9u) {
        let r0 = channels3(from_b, v, n, ci, y, x0);
        let r1 = channels3(from_b, v, n, ci + 3u, y, x0);
        let r2 = channels3(from_b, v, n, ci + 6u, y, x0);
        accumulate(from_b, w + ci * 4u, lane, r0, r1, r2);
    }
}

// One channel's weights for 4 of the block's output channels (a quad), by
// tap: t[3 ky + kx]. Quad q of tap k is weight vec4 4k + q.
struct Quad {
    t: array<vec4<f32>, 9>,
}

// Nine taps of one pixel (rows a, b, c) into one accumulator quad, in tap
// order: the CPU reference's summation order.
fn mac9(acc: vec4<f32>, a: vec3<f32>, b: vec3<f32>, c: vec3<f32>, w: Quad) -> vec4<f32> {
    var s = acc;
    s = fma(vec4(a.x), w.t[0], s);
    s = fma(vec4(a.y), w.t[1], s);
    s = fma(vec4(a.z), w.t[2], s);
    s = fma(vec4(b.x), w.t[3], s);
    s = fma(vec4(b.y), w.t[4], s);
    s = fma(vec4(b.z), w.t[5], s);
    s = fma(vec4(c.x), w.t[6], s);
    s = fma(vec4(c.y), w.t[7], s);
    s = fma(vec4(c.z), w.t[8], s);
    return s;
}

// Pixel px's column (the 3 taps) of a row's window.
fn column(r: RowTaps, px: u32) -> vec3<f32> {
    if px < 4u {
        return vec3(r.v0[px], r.v1[px], r.v2[px]);
    }
    return vec3(r.u0[px - 4u], r.u1[px - 4u], r.u2[px - 4u]);
}

// Output channel quads the layer has in its first block: 4, or fewer
// when it has fewer than 16 output channels (U²-Net's 1-channel side
// outputs), so the multiply-adds of quads past its last channel are
// skipped (the branches fold away: QUADS is a pipeline constant).
override QUADS: u32 = 4u;

// Pixel px's window (rows r0..r2) into its accumulator quads a0..a3.
fn mac_pixel(
    a0: ptr<private, vec4<f32>>, a1: ptr<private, vec4<f32>>,
    a2: ptr<private, vec4<f32>>, a3: ptr<private, vec4<f32>>,
    r0: RowTaps, r1: RowTaps, r2: RowTaps, px: u32,
    q0: Quad, q1: Quad, q2: Quad, q3: Quad,
) {
    let a = column(r0, px);
    let b = column(r1, px);
    let c = column(r2, px);
    *a0 = mac9(*a0, a, b, c, q0);
    if QUADS > 1u {
        *a1 = mac9(*a1, a, b, c, q1);
    }
    if QUADS > 2u {
        *a2 = mac9(*a2, a, b, c, q2);
    }
    if QUADS > 3u {
        *a3 = mac9(*a3, a, b, c, q3);
    }
}

// One input channel's 3x3 window (rows r0..r2) into all 8 x 16 outputs,
// accumulator by accumulator: on llvmpipe, where the 128 accumulators live
// on the stack, each is loaded and stored once per input channel instead
// of once per tap (1.25x over once per row, 1.4x over once per tap).
fn window(r0: RowTaps, r1: RowTaps, r2: RowTaps, q0: Quad, q1: Quad, q2: Quad, q3: Quad) {
    mac_pixel(&acc0_0, &acc0_1, &acc0_2, &acc0_3, r0, r1, r2, 0u, q0, q1, q2, q3);
    mac_pixel(&acc1_0, &acc1_1, &acc1_2, &acc1_3, r0, r1, r2, 1u, q0, q1, q2, q3);
    mac_pixel(&acc2_0, &acc2_1, &acc2_2, &acc2_3, r0, r1, r2, 2u, q0, q1, q2, q3);
    mac_pixel(&acc3_0, &acc3_1, &acc3_2, &acc3_3, r0, r1, r2, 3u, q0, q1, q2, q3);
    mac_pixel(&acc4_0, &acc4_1, &acc4_2, &acc4_3, r0, r1, r2, 4u, q0, q1, q2, q3);
    mac_pixel(&acc5_0, &acc5_1, &acc5_2, &acc5_3, r0, r1, r2, 5u, q0, q1, q2, q3);
    mac_pixel(&acc6_0, &acc6_1, &acc6_2, &acc6_3, r0, r1, r2, 6u, q0, q1, q2, q3);
    mac_pixel(&acc7_0, &acc7_1, &acc7_2, &acc7_3, r0, r1, r2, 7u, q0, q1, q2, q3);
}

// Quad q of a pixel's accumulators (a0..a3).
fn quad_of(a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, a3: vec4<f32>, q: u32) -> vec4<f32> {
    return select(select(a0, a1, q == 1u), select(a2, a3, q == 3u), q >= 2u);
}

// Pixel px of the tile, output channel c, if the pixel is in the image.
fn store_pixel(n: u32, c: u32, y: u32, x0: u32, px: u32, v: f32) {
    let x = x0 + px;
    if x < p.width {
        store_output(n, c, y * p.width + x, v);
    }
}

// Output tiles of one image and channel block: rows x tiles per row.
fn tile_count() -> u32 {
    return p.height * p.tiles_x;
}

// The tile of output row y, columns x0 .. x0+7, for the output channel
// block and image from z; stored if `live` (the row is in the image).
fn conv_direct(y: u32, x0: u32, live: bool, z: u32, lane: u32) {
    let n = z / p.cout_blocks;
    let cb = p.first_block + z % p.cout_blocks;
    acc0_0 = vec4(0.0);
    acc0_1 = vec4(0.0);
    acc0_2 = vec4(0.0);
    acc0_3 = vec4(0.0);
    acc1_0 = vec4(0.0);
    acc1_1 = vec4(0.0);
    acc1_2 = vec4(0.0);
    acc1_3 = vec4(0.0);
    acc2_0 = vec4(0.0);
    acc2_1 = vec4(0.0);
    acc2_2 = vec4(0.0);
    acc2_3 = vec4(0.0);
    acc3_0 = vec4(0.0);
    acc3_1 = vec4(0.0);
    acc3_2 = vec4(0.0);
    acc3_3 = vec4(0.0);
    acc4_0 = vec4(0.0);
    acc4_1 = vec4(0.0);
    acc4_2 = vec4(0.0);
    acc4_3 = vec4(0.0);
    acc5_0 = vec4(0.0);
    acc5_1 = vec4(0.0);
    acc5_2 = vec4(0.0);
    acc5_3 = vec4(0.0);
    acc6_0 = vec4(0.0);
    acc6_1 = vec4(0.0);
    acc6_2 = vec4(0.0);
    acc6_3 = vec4(0.0);
    acc7_0 = vec4(0.0);
    acc7_1 = vec4(0.0);
    acc7_2 = vec4(0.0);
    acc7_3 = vec4(0.0);

    // Weights are [cout_blocks][cin][K*K][4] vec4s.
    let block = (z % p.cout_blocks) * (p.a.channels + p.b.channels) * K * K * 4u;
    let w = p.w_a + block;
    let wb = p.w_b + block;
    if K == 1u {
        conv1x1(false, p.a, n, y, x0, w, lane);
        conv1x1(true, p.b, n, y, x0, wb, lane);
    } else {
        conv3x3(false, p.a, n, y, x0, w, lane);
        conv3x3(true, p.b, n, y, x0, wb, lane);
    }
    if !live {
        return;
    }

    // One output channel per iteration, its 8 pixels picked from the
    // accumulators: 8 stores in the code instead of 128. The loop is not
    // unrolled (its trip count is not a constant), which on llvmpipe cut a
    // conv pipeline's compile time 4x at the same speed (BENCHMARKS.md).
    let c0 = cb * 16u;
    for (var c = c0; c < min(p.dst.channels, c0 + 16u); c++) {
        let q = (c - c0) / 4u;
        let k = c % 4u;
        let b = bias[c / 4u][k];
        store_pixel(n, c, y, x0, 0u, quad_of(acc0_0, acc0_1, acc0_2, acc0_3, q)[k] + b);
        store_pixel(n, c, y, x0, 1u, quad_of(acc1_0, acc1_1, acc1_2, acc1_3, q)[k] + b);
        store_pixel(n, c, y, x0, 2u, quad_of(acc2_0, acc2_1, acc2_2, acc2_3, q)[k] + b);
        store_pixel(n, c, y, x0, 3u, quad_of(acc3_0, acc3_1, acc3_2, acc3_3, q)[k] + b);
        store_pixel(n, c, y, x0, 4u, quad_of(acc4_0, acc4_1, acc4_2, acc4_3, q)[k] + b);
        store_pixel(n, c, y, x0, 5u, quad_of(acc5_0, acc5_1, acc5_2, acc5_3, q)[k] + b);
        store_pixel(n, c, y, x0, 6u, quad_of(acc6_0, acc6_1, acc6_2, acc6_3, q)[k] + b);
        store_pixel(n, c, y, x0, 7u, quad_of(acc7_0, acc7_1, acc7_2, acc7_3, q)[k] + b);
    }
}
