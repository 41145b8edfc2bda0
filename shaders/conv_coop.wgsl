// The implicit GEMM of conv_gemm.wgsl on cooperative matrices (tensor
// cores on NVIDIA): a subgroup multiplies S x S f16 tiles into f32 sums in
// one instruction. Same params, bindings and packed weights as the other
// conv kernels, in either storage precision; the products are f16 x f16
// (activations and weights both rounded to f16). It runs only where
// wgpu's experimental cooperative-matrix feature was enabled
// (U2CUT_COOP_MATRIX=1) and the adapter multiplies square S x S f16
// matrices into f32 (ConvKernel::Coop).
//
// A workgroup computes a BM = 64 pixel x BN = 32 channel tile. Each step
// stages BK = 16 rows of K in workgroup memory, as f16: the input tile
// gathered on the fly (one pixel column per invocation, zero outside the
// image; the concatenation a|b is resolved here), the weight tile from two
// packed 16-channel blocks. The (BM / S) x (BN / S) result tiles are dealt
// out 4 per subgroup, so the workgroup must have BM * BN / (4 S S)
// subgroups: 8 of 8 lanes for S = 8 (lavapipe), 2 of 32 for S = 16
// (NVIDIA). The sums go through workgroup memory to the epilogue (bias,
// ReLU, residual), one pixel per invocation.
//
// The prelude (src/gpu/shaders.rs, Variant) declares S, the tile types
// AMat, BMat (S x S f16) and CMat (S x S f32), and enables f16 and the
// cooperative matrices.

//#include "shared/tensor.wgsl"
//#include "shared/conv_params.wgsl"

const BM: u32 = 64u;
const BN: u32 = 32u;
const BK: u32 = 16u;

// Column-major tiles, as coopLoad and coopStore read and write them:
// inputs (pixel m, k) at k * BM + m; weights (k, channel n) at n * BK + k;
// sums (pixel m, channel n) at n * BM + m.
var<workgroup> tile_a: array<f16, BK * BM>;
var<workgroup> tile_b: array<f16, BN * BK>;
var<workgroup> tile_c: array<f32, BN * BM>;

// Result tile f of this workgroup's (BM / S) x (BN / S), row-major: its
// first pixel and channel.
fn tile_origin(f: u32) -> vec2<u32> {
    let across = BN / S;
    return vec2((f / across) * S, (f % across) * S);
}

// One S-deep slice (from row kk of the staged tiles) of result tile f.
fn multiply_add(f: u32, kk: u32, c: CMat) -> CMat {
    let o = tile_origin(f);
    let a = coopLoad<AMat>(&tile_a[kk * BM + o.x], BM);
    let b = coopLoad<BMat>(&tile_b[o.y * BK + kk], BK);
    return coopMultiplyAdd(a, b, c);
}

fn store_tile(f: u32, c: CMat) {
    let o = tile_origin(f);
    coopStore(c, &tile_c[o.y * BM + o.x], BM);
}

@compute @workgroup_size(WG)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
    @builtin(subgroup_id) sg: u32,
) {
    let plane = p.height * p.width;
    let g = gemm_group(wg, nwg, BN);
    // Uniform per workgroup: all invocations reach the barriers and every
    // lane of a subgroup the cooperative operations.
    if g.tile * BM >= plane {
        return;
    }

    // This invocation's pixel column, for staging and for the epilogue.
    let m = g.tile * BM + li;
    let y = i32(m / p.width);
    let x = i32(m % p.width);

    var c0 = CMat();
    var c1 = CMat();
    var c2 = CMat();
    var c3 = CMat();
    for (var k0 = 0u; k0 < g.kk; k0 += BK) {
        for (var r = 0u; r < BK; r++) {
            var v = 0.0;
            if m < plane && k0 + r < g.kk {
                v = gather(g.n, k0 + r, y, x);
            }
            tile_a[r * BM + li] = f16(v);
        }
        // BK x BN / 4 weight vec4s, each 4 channels of one row of K.
        for (var j = li; j < BK * BN / 4u; j += WG) {
            let r = j / (BN / 4u);
            let q = j % (BN / 4u);
            let w = gemm_weight(g, BN, k0 + r, q);
            for (var i = 0u; i < 4u; i++) {
                tile_b[(4u * q + i) * BK + r] = f16(w[i]);
            }
        }
        workgroupBarrier();
        for (var d = 0u; d < BK; d += S) {
            c0 = multiply_add(4u * sg, d, c0);
            c1 = multiply_add(4u * sg + 1u, d, c1);
            c2 = multiply_add(4u * sg + 2u, d, c2);
            c3 = multiply_add(4u * sg + 3u, d, c3);
        }
        workgroupBarrier();
    }
    store_tile(4u * sg, c0);
    store_tile(4u * sg + 1u, c1);
    store_tile(4u * sg + 2u, c2);
    store_tile(4u * sg + 3u, c3);
    workgroupBarrier();

    if m >= plane {
        return;
    }
    for (var q = 0u; q < BN / 4u; q++) {
        let c = g.nt * BN + 4u * q;
        if c < p.dst.channels {
            let s = vec4(
                tile_c[(4u * q) * BM + li],
                tile_c[(4u * q + 1u) * BM + li],
                tile_c[(4u * q + 2u) * BM + li],
                tile_c[(4u * q + 3u) * BM + li],
            );
            store4(g.n, c, m, s + bias[c / 4u]);
        }
    }
}
