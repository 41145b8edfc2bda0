// Workgroup sums for kernels that reduce (dot products, means). Every
// invocation of the workgroup must call `workgroup_sum` in uniform control
// flow: invocations with nothing to add pass zeros instead of returning
// early.

//#include "shared/tensor.wgsl"

var<workgroup> reduce_scratch: array<vec4<f32>, WG>;

// The sum of `v` over the workgroup, returned to every invocation.
fn workgroup_sum(li: u32, v: vec4<f32>) -> vec4<f32> {
    reduce_scratch[li] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if li < s {
            reduce_scratch[li] += reduce_scratch[li + s];
        }
        workgroupBarrier();
    }
    let total = reduce_scratch[0];
    // A second call must not overwrite the scratch before everyone has read it.
    workgroupBarrier();
    return total;
}
