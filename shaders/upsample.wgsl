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
    // bilinear_taps per output, with the rows' half computed once per
    // tile. Outputs past the row's end compute the last one's value and
    // skip only the store: no control flow around the loads, which
    // llvmpipe runs as loops over the lanes (~10% faster there).
    let sy = source_coord(r.oy, p.in_h, p.out_h);
    let y0 = u32(sy.x);
    let row0 = src_plane + y0 * p.in_w;
    let row1 = src_plane + min(y0 + 1u, p.in_h - 1u) * p.in_w;
    for (var i = 0u; i < SPX; i++) {
        let ox = r.ox0 + i;
        let sx = source_coord(min(ox, p.out_w - 1u), p.in_w, p.out_w);
        let x0 = u32(sx.x);
        let x1 = min(x0 + 1u, p.in_w - 1u);
        let top = mix(f32(src[row0 + x0]), f32(src[row0 + x1]), sx.y);
        let bottom = mix(f32(src[row1 + x0]), f32(src[row1 + x1]), sx.y);
        if ox < p.out_w {
            dst[dst_row + ox] = act(mix(top, bottom, sy.y));
        }
    }
}
