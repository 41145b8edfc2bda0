// Grayscale erosion (min) and dilation (max) over flat structuring elements,
// in O(1) per pixel per line pass (van Herk / Gil-Werman):
//   `scan`  cuts each line into blocks of the window's length B = lo + hi + 1
//           and writes running extrema from each block's start (g) and end (h);
//   `merge` gives the extremum over [i - lo, i + hi] as op(h[i - lo], g[i + hi]).
// A rectangle is a pass along x then one along y. Other shapes (OpenCV's
// ellipse) are unions of centred row segments: for each segment width, one
// x pass, then `rows` folds the shifted rows that have that width into the
// result, so an element of height K costs O(K) per pixel, never O(K^2).
// Outside the image is either ignored or holds a constant (scipy's
// border_value), as `pad_mode` says.

//#include "shared/tensor.wgsl"

// Keep in sync with src/kernels/morphology.rs (MorphParams).
struct MorphParams {
    width: u32,
    height: u32,
    // 0: along x (rows), 1: along y (columns).
    axis: u32,
    // The window of position i is [i - lo, i + hi] along the axis.
    lo: u32,
    hi: u32,
    // 0: min (erosion), 1: max (dilation).
    op: u32,
    // 0: pixels outside the image are ignored; 1: they hold `pad`.
    pad_mode: u32,
    pad: f32,
    // `rows`: the row offset folded in, and whether it is the first (overwrite).
    dy: i32,
    first: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> mp: MorphParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
// Block-prefix (g) and block-suffix (h) extrema of `scan`.
@group(0) @binding(3) var<storage, read_write> prefix: array<f32>;
@group(0) @binding(4) var<storage, read_write> suffix: array<f32>;

const HUGE: f32 = 3.0e38;

fn combine(a: f32, b: f32) -> f32 {
    return select(min(a, b), max(a, b), mp.op == 1u);
}

fn identity() -> f32 {
    return select(HUGE, -HUGE, mp.op == 1u);
}

fn line_len() -> u32 {
    return select(mp.width, mp.height, mp.axis == 1u);
}

// Buffer index of position i of line `line` along the axis.
fn at(line: u32, i: u32) -> u32 {
    return select(line * mp.width + i, i * mp.width + line, mp.axis == 1u);
}

@compute @workgroup_size(WG)
fn scan(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let e = invocation_index(wg, nwg, li);
    let len = line_len();
    let lines = select(mp.height, mp.width, mp.axis == 1u);
    let block = mp.lo + mp.hi + 1u;
    let blocks = (len + block - 1u) / block;
    if e >= lines * blocks {
        return;
    }
    let line = e / blocks;
    let start = (e % blocks) * block;
    let end = min(start + block, len);
    var acc = identity();
    for (var i = start; i < end; i++) {
        acc = combine(acc, src[at(line, i)]);
        prefix[at(line, i)] = acc;
    }
    acc = identity();
    for (var i = end; i > start; i--) {
        acc = combine(acc, src[at(line, i - 1u)]);
        suffix[at(line, i - 1u)] = acc;
    }
}

@compute @workgroup_size(WG)
fn merge(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let e = invocation_index(wg, nwg, li);
    if e >= mp.width * mp.height {
        return;
    }
    let len = line_len();
    let line = select(e / mp.width, e % mp.width, mp.axis == 1u);
    let i = select(e % mp.width, e / mp.width, mp.axis == 1u);
    let block = mp.lo + mp.hi + 1u;
    // Window [a, b], clipped to [a', b'] = [max(a, 0), min(b, len - 1)].
    let a = i32(i) - i32(mp.lo);
    let b = i + mp.hi;
    let bc = min(b, len - 1u);
    var v: f32;
    if a < 0 {
        // Clipped on the left: [0, b'] lies in the first block.
        v = prefix[at(line, bc)];
    } else if b >= len && u32(a) / block == bc / block {
        // Clipped on the right inside the last block: its suffix from a.
        v = suffix[at(line, u32(a))];
    } else {
        v = combine(suffix[at(line, u32(a))], prefix[at(line, bc)]);
    }
    if mp.pad_mode == 1u && (a < 0 || b >= len) {
        v = combine(v, mp.pad);
    }
    dst[e] = v;
}

@compute @workgroup_size(WG)
fn rows(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let e = invocation_index(wg, nwg, li);
    if e >= mp.width * mp.height {
        return;
    }
    let y = i32(e / mp.width) + mp.dy;
    var v = identity();
    if y >= 0 && y < i32(mp.height) {
        v = src[u32(y) * mp.width + e % mp.width];
    } else if mp.pad_mode == 1u {
        v = mp.pad;
    }
    if mp.first == 1u {
        dst[e] = v;
    } else {
        dst[e] = combine(dst[e], v);
    }
}
