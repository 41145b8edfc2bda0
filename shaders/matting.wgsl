// Closed-form alpha matting (Levin, Lischinski, Weiss 2008), the model of
// pymatting's estimate_alpha_cf (radius 1): the matting Laplacian L is applied
// matrix-free and L_U alpha_U = -R alpha_K is solved by Jacobi-preconditioned
// conjugate gradients on the unknown pixels only.
//
// Storage. The image is cut into 8x8 tiles; only "active" tiles (those within
// 2 pixels of an unknown pixel: every window touching an unknown pixel, and
// every pixel such a window reads, lies in one) are stored, compactly: pixel
// (x, y) of the active tile in slot s lives at s * 64 + (y % 8) * 8 + x % 8.
// `map` holds the active tile ids (slot -> tile) followed by slot_of
// (tile -> slot, NONE when inactive). One workgroup handles one tile.
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
// bounded (|w|^2 < 8). So L x is
//   sum_k sum_{i in k} [(x_i - x_k) - (s_k + w_i . v_k) / 9] e_i,
//   s_k = sum_j (x_j - x_k),  v_k = sum_j w_j (x_j - x_k)
// (relative to x at the centre, which leaves both unchanged since
// sum_j w_j = 0, and makes a vector constant over the window give exactly
// zero: the solution's accuracy along L's smallest eigenvectors, nearly
// constant over flat regions, depends on it).

// PCG scalars live at the head of `red`, per-workgroup partial sums after
// them; kernels skip their work once `done` is set, so a whole batch of
// iterations is recorded at once and the host reads `red` only every few
// iterations to see whether it has converged.

//#include "shared/tensor.wgsl"
//#include "shared/reduce.wgsl"

// Keep in sync with src/kernels/matting.rs (MattingParams).
struct MattingParams {
    width: u32,
    height: u32,
    tiles_x: u32,
    // Active tiles (tile kernels) or all tiles (`flags`).
    n_tiles: u32,
    epsilon: f32,
    // Stop once |r|^2 <= tolerance2 * |b|^2.
    tolerance2: f32,
    // `down`: the finer level's size.
    src_width: u32,
    src_height: u32,
}

const TILE: u32 = 8u;
const NONE: u32 = 0xffffffffu;
// Trimap classes, as pymatting's trimap_split.
const FG_MIN: f32 = 0.9;
const BG_MAX: f32 = 0.1;
// Layout of `red`: scalars, then vec2 partial sums per workgroup.
const RZ: u32 = 0u;
const PQ: u32 = 1u;
const ALPHA: u32 = 2u;
const BETA: u32 = 3u;
const RR: u32 = 4u;
const BB: u32 = 5u;
const DONE: u32 = 6u;
const ITERS: u32 = 7u;
const RR0: u32 = 8u;
const PARTIALS: u32 = 16u;
// `done`: 1 = converged, 2 = breakdown (p.Ap <= 0 or not finite).
const CONVERGED: f32 = 1.0;
const BREAKDOWN: f32 = 2.0;
const HUGE: f32 = 3.0e38;

@group(0) @binding(0) var<uniform> mp: MattingParams;
// Dense inputs: RGBA8 (R in the low byte), trimap, initial guess.
@group(0) @binding(1) var<storage, read> image_dense: array<u32>;
@group(0) @binding(2) var<storage, read> trimap: array<f32>;
@group(0) @binding(3) var<storage, read> init: array<f32>;
// Active tiles then slot_of, see above.
@group(0) @binding(4) var<storage, read> map: array<u32>;
// Compact per-pixel data: colours in 8-bit levels (integers).
@group(0) @binding(5) var<storage, read_write> img: array<vec4<f32>>;
// Window k, two vec4s at 2k and 2k + 1: (r + 4096 g, b) of the sum of its
// colours (exact integers), then R^-1 (upper triangular) as (i00, i01),
// (i02, i11, i12, i22). (One buffer: lap_pixels then binds 8 storage buffers,
// WebGPU's guaranteed minimum.)
@group(0) @binding(6) var<storage, read_write> win: array<vec4<f32>>;
// Window k in the current product: (v_k, s_k).
@group(0) @binding(9) var<storage, read_write> wa: array<vec4<f32>>;
@group(0) @binding(10) var<storage, read_write> x: array<f32>;
@group(0) @binding(11) var<storage, read_write> r: array<f32>;
@group(0) @binding(12) var<storage, read_write> dir: array<f32>;
@group(0) @binding(13) var<storage, read_write> q: array<f32>;
// 1 / L_ii on unknown pixels, 0 on known ones (the unknown-pixel mask too).
@group(0) @binding(14) var<storage, read_write> invdiag: array<f32>;
@group(0) @binding(15) var<storage, read_write> red: array<f32>;
// Dense outputs: tile flags (`flags`), alpha (`scatter`), coarser level (`down`).
@group(0) @binding(16) var<storage, read_write> flags_out: array<u32>;
@group(0) @binding(17) var<storage, read_write> alpha_out: array<f32>;
@group(0) @binding(18) var<storage, read_write> image_down: array<u32>;
@group(0) @binding(19) var<storage, read_write> trimap_down: array<f32>;
@group(0) @binding(20) var<storage, read_write> init_down: array<f32>;

fn is_unknown(t: f32) -> bool {
    return t > BG_MAX && t < FG_MIN;
}

// The value a known pixel is fixed to (pymatting solves with is_fg as 0/1).
fn known_value(t: f32) -> f32 {
    return select(0.0, 1.0, t >= FG_MIN);
}

// Compact index of pixel (x, y); its tile must be active.
fn cidx(px: u32, py: u32) -> u32 {
    let t = (py / TILE) * mp.tiles_x + px / TILE;
    return map[mp.n_tiles + t] * (TILE * TILE) + (py % TILE) * TILE + px % TILE;
}

// Whether (x, y) is the centre of a window inside the image. Callers pass
// x + 1 - dx, which wraps around below 0: compare with width - 1, never
// x + 1 (that would wrap back).
fn is_centre(px: u32, py: u32) -> bool {
    return px >= 1u && py >= 1u && px < mp.width - 1u && py < mp.height - 1u;
}

// This invocation's pixel in its tile: (x, y, compact index, inside image).
fn tile_pixel(g: u32, li: u32) -> vec4<u32> {
    let t = map[g];
    let px = (t % mp.tiles_x) * TILE + li % TILE;
    let py = (t / mp.tiles_x) * TILE + li / TILE;
    return vec4(px, py, g * TILE * TILE + li, u32(px < mp.width && py < mp.height));
}

// The sum of window k's colours.
fn window_sum(k: u32) -> vec3<f32> {
    let packed = win[2u * k].xy;
    let g = floor(packed.x / 4096.0);
    return vec3(packed.x - 4096.0 * g, g, packed.y);
}

// The whitened colour w = 3 R^-T c of colour `c` (8-bit levels) in window k
// with colour sum `sum`.
fn whiten(k: u32, sum: vec3<f32>, colour: vec3<f32>) -> vec3<f32> {
    let c = 9.0 * colour - sum;
    let a = win[2u * k];
    let b = win[2u * k + 1u];
    return vec3(a.z * c.x, a.w * c.x + b.y * c.y, b.x * c.x + b.z * c.y + b.w * c.z);
}

// Flags per tile (all tiles): bit 0, an unknown pixel within 2 pixels (the
// tile is active); bits 1 and 2, a foreground / background pixel there (so
// the host can tell a trimap without either, which pymatting refuses).
@compute @workgroup_size(WG)
fn flags(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let g = linear_group(wg, nwg);
    if g >= mp.n_tiles {
        return;
    }
    let span = TILE + 4u;
    let x0 = i32((g % mp.tiles_x) * TILE) - 2;
    let y0 = i32((g / mp.tiles_x) * TILE) - 2;
    var found = vec4(0.0);
    for (var e = li; e < span * span; e += WG) {
        let px = x0 + i32(e % span);
        let py = y0 + i32(e / span);
        if px >= 0 && py >= 0 && px < i32(mp.width) && py < i32(mp.height) {
            let t = trimap[u32(py) * mp.width + u32(px)];
            found = max(found, vec4(f32(is_unknown(t)), f32(t >= FG_MIN), f32(t <= BG_MAX), 0.0));
        }
    }
    let any = workgroup_sum(li, found) > vec4(0.0);
    if li == 0u {
        flags_out[g] = u32(any.x) | (u32(any.y) << 1u) | (u32(any.z) << 2u);
    }
}

// The next coarser level (dense, half size rounded up): 2x2 means of the image
// (rounded to 8 bits) and of the initial guess; a pixel is known only if all
// four are known alike.
@compute @workgroup_size(WG)
fn down(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let e = invocation_index(wg, nwg, li);
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
        let sx = min(2u * cx + j % 2u, mp.src_width - 1u);
        let sy = min(2u * cy + j / 2u, mp.src_height - 1u);
        let s = sy * mp.src_width + sx;
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

// Dense -> compact: colours, unknown mask, x (known values, initial guess on
// unknown pixels) and dir = x on known pixels, 0 on unknown ones (so that the
// first product gives the right-hand side).
@compute @workgroup_size(WG)
fn gather(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let g = linear_group(wg, nwg);
    if g >= mp.n_tiles {
        return;
    }
    let t = tile_pixel(g, li);
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
fn setup_windows(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let g = linear_group(wg, nwg);
    if g >= mp.n_tiles {
        return;
    }
    let t = tile_pixel(g, li);
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
fn setup_diagonal(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let g = linear_group(wg, nwg);
    if g >= mp.n_tiles {
        return;
    }
    let t = tile_pixel(g, li);
    if t.w == 0u || invdiag[t.z] == 0.0 {
        return;
    }
    let colour = img[t.z].xyz;
    var d = 0.0;
    for (var n = 0u; n < 9u; n++) {
        // Window centred at (x + 1 - n % 3, y + 1 - n / 3).
        let cx = t.x + 1u - n % 3u;
        let cy = t.y + 1u - n / 3u;
        if !is_centre(cx, cy) {
            continue;
        }
        let k = cidx(cx, cy);
        let w = whiten(k, window_sum(k), colour);
        d += 1.0 - (1.0 + dot(w, w)) / 9.0;
    }
    invdiag[t.z] = select(0.0, 1.0 / d, d > 0.0);
}

// First half of q = L dir: (v_k, s_k) of every window.
@compute @workgroup_size(WG)
fn lap_windows(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let g = linear_group(wg, nwg);
    if g >= mp.n_tiles || red[DONE] != 0.0 {
        return;
    }
    let t = tile_pixel(g, li);
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
        let cx = t.x + 1u - n % 3u;
        let cy = t.y + 1u - n / 3u;
        if !is_centre(cx, cy) {
            continue;
        }
        let k = cidx(cx, cy);
        let w = wa[k];
        acc += (di - dir[k]) - (w.w + dot(whiten(k, window_sum(k), colour), w.xyz)) / 9.0;
    }
    q[t.z] = acc;
    return di * acc;
}

// `done` as a workgroup-uniform value, for kernels that reduce.
var<workgroup> done_flag: f32;

fn is_done(li: u32) -> bool {
    if li == 0u {
        done_flag = red[DONE];
    }
    return workgroupUniformLoad(&done_flag) != 0.0;
}

fn write_partial(g: u32, li: u32, v: vec2<f32>) {
    let total = workgroup_sum(li, vec4(v, 0.0, 0.0));
    if li == 0u {
        red[PARTIALS + 2u * g] = total.x;
        red[PARTIALS + 2u * g + 1u] = total.y;
    }
}

@compute @workgroup_size(WG)
fn lap_pixels(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let g = linear_group(wg, nwg);
    if g >= mp.n_tiles || is_done(li) {
        return;
    }
    write_partial(g, li, vec2(lap_pixel(tile_pixel(g, li)), 0.0));
}

// After q = L x_known: r = b = -q on unknown pixels, partial |b|^2; then
// dir = x everywhere, for the initial residual.
@compute @workgroup_size(WG)
fn rhs(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let g = linear_group(wg, nwg);
    if g >= mp.n_tiles {
        return;
    }
    let t = tile_pixel(g, li);
    var bb = 0.0;
    if invdiag[t.z] != 0.0 {
        let b = -q[t.z];
        r[t.z] = b;
        bb = b * b;
    }
    dir[t.z] = x[t.z];
    write_partial(g, li, vec2(bb, 0.0));
}

// After q = L x: r = -q (= b - L_U x_U), dir = z = r / L_ii on unknown pixels,
// 0 elsewhere; partials (r.z, r.r).
@compute @workgroup_size(WG)
fn residual(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let g = linear_group(wg, nwg);
    if g >= mp.n_tiles {
        return;
    }
    let t = tile_pixel(g, li);
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
    write_partial(g, li, part);
}

// x += alpha dir, r -= alpha q; partials (r.z, r.r) with z = r / L_ii.
@compute @workgroup_size(WG)
fn update(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let g = linear_group(wg, nwg);
    if g >= mp.n_tiles || is_done(li) {
        return;
    }
    let t = tile_pixel(g, li);
    let m = invdiag[t.z];
    var part = vec2(0.0);
    if m != 0.0 {
        let alpha = red[ALPHA];
        x[t.z] += alpha * dir[t.z];
        let ri = r[t.z] - alpha * q[t.z];
        r[t.z] = ri;
        part = vec2(ri * ri * m, ri * ri);
    }
    write_partial(g, li, part);
}

// dir = z + beta dir on unknown pixels.
@compute @workgroup_size(WG)
fn direction(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let g = linear_group(wg, nwg);
    if g >= mp.n_tiles || red[DONE] != 0.0 {
        return;
    }
    let t = tile_pixel(g, li);
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

// Compact -> dense alpha, clamped to [0, 1]; pixels of inactive tiles are known.
@compute @workgroup_size(WG)
fn scatter(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let e = invocation_index(wg, nwg, li);
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
