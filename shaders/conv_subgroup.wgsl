// Direct conv with the weights shared through the subgroup: lane i loads
// vec4 i of a row's weights and the others take it by broadcast, so a row
// of 12 weight vec4s costs 2 loads instead of 12. This is for llvmpipe,
// whose SSBO loads (Mesa 22.3) are a loop over the SIMD lanes with a
// bounds check each, even when every lane reads the same address: with
// the weight loads replaced by constants (a probe) the direct kernel ran
// 2x faster. Needs subgroups of at least 8 lanes, all active at every
// broadcast (see shared/conv_direct.wgsl). The body is shared/conv_direct.wgsl.

//#include "shared/tensor.wgsl"
//#include "shared/bilinear.wgsl"
//#include "shared/conv_params.wgsl"
//#include "shared/conv_direct.wgsl"

// Input row r's multiply-adds, weights from w: vec4s w .. w+7 come from
// lanes 0-7 of `a`, w+8 .. w+11 from lanes 0-3 of `b`. Lanes past 7 load
// too (uniform control flow), and past the buffer's end the load is
// clamped by WebGPU's bounds rules; nothing reads those values.
fn taps(w: u32, lane: u32, r: RowTaps) {
    let a = weights[w + lane];
    let t0 = TapWeights(subgroupBroadcast(a, 0u), subgroupBroadcast(a, 1u), subgroupBroadcast(a, 2u), subgroupBroadcast(a, 3u));
    if K == 1u {
        row(r, t0, TapWeights(), TapWeights());
        return;
    }
    let b = weights[w + 8u + lane];
    let t1 = TapWeights(subgroupBroadcast(a, 4u), subgroupBroadcast(a, 5u), subgroupBroadcast(a, 6u), subgroupBroadcast(a, 7u));
    let t2 = TapWeights(subgroupBroadcast(b, 0u), subgroupBroadcast(b, 1u), subgroupBroadcast(b, 2u), subgroupBroadcast(b, 3u));
    row(r, t0, t1, t2);
}

@compute @workgroup_size(WG)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
    @builtin(subgroup_invocation_id) lane: u32,
) {
    conv_direct(invocation_index(wg, nwg, li), wg.z, lane);
}
