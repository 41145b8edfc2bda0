// The same convolution as conv.wgsl (same params, bindings and packed
// weights), computed as an implicit GEMM: M = pixels of one image, N =
// output channels, K = input channels x taps, with no im2col buffer.
//
// A workgroup computes a BM pixel x BN channel tile; its 64 invocations
// are a 16 x 4 grid, each accumulating TM pixels x TN channel quads
// (register blocking). Each step stages BK = 16 rows of K in workgroup
// memory: the input tile is gathered on the fly (pixel columns, zero
// outside the image; the concatenation a|b is resolved here), the weight
// tile is BN / 16 packed 16-channel blocks. Then every invocation reads
// TM + TN values per row of K for TM x TN vec4 multiply-adds, against
// the direct kernel's global loads. Pixels are strided by 16 across the
// invocations so each store instruction writes neighbouring pixels.
//
// The tile shape is the pipeline's choice (TM, TN overrides; ConvKernel
// names them gemmBMxBN): bigger tiles reuse each staged value more but
// need more registers and leave fewer workgroups on small layers, so the
// tuner times them per layer and adapter. On llvmpipe the two barriers
// per step cost more than the reuse gains (BENCHMARKS.md).

//#include "shared/tensor.wgsl"
//#include "shared/bilinear.wgsl"
//#include "shared/conv_params.wgsl"

// Pixels (4 or 8) and channel quads (2 or 4) per invocation.
override TM: u32 = 4u;
override TN: u32 = 2u;
// Most accumulator quads and weight quads an invocation holds: private
// arrays need constant sizes. Loops run to TM and TN, which the driver
// sees as constants, so it can unroll them and keep these in registers.
const MAX_TM: u32 = 8u;
const MAX_TN: u32 = 4u;
override BM: u32 = 16u * TM;
override BN: u32 = 16u * TN;
const BK: u32 = 16u;

// [BK][BM] inputs and [BK][BN / 4] weight vec4s.
var<workgroup> tile_a: array<f32, BK * BM>;
var<workgroup> tile_b: array<vec4<f32>, BK * BN / 4u>;

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
    let blocks_per_tile = BN / 16u;
    let n_tiles = (p.cout_blocks + blocks_per_tile - 1u) / blocks_per_tile;
    let n = wg.z / n_tiles;
    let nt = wg.z % n_tiles;
    let kk = (p.a.channels + p.b.channels) * K * K;
    let quads = BN / 4u;

    // Computing role: pixels pm + 16 i, channel quads pq .. pq + TN - 1.
    let pm = li % 16u;
    let pq = (li / 16u) * TN;

    var acc: array<vec4<f32>, MAX_TM * MAX_TN>;
    for (var k0 = 0u; k0 < kk; k0 += BK) {
        // Loading role: pixel columns li, li + WG, ... of the input tile.
        for (var col = li; col < BM; col += WG) {
            let m = tile * BM + col;
            let y = i32(m / p.width);
            let x = i32(m % p.width);
            for (var r = 0u; r < BK; r++) {
                var v = 0.0;
                if m < plane && k0 + r < kk {
                    v = gather(n, k0 + r, y, x);
                }
                tile_a[r * BM + col] = v;
            }
        }
        for (var j = li; j < BK * quads; j += WG) {
            let k = k0 + j / quads;
            let q = j % quads;
            let block = nt * blocks_per_tile + q / 4u;
            var w = vec4(0.0);
            if k < kk && block < p.cout_blocks {
                w = weights[(block * kk + k) * 4u + q % 4u];
            }
            tile_b[j] = w;
        }
        workgroupBarrier();
        for (var r = 0u; r < BK; r++) {
            var w: array<vec4<f32>, MAX_TN>;
            for (var j = 0u; j < TN; j++) {
                w[j] = tile_b[r * quads + pq + j];
            }
            for (var i = 0u; i < TM; i++) {
                let a = vec4(tile_a[r * BM + pm + 16u * i]);
                for (var j = 0u; j < TN; j++) {
                    acc[i * TN + j] = fma(a, w[j], acc[i * TN + j]);
                }
            }
        }
        workgroupBarrier();
    }

    for (var i = 0u; i < TM; i++) {
        let pix = tile * BM + pm + 16u * i;
        for (var j = 0u; j < TN; j++) {
            let c = nt * BN + 4u * (pq + j);
            if pix < plane && c < p.dst.channels {
                store4(n, c, pix, acc[i * TN + j] + bias[c / 4u]);
            }
        }
    }
}
