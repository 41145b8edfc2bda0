// Direct conv, every invocation loading its own weights: on GPUs the
// addresses are uniform across the workgroup, so the loads are broadcasts.
// The body is shared/conv_direct.wgsl.

//#include "shared/tensor.wgsl"
//#include "shared/bilinear.wgsl"
//#include "shared/conv_params.wgsl"
//#include "shared/conv_direct.wgsl"

// Input row r's multiply-adds, weights from w (`lane` is unused here).
fn taps(w: u32, lane: u32, r: RowTaps) {
    let t0 = TapWeights(weights[w], weights[w + 1u], weights[w + 2u], weights[w + 3u]);
    if K == 1u {
        row(r, t0, TapWeights(), TapWeights());
        return;
    }
    let t1 = TapWeights(weights[w + 4u], weights[w + 5u], weights[w + 6u], weights[w + 7u]);
    let t2 = TapWeights(weights[w + 8u], weights[w + 9u], weights[w + 10u], weights[w + 11u]);
    row(r, t0, t1, t2);
}

@compute @workgroup_size(WG)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    conv_direct(invocation_index(wg, nwg, li), wg.z, 0u);
}
