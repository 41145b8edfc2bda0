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
    let e = invocation_index(wg, nwg, li);
    let out_plane = p.out_h * p.out_w;
    if e >= p.dst.channels * out_plane {
        return;
    }
    let n = wg.z;
    let c = e / out_plane;
    let oy = (e % out_plane) / p.out_w;
    let ox = e % p.out_w;
    let sy = source_coord(oy, p.in_h, p.out_h);
    let sx = source_coord(ox, p.in_w, p.out_w);
    let y0 = u32(sy.x);
    let x0 = u32(sx.x);
    let y1 = min(y0 + 1u, p.in_h - 1u);
    let x1 = min(x0 + 1u, p.in_w - 1u);
    let base = view_index(p.src, n, c, 0u);
    let top = mix(f32(src[base + y0 * p.in_w + x0]), f32(src[base + y0 * p.in_w + x1]), sx.y);
    let bottom = mix(f32(src[base + y1 * p.in_w + x0]), f32(src[base + y1 * p.in_w + x1]), sx.y);
    dst[view_index(p.dst, n, c, oy * p.out_w + ox)] = act(mix(top, bottom, sy.y));
}
