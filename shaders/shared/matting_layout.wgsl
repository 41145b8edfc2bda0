// Closed-form alpha matting (Levin, Lischinski, Weiss 2008), the model of
// pymatting's estimate_alpha_cf (radius 1): the matting Laplacian L is applied
// matrix-free and L_U alpha_U = -R alpha_K is solved by preconditioned
// conjugate gradients on the unknown pixels only. The kernels are split by
// stage, each file including this one for what they share:
//   matting_pyramid.wgsl    coarser levels and tile flags (dense)
//   matting_setup.wgsl      dense <-> compact, window constants, diagonal
//   matting_laplacian.wgsl  q = L dir
//   matting_solver.wgsl     the conjugate-gradient updates and reductions
//   matting_multigrid.wgsl  the multigrid V-cycle preconditioner
// Include after shared/tensor.wgsl (WG, linear_group) and shared/reduce.wgsl
// (workgroup_sum).
//
// Storage. The image is cut into 8x8 tiles; only "active" tiles (those within
// 2 pixels of an unknown pixel: every window touching an unknown pixel, and
// every pixel such a window reads, lies in one) are stored, compactly: pixel
// (x, y) of the active tile in slot s lives at s * 64 + (y % 8) * 8 + x % 8.
// `map` holds the active tile ids (slot -> tile) followed by slot_of
// (tile -> slot, NONE when inactive). One workgroup handles one tile.
//
// PCG scalars live at the head of `red`, per-workgroup partial sums after
// them; kernels skip their work once `done` is set, so a whole batch of
// iterations is recorded at once and the host reads `red` only every few
// iterations to see whether it has converged.

// Keep in sync with src/kernels/matting/mod.rs (MattingParams).
struct MattingParams {
    width: u32,
    height: u32,
    tiles_x: u32,
    // Active tiles (tile kernels) or all tiles (`flags`).
    n_tiles: u32,
    epsilon: f32,
    // Stop once |r|^2 <= tolerance2 * |b|^2.
    tolerance2: f32,
    // The other level of kernels that read two: `down` and the multigrid's
    // `mg_galerkin`, `mg_restrict` (the finer level), `mg_prolong` (the coarser).
    other_width: u32,
    other_height: u32,
    other_tiles_x: u32,
    other_n_tiles: u32,
    // `mg_bottom`: rows of the coarsest level.
    bottom_rows: u32,
    // `mg_prolong`, `mg_rz`: apply the deferred post-smoothing (of the
    // coarser level, of this one).
    relax: u32,
    pad1: u32,
    pad2: u32,
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

// The host binds buffers by these names (src/kernels/matting/mod.rs reads
// which ones an entry point uses from the shader), so the numbers only need
// to differ. Bindings 16 and up are outputs declared by the file that writes
// them.
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

// The builtins of the entry points that run over tiles or pixels.
struct GroupIds {
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
}

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

// The compact index of the n-th (0..9) window holding pixel t (as
// tile_pixel gives it), or NONE where that window's centre is off the image.
fn window_of(t: vec4<u32>, n: u32) -> u32 {
    let cx = t.x + 1u - n % 3u;
    let cy = t.y + 1u - n / 3u;
    if !is_centre(cx, cy) {
        return NONE;
    }
    return cidx(cx, cy);
}

// The sum of window k's colours.
fn window_sum(k: u32) -> vec3<f32> {
    let packed = win[2u * k].xy;
    let g = floor(packed.x / 4096.0);
    return vec3(packed.x - 4096.0 * g, g, packed.y);
}

// The whitened colour w = 3 R^-T c of colour `c` (8-bit levels) in window k
// with colour sum `sum` (matting_setup.wgsl derives R).
fn whiten(k: u32, sum: vec3<f32>, colour: vec3<f32>) -> vec3<f32> {
    let c = 9.0 * colour - sum;
    let a = win[2u * k];
    let b = win[2u * k + 1u];
    return vec3(a.z * c.x, a.w * c.x + b.y * c.y, b.x * c.x + b.z * c.y + b.w * c.z);
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
