// Separable filters, one axis per pass, over planar channels (one per z
// workgroup): dst(i) = sum_t taps[t] * src(i + t - radius) along the axis.
// Border 0 is OpenCV's BORDER_REFLECT_101 (cv2.GaussianBlur's default);
// border 1 drops the taps that fall outside and divides by the weight of the
// rest, so box taps give the mean over the part of the window inside the
// image (the guided filter's box means).

//#include "shared/tensor.wgsl"

// Keep in sync with src/kernels/filter.rs (FilterParams).
struct FilterParams {
    width: u32,
    height: u32,
    // 0: along x, 1: along y.
    axis: u32,
    radius: u32,
    // 0: reflect-101, 1: renormalized over the taps inside.
    border: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> fp: FilterParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<storage, read> taps: array<f32>;

// Reflect-101 (... 2 1 | 0 1 2 ... n-1 | n-2 ...), folded until inside.
fn reflect101(i: i32, n: i32) -> i32 {
    if n == 1 {
        return 0;
    }
    var j = i;
    while j < 0 || j >= n {
        j = select(2 * n - 2 - j, -j, j < 0);
    }
    return j;
}

@compute @workgroup_size(WG)
fn convolve(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let plane = fp.width * fp.height;
    let e = invocation_index(wg, nwg, li);
    if e >= plane {
        return;
    }
    let base = wg.z * plane;
    let px = i32(e % fp.width);
    let py = i32(e / fp.width);
    let along_y = fp.axis == 1u;
    let n = select(i32(fp.width), i32(fp.height), along_y);
    let i = select(px, py, along_y);
    let stride = select(1, i32(fp.width), along_y);
    // Index of the pixel with coordinate 0 along the axis, on this line.
    let line = i32(e) - i * stride;
    var acc = 0.0;
    var weight = 0.0;
    for (var t = 0; t <= 2 * i32(fp.radius); t++) {
        var j = i + t - i32(fp.radius);
        if fp.border == 1u {
            if j < 0 || j >= n {
                continue;
            }
        } else {
            j = reflect101(j, n);
        }
        let w = taps[t];
        acc += w * src[base + u32(line + j * stride)];
        weight += w;
    }
    dst[base + e] = select(acc, acc / weight, fp.border == 1u);
}
