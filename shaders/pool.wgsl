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
    let e = invocation_index(wg, nwg, li);
    let out_plane = p.out_h * p.out_w;
    if e >= p.dst.channels * out_plane {
        return;
    }
    let n = wg.z;
    let c = e / out_plane;
    let oy = (e % out_plane) / p.out_w;
    let ox = e % p.out_w;
    let y0 = oy * 2u;
    let x0 = ox * 2u;
    let y1 = min(y0 + 1u, p.in_h - 1u);
    let x1 = min(x0 + 1u, p.in_w - 1u);
    // Clamping repeats a border pixel instead of skipping it: same maximum.
    let base = view_index(p.src, n, c, 0u);
    let m = max(
        max(src[base + y0 * p.in_w + x0], src[base + y0 * p.in_w + x1]),
        max(src[base + y1 * p.in_w + x0], src[base + y1 * p.in_w + x1]),
    );
    dst[view_index(p.dst, n, c, oy * p.out_w + ox)] = m;
}
