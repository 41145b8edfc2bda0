// Foreground (and background) colours from an image and its alpha, by the
// multi-level method of Germer et al. (2020) as pymatting's
// estimate_foreground_ml, in the Jacobi form of its GPU versions: at each
// level (sizes w0^(l/n) x h0^(l/n)) every pixel solves its 2x2 system
//   [a^2 + S, a(1-a); a(1-a), (1-a)^2 + S] (F, B) = (a I + sum da F_j, (1-a) I + sum da B_j)
// with da = regularization + gradient_weight |a - a_j| over its 4 neighbours,
// reading the previous iterate. The image and alpha of a level are sampled
// nearest from the full-size inputs on the fly instead of being stored.
// F and B are stored as 16-bit unorm (pack2x16unorm: (r, g), (b, 0)): they are
// clamped to [0, 1] anyway, and at 8 bytes a pixel a 12-megapixel level
// stays under a 128 MiB storage binding.

//#include "shared/tensor.wgsl"
//#include "shared/reduce.wgsl"

// Keep in sync with src/kernels/foreground.rs (ForegroundParams).
struct ForegroundParams {
    // Full-size image.
    width0: u32,
    height0: u32,
    // This level.
    width: u32,
    height: u32,
    // The level `resize` reads.
    src_width: u32,
    src_height: u32,
    regularization: f32,
    gradient_weight: f32,
    // Workgroups of `means`, one partial sum pair each.
    n_partials: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> fp: ForegroundParams;
// RGBA8, R in the low byte.
@group(0) @binding(1) var<storage, read> image: array<u32>;
@group(0) @binding(2) var<storage, read> alpha: array<f32>;
@group(0) @binding(3) var<storage, read> f_src: array<vec2<u32>>;
@group(0) @binding(4) var<storage, read> b_src: array<vec2<u32>>;
@group(0) @binding(5) var<storage, read_write> f_dst: array<vec2<u32>>;
@group(0) @binding(6) var<storage, read_write> b_dst: array<vec2<u32>>;
@group(0) @binding(7) var<storage, read_write> partials: array<vec4<f32>>;

fn pack(c: vec3<f32>) -> vec2<u32> {
    return vec2(pack2x16unorm(c.xy), pack2x16unorm(vec2(c.z, 0.0)));
}

fn unpack(p: vec2<u32>) -> vec3<f32> {
    return vec3(unpack2x16unorm(p.x), unpack2x16unorm(p.y).x);
}

// Nearest source index of `i` when resizing src_len to dst_len (pymatting's
// _resize_nearest: i * src_len / dst_len, clamped).
fn nearest(i: u32, src_len: u32, dst_len: u32) -> u32 {
    return min(i * src_len / dst_len, src_len - 1u);
}

// Index into the full-size inputs of pixel (x, y) of this level.
fn full_index(px: u32, py: u32) -> u32 {
    return nearest(py, fp.height0, fp.height) * fp.width0 + nearest(px, fp.width0, fp.width);
}

// Per-workgroup sums of colour and count where alpha > 0.9 (foreground) and
// alpha < 0.1 (background): the 1x1 first level is their mean.
@compute @workgroup_size(WG)
fn means(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let g = linear_group(wg, nwg);
    let e = g * WG + li;
    var fg = vec4(0.0);
    var bg = vec4(0.0);
    if e < fp.width0 * fp.height0 {
        let c = vec4(unpack4x8unorm(image[e]).xyz, 1.0);
        let a = alpha[e];
        fg = select(vec4(0.0), c, a > 0.9);
        bg = select(vec4(0.0), c, a < 0.1);
    }
    let sf = workgroup_sum(li, fg);
    let sb = workgroup_sum(li, bg);
    // The grid may hold a few more workgroups than there are pixels for.
    if li == 0u && g < fp.n_partials {
        partials[2u * g] = sf;
        partials[2u * g + 1u] = sb;
    }
}

@compute @workgroup_size(WG)
fn means_finish(@builtin(local_invocation_index) li: u32) {
    var fg = vec4(0.0);
    var bg = vec4(0.0);
    for (var i = li; i < fp.n_partials; i += WG) {
        fg += partials[2u * i];
        bg += partials[2u * i + 1u];
    }
    let sf = workgroup_sum(li, fg);
    let sb = workgroup_sum(li, bg);
    if li == 0u {
        // pymatting divides by count + 1e-5: an empty class gives black.
        f_dst[0] = pack(sf.xyz / (sf.w + 1e-5));
        b_dst[0] = pack(sb.xyz / (sb.w + 1e-5));
    }
}

// The previous level's F and B, nearest-resized to this level.
@compute @workgroup_size(WG)
fn resize(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let e = invocation_index(wg, nwg, li);
    if e >= fp.width * fp.height {
        return;
    }
    let s = nearest(e / fp.width, fp.src_height, fp.height) * fp.src_width
        + nearest(e % fp.width, fp.src_width, fp.width);
    f_dst[e] = f_src[s];
    b_dst[e] = b_src[s];
}

// One Jacobi iteration at this level: (f_src, b_src) -> (f_dst, b_dst).
@compute @workgroup_size(WG)
fn iterate(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let e = invocation_index(wg, nwg, li);
    if e >= fp.width * fp.height {
        return;
    }
    let px = e % fp.width;
    let py = e / fp.width;
    let full = full_index(px, py);
    let a0 = alpha[full];
    let a1 = 1.0 - a0;
    let colour = unpack4x8unorm(image[full]).xyz;
    var b0 = a0 * colour;
    var b1 = a1 * colour;
    var a_sum = 0.0;
    // Left, right, up, down, clamped at the border (pymatting's order).
    let nx = array(max(px, 1u) - 1u, min(px + 1u, fp.width - 1u), px, px);
    let ny = array(py, py, max(py, 1u) - 1u, min(py + 1u, fp.height - 1u));
    for (var d = 0u; d < 4u; d++) {
        let j = ny[d] * fp.width + nx[d];
        let da = fp.regularization + fp.gradient_weight * abs(a0 - alpha[full_index(nx[d], ny[d])]);
        a_sum += da;
        b0 += da * unpack(f_src[j]);
        b1 += da * unpack(b_src[j]);
    }
    let a00 = a0 * a0 + a_sum;
    let a11 = a1 * a1 + a_sum;
    let a01 = a0 * a1;
    let inv_det = 1.0 / (a00 * a11 - a01 * a01);
    f_dst[e] = pack(clamp(inv_det * (a11 * b0 - a01 * b1), vec3(0.0), vec3(1.0)));
    b_dst[e] = pack(clamp(inv_det * (a00 * b1 - a01 * b0), vec3(0.0), vec3(1.0)));
}
