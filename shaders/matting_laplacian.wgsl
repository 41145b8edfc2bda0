// Closed-form matting: q = L dir, matrix-free, in two passes (per window,
// then per pixel). With the whitened colours w of matting_setup.wgsl, L x is
//   sum_k sum_{i in k} [(x_i - x_k) - (s_k + w_i . v_k) / 9] e_i,
//   s_k = sum_j (x_j - x_k),  v_k = sum_j w_j (x_j - x_k)
// (relative to x at the centre, which leaves both unchanged since
// sum_j w_j = 0, and makes a vector constant over the window give exactly
// zero: the solution's accuracy along L's smallest eigenvectors, nearly
// constant over flat regions, depends on it).
// Storage, bindings and helpers: shared/matting_layout.wgsl.

//#include "shared/tensor.wgsl"
//#include "shared/reduce.wgsl"
//#include "shared/matting_layout.wgsl"

// First half of q = L dir: (v_k, s_k) of every window.
@compute @workgroup_size(WG)
fn lap_windows(ids: GroupIds) {
    let g = linear_group(ids.wg, ids.nwg);
    if g >= mp.n_tiles || red[DONE] != 0.0 {
        return;
    }
    let t = tile_pixel(g, ids.li);
    if t.w == 0u || !is_centre(t.x, t.y) {
        return;
    }
    let sum = window_sum(t.z);
    let dk = dir[t.z];
    var v = vec3(0.0);
    var s = 0.0;
    for (var j = 0u; j < 9u; j++) {
        let e = cidx(t.x + j % 3u - 1u, t.y + j / 3u - 1u);
        let dj = dir[e] - dk;
        v += whiten(t.z, sum, img[e].xyz) * dj;
        s += dj;
    }
    wa[t.z] = vec4(v, s);
}

// Second half: q_i = sum over windows k containing i of
// (dir_i - dir_k) - (s_k + w_i . v_k) / 9 on unknown pixels; returns
// dir_i * q_i for the partial sum (0 elsewhere).
fn lap_pixel(t: vec4<u32>) -> f32 {
    if t.w == 0u || invdiag[t.z] == 0.0 {
        return 0.0;
    }
    let colour = img[t.z].xyz;
    let di = dir[t.z];
    var acc = 0.0;
    for (var n = 0u; n < 9u; n++) {
        let k = window_of(t, n);
        if k == NONE {
            continue;
        }
        let w = wa[k];
        acc += (di - dir[k]) - (w.w + dot(whiten(k, window_sum(k), colour), w.xyz)) / 9.0;
    }
    q[t.z] = acc;
    return di * acc;
}

@compute @workgroup_size(WG)
fn lap_pixels(ids: GroupIds) {
    let g = linear_group(ids.wg, ids.nwg);
    if g >= mp.n_tiles || is_done(ids.li) {
        return;
    }
    write_partial(g, ids.li, vec2(lap_pixel(tile_pixel(g, ids.li)), 0.0));
}
