// The parameters and bindings every conv kernel takes (conv.wgsl,
// conv_subgroup.wgsl, conv_gemm.wgsl, conv_coop.wgsl), so one set of packed
// weights and one params struct serve each. Keep in sync with
// src/kernels/conv.rs (ConvParams).

//#include "shared/tensor.wgsl"
//#include "shared/bilinear.wgsl"

struct ConvParams {
    a: View,
    b: View,
    dst: View,
    // channels = 0: no residual.
    residual: View,
    height: u32,
    width: u32,
    tiles_x: u32,
    cout_blocks: u32,
    relu: u32,
    // The size of `a`: height x width, or smaller with UP_A.
    a_height: u32,
    a_width: u32,
    // The first output channel block this dispatch computes, and where
    // its weights for a's and b's channels start (vec4 indices into
    // `weights`, or into the uniform windows of
    // conv_subgroup_uniform.wgsl, which dispatches one block at a time).
    first_block: u32,
    w_a: u32,
    w_b: u32,
    // The layer's dilation, which the kernels read when DIL = 0.
    dilation: u32,
}

override K: u32 = 3u;
// The dilation, or 0 to read it from the params at run time: one pipeline
// then takes every dilation past 1 (the subgroup_any kernel, for the small
// layers where a distinct pipeline per shape costs more to compile than
// the constants save). The direct kernels' general row path serves any
// dilation.
override DIL: u32 = 1u;

fn dilation() -> u32 {
    if DIL == 0u {
        return p.dilation;
    }
    return DIL;
}

fn padding() -> u32 {
    return dilation() * (K - 1u) / 2u;
}
// Upsample-on-read: 1 = `a` is a_height x a_width and the conv reads it
// through the bilinear resize to height x width (U²-Net's _upsample_like),
// so the upsampled tensor is never written. Same arithmetic as upsample.wgsl.
// 2 = the same, exactly 2x in both directions (U²-Net at sizes divisible
// by 32): the direct kernels then read a's rows whole (row10_up2).
override UP_A: u32 = 0u;

@group(0) @binding(0) var<uniform> p: ConvParams;
@group(0) @binding(1) var<storage, read> in_a: array<act>;
@group(0) @binding(2) var<storage, read> in_b: array<act>;
// Packed at load time as [cout_blocks][cin][K*K][4] vec4s: the 16 output
// channels of a block for one input channel and tap are contiguous.
@group(0) @binding(3) var<storage, read> weights: array<vec4<f32>>;
// [cout_blocks][4] vec4s, zero-padded past cout.
@group(0) @binding(4) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> dst: array<act>;
@group(0) @binding(6) var<storage, read> res: array<act>;

// `a`'s channel starting at `base`, upsampled, at pixel (y, x) of the output grid.
fn fetch_up(base: u32, y: u32, x: u32) -> f32 {
    let t = bilinear_taps(y, x, p.a_height, p.a_width, p.height, p.width);
    let o = t.offsets + base;
    return bilerp(t, vec4(f32(in_a[o.x]), f32(in_a[o.y]), f32(in_a[o.z]), f32(in_a[o.w])));
}

// Input channel ci (of the concatenation of a and b) at pixel (y, x).
fn fetch_channel(n: u32, ci: u32, y: u32, x: u32) -> f32 {
    if ci < p.a.channels {
        let base = view_index(p.a, n, ci, 0u);
        if UP_A != 0u {
            return fetch_up(base, y, x);
        }
        return f32(in_a[base + y * p.width + x]);
    }
    return f32(in_b[view_index(p.b, n, ci - p.a.channels, y * p.width + x)]);
}

// The implicit GEMMs' input (conv_gemm.wgsl, conv_coop.wgsl): the value at
// reduction index k = ci * K * K + tap (as the packed weights order it)
// for output pixel (y, x), zero outside the image.
fn gather(n: u32, k: u32, y: i32, x: i32) -> f32 {
    let ci = k / (K * K);
    let tap = k % (K * K);
    let iy = y + i32((tap / K) * dilation()) - i32(padding());
    let ix = x + i32((tap % K) * dilation()) - i32(padding());
    if iy < 0 || iy >= i32(p.height) || ix < 0 || ix >= i32(p.width) {
        return 0.0;
    }
    return fetch_channel(n, ci, u32(iy), u32(ix));
}

// An implicit GEMM workgroup's share of the grid (conv_gemm.wgsl,
// conv_coop.wgsl): pixel tile `tile` (in tiles of the kernel's BM pixels),
// image n and channel tile nt (in tiles of the kernel's bn channels, bn / 16
// packed blocks each); kk is the length of K.
struct GemmGroup {
    tile: u32,
    n: u32,
    nt: u32,
    kk: u32,
}

fn gemm_group(wg: vec3<u32>, nwg: vec3<u32>, bn: u32) -> GemmGroup {
    let blocks_per_tile = bn / 16u;
    let n_tiles = (p.cout_blocks + blocks_per_tile - 1u) / blocks_per_tile;
    let kk = (p.a.channels + p.b.channels) * K * K;
    return GemmGroup(linear_group(wg, nwg), wg.z / n_tiles, wg.z % n_tiles, kk);
}

// Packed weight vec4 q of g's channel tile (channels 4q .. 4q+3 of it) at
// row k of K; zero past K's end and past the last block.
fn gemm_weight(g: GemmGroup, bn: u32, k: u32, q: u32) -> vec4<f32> {
    let block = g.nt * (bn / 16u) + q / 4u;
    if k < g.kk && block < p.cout_blocks {
        return weights[(block * g.kk + k) * 4u + q % 4u];
    }
    return vec4(0.0);
}

// Output channel c at pixel pix: activation, then the residual.
fn store_output(n: u32, c: u32, pix: u32, v: f32) {
    var o = select(v, max(v, 0.0), p.relu != 0u);
    if p.residual.channels != 0u {
        o += f32(res[view_index(p.residual, n, c, pix)]);
    }
    dst[view_index(p.dst, n, c, pix)] = act(o);
}

// Output channels c0..c0+3 at pixel pix. Channels past the output's are
// dropped (the padded weight blocks). The trip count is not a constant,
// so Mesa keeps the loop: llvmpipe compiles each store and residual load
// into a loop over its SIMD lanes, and four unrolled copies per call cost
// the Winograd kernel half its compile time (BENCHMARKS.md, "Time to the
// first output").
fn store4(n: u32, c0: u32, pix: u32, v: vec4<f32>) {
    for (var c = c0; c < min(p.dst.channels, c0 + 4u); c++) {
        store_output(n, c, pix, v[c - c0]);
    }
}
