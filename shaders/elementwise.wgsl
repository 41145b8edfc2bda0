// Elementwise ops over views of equal shape: the RSU residual add (when it
// is not fused into a conv), the sigmoid of the side outputs, and the
// network input's conversion to the activations' storage type. The input
// and the sigmoid's outputs are f32 whatever `act` is, so those entry
// points bind f32 arrays at bindings of their own.

//#include "shared/tensor.wgsl"

// Keep in sync with src/kernels/elementwise.rs (ElementwiseParams).
struct ElementwiseParams {
    a: View,
    b: View,
    dst: View,
}

@group(0) @binding(0) var<uniform> p: ElementwiseParams;
@group(0) @binding(1) var<storage, read> in_a: array<act>;
@group(0) @binding(2) var<storage, read> in_b: array<act>;
@group(0) @binding(3) var<storage, read_write> dst: array<act>;
@group(0) @binding(4) var<storage, read_write> dst_f32: array<f32>;
@group(0) @binding(5) var<storage, read> in_f32: array<f32>;

// (image, channel, pixel) of this invocation, or none past the end.
fn element(wg: vec3<u32>, nwg: vec3<u32>, li: u32) -> vec4<u32> {
    let e = invocation_index(wg, nwg, li);
    let plane = p.dst.plane;
    return vec4(wg.z, e / plane, e % plane, u32(e < p.dst.channels * plane));
}

@compute @workgroup_size(WG)
fn add(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let e = element(wg, nwg, li);
    if e.w == 0u {
        return;
    }
    let sum = f32(in_a[view_index(p.a, e.x, e.y, e.z)]) + f32(in_b[view_index(p.b, e.x, e.y, e.z)]);
    dst[view_index(p.dst, e.x, e.y, e.z)] = act(sum);
}

@compute @workgroup_size(WG)
fn sigmoid(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let e = element(wg, nwg, li);
    if e.w == 0u {
        return;
    }
    let x = f32(in_a[view_index(p.a, e.x, e.y, e.z)]);
    dst_f32[view_index(p.dst, e.x, e.y, e.z)] = 1.0 / (1.0 + exp(-x));
}

@compute @workgroup_size(WG)
fn to_act(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let e = element(wg, nwg, li);
    if e.w == 0u {
        return;
    }
    dst[view_index(p.dst, e.x, e.y, e.z)] = act(in_f32[view_index(p.a, e.x, e.y, e.z)]);
}
