// Fast guided filter (He & Sun 2015) of a mask with the colour image as
// guide, for refining masks in big batches: the colour guided filter of
// He et al. (2013) computed on images subsampled by `scale` (block means),
// its linear coefficients bilinearly upsampled and applied at full size.
//   `subsample`    guide I, input p and their products, 13 planar channels
//   (box means of those with filter.wgsl, border 1)
//   `coefficients` a = (cov(I) + eps U)^-1 cov(I, p), b = mean(p) - a . mean(I)
//   (box means of a, b)
//   `apply`        q = mean(a) . I + mean(b) at full size, clamped to [0, 1]

//#include "shared/tensor.wgsl"
//#include "shared/bilinear.wgsl"

// Keep in sync with src/kernels/guided.rs (GuidedParams).
struct GuidedParams {
    width: u32,
    height: u32,
    sub_width: u32,
    sub_height: u32,
    scale: u32,
    eps: f32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> gp: GuidedParams;
// RGBA8, R in the low byte.
@group(0) @binding(1) var<storage, read> image: array<u32>;
@group(0) @binding(2) var<storage, read> mask: array<f32>;
// `subsample`: I (3), p, I p (3), I I^T (rr, rg, rb, gg, gb, bb).
@group(0) @binding(3) var<storage, read_write> products: array<f32>;
// The box means of `products` (13 planes) or of `coeffs` (4 planes).
@group(0) @binding(4) var<storage, read> means: array<f32>;
// `coefficients`: a (3), b.
@group(0) @binding(5) var<storage, read_write> coeffs: array<f32>;
@group(0) @binding(6) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(WG)
fn subsample(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let plane = gp.sub_width * gp.sub_height;
    let e = invocation_index(wg, nwg, li);
    if e >= plane {
        return;
    }
    let x0 = (e % gp.sub_width) * gp.scale;
    let y0 = (e / gp.sub_width) * gp.scale;
    let x1 = min(x0 + gp.scale, gp.width);
    let y1 = min(y0 + gp.scale, gp.height);
    var colour = vec3(0.0);
    var p = 0.0;
    for (var y = y0; y < y1; y++) {
        for (var x = x0; x < x1; x++) {
            colour += unpack4x8unorm(image[y * gp.width + x]).xyz;
            p += mask[y * gp.width + x];
        }
    }
    let n = f32((x1 - x0) * (y1 - y0));
    colour /= n;
    p /= n;
    let v = array(
        colour.x, colour.y, colour.z, p,
        colour.x * p, colour.y * p, colour.z * p,
        colour.x * colour.x, colour.x * colour.y, colour.x * colour.z,
        colour.y * colour.y, colour.y * colour.z, colour.z * colour.z,
    );
    for (var c = 0u; c < 13u; c++) {
        products[c * plane + e] = v[c];
    }
}

@compute @workgroup_size(WG)
fn coefficients(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let plane = gp.sub_width * gp.sub_height;
    let e = invocation_index(wg, nwg, li);
    if e >= plane {
        return;
    }
    var m: array<f32, 13>;
    for (var c = 0u; c < 13u; c++) {
        m[c] = means[c * plane + e];
    }
    let mi = vec3(m[0], m[1], m[2]);
    let mpv = m[3];
    let cov = vec3(m[4], m[5], m[6]) - mi * mpv;
    // Covariance of I plus eps on the diagonal: (00, 01, 02, 11, 12, 22).
    let s00 = m[7] - mi.x * mi.x + gp.eps;
    let s01 = m[8] - mi.x * mi.y;
    let s02 = m[9] - mi.x * mi.z;
    let s11 = m[10] - mi.y * mi.y + gp.eps;
    let s12 = m[11] - mi.y * mi.z;
    let s22 = m[12] - mi.z * mi.z + gp.eps;
    // Symmetric 3x3 solve by cofactors (eps keeps it well conditioned).
    let c00 = s11 * s22 - s12 * s12;
    let c01 = s02 * s12 - s01 * s22;
    let c02 = s01 * s12 - s02 * s11;
    let c11 = s00 * s22 - s02 * s02;
    let c12 = s01 * s02 - s00 * s12;
    let c22 = s00 * s11 - s01 * s01;
    let det = s00 * c00 + s01 * c01 + s02 * c02;
    let a = vec3(
        c00 * cov.x + c01 * cov.y + c02 * cov.z,
        c01 * cov.x + c11 * cov.y + c12 * cov.z,
        c02 * cov.x + c12 * cov.y + c22 * cov.z,
    ) / det;
    coeffs[e] = a.x;
    coeffs[plane + e] = a.y;
    coeffs[2u * plane + e] = a.z;
    coeffs[3u * plane + e] = mpv - dot(a, mi);
}

@compute @workgroup_size(WG)
fn apply(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let e = invocation_index(wg, nwg, li);
    if e >= gp.width * gp.height {
        return;
    }
    let plane = gp.sub_width * gp.sub_height;
    let t = bilinear_taps(e / gp.width, e % gp.width, gp.sub_height, gp.sub_width, gp.height, gp.width);
    var ab = vec4(0.0);
    for (var c = 0u; c < 4u; c++) {
        let o = t.offsets + c * plane;
        ab[c] = bilerp(t, vec4(means[o.x], means[o.y], means[o.z], means[o.w]));
    }
    let colour = unpack4x8unorm(image[e]).xyz;
    dst[e] = clamp(dot(ab.xyz, colour) + ab.w, 0.0, 1.0);
}
