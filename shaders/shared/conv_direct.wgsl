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

// The weights of one tap for the block's 16 output channels, 4 per vec4.
struct TapWeights {
    q0: vec4<f32>,
    q1: vec4<f32>,
    q2: vec4<f32>,
    q3: vec4<f32>,
}

// Three taps of one pixel into one accumulator quad, in tap order (the
// CPU reference's summation order).
fn mac3(acc: vec4<f32>, x: vec3<f32>, w0: vec4<f32>, w1: vec4<f32>, w2: vec4<f32>) -> vec4<f32> {
    return fma(vec4(x.z), w2, fma(vec4(x.y), w1, fma(vec4(x.x), w0, acc)));
}

// One input row: its K taps (t0..t2) for 8 pixels times 16 output
// channels. Accumulator by accumulator, all three taps at once, so that
// on llvmpipe, where the 128 accumulators live on the stack, each is
// loaded and stored once per row rather than once per tap. K = 1 passes
// zero weights (and zero inputs) for taps 1 and 2, which add exactly 0.
fn row(r: RowTaps, t0: TapWeights, t1: TapWeights, t2: TapWeights) {
    let x0 = vec3(r.v0.x, r.v1.x, r.v2.x);
    acc0_0 = mac3(acc0_0, x0, t0.q0, t1.q0, t2.q0);
    acc0_1 = mac3(acc0_1, x0, t0.q1, t1.q1, t2.q1);
    acc0_2 = mac3(acc0_2, x0, t0.q2, t1.q2, t2.q2);
    acc0_3 = mac3(acc0_3, x0, t0.q3, t1.q3, t2.q3);
    let x1 = vec3(r.v0.y, r.v1.y, r.v2.y);
    acc1_0 = mac3(acc1_0, x1, t0.q0, t1.q0, t2.q0);
    acc1_1 = mac3(acc1_1, x1, t0.q1, t1.q1, t2.q1);
    acc1_2 = mac3(acc1_2, x1, t0.q2, t1.q2, t2.q2);
    acc1_3 = mac3(acc1_3, x1, t0.q3, t1.q3, t2.q3);
    let x2 = vec3(r.v0.z, r.v1.z, r.v2.z);
    acc2_0 = mac3(acc2_0, x2, t0.q0, t1.q0, t2.q0);
    acc2_1 = mac3(acc2_1, x2, t0.q1, t1.q1, t2.q1);
    acc2_2 = mac3(acc2_2, x2, t0.q2, t1.q2, t2.q2);
    acc2_3 = mac3(acc2_3, x2, t0.q3, t1.q3, t2.q3);
    let x3 = vec3(r.v0.w, r.v1.w, r.v2.w);
    acc3_0 = mac3(acc3_0, x3, t0.q0, t1.q0, t2.q0);
    acc3_1 = mac3(acc3_1, x3, t0.q1, t1.q1, t2.q1);
    acc3_2 = mac3(acc3_2, x3, t0.q2, t1.q2, t2.q2);
    acc3_3 = mac3(acc3_3, x3, t0.q3, t1.q3, t2.q3);
    let x4 = vec3(r.u0.x, r.u1.x, r.u2.x);
    acc4_0 = mac3(acc4_0, x4, t0.q0, t1.q0, t2.q0);
    acc4_1 = mac3(acc4_1, x4, t0.q1, t1.q1, t2.q1);
    acc4_2 = mac3(acc4_2, x4, t0.q2, t1.q2, t2.q2);
    acc4_3 = mac3(acc4_3, x4, t0.q3, t1.q3, t2.q3);
    let x5 = vec3(r.u0.y, r.u1.y, r.u2.y);
    acc5_0 = mac3(acc5_0, x5, t0.q0, t1.q0, t2.q0);
    acc5_1 = mac3(acc5_1, x5, t0.q1, t1.q1, t2.q1);
    acc5_2 = mac3(acc5_2, x5, t0.q2, t1.q2, t2.q2);
    acc5_3 = mac3(acc5_3, x5, t0.q3, t1.q3, t2.q3);
    let x6 = vec3(r.u0.z, r.u1.z, r.u2.z);
    acc6_0 = mac3(acc6_0, x6, t0.q0, t1.q0, t2.q0);
    acc6_1 = mac3(acc6_1, x6, t0.q1, t1.q1, t2.q1);
    acc6_2 = mac3(acc6_2, x6, t0.q2, t1.q2, t2.q2);
    acc6_3 = mac3(acc6_3, x6, t0.q3, t1.q3, t2.q3);
    let x7 = vec3(r.u0.w, r.u1.w, r.u2.w);
    acc7_0 = mac3(acc7_0, x7, t0.q0, t1.q0, t2.q0);
    acc7_1 = mac3(acc7_1, x7, t0.q1, t1.q1, t2.q1);
    acc7_2 = mac3(acc7_2, x7, t0.q2, t1.q2, t2.q2);
    acc7_3 = mac3(acc7_3, x7, t0.q3, t1.q3, t2.q3);
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
