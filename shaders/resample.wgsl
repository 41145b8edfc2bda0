// Pillow's Lanczos resize of 8-bit images, one axis per entry point
// (libImaging/Resample.c, ImagingResampleHorizontal_8bpc / _Vertical_8bpc):
// every output byte is the sum of its input bytes times integer weights with
// 22 fraction bits, plus one half, shifted down and clipped to 0..255.
// Pillow runs the horizontal pass first into an 8-bit image, then the
// vertical one; rembg resizes this way both ways, so this is what matching
// rembg's masks to the gray level takes. The weights come from the host
// (src/kernels/resample.rs, Axis), where the CPU reference uses the same.

//#include "shared/tensor.wgsl"
//#include "shared/image8.wgsl"

// Keep in sync with src/kernels/resample.rs (ResampleParams).
struct ResampleParams {
    src: Image8,
    dst: Image8,
    // Bytes per pixel, 1..4; the same in src and dst.
    channels: u32,
    // Weights per output index; the table holds ksize + 2 values per output
    // index: the first input index, the number of taps, then the weights.
    ksize: u32,
    // Index of output 0's entry in `table`.
    table_offset: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: ResampleParams;
@group(0) @binding(1) var<storage, read> table: array<i32>;
@group(0) @binding(2) var<storage, read> src: array<u32>;
@group(0) @binding(3) var<storage, read_write> dst: array<u32>;

const PRECISION_BITS: u32 = 22u;
const HALF: i32 = 1 << (PRECISION_BITS - 1u);

// Pillow's clip8: the arithmetic shift floors, then the value is clamped.
fn clip8(acc: i32) -> u32 {
    return u32(clamp(acc >> PRECISION_BITS, 0, 255));
}

// The output word of this invocation as (row, word in the row), or none.
fn out_word(wg: vec3<u32>, nwg: vec3<u32>, li: u32) -> vec3<u32> {
    let e = invocation_index(wg, nwg, li);
    return vec3(e / p.dst.stride, e % p.dst.stride, u32(e < p.dst.stride * p.dst.height));
}

// Any dst.width; dst.height == src.height. Each lane of the
// output word can belong to another pixel (gray) or channel (RGBA).
@compute @workgroup_size(WG)
fn horizontal(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let o = out_word(wg, nwg, li);
    if o.z == 0u {
        return;
    }
    let row = p.src.offset + o.x * p.src.stride;
    let row_bytes = p.dst.width * p.channels;
    var out = vec4(0u);
    for (var lane = 0u; lane < 4u; lane++) {
        let j = o.y * 4u + lane;
        if j >= row_bytes {
            break;
        }
        let x = j / p.channels;
        let c = j % p.channels;
        let t = p.table_offset + x * (p.ksize + 2u);
        let first = u32(table[t]);
        let taps = u32(table[t + 1u]);
        var acc = HALF;
        for (var k = 0u; k < taps; k++) {
            let b = (first + k) * p.channels + c;
            let v = (src[row + b / 4u] >> (8u * (b % 4u))) & 0xffu;
            acc += i32(v) * table[t + 2u + k];
        }
        out[lane] = clip8(acc);
    }
    dst[p.dst.offset + o.x * p.dst.stride + o.y] = pack_lanes(out);
}

// dst.width == src.width (so the strides agree): every lane of a word is
// resampled along the same column of words, whatever the channels.
@compute @workgroup_size(WG)
fn vertical(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let o = out_word(wg, nwg, li);
    if o.z == 0u {
        return;
    }
    let t = p.table_offset + o.x * (p.ksize + 2u);
    let first = u32(table[t]);
    let taps = u32(table[t + 1u]);
    var acc = vec4(HALF);
    for (var k = 0u; k < taps; k++) {
        let w = src[p.src.offset + (first + k) * p.src.stride + o.y];
        acc += vec4<i32>(unpack_lanes(w)) * table[t + 2u + k];
    }
    let out = vec4(clip8(acc.x), clip8(acc.y), clip8(acc.z), clip8(acc.w));
    dst[p.dst.offset + o.x * p.dst.stride + o.y] = pack_lanes(out);
}
