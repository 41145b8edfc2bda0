// Direct conv with the weights shared through the subgroup: lane i loads
// vec4 i of a channel's weights and the others take it by broadcast, so
// the 36 weight vec4s of a 3x3 window cost 5 loads instead of 36. This is
// for llvmpipe, whose SSBO loads (Mesa 22.3) are a loop over the SIMD
// lanes with a bounds check each, even when every lane reads the same
// address: with the weight loads replaced by constants (a probe) the
// direct kernel ran 2x faster. The input rows above and below a lane's
// come from its neighbour lanes too. Needs subgroups of 8 to WG lanes.
// The body is shared/conv_subgroup_body.wgsl; this file reads the weights
// from the storage buffer, so it takes any layer.

//#include "shared/conv_params.wgsl"
//#include "shared/conv_subgroup_body.wgsl"

fn weight(from_b: bool, i: u32) -> vec4<f32> {
    return weights[i];
}
