// Closed-form matting, the compact level: gathered from the dense inputs,
// its window constants and Jacobi preconditioner, and the solution scattered
// back. Storage, bindings and helpers: shared/matting_layout.wgsl.
//
// Windows. Window k is the 3x3 block centred on pixel k (centres at least one
// pixel from the border, as pymatting). With colours J in 8-bit levels,
// c_j = 9 J_j - sum_i J_i (the centred colours times 9 * 255: integers, exact
// in f32), C the 9x3 matrix of the c_j and E = epsilon (9 * 255)^2
// (pymatting's covariance regularization in these units),
//   L_ij = sum over windows k holding i and j of delta_ij - (1 + w_i . w_j) / 9,
// where w_j = 3 R^-T c_j and R^T R = C^T C + E I: c_i^T (covariance + eps I)^-1 c_j
// with the inverse never formed. Forming C^T C (or the inverse) in f32 loses
// ~cond(C^T C) = 1e4 on the near-grey windows of hair and fur; R comes from a
// Householder QR of [C; sqrt(E) I] instead, so the whitened colours w lose
// only ~cond(C) = 1e2 (the normal-equations lesson), and all of them are
// bounded (|w|^2 < 8).

//#include "shared/tensor.wgsl"
//#include "shared/reduce.wgsl"
//#include "shared/matting_layout.wgsl"

@group(0) @binding(17) var<storage, read_write> alpha_out: array<f32>;

// Dense -> compact: colours, unknown mask, x (known values, initial guess on
// unknown pixels) and dir = x on known pixels, 0 on unknown ones (so that the
// first product gives the right-hand side).
@compute @workgroup_size(WG)
fn gather(ids: GroupIds) {
    let g = linear_group(ids.wg, ids.nwg);
    if g >= mp.n_tiles {
        return;
    }
    let t = tile_pixel(g, ids.li);
    var colour = vec4(0.0);
    var value = 0.0;
    var unknown = false;
    if t.w == 1u {
        let d = t.y * mp.width + t.x;
        let word = image_dense[d];
        colour = vec4<f32>(vec4(word & 0xffu, (word >> 8u) & 0xffu, (word >> 16u) & 0xffu, 0u));
        let tri = trimap[d];
        unknown = is_unknown(tri);
        value = select(known_value(tri), init[d], unknown);
    }
    img[t.z] = colour;
    x[t.z] = value;
    dir[t.z] = select(value, 0.0, unknown);
    invdiag[t.z] = select(0.0, 1.0, unknown);
}

// (9 * 255)^2: epsilon in the units of c.
const LEVELS2: f32 = 5267025.0;

// Per-window constants (see `win`).
@compute @workgroup_size(WG)
fn setup_windows(ids: GroupIds) {
    let g = linear_group(ids.wg, ids.nwg);
    if g >= mp.n_tiles {
        return;
    }
    let t = tile_pixel(g, ids.li);
    if t.w == 0u || !is_centre(t.x, t.y) {
        win[2u * t.z] = vec4(0.0);
        win[2u * t.z + 1u] = vec4(0.0);
        return;
    }
    // a = [C; sqrt(E) I], 12 rows of 3.
    var a: array<vec3<f32>, 12>;
    var sum = vec3(0.0);
    for (var j = 0u; j < 9u; j++) {
        a[j] = img[cidx(t.x + j % 3u - 1u, t.y + j / 3u - 1u)].xyz;
        sum += a[j];
    }
    for (var j = 0u; j < 9u; j++) {
        a[j] = 9.0 * a[j] - sum;
    }
    let se = sqrt(mp.epsilon * LEVELS2);
    a[9] = vec3(se, 0.0, 0.0);
    a[10] = vec3(0.0, se, 0.0);
    a[11] = vec3(0.0, 0.0, se);
    // Householder QR: column k's reflection maps a[k..12][k] to (alpha, 0, ...);
    // the rows 0..3 of a end as R.
    for (var k = 0u; k < 3u; k++) {
        let x0 = a[k][k];
        var rest = 0.0;
        for (var i = k + 1u; i < 12u; i++) {
            rest += a[i][k] * a[i][k];
        }
        let norm = sqrt(x0 * x0 + rest);
        let alpha = select(norm, -norm, x0 > 0.0);
        // v = x - alpha e_k: its first entry without cancellation, the rest in place.
        let v0 = x0 - alpha;
        let vv = v0 * v0 + rest;
        for (var j = k + 1u; j < 3u; j++) {
            var d = v0 * a[k][j];
            for (var i = k + 1u; i < 12u; i++) {
                d += a[i][k] * a[i][j];
            }
            let f = 2.0 * d / vv;
            a[k][j] -= f * v0;
            for (var i = k + 1u; i < 12u; i++) {
                a[i][j] -= f * a[i][k];
            }
        }
        a[k][k] = alpha;
    }
    // 3 R^-1 of the upper triangular R: c_i^T M c_j = 9 c_i^T (C^T C + E I)^-1 c_j
    // in these units, so w = 3 R^-T c.
    let i00 = 3.0 / a[0].x;
    let i11 = 1.0 / a[1].y;
    let i22 = 1.0 / a[2].z;
    let i01 = -a[0].y * i00 * i11;
    let i02 = (a[0].y * a[1].z - a[0].z * a[1].y) * i00 * i11 * i22;
    let i12 = -a[1].z * i11 * i22;
    win[2u * t.z] = vec4(sum.x + 4096.0 * sum.y, sum.z, i00, i01);
    win[2u * t.z + 1u] = vec4(i02, 3.0 * i11, 3.0 * i12, 3.0 * i22);
}

// The Jacobi preconditioner: 1 / L_ii on unknown pixels (marked 1 by `gather`),
// L_ii = sum over windows k containing i of 1 - (1 + |w_i|^2) / 9.
// A pixel in no window (images under 3 pixels a side) has L_ii = 0 and keeps
// its initial value.
@compute @workgroup_size(WG)
fn setup_diagonal(ids: GroupIds) {
    let g = linear_group(ids.wg, ids.nwg);
    if g >= mp.n_tiles {
        return;
    }
    let t = tile_pixel(g, ids.li);
    if t.w == 0u || invdiag[t.z] == 0.0 {
        return;
    }
    let colour = img[t.z].xyz;
    var d = 0.0;
    for (var n = 0u; n < 9u; n++) {
        let k = window_of(t, n);
        if k == NONE {
            continue;
        }
        let w = whiten(k, window_sum(k), colour);
        d += 1.0 - (1.0 + dot(w, w)) / 9.0;
    }
    invdiag[t.z] = select(0.0, 1.0 / d, d > 0.0);
}

// Compact -> dense alpha, clamped to [0, 1]; pixels of inactive tiles are known.
@compute @workgroup_size(WG)
fn scatter(ids: GroupIds) {
    let e = invocation_index(ids.wg, ids.nwg, ids.li);
    if e >= mp.width * mp.height {
        return;
    }
    let px = e % mp.width;
    let py = e / mp.width;
    let slot = map[mp.n_tiles + (py / TILE) * mp.tiles_x + px / TILE];
    if slot == NONE {
        alpha_out[e] = known_value(trimap[e]);
    } else {
        alpha_out[e] = clamp(x[cidx(px, py)], 0.0, 1.0);
    }
}
