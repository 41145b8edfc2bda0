// Closed-form matting: the conjugate-gradient steps around q = L dir
// (matting_laplacian.wgsl), with every scalar kept in `red`. Tile kernels
// write per-workgroup partial sums; the finish_* kernels reduce them in one
// workgroup and derive the next scalars.
// Storage, bindings and helpers: shared/matting_layout.wgsl.

//#include "shared/tensor.wgsl"
//#include "shared/reduce.wgsl"
//#include "shared/matting_layout.wgsl"

// After q = L x_known: r = b = -q on unknown pixels, partial |b|^2; then
// dir = x everywhere, for the initial residual.
@compute @workgroup_size(WG)
fn rhs(ids: GroupIds) {
    let g = linear_group(ids.wg, ids.nwg);
    if g >= mp.n_tiles {
        return;
    }
    let t = tile_pixel(g, ids.li);
    var bb = 0.0;
    if invdiag[t.z] != 0.0 {
        let b = -q[t.z];
        r[t.z] = b;
        bb = b * b;
    }
    dir[t.z] = x[t.z];
    write_partial(g, ids.li, vec2(bb, 0.0));
}

// After q = L x: r = -q (= b - L_U x_U), dir = z = r / L_ii on unknown pixels,
// 0 elsewhere; partials (r.z, r.r).
@compute @workgroup_size(WG)
fn residual(ids: GroupIds) {
    let g = linear_group(ids.wg, ids.nwg);
    if g >= mp.n_tiles {
        return;
    }
    let t = tile_pixel(g, ids.li);
    let m = invdiag[t.z];
    var part = vec2(0.0);
    var z = 0.0;
    if m != 0.0 {
        let ri = -q[t.z];
        r[t.z] = ri;
        z = ri * m;
        part = vec2(ri * z, ri * ri);
    }
    dir[t.z] = z;
    write_partial(g, ids.li, part);
}

// x += alpha dir, r -= alpha q; partials (r.z, r.r) with z = r / L_ii.
@compute @workgroup_size(WG)
fn update(ids: GroupIds) {
    let g = linear_group(ids.wg, ids.nwg);
    if g >= mp.n_tiles || is_done(ids.li) {
        return;
    }
    let t = tile_pixel(g, ids.li);
    let m = invdiag[t.z];
    var part = vec2(0.0);
    if m != 0.0 {
        let alpha = red[ALPHA];
        x[t.z] += alpha * dir[t.z];
        let ri = r[t.z] - alpha * q[t.z];
        r[t.z] = ri;
        part = vec2(ri * ri * m, ri * ri);
    }
    write_partial(g, ids.li, part);
}

// dir = z + beta dir on unknown pixels.
@compute @workgroup_size(WG)
fn direction(ids: GroupIds) {
    let g = linear_group(ids.wg, ids.nwg);
    if g >= mp.n_tiles || red[DONE] != 0.0 {
        return;
    }
    let t = tile_pixel(g, ids.li);
    let m = invdiag[t.z];
    if m != 0.0 {
        dir[t.z] = r[t.z] * m + red[BETA] * dir[t.z];
    }
}

// Sum of the partials of all tiles, in one workgroup.
fn partial_total(li: u32) -> vec2<f32> {
    var acc = vec2(0.0);
    for (var i = li; i < mp.n_tiles; i += WG) {
        acc += vec2(red[PARTIALS + 2u * i], red[PARTIALS + 2u * i + 1u]);
    }
    return workgroup_sum(li, vec4(acc, 0.0, 0.0)).xy;
}

fn check_converged(rr: f32) {
    red[RR] = rr;
    if !(rr <= HUGE) {
        red[DONE] = BREAKDOWN;
    } else if rr <= mp.tolerance2 * red[BB] {
        red[DONE] = CONVERGED;
    }
}

@compute @workgroup_size(WG)
fn finish_rhs(@builtin(local_invocation_index) li: u32) {
    let s = partial_total(li);
    if li == 0u {
        red[BB] = s.x;
    }
}

@compute @workgroup_size(WG)
fn finish_residual(@builtin(local_invocation_index) li: u32) {
    let s = partial_total(li);
    if li == 0u {
        red[RZ] = s.x;
        red[RR0] = s.y;
        check_converged(s.y);
    }
}

@compute @workgroup_size(WG)
fn finish_pq(@builtin(local_invocation_index) li: u32) {
    if is_done(li) {
        return;
    }
    let s = partial_total(li);
    if li == 0u {
        red[PQ] = s.x;
        if s.x > 0.0 && s.x <= HUGE {
            red[ALPHA] = red[RZ] / s.x;
        } else {
            red[ALPHA] = 0.0;
            red[DONE] = BREAKDOWN;
        }
    }
}

@compute @workgroup_size(WG)
fn finish_rz(@builtin(local_invocation_index) li: u32) {
    if is_done(li) {
        return;
    }
    let s = partial_total(li);
    if li == 0u {
        red[BETA] = s.x / red[RZ];
        red[RZ] = s.x;
        red[ITERS] += 1.0;
        check_converged(s.y);
    }
}
