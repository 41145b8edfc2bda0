// Max pooling, 2x2 window, stride 2, ceil_mode: out = ceil(in / 2); windows
// that hang over the bottom or right border use only their pixels inside.

//#include "shared/tensor.wgsl"

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
    // Clamping repeats a border pixel instead of skipping it: same maximum.
    let top = view_index(p.src, n, r.c, r.oy * 2u * p.in_w);
    let bottom = view_index(p.src, n, r.c, min(r.oy * 2u + 1u, p.in_h - 1u) * p.in_w);
    let dst_row = view_index(p.dst, n, r.c, r.oy * p.out_w);
    for (var i = 0u; i < SPX; i++) {
        let ox = r.ox0 + i;
        if ox < p.out_w {
            let x0 = ox * 2u;
            let x1 = min(x0 + 1u, p.in_w - 1u);
            dst[dst_row + ox] = max(max(src[top + x0], src[top + x1]), max(src[bottom + x0], src[bottom + x1]));
        }
    }
}
