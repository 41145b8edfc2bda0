// Closed-form matting, dense per level: the next coarser level of the
// pyramid, and each level's tile flags (which tiles the solver stores).
// Storage, bindings and helpers: shared/matting_layout.wgsl.

//#include "shared/tensor.wgsl"
//#include "shared/reduce.wgsl"
//#include "shared/matting_layout.wgsl"

@group(0) @binding(16) var<storage, read_write> flags_out: array<u32>;
@group(0) @binding(18) var<storage, read_write> image_down: array<u32>;
@group(0) @binding(19) var<storage, read_write> trimap_down: array<f32>;
@group(0) @binding(20) var<storage, read_write> init_down: array<f32>;

// Flags per tile (all tiles): bit 0, an unknown pixel within 2 pixels (the
// tile is active); bits 1 and 2, a foreground / background pixel there (so
// the host can tell a trimap without either, which pymatting refuses).
@compute @workgroup_size(WG)
fn flags(ids: GroupIds) {
    let g = linear_group(ids.wg, ids.nwg);
    if g >= mp.n_tiles {
        return;
    }
    let span = TILE + 4u;
    let x0 = i32((g % mp.tiles_x) * TILE) - 2;
    let y0 = i32((g / mp.tiles_x) * TILE) - 2;
    var found = vec4(0.0);
    for (var e = ids.li; e < span * span; e += WG) {
        let px = x0 + i32(e % span);
        let py = y0 + i32(e / span);
        if px >= 0 && py >= 0 && px < i32(mp.width) && py < i32(mp.height) {
            let t = trimap[u32(py) * mp.width + u32(px)];
            found = max(found, vec4(f32(is_unknown(t)), f32(t >= FG_MIN), f32(t <= BG_MAX), 0.0));
        }
    }
    let any = workgroup_sum(ids.li, found) > vec4(0.0);
    if ids.li == 0u {
        flags_out[g] = u32(any.x) | (u32(any.y) << 1u) | (u32(any.z) << 2u);
    }
}

// The next coarser level (dense, half size rounded up): 2x2 means of the image
// (rounded to 8 bits) and of the initial guess; a pixel is known only if all
// four are known alike.
@compute @workgroup_size(WG)
fn down(ids: GroupIds) {
    let e = invocation_index(ids.wg, ids.nwg, ids.li);
    if e >= mp.width * mp.height {
        return;
    }
    let cx = e % mp.width;
    let cy = e / mp.width;
    var colour = vec4(0.0);
    var guess = 0.0;
    var n_fg = 0u;
    var n_bg = 0u;
    for (var j = 0u; j < 4u; j++) {
        let sx = min(2u * cx + j % 2u, mp.other_width - 1u);
        let sy = min(2u * cy + j / 2u, mp.other_height - 1u);
        let s = sy * mp.other_width + sx;
        colour += unpack4x8unorm(image_dense[s]);
        guess += init[s];
        let t = trimap[s];
        n_fg += u32(t >= FG_MIN);
        n_bg += u32(t <= BG_MAX);
    }
    image_down[e] = pack4x8unorm(colour * 0.25);
    init_down[e] = guess * 0.25;
    trimap_down[e] = select(select(0.5, 0.0, n_bg == 4u), 1.0, n_fg == 4u);
}
