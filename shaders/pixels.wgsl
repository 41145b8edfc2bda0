// The image-side passes around the network, rembg's numerics in f32:
//   normalize: resized RGBA8 -> NCHW float input: divide by the image's
//              maximum over R, G and B (alpha is ignored), then ImageNet
//              mean/std;
//   mask:      d0 -> 8-bit mask: min-max normalize over the image, times
//              255, truncated (numpy's astype(uint8));
//   compose:   the original RGBA and the full-size mask -> the output.
// normalize and mask reduce over a whole image, so each image gets one
// workgroup (z = image) that first reduces, then writes.

//#include "shared/tensor.wgsl"
//#include "shared/image8.wgsl"

// Keep in sync with src/kernels/pixels.rs (NormalizeParams).
struct NormalizeParams {
    // Image 0's resized RGBA; image z starts `src_step` words later.
    src: Image8,
    src_step: u32,
    // Image z's planes start at dst_offset + z * dst_step floats.
    dst_offset: u32,
    dst_step: u32,
    _pad: u32,
    mean: vec4<f32>,
    stddev: vec4<f32>,
}

// Keep in sync with src/kernels/pixels.rs (MaskParams).
struct MaskParams {
    // Channel 0 of this view is d0; its plane is dst.width x dst.height.
    src: View,
    // Image 0's mask (one byte per pixel); image z starts `dst_step` words later.
    dst: Image8,
    dst_step: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

// Keep in sync with src/kernels/pixels.rs (ComposeParams, Compose).
struct ComposeParams {
    // RGBA, straight alpha; rewritten in place.
    image: Image8,
    // One byte per pixel, the same size.
    mask: Image8,
    // RGBA of the same size (mode 2 only).
    background: Image8,
    // 0: alpha = image alpha x mask; 1: that over `color`; 2: over `background`.
    mode: u32,
    // RGBA8 packed like a pixel.
    color: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> normalize_p: NormalizeParams;
@group(0) @binding(0) var<uniform> mask_p: MaskParams;
@group(0) @binding(0) var<uniform> compose_p: ComposeParams;
@group(0) @binding(1) var<storage, read> bytes_in: array<u32>;
@group(0) @binding(1) var<storage, read> floats_in: array<f32>;
@group(0) @binding(1) var<storage, read_write> image: array<u32>;
@group(0) @binding(2) var<storage, read_write> floats_out: array<f32>;
@group(0) @binding(2) var<storage, read_write> bytes_out: array<u32>;
@group(0) @binding(2) var<storage, read> mask: array<u32>;
@group(0) @binding(3) var<storage, read> background: array<u32>;

// Invocations of the reducing kernels' workgroups (REDUCE_WG in pixels.rs).
const RWG: u32 = 256u;
var<workgroup> lo: array<f32, RWG>;
var<workgroup> hi: array<f32, RWG>;

// Tree reduction of lo (min) and hi (max) over the workgroup; every
// invocation gets the results.
fn reduce_min_max(li: u32) -> vec2<f32> {
    for (var s = RWG / 2u; s > 0u; s >>= 1u) {
        workgroupBarrier();
        if li < s {
            lo[li] = min(lo[li], lo[li + s]);
            hi[li] = max(hi[li], hi[li + s]);
        }
    }
    workgroupBarrier();
    return vec2(lo[0], hi[0]);
}

@compute @workgroup_size(RWG)
fn normalize(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let p = normalize_p;
    let first = p.src.offset + wg.z * p.src_step;
    let pixels = p.src.width * p.src.height;
    var m = 0u;
    for (var i = li; i < pixels; i += RWG) {
        let v = unpack_lanes(bytes_in[first + i]);
        m = max(m, max(v.x, max(v.y, v.z)));
    }
    lo[li] = 0.0;
    hi[li] = f32(m);
    // rembg divides by max(image max, 1e-6): an all-black image stays 0.
    let div = max(reduce_min_max(li).y, 1e-6);
    let base = p.dst_offset + wg.z * p.dst_step;
    for (var i = li; i < pixels; i += RWG) {
        let v = vec3<f32>(unpack_lanes(bytes_in[first + i]).xyz);
        let x = (v / div - p.mean.xyz) / p.stddev.xyz;
        floats_out[base + i] = x.x;
        floats_out[base + pixels + i] = x.y;
        floats_out[base + 2u * pixels + i] = x.z;
    }
}

// a / b rounded as IEEE division rounds it. Vulkan lets a driver divide
// to 2.5 ulp (NVIDIA's does), and one ulp below 1 truncates 255 to 254:
// one Newton step on the remainder, which fma gives exactly, lands on the
// rounded quotient.
fn divide_rounded(a: f32, b: f32) -> f32 {
    let q = a / b;
    return fma(fma(-q, b, a), 1.0 / b, q);
}

// One mask byte: rembg's (x - min) / (max - min) * 255, truncated. A flat
// map (max == min) gives NaN there, which numpy's cast turns into 0.
fn mask_byte(x: f32, mm: vec2<f32>) -> u32 {
    if mm.y <= mm.x {
        return 0u;
    }
    return u32(clamp(divide_rounded(x - mm.x, mm.y - mm.x) * 255.0, 0.0, 255.0));
}

@compute @workgroup_size(RWG)
fn mask_u8(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let p = mask_p;
    let base = view_index(p.src, wg.z, 0u, 0u);
    let pixels = p.src.plane;
    var a = floats_in[base];
    var b = a;
    for (var i = li; i < pixels; i += RWG) {
        a = min(a, floats_in[base + i]);
        b = max(b, floats_in[base + i]);
    }
    lo[li] = a;
    hi[li] = b;
    let mm = reduce_min_max(li);
    let words = p.dst.stride * p.dst.height;
    let first = p.dst.offset + wg.z * p.dst_step;
    for (var e = li; e < words; e += RWG) {
        let y = e / p.dst.stride;
        let x0 = (e % p.dst.stride) * 4u;
        var out = vec4(0u);
        for (var lane = 0u; lane < 4u; lane++) {
            if x0 + lane < p.dst.width {
                out[lane] = mask_byte(floats_in[base + y * p.dst.width + x0 + lane], mm);
            }
        }
        bytes_out[first + e] = pack_lanes(out);
    }
}

// Straight-alpha `fg` with alpha `a` (0..65025 = 255 * 255) over straight-alpha
// `bg`: exact integer arithmetic, so the CPU reference agrees bit for bit.
// Weights in 255^3 units: fg a * 255, bg bg.a * (65025 - a).
fn over(fg: vec4<u32>, a: u32, bg: vec4<u32>) -> vec4<u32> {
    let wf = a * 255u;
    let wb = bg.w * (65025u - a);
    let total = wf + wb;
    if total == 0u {
        return vec4(0u);
    }
    let rgb = (fg.xyz * wf + bg.xyz * wb + vec3(total / 2u)) / vec3(total);
    return vec4(rgb, (total + 32512u) / 65025u);
}

@compute @workgroup_size(WG)
fn compose(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let p = compose_p;
    let i = invocation_index(wg, nwg, li);
    if i >= p.image.width * p.image.height {
        return;
    }
    let y = i / p.image.width;
    let x = i % p.image.width;
    let at = p.image.offset + y * p.image.stride + x;
    let fg = unpack_lanes(image[at]);
    let m = unpack_lanes(mask[p.mask.offset + y * p.mask.stride + x / 4u])[x % 4u];
    // The input's own transparency is kept: alpha = its alpha x the mask.
    let a = fg.w * m;
    var out: vec4<u32>;
    switch p.mode {
        case 0u: {
            out = vec4(fg.xyz, (a + 127u) / 255u);
        }
        case 1u: {
            out = over(fg, a, unpack_lanes(p.color));
        }
        default: {
            let bg = background[p.background.offset + y * p.background.stride + x];
            out = over(fg, a, unpack_lanes(bg));
        }
    }
    image[at] = pack_lanes(out);
}
