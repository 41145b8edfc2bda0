// Bilinear resampling, align_corners = False (ONNX Resize linear with
// pytorch_half_pixel): src = (dst + 0.5) * in / out - 0.5, clamped at 0, and
// src = 0 when out = 1. Mirrored by kernels::upsample::source_coord.

// Source coordinate of output index `o` along an axis: (index, weight of index + 1).
fn source_coord(o: u32, in_len: u32, out_len: u32) -> vec2<f32> {
    if out_len == 1u {
        return vec2(0.0, 0.0);
    }
    let s = max((f32(o) + 0.5) * f32(in_len) / f32(out_len) - 0.5, 0.0);
    let i = min(floor(s), f32(in_len - 1u));
    return vec2(i, s - i);
}

// The four source pixels (offsets within an in_h x in_w plane) and the two
// weights of output pixel (oy, ox); the far neighbours clamp to the edge.
struct Taps {
    offsets: vec4<u32>,
    // (x weight, y weight)
    weights: vec2<f32>,
}

fn bilinear_taps(oy: u32, ox: u32, in_h: u32, in_w: u32, out_h: u32, out_w: u32) -> Taps {
    let sy = source_coord(oy, in_h, out_h);
    let sx = source_coord(ox, in_w, out_w);
    let y0 = u32(sy.x);
    let x0 = u32(sx.x);
    let y1 = min(y0 + 1u, in_h - 1u);
    let x1 = min(x0 + 1u, in_w - 1u);
    return Taps(vec4(y0 * in_w + x0, y0 * in_w + x1, y1 * in_w + x0, y1 * in_w + x1), vec2(sx.y, sy.y));
}

// The interpolated value from the four taps' values, in the tap order.
fn bilerp(t: Taps, v: vec4<f32>) -> f32 {
    return mix(mix(v.x, v.y, t.weights.x), mix(v.z, v.w, t.weights.x), t.weights.y);
}
