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
    let g = gemm_group(wg, nwg, BN);
    // Uniform per workgroup: all invocations reach the barriers.
    if g.tile * BM >= plane {
        return;
    }
    let quads = BN / 4u;

    // Computing role: pixels pm + 16 i, channel quads pq .. pq + TN - 1.
    let pm = li % 16u;
    let pq = (li / 16u) * TN;

    var acc: array<vec4<f32>, MAX_TM * MAX_TN>;
    for (var k0 = 0u; k0 < g.kk; k0 += BK) {
        // Loading role: pixel columns li, li + WG, ... of the input tile.
        for (var col = li; col < BM; col += WG) {
            let m = g.tile * BM + col;
            let y = i32(m / p.width);
            let x = i32(m % p.width);
            for (var r = 0u; r < BK; r++) {
                var v = 0.0;
                if m < plane && k0 + r < g.kk {
                    v = gather(g.n, k0 + r, y, x);
                }
                tile_a[r * BM + col] = v;
            }
        }
        for (var j = li; j < BK * quads; j += WG) {
            tile_b[j] = gemm_weight(g, BN, k0 + j / quads, j % quads);
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
        let pix = g.tile * BM + pm + 16u * i;
        for (var j = 0u; j < TN; j++) {
            let c = g.nt * BN + 4u * (pq + j);
            if pix < plane && c < p.dst.channels {
                store4(g.n, c, pix, acc[i * TN + j] + bias[c / 4u]);
            }
        }
    }
}
