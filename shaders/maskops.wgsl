// Pointwise operations on masks in [0, 1] whose meaning is in 8-bit levels,
// as rembg works on uint8 masks: the rembg post-process threshold and the
// trimap's thresholds and classes.

//#include "shared/tensor.wgsl"

// Keep in sync with src/kernels/maskops.rs (MaskParams).
struct MaskParams {
    len: u32,
    // `threshold`: 8-bit level; `split`: foreground level (strictly above).
    level_a: u32,
    // `split`: background level (strictly below).
    level_b: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> kp: MaskParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<storage, read> src_b: array<f32>;
@group(0) @binding(4) var<storage, read_write> dst_b: array<f32>;

// The 8-bit level of a mask value, rounded like an 8-bit conversion.
fn level(v: f32) -> u32 {
    return u32(round(clamp(v, 0.0, 1.0) * 255.0));
}

// dst = 1 where the level is >= level_a, else 0 (rembg: np.where(m < 127, 0, 255)).
@compute @workgroup_size(WG)
fn threshold(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let e = invocation_index(wg, nwg, li);
    if e >= kp.len {
        return;
    }
    dst[e] = select(0.0, 1.0, level(src[e]) >= kp.level_a);
}

// Sure foreground (level > level_a) into dst, sure background (level < level_b)
// into dst_b, as 0 / 1.
@compute @workgroup_size(WG)
fn split(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let e = invocation_index(wg, nwg, li);
    if e >= kp.len {
        return;
    }
    let l = level(src[e]);
    dst[e] = select(0.0, 1.0, l > kp.level_a);
    dst_b[e] = select(0.0, 1.0, l < kp.level_b);
}

// Trimap from the eroded classes: 1 foreground (src), 0 background (src_b),
// 128/255 unknown (rembg's 128).
@compute @workgroup_size(WG)
fn combine(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let e = invocation_index(wg, nwg, li);
    if e >= kp.len {
        return;
    }
    dst[e] = select(select(128.0 / 255.0, 0.0, src_b[e] > 0.5), 1.0, src[e] > 0.5);
}
