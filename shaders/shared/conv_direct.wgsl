// The direct conv's body, shared by its two entry files, which differ only
// in how the weights reach the invocations: conv.wgsl loads them in every
// invocation, conv_subgroup.wgsl loads each once per subgroup and
// broadcasts it. Each defines `taps(w, lane, r)`, the multiply-adds of one
// input row.
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
// the last tile compute a copy of it and store nothing. The subgroup
// variant needs that (every lane must reach every broadcast), and on
// llvmpipe branches around loads cost more than the selects.
// Needs shared/tensor.wgsl, shared/bilinear.wgsl, shared/conv_params.wgsl.

const PX: u32 = 8u;

// Vector loads: 1 when every row starts at a multiple of 4 elements (width
// divisible by 4), so 4 neighbouring inputs are one aligned vec4 load. The
// same buffers are bound a second time as vec4 arrays for it.
override VEC: u32 = 0u;
@group(0) @binding(7) var<storage, read> in_a4: array<vec4<act>>;
@group(0) @binding(8) var<storage, read> in_b4: array<vec4<act>>;

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

// The PX pixels under each of the K taps of one input row (v: pixels 0-3,
// u: pixels 4-7), zero outside the image. K = 1 uses v0 and u0.
struct RowTaps {
    v0: vec4<f32>,
    u0: vec4<f32>,
    v1: vec4<f32>,
    u1: vec4<f32>,
    v2: vec4<f32>,
    u2: vec4<f32>,
}

// The direct conv walks rows of one channel (from `base`, the channel's
// start in a or b), so it indexes the buffers itself rather than per
// element through fetch_channel. `from_b` is a literal at every call, so
// the branches on it fold away. Input at (y, x), or zero unless `ok` (the
// row is inside the image) and x is inside the row; the load itself is
// clamped into the image.
fn fetch_or_zero(from_b: bool, base: u32, y: u32, ok: bool, x: i32) -> f32 {
    let xc = u32(clamp(x, 0, i32(p.width) - 1));
    var v: f32;
    if from_b {
        v = f32(in_b[base + y * p.width + xc]);
    } else if UP_A != 0u {
        v = fetch_up(base, y, xc);
    } else {
        v = f32(in_a[base + y * p.width + xc]);
    }
    return select(0.0, v, ok && x >= 0 && x < i32(p.width));
}

// Four inputs from column x0 + dx of row y (x0 a multiple of PX). With VEC
// and dx a multiple of 4 they are one aligned load, all inside or all
// outside the row.
fn fetch4(from_b: bool, base: u32, y: u32, ok: bool, x0: u32, dx: i32) -> vec4<f32> {
    let x = i32(x0) + dx;
    if VEC != 0u && (dx & 3) == 0 && (from_b || UP_A == 0u) {
        let i = (base + y * p.width + u32(clamp(x, 0, i32(p.width) - 4))) / 4u;
        var v: vec4<f32>;
        if from_b {
            v = vec4<f32>(in_b4[i]);
        } else {
            v = vec4<f32>(in_a4[i]);
        }
        return select(vec4(0.0), v, ok && x >= 0 && x < i32(p.width));
    }
    return vec4(
        fetch_or_zero(from_b, base, y, ok, x),
        fetch_or_zero(from_b, base, y, ok, x + 1),
        fetch_or_zero(from_b, base, y, ok, x + 2),
        fetch_or_zero(from_b, base, y, ok, x + 3),
    );
}

// Row ky of the window for output row y, pixels x0 .. x0+7.
fn row_taps(from_b: bool, base: u32, y: u32, x0: u32, ky: u32) -> RowTaps {
    let iy = i32(y + ky * DIL) - i32(PAD);
    let ok = iy >= 0 && iy < i32(p.height);
    let row = u32(clamp(iy, 0, i32(p.height) - 1));
    if K == 3u && DIL == 1u {
        // The three taps of a row overlap: columns x0-1 .. x0+8 serve all
        // 24 of their inputs with 10 loads (with VEC, two of them vec4).
        let left = fetch_or_zero(from_b, base, row, ok, i32(x0) - 1);
        let v0 = fetch4(from_b, base, row, ok, x0, 0);
        let v1 = fetch4(from_b, base, row, ok, x0, 4);
        let right = fetch_or_zero(from_b, base, row, ok, i32(x0) + 8);
        let r0 = vec4(left, v0.xyz);
        let r1 = vec4(v0.w, v1.xyz);
        let r2 = vec2(v1.w, right);
        return RowTaps(r0, r1, vec4(r0.yzw, r1.x), vec4(r1.yzw, r2.x), vec4(r0.zw, r1.xy), vec4(r1.zw, r2));
    }
    var r: RowTaps;
    let pad = i32(PAD);
    r.v0 = fetch4(from_b, base, row, ok, x0, -pad);
    r.u0 = fetch4(from_b, base, row, ok, x0, 4 - pad);
    if K == 3u {
        let d = i32(DIL);
        r.v1 = fetch4(from_b, base, row, ok, x0, d - pad);
        r.u1 = fetch4(from_b, base, row, ok, x0, d + 4 - pad);
        r.v2 = fetch4(from_b, base, row, ok, x0, 2 * d - pad);
        r.u2 = fetch4(from_b, base, row, ok, x0, 2 * d + 4 - pad);
    }
    return r;
}

// One input channel (from `base`) with its weights from `w`: K rows.
fn channel(from_b: bool, base: u32, y: u32, x0: u32, w: u32, lane: u32) {
    for (var ky = 0u; ky < K; ky++) {
        taps(w + ky * K * 4u, lane, row_taps(from_b, base, y, x0, ky));
    }
}

// One input channel, one tap: 8 pixels (v, u) times 16 output channels
// (w0..w3, four each).
fn tap(v: vec4<f32>, u: vec4<f32>, w0: vec4<f32>, w1: vec4<f32>, w2: vec4<f32>, w3: vec4<f32>) {
    acc0_0 = fma(vec4(v.x), w0, acc0_0);
    acc0_1 = fma(vec4(v.x), w1, acc0_1);
    acc0_2 = fma(vec4(v.x), w2, acc0_2);
    acc0_3 = fma(vec4(v.x), w3, acc0_3);
    acc1_0 = fma(vec4(v.y), w0, acc1_0);
    acc1_1 = fma(vec4(v.y), w1, acc1_1);
    acc1_2 = fma(vec4(v.y), w2, acc1_2);
    acc1_3 = fma(vec4(v.y), w3, acc1_3);
    acc2_0 = fma(vec4(v.z), w0, acc2_0);
    acc2_1 = fma(vec4(v.z), w1, acc2_1);
    acc2_2 = fma(vec4(v.z), w2, acc2_2);
    acc2_3 = fma(vec4(v.z), w3, acc2_3);
    acc3_0 = fma(vec4(v.w), w0, acc3_0);
    acc3_1 = fma(vec4(v.w), w1, acc3_1);
    acc3_2 = fma(vec4(v.w), w2, acc3_2);
    acc3_3 = fma(vec4(v.w), w3, acc3_3);
    acc4_0 = fma(vec4(u.x), w0, acc4_0);
    acc4_1 = fma(vec4(u.x), w1, acc4_1);
    acc4_2 = fma(vec4(u.x), w2, acc4_2);
    acc4_3 = fma(vec4(u.x), w3, acc4_3);
    acc5_0 = fma(vec4(u.y), w0, acc5_0);
    acc5_1 = fma(vec4(u.y), w1, acc5_1);
    acc5_2 = fma(vec4(u.y), w2, acc5_2);
    acc5_3 = fma(vec4(u.y), w3, acc5_3);
    acc6_0 = fma(vec4(u.z), w0, acc6_0);
    acc6_1 = fma(vec4(u.z), w1, acc6_1);
    acc6_2 = fma(vec4(u.z), w2, acc6_2);
    acc6_3 = fma(vec4(u.z), w3, acc6_3);
    acc7_0 = fma(vec4(u.w), w0, acc7_0);
    acc7_1 = fma(vec4(u.w), w1, acc7_1);
    acc7_2 = fma(vec4(u.w), w2, acc7_2);
    acc7_3 = fma(vec4(u.w), w3, acc7_3);
}

fn store_pixel(n: u32, cb: u32, y: u32, x: u32, c0: vec4<f32>, c1: vec4<f32>, c2: vec4<f32>, c3: vec4<f32>) {
    if x >= p.width {
        return;
    }
    let pix = y * p.width + x;
    store4(n, cb * 16u, pix, c0);
    store4(n, cb * 16u + 4u, pix, c1);
    store4(n, cb * 16u + 8u, pix, c2);
    store4(n, cb * 16u + 12u, pix, c3);
}

// Invocation t's tile, output channel block and image from z.
fn conv_direct(t: u32, z: u32, lane: u32) {
    let tiles = p.height * p.tiles_x;
    let tc = min(t, tiles - 1u);
    let n = z / p.cout_blocks;
    let cb = z % p.cout_blocks;
    let y = tc / p.tiles_x;
    let x0 = (tc % p.tiles_x) * PX;
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
    let per_channel = K * K * 4u;
    var w = cb * (p.a.channels + p.b.channels) * per_channel;
    for (var ci = 0u; ci < p.a.channels; ci++) {
        channel(false, view_index(p.a, n, ci, 0u), y, x0, w, lane);
        w += per_channel;
    }
    for (var ci = 0u; ci < p.b.channels; ci++) {
        channel(true, view_index(p.b, n, ci, 0u), y, x0, w, lane);
        w += per_channel;
    }
    if t >= tiles {
        return;
    }

    let b0 = bias[cb * 4u + 0u];
    let b1 = bias[cb * 4u + 1u];
    let b2 = bias[cb * 4u + 2u];
    let b3 = bias[cb * 4u + 3u];
    store_pixel(n, cb, y, x0 + 0u, acc0_0 + b0, acc0_1 + b1, acc0_2 + b2, acc0_3 + b3);
    store_pixel(n, cb, y, x0 + 1u, acc1_0 + b0, acc1_1 + b1, acc1_2 + b2, acc1_3 + b3);
    store_pixel(n, cb, y, x0 + 2u, acc2_0 + b0, acc2_1 + b1, acc2_2 + b2, acc2_3 + b3);
    store_pixel(n, cb, y, x0 + 3u, acc3_0 + b0, acc3_1 + b1, acc3_2 + b2, acc3_3 + b3);
    store_pixel(n, cb, y, x0 + 4u, acc4_0 + b0, acc4_1 + b1, acc4_2 + b2, acc4_3 + b3);
    store_pixel(n, cb, y, x0 + 5u, acc5_0 + b0, acc5_1 + b1, acc5_2 + b2, acc5_3 + b3);
    store_pixel(n, cb, y, x0 + 6u, acc6_0 + b0, acc6_1 + b1, acc6_2 + b2, acc6_3 + b3);
    store_pixel(n, cb, y, x0 + 7u, acc7_0 + b0, acc7_1 + b1, acc7_2 + b2, acc7_3 + b3);
}
