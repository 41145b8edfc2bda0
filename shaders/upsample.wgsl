// Bilinear resize to any size, align_corners = False: ONNX Resize linear with
// pytorch_half_pixel, as exported from PyTorch's F.upsample / interpolate.
// src = (dst + 0.5) * in / out - 0.5, clamped at 0 (and src = 0 when out = 1,
// as ONNX defines it); the far neighbour is clamped to the last row/column.

//#include "shared/tensor.wgsl"
//#include "shared/bilinear.wgsl"

@group(0) @binding(0) var<uniform> p: SpatialParams;
@group(0) @binding(1) var<storage, read> src: array<act>;
@group(0) @binding(2) var<storage, read_write> dst: array<act>;

@compute @workgroup_size(WG)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let r = row_tile(invocation_index(wg, nwg, li), p.dst.channels, p.out_h, p.out_w);
    if r.c >= p.dst.channels {
        return;
    }
    let n = wg.z;
    let src_plane = view_index(p.src, n, r.c, 0u);
    let dst_row = view_index(p.dst, n, r.c, r.oy * p.out_w);
    for (var i = 0u; i < SPX; i++) {
        let ox = r.ox0 + i;
        if ox < p.out_w {
            let t = bilinear_taps(r.oy, ox, p.in_h, p.in_w, p.out_h, p.out_w);
            let o = t.offsets + src_plane;
            let v = vec4(f32(src[o.x]), f32(src[o.y]), f32(src[o.z]), f32(src[o.w]));
            dst[dst_row + ox] = act(bilerp(t, v));
        }
    }
}
