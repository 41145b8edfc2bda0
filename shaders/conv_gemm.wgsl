// The same convolution as conv.wgsl (same params, bindings and packed
// weights), computed as an implicit GEMM: M = pixels of one image, N =
// output channels, K = input channels x taps, with no im2col buffer.
//
// A workgroup computes a BM = 64 pixel x BN = 32 channel tile. Each step
// stages BK = 16 rows of K in workgroup memory: the input tile is gathered
// on the fly (one pixel column per invocation, zero outside the image; the
// concatenation a|b is resolved here), the weight tile is two packed
// 16-channel blocks. Every invocation then accumulates 4 pixels x 8
// channels from workgroup memory: 32 multiply-adds per 6 loads, against
// the direct kernel's global loads. Pixels are strided by 16 across the
// invocations so each store instruction writes neighbouring pixels.
//
// This is the GPU-shaped kernel. On llvmpipe the two barriers per step
// cost more than the reuse gains (BENCHMARKS.md); the tuner picks per
// layer and adapter.

//#include "shared/tensor.wgsl"
//#include "shared/bilinear.wgsl"
//#include "shared/conv_params.wgsl"

const BM: u32 = 64u;
const BN: u32 = 32u;
const BK: u32 = 16u;

// [BK][BM] inputs and [BK][BN / 4] weight vec4s.
var<workgroup> tile_a: array<f32, 1024>;
var<workgroup> tile_b: array<vec4<f32>, 128>;

// acc{i}_{h}: pixel pm + 16 i, channels pc + 4 h .. pc + 4 h + 3.
var<private> acc0_0: vec4<f32>;
var<private> acc0_1: vec4<f32>;
var<private> acc1_0: vec4<f32>;
var<private> acc1_1: vec4<f32>;
var<private> acc2_0: vec4<f32>;
var<private> acc2_1: vec4<f32>;
var<private> acc3_0: vec4<f32>;
var<private> acc3_1: vec4<f32>;

// Row r of the input tile for this invocation's pixel (y, x): reduction
// index k = ci * K * K + tap, as the packed weights order it.
fn gather(n: u32, k: u32, y: i32, x: i32) -> f32 {
    let ci = k / (K * K);
    let tap = k % (K * K);
    let iy = y + i32((tap / K) * DIL) - i32(PAD);
    let ix = x + i32((tap % K) * DIL) - i32(PAD);
    if iy < 0 || iy >= i32(p.height) || ix < 0 || ix >= i32(p.width) {
        return 0.0;
    }
    return fetch_channel(n, ci, u32(iy), u32(ix));
}

@compute @workgroup_size(WG)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let plane = p.height * p.width;
    let tile = linear_group(wg, nwg);
    // Uniform per workgroup: all invocations reach the barriers.
    if tile * BM >= plane {
        return;
    }
    let n_tiles = (p.cout_blocks + 1u) / 2u;
    let n = wg.z / n_tiles;
    let nt = wg.z % n_tiles;
    let kk = (p.a.channels + p.b.channels) * K * K;

    // Loading role: one pixel column of the input tile.
    let m = tile * BM + li;
    let y = i32(m / p.width);
    let x = i32(m % p.width);
    // Computing role: pixels pm + 16 i, channels pc .. pc + 7 of the tile.
    let pm = li % 16u;
    let pc = (li / 16u) * 8u;

    acc0_0 = vec4(0.0);
    acc0_1 = vec4(0.0);
    acc1_0 = vec4(0.0);
    acc1_1 = vec4(0.0);
    acc2_0 = vec4(0.0);
    acc2_1 = vec4(0.0);
    acc3_0 = vec4(0.0);
    acc3_1 = vec4(0.0);

    for (var k0 = 0u; k0 < kk; k0 += BK) {
        for (var r = 0u; r < BK; r++) {
            var v = 0.0;
            if m < plane && k0 + r < kk {
                v = gather(n, k0 + r, y, x);
            }
            tile_a[r * BM + li] = v;
        }
        for (var j = li; j < BK * BN / 4u; j += WG) {
            let k = k0 + j / 8u;
            let block = nt * 2u + (j % 8u) / 4u;
            var w = vec4(0.0);
            if k < kk && block < p.cout_blocks {
                w = weights[(block * kk + k) * 4u + j % 4u];
            }
            tile_b[j] = w;
        }
        workgroupBarrier();
        for (var r = 0u; r < BK; r++) {
            let w0 = tile_b[r * 8u + pc / 4u];
            let w1 = tile_b[r * 8u + pc / 4u + 1u];
            let a0 = vec4(tile_a[r * BM + pm]);
            let a1 = vec4(tile_a[r * BM + pm + 16u]);
            let a2 = vec4(tile_a[r * BM + pm + 32u]);
            let a3 = vec4(tile_a[r * BM + pm + 48u]);
            acc0_0 = fma(a0, w0, acc0_0);
            acc0_1 = fma(a0, w1, acc0_1);
            acc1_0 = fma(a1, w0, acc1_0);
            acc1_1 = fma(a1, w1, acc1_1);
            acc2_0 = fma(a2, w0, acc2_0);
            acc2_1 = fma(a2, w1, acc2_1);
            acc3_0 = fma(a3, w0, acc3_0);
            acc3_1 = fma(a3, w1, acc3_1);
        }
        workgroupBarrier();
    }

    let c0 = nt * BN + pc;
    if c0 >= p.dst.channels {
        return;
    }
    let b0 = bias[c0 / 4u];
    let b1 = bias[c0 / 4u + 1u];
    let base = tile * BM + pm;
    if base < plane {
        store4(n, c0, base, acc0_0 + b0);
        store4(n, c0 + 4u, base, acc0_1 + b1);
    }
    if base + 16u < plane {
        store4(n, c0, base + 16u, acc1_0 + b0);
        store4(n, c0 + 4u, base + 16u, acc1_1 + b1);
    }
    if base + 32u < plane {
        store4(n, c0, base + 32u, acc2_0 + b0);
        store4(n, c0 + 4u, base + 32u, acc2_1 + b1);
    }
    if base + 48u < plane {
        store4(n, c0, base + 48u, acc3_0 + b0);
        store4(n, c0 + 4u, base + 48u, acc3_1 + b1);
    }
}
