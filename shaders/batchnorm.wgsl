// Batch normalization in eval mode, optionally followed by ReLU:
// y = (x - mean) / sqrt(var + eps) * gamma + beta.
// The fast path folds this into the preceding conv at load time; this kernel
// runs the unfolded graph (research, and checking the fold itself).

//#include "shared/tensor.wgsl"

// Keep in sync with src/kernels/batchnorm.rs (BatchNormParams).
struct BatchNormParams {
    src: View,
    dst: View,
    eps: f32,
    relu: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: BatchNormParams;
@group(0) @binding(1) var<storage, read> src: array<act>;
// [gamma; C], [beta; C], [mean; C], [var; C]
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<act>;

@compute @workgroup_size(WG)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let e = invocation_index(wg, nwg, li);
    let plane = p.src.plane;
    let channels = p.src.channels;
    if e >= channels * plane {
        return;
    }
    let n = wg.z;
    let c = e / plane;
    let pix = e % plane;
    let gamma = stats[c];
    let beta = stats[channels + c];
    let mean = stats[2u * channels + c];
    let variance = stats[3u * channels + c];
    var v = (f32(src[view_index(p.src, n, c, pix)]) - mean) / sqrt(variance + p.eps) * gamma + beta;
    if p.relu != 0u {
        v = max(v, 0.0);
    }
    dst[view_index(p.dst, n, c, pix)] = act(v);
}
