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
