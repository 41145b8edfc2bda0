// Max pooling, 2x2 window, stride 2, ceil_mode: out = ceil(in / 2); windows
// that hang over the bottom or right border use only their pixels inside.

//#include "shared/tensor.wgsl"

@group(0) @binding(0) var<uniform> p: SpatialParams;
@group(0) @binding(1) var<storage, read> src: array<act>;
@group(0) @binding(2) var<storage, read_write> dst: array<act>;
// The same buffers as vec4 arrays: with VEC_IN the input's rows start at
// multiples of 4 elements (in_w divisible by 4), with VEC_OUT the
// output's, so a tile's 8 input columns per row are two aligned vec4
// loads and its 4 outputs one vec4 store. llvmpipe runs every load and
// store as a loop over the lanes: 5 of them instead of 20.
override VEC_IN: u32 = 0u;
override VEC_OUT: u32 = 0u;
@group(0) @binding(3) var<storage, read> src4: array<vec4<act>>;
@group(0) @binding(4) var<storage, read_write> dst4: array<vec4<act>>;

// The maxima of the 4 windows along a row pair from column x0 (a
// multiple of 8) on: the pairwise maxima of each vec4 of the two rows.
fn row_max(top: vec4<f32>, bottom: vec4<f32>) -> vec2<f32> {
    let m = max(top, bottom);
    return vec2(max(m.x, m.y), max(m.z, m.w));
}

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
    var m: vec4<f32>;
    if VEC_IN != 0u {
        // Past the row's end these read the next row or are clamped
        // into the buffer: only outputs past the end use them.
        let t = (top + 2u * r.ox0) / 4u;
        let b = (bottom + 2u * r.ox0) / 4u;
        m = vec4(
            row_max(vec4<f32>(src4[t]), vec4<f32>(src4[b])),
            row_max(vec4<f32>(src4[t + 1u]), vec4<f32>(src4[b + 1u])),
        );
    } else {
        for (var i = 0u; i < SPX; i++) {
            let x0 = min(r.ox0 + i, p.out_w - 1u) * 2u;
            let x1 = min(x0 + 1u, p.in_w - 1u);
            m[i] = max(max(f32(src[top + x0]), f32(src[top + x1])), max(f32(src[bottom + x0]), f32(src[bottom + x1])));
        }
    }
    if VEC_OUT != 0u {
        dst4[(dst_row + r.ox0) / 4u] = vec4<act>(m);
        return;
    }
    for (var i = 0u; i < SPX; i++) {
        if r.ox0 + i < p.out_w {
            dst[dst_row + r.ox0 + i] = act(m[i]);
        }
    }
}
