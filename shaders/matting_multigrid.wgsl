// Closed-form matting: the multigrid V-cycle that preconditions CG
// (src/matting/cf/multigrid.rs is its CPU mirror, tools/matting_preconditioners.py
// measured the design). Every level is a grid of 5x5 stencils stored in the
// compact 8x8-tile layout of shared/matting_layout.wgsl, with its own `map`;
// level 0 is L_U (`mg_stencil`), each coarser one half the size with
// Galerkin's P^T A P (`mg_galerkin`), P the cell-centred bilinear
// prolongation. Kernels that read two levels find the other one through
// `map_other` and mp.other_* (the finer level for `mg_galerkin` and
// `mg_restrict`, the coarser for `mg_prolong`). One V-cycle, from zero:
// down, x = omega D^-1 b, res = b - A x, the coarser b = P^T res; the
// coarsest level by a dense inverse (`mg_bottom`); up, x += P x_coarse,
// res = b - A x, x += omega D^-1 res.

//#include "shared/tensor.wgsl"
//#include "shared/reduce.wgsl"
//#include "shared/matting_layout.wgsl"

// This level's stencils: tap t (row-major over offsets -2..2) of the node in
// lane li of tile slot g at (g * 25 + t) * 64 + li.
@group(0) @binding(21) var<storage, read_write> coef: array<f32>;
@group(0) @binding(22) var<storage, read> coef_other: array<f32>;
@group(0) @binding(23) var<storage, read> map_other: array<u32>;
// 1 / the smoothing diagonal on this level's rows (A_ii, guarded on coarse
// levels, see `mg_galerkin`), 0 on inactive nodes.
@group(0) @binding(24) var<storage, read_write> mg_invdiag: array<f32>;
@group(0) @binding(25) var<storage, read_write> mg_b: array<f32>;
@group(0) @binding(26) var<storage, read_write> mg_x: array<f32>;
@group(0) @binding(27) var<storage, read_write> mg_res: array<f32>;
// The other level's residual (`mg_restrict`) or solution (`mg_prolong`,
// with that level's residual and inverse diagonal for its post-smoothing).
@group(0) @binding(28) var<storage, read> vec_other: array<f32>;
@group(0) @binding(31) var<storage, read> res_other: array<f32>;
@group(0) @binding(32) var<storage, read> invdiag_other: array<f32>;
// The coarsest level: its rows' compact indices, and the inverse of its
// matrix over them (rows x rows, row-major; the host factors it).
@group(0) @binding(29) var<storage, read> bottom_nodes: array<u32>;
@group(0) @binding(30) var<storage, read> bottom_inverse: array<f32>;

const TAPS: u32 = 25u;
// Damping of the Jacobi sweeps (multigrid.rs: OMEGA).
const OMEGA: f32 = 0.7;
// A coarse level's smoothing diagonal is at least this share of its row's
// absolute sum (multigrid.rs: L1_GUARD, and why).
const L1_GUARD: f32 = 0.4;

fn coef_index(node: u32, tap: u32) -> u32 {
    let lanes = TILE * TILE;
    return ((node / lanes) * TAPS + tap) * lanes + node % lanes;
}

// Compact index of node (x, y) of the other level, NONE off its grid or in
// an inactive tile.
fn other_at(px: i32, py: i32) -> u32 {
    if px < 0 || py < 0 || px >= i32(mp.other_width) || py >= i32(mp.other_height) {
        return NONE;
    }
    let tile = (u32(py) / TILE) * mp.other_tiles_x + u32(px) / TILE;
    let slot = map_other[mp.other_n_tiles + tile];
    if slot == NONE {
        return NONE;
    }
    return slot * TILE * TILE + (u32(py) % TILE) * TILE + u32(px) % TILE;
}

// The two coarse cells (of n) fine cell x reads: (c0, c1) and the weight of
// c0 (c1 gets the rest); cell-centred, so fine x sits at coarse (x - 1/2) / 2.
fn parents_1d(x: i32, n: i32) -> vec3<f32> {
    var c0: i32;
    var w0: f32;
    if (x & 1) == 0 {
        c0 = x / 2 - 1;
        w0 = 0.25;
    } else {
        c0 = (x - 1) / 2;
        w0 = 0.75;
    }
    return vec3(f32(clamp(c0, 0, n - 1)), f32(clamp(c0 + 1, 0, n - 1)), w0);
}

// P's weight between fine cell x and coarse cell c (of n), per axis.
fn weight_1d(x: i32, c: i32, n: i32) -> f32 {
    let p = parents_1d(x, n);
    return select(0.0, p.z, i32(p.x) == c) + select(0.0, 1.0 - p.z, i32(p.y) == c);
}

// Level 0: the stencil of L_U on unknown pixels (known columns dropped:
// they are the right-hand side), from the window constants.
@compute @workgroup_size(WG)
fn mg_stencil(ids: GroupIds) {
    let g = linear_group(ids.wg, ids.nwg);
    if g >= mp.n_tiles {
        return;
    }
    let t = tile_pixel(g, ids.li);
    var a: array<f32, 25>;
    for (var k = 0u; k < TAPS; k++) {
        a[k] = 0.0;
    }
    if t.w == 1u && invdiag[t.z] != 0.0 {
        let colour = img[t.z].xyz;
        for (var n = 0u; n < 9u; n++) {
            let k = window_of(t, n);
            if k == NONE {
                continue;
            }
            let sum = window_sum(k);
            let wi = whiten(k, sum, colour);
            let cx = t.x + 1u - n % 3u;
            let cy = t.y + 1u - n / 3u;
            for (var e = 0u; e < 9u; e++) {
                let jx = cx + e % 3u - 1u;
                let jy = cy + e / 3u - 1u;
                let j = cidx(jx, jy);
                if invdiag[j] == 0.0 {
                    continue;
                }
                let wj = whiten(k, sum, img[j].xyz);
                let tap = (jy + 2u - t.y) * 5u + jx + 2u - t.x;
                a[tap] += select(0.0, 1.0, j == t.z) - (1.0 + dot(wi, wj)) / 9.0;
            }
        }
    }
    for (var k = 0u; k < TAPS; k++) {
        coef[coef_index(t.z, k)] = a[k];
    }
}

// A coarser level: P^T A P from the finer level's stencils (the other
// level), by the coarse node: its fine children i, their taps to j, and
// the coarse parents of j.
@compute @workgroup_size(WG)
fn mg_galerkin(ids: GroupIds) {
    let g = linear_group(ids.wg, ids.nwg);
    if g >= mp.n_tiles {
        return;
    }
    let t = tile_pixel(g, ids.li);
    var acc: array<f32, 25>;
    for (var k = 0u; k < TAPS; k++) {
        acc[k] = 0.0;
    }
    if t.w == 1u {
        let cx = i32(t.x);
        let cy = i32(t.y);
        let cw = i32(mp.width);
        let ch = i32(mp.height);
        for (var dy = -1; dy <= 2; dy++) {
            for (var dx = -1; dx <= 2; dx++) {
                let ix = 2 * cx + dx;
                let iy = 2 * cy + dy;
                let i = other_at(ix, iy);
                if i == NONE {
                    continue;
                }
                let pi = weight_1d(ix, cx, cw) * weight_1d(iy, cy, ch);
                for (var tap = 0u; tap < TAPS; tap++) {
                    let c = coef_other[coef_index(i, tap)];
                    if c == 0.0 {
                        continue;
                    }
                    let px = parents_1d(ix + i32(tap % 5u) - 2, cw);
                    let py = parents_1d(iy + i32(tap / 5u) - 2, ch);
                    let wx = vec2(px.z, 1.0 - px.z);
                    let wy = vec2(py.z, 1.0 - py.z);
                    let jx = vec2(i32(px.x), i32(px.y)) - cx + 2;
                    let jy = vec2(i32(py.x), i32(py.y)) - cy + 2;
                    for (var q = 0u; q < 4u; q++) {
                        let a = q % 2u;
                        let b = q / 2u;
                        acc[u32(jy[b] * 5 + jx[a])] += pi * c * wx[a] * wy[b];
                    }
                }
            }
        }
    }
    var l1 = 0.0;
    for (var k = 0u; k < TAPS; k++) {
        coef[coef_index(t.z, k)] = acc[k];
        l1 += abs(acc[k]);
    }
    mg_invdiag[t.z] = select(0.0, 1.0 / max(acc[12], L1_GUARD * l1), acc[12] > 0.0);
}

// The slots of the 3x3 tiles around this workgroup's tile (NONE where
// inactive or off the grid): the stencil kernels read `map` once per tile
// instead of once per tap.
var<workgroup> near: array<u32, 9>;

fn load_near(g: u32, li: u32) {
    if li < 9u {
        let tile = map[g];
        let tx = i32(tile % mp.tiles_x) + i32(li % 3u) - 1;
        let ty = i32(tile / mp.tiles_x) + i32(li / 3u) - 1;
        let tiles_y = i32((mp.height + TILE - 1u) / TILE);
        var slot = NONE;
        if tx >= 0 && ty >= 0 && tx < i32(mp.tiles_x) && ty < tiles_y {
            slot = map[mp.n_tiles + u32(ty) * mp.tiles_x + u32(tx)];
        }
        near[li] = slot;
    }
    workgroupBarrier();
}

// The node that tap `tap` of lane li reads (after load_near). Taps with a
// nonzero coefficient reach rows, which lie in active tiles; the others
// (read unconditionally: no branch in the loops) get node 0.
fn tap_node(li: u32, tap: u32) -> u32 {
    let lx = li % TILE + tap % 5u + TILE - 2u;
    let ly = li / TILE + tap / 5u + TILE - 2u;
    let slot = near[(ly / TILE) * 3u + lx / TILE];
    return select(slot * TILE * TILE + (ly % TILE) * TILE + lx % TILE, 0u, slot == NONE);
}

// (A x)_i on this level.
fn stencil_product(t: vec4<u32>, li: u32) -> f32 {
    var acc = 0.0;
    for (var tap = 0u; tap < TAPS; tap++) {
        acc += coef[coef_index(t.z, tap)] * mg_x[tap_node(li, tap)];
    }
    return acc;
}

// CG's q = L_U dir on level 0 by its stencil (dir is 0 on known pixels, so
// the dropped columns do not matter), and the partials of dir.q.
@compute @workgroup_size(WG)
fn mg_apply(ids: GroupIds) {
    let g = linear_group(ids.wg, ids.nwg);
    if g >= mp.n_tiles || is_done(ids.li) {
        return;
    }
    load_near(g, ids.li);
    let t = tile_pixel(g, ids.li);
    var pq = 0.0;
    if invdiag[t.z] != 0.0 {
        var acc = 0.0;
        for (var tap = 0u; tap < TAPS; tap++) {
            acc += coef[coef_index(t.z, tap)] * dir[tap_node(ids.li, tap)];
        }
        q[t.z] = acc;
        pq = dir[t.z] * acc;
    }
    write_partial(g, ids.li, vec2(pq, 0.0));
}

// The kernels of a V-cycle run over a level's active tiles and skip their
// work once CG has stopped.
fn vcycle_pixel(ids: GroupIds) -> vec4<u32> {
    let g = linear_group(ids.wg, ids.nwg);
    if g >= mp.n_tiles || red[DONE] != 0.0 {
        return vec4(0u, 0u, NONE, 0u);
    }
    return tile_pixel(g, ids.li);
}

// Pre-smoothing from zero: x = omega D^-1 b.
@compute @workgroup_size(WG)
fn mg_smooth(ids: GroupIds) {
    let t = vcycle_pixel(ids);
    if t.z != NONE {
        mg_x[t.z] = OMEGA * mg_invdiag[t.z] * mg_b[t.z];
    }
}

// res = b - A x on this level's rows, 0 elsewhere.
@compute @workgroup_size(WG)
fn mg_residual(ids: GroupIds) {
    let g = linear_group(ids.wg, ids.nwg);
    if g >= mp.n_tiles || is_done(ids.li) {
        return;
    }
    load_near(g, ids.li);
    let t = tile_pixel(g, ids.li);
    var res = 0.0;
    if mg_invdiag[t.z] != 0.0 {
        res = mg_b[t.z] - stencil_product(t, ids.li);
    }
    mg_res[t.z] = res;
}

// This (coarser) level's b = P^T res of the finer level, and its
// pre-smoothing from zero, x = omega D^-1 b.
@compute @workgroup_size(WG)
fn mg_restrict(ids: GroupIds) {
    let t = vcycle_pixel(ids);
    if t.z == NONE {
        return;
    }
    let cx = i32(t.x);
    let cy = i32(t.y);
    var acc = 0.0;
    if t.w == 1u {
        for (var dy = -1; dy <= 2; dy++) {
            for (var dx = -1; dx <= 2; dx++) {
                let i = other_at(2 * cx + dx, 2 * cy + dy);
                if i != NONE {
                    let w = weight_1d(2 * cx + dx, cx, i32(mp.width))
                        * weight_1d(2 * cy + dy, cy, i32(mp.height));
                    acc += w * vec_other[i];
                }
            }
        }
    }
    mg_b[t.z] = acc;
    mg_x[t.z] = OMEGA * mg_invdiag[t.z] * acc;
}

// This (finer) level's x += P x of the coarser level; with mp.relax, the
// coarser level's post-smoothing first (x + omega D^-1 res there).
@compute @workgroup_size(WG)
fn mg_prolong(ids: GroupIds) {
    let t = vcycle_pixel(ids);
    if t.z == NONE || t.w == 0u || mg_invdiag[t.z] == 0.0 {
        return;
    }
    let px = parents_1d(i32(t.x), i32(mp.other_width));
    let py = parents_1d(i32(t.y), i32(mp.other_height));
    let wx = vec2(px.z, 1.0 - px.z);
    let wy = vec2(py.z, 1.0 - py.z);
    var acc = 0.0;
    for (var q = 0u; q < 4u; q++) {
        let a = q % 2u;
        let b = q / 2u;
        let j = other_at(i32(select(px.x, px.y, a == 1u)), i32(select(py.x, py.y, b == 1u)));
        if j != NONE {
            var xc = vec_other[j];
            if mp.relax != 0u {
                xc += OMEGA * invdiag_other[j] * res_other[j];
            }
            acc += wx[a] * wy[b] * xc;
        }
    }
    mg_x[t.z] += acc;
}

// The coarsest level: x = A^-1 b over its rows, one invocation per row.
@compute @workgroup_size(WG)
fn mg_bottom(ids: GroupIds) {
    let row = invocation_index(ids.wg, ids.nwg, ids.li);
    let n = mp.bottom_rows;
    if row >= n || red[DONE] != 0.0 {
        return;
    }
    var acc = 0.0;
    for (var c = 0u; c < n; c++) {
        acc += bottom_inverse[row * n + c] * mg_b[bottom_nodes[c]];
    }
    mg_x[bottom_nodes[row]] = acc;
}

// After the V-cycle on r (level 0's b): with mp.relax, level 0's
// post-smoothing, z = x + omega D^-1 res (stored as x); then partials
// (r.z, r.r) for finish_residual and finish_rz.
@compute @workgroup_size(WG)
fn mg_rz(ids: GroupIds) {
    let g = linear_group(ids.wg, ids.nwg);
    if g >= mp.n_tiles || is_done(ids.li) {
        return;
    }
    let t = tile_pixel(g, ids.li);
    var part = vec2(0.0);
    if invdiag[t.z] != 0.0 {
        var z = mg_x[t.z];
        if mp.relax != 0u {
            z += OMEGA * invdiag[t.z] * mg_res[t.z];
            mg_x[t.z] = z;
        }
        let ri = mg_b[t.z];
        part = vec2(ri * z, ri * ri);
    }
    write_partial(g, ids.li, part);
}

// dir = z + beta dir on unknown pixels, z = level 0's x (the V-cycle of r);
// with beta = 0 (the start), dir = z.
@compute @workgroup_size(WG)
fn mg_direction(ids: GroupIds) {
    let g = linear_group(ids.wg, ids.nwg);
    if g >= mp.n_tiles || red[DONE] != 0.0 {
        return;
    }
    let t = tile_pixel(g, ids.li);
    if invdiag[t.z] != 0.0 {
        dir[t.z] = mg_x[t.z] + red[BETA] * dir[t.z];
    }
}
