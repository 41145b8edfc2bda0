// 2D convolution, stride 1, "same" padding: K x K kernel (K = 1 or 3) with
// dilation DIL, bias, optional ReLU. The input is the channel concatenation
// of two views `a` and `b` (b.channels = 0 for a plain conv), so decoder
// convs never materialize their concat.
//
// Register blocking: each invocation computes PX = 8 adjacent output pixels
// of one row for OCB = 8 output channels (64 accumulators), so each input
// value loaded is used 8 times and each weight 8 times. On llvmpipe, where
// every load costs a loop over the SIMD lanes, multiply-adds per load is
// what sets the speed (4 x 8 ran 1.5x slower). The output
// channel block comes from workgroup_id.z, so weight addresses are uniform
// across the workgroup (scalar loads on SIMD-on-CPU drivers, broadcast on GPUs).

//#include "shared/tensor.wgsl"

// Keep in sync with src/kernels/conv.rs (ConvParams).
struct ConvParams {
    a: View,
    b: View,
    dst: View,
    height: u32,
    width: u32,
    tiles_x: u32,
    cout_blocks: u32,
    relu: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

override K: u32 = 3u;
override DIL: u32 = 1u;
override PAD: u32 = DIL * (K - 1u) / 2u;

const PX: u32 = 8u;

@group(0) @binding(0) var<uniform> p: ConvParams;
@group(0) @binding(1) var<storage, read> in_a: array<f32>;
@group(0) @binding(2) var<storage, read> in_b: array<f32>;
// Packed at load time as [cout_blocks][cin][K*K][2] vec4s: the 8 output
// channels of a block for one input channel and tap are contiguous.
@group(0) @binding(3) var<storage, read> weights: array<vec4<f32>>;
// [cout_blocks][2] vec4s, zero-padded past cout.
@group(0) @binding(4) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> dst: array<f32>;

// Accumulators: pixel j, channels 0-3 (lo) and 4-7 (hi). Named variables,
// not an array: dynamically indexed private arrays spill on some drivers.
var<private> acc0l: vec4<f32>;
var<private> acc0h: vec4<f32>;
var<private> acc1l: vec4<f32>;
var<private> acc1h: vec4<f32>;
var<private> acc2l: vec4<f32>;
var<private> acc2h: vec4<f32>;
var<private> acc3l: vec4<f32>;
var<private> acc3h: vec4<f32>;
var<private> acc4l: vec4<f32>;
var<private> acc4h: vec4<f32>;
var<private> acc5l: vec4<f32>;
var<private> acc5h: vec4<f32>;
var<private> acc6l: vec4<f32>;
var<private> acc6h: vec4<f32>;
var<private> acc7l: vec4<f32>;
var<private> acc7h: vec4<f32>;

fn fetch(from_b: bool, i: u32) -> f32 {
    if from_b {
        return in_b[i];
    }
    return in_a[i];
}

// Input at column x of a row starting at `row`, zero outside the image.
fn fetch_or_zero(from_b: bool, row: u32, x: i32) -> f32 {
    if x < 0 || x >= i32(p.width) {
        return 0.0;
    }
    return fetch(from_b, row + u32(x));
}

// Four input pixels at column x of a row, zero outside the image.
fn fetch4(from_b: bool, row: u32, x: i32) -> vec4<f32> {
    return vec4(
        fetch_or_zero(from_b, row, x),
        fetch_or_zero(from_b, row, x + 1),
        fetch_or_zero(from_b, row, x + 2),
        fetch_or_zero(from_b, row, x + 3),
    );
}

// One input channel, one tap: 8 pixels (v, u) times 8 output channels.
fn tap(w: u32, v: vec4<f32>, u: vec4<f32>) {
    let wl = weights[w];
    let wh = weights[w + 1u];
    acc0l = fma(vec4(v.x), wl, acc0l);
    acc0h = fma(vec4(v.x), wh, acc0h);
    acc1l = fma(vec4(v.y), wl, acc1l);
    acc1h = fma(vec4(v.y), wh, acc1h);
    acc2l = fma(vec4(v.z), wl, acc2l);
    acc2h = fma(vec4(v.z), wh, acc2h);
    acc3l = fma(vec4(v.w), wl, acc3l);
    acc3h = fma(vec4(v.w), wh, acc3h);
    acc4l = fma(vec4(u.x), wl, acc4l);
    acc4h = fma(vec4(u.x), wh, acc4h);
    acc5l = fma(vec4(u.y), wl, acc5l);
    acc5h = fma(vec4(u.y), wh, acc5h);
    acc6l = fma(vec4(u.z), wl, acc6l);
    acc6h = fma(vec4(u.z), wh, acc6h);
    acc7l = fma(vec4(u.w), wl, acc7l);
    acc7h = fma(vec4(u.w), wh, acc7h);
}

fn activate(v: vec4<f32>) -> vec4<f32> {
    return select(v, max(v, vec4(0.0)), p.relu != 0u);
}

fn store_pixel(n: u32, cb: u32, y: u32, x: u32, lo: vec4<f32>, hi: vec4<f32>) {
    if x >= p.width {
        return;
    }
    let pix = y * p.width + x;
    let l = activate(lo);
    let h = activate(hi);
    for (var k = 0u; k < 4u; k++) {
        let c = cb * 8u + k;
        if c < p.dst.channels {
            dst[view_index(p.dst, n, c, pix)] = l[k];
        }
        if c + 4u < p.dst.channels {
            dst[view_index(p.dst, n, c + 4u, pix)] = h[k];
        }
    }
}

@compute @workgroup_size(WG)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let t = linear_group(wg, nwg) * WG + li;
    if t >= p.height * p.tiles_x {
        return;
    }
    let n = wg.z / p.cout_blocks;
    let cb = wg.z % p.cout_blocks;
    let y = t / p.tiles_x;
    let x0 = (t % p.tiles_x) * PX;
    acc0l = vec4(0.0);
    acc0h = vec4(0.0);
    acc1l = vec4(0.0);
    acc1h = vec4(0.0);
    acc2l = vec4(0.0);
    acc2h = vec4(0.0);
    acc3l = vec4(0.0);
    acc3h = vec4(0.0);
    acc4l = vec4(0.0);
    acc4h = vec4(0.0);
    acc5l = vec4(0.0);
    acc5h = vec4(0.0);
    acc6l = vec4(0.0);
    acc6h = vec4(0.0);
    acc7l = vec4(0.0);
    acc7h = vec4(0.0);

    let cin = p.a.channels + p.b.channels;
    var w = cb * cin * K * K * 2u;
    for (var ci = 0u; ci < cin; ci++) {
        let from_b = ci >= p.a.channels;
        let base = select(view_index(p.a, n, ci, 0u), view_index(p.b, n, ci - p.a.channels, 0u), from_b);
        for (var ky = 0u; ky < K; ky++) {
            let iy = i32(y + ky * DIL) - i32(PAD);
            if iy < 0 || iy >= i32(p.height) {
                w += K * 2u;
                continue;
            }
            let row = base + u32(iy) * p.width;
            for (var kx = 0u; kx < K; kx++) {
                let ix = i32(x0 + kx * DIL) - i32(PAD);
                tap(w, fetch4(from_b, row, ix), fetch4(from_b, row, ix + 4));
                w += 2u;
            }
        }
    }

    let bl = bias[cb * 2u];
    let bh = bias[cb * 2u + 1u];
    store_pixel(n, cb, y, x0, acc0l + bl, acc0h + bh);
    store_pixel(n, cb, y, x0 + 1u, acc1l + bl, acc1h + bh);
    store_pixel(n, cb, y, x0 + 2u, acc2l + bl, acc2h + bh);
    store_pixel(n, cb, y, x0 + 3u, acc3l + bl, acc3h + bh);
    store_pixel(n, cb, y, x0 + 4u, acc4l + bl, acc4h + bh);
    store_pixel(n, cb, y, x0 + 5u, acc5l + bl, acc5h + bh);
    store_pixel(n, cb, y, x0 + 6u, acc6l + bl, acc6h + bh);
    store_pixel(n, cb, y, x0 + 7u, acc7l + bl, acc7h + bh);
}
