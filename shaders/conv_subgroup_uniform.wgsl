// The subgroup conv kernel (shared/conv_subgroup_body.wgsl) reading its
// weights from uniform buffers instead of the storage buffer. On llvmpipe
// (Mesa 22.3) a storage load is a loop over the SIMD lanes, each lane
// with a mask test and a bounds check, while a uniform-buffer load is one
// vector gather: the convs ran ~8% faster (BENCHMARKS.md).
//
// A uniform binding holds at most 64 KiB, so the host dispatches one
// 16-channel output block at a time, binding that block's weights for
// a's channels as `window_a` and for b's as `window_b` (a concatenation's
// two halves; b's window is a's when b is empty). Each window starts at
// an aligned offset at or below the weights it needs; p.w_a and p.w_b
// say where they begin in it. The host uses this kernel only where each
// view's weights fit in a window (3x3: up to 113 channels per view).

//#include "shared/conv_subgroup_body.wgsl"

// 64 KiB each: vec4s, so the uniform layout has no padding.
const WINDOW: u32 = 4096u;
@group(0) @binding(9) var<uniform> window_a: array<vec4<f32>, WINDOW>;
@group(0) @binding(10) var<uniform> window_b: array<vec4<f32>, WINDOW>;

// `from_b` is a literal at every call (conv_direct.wgsl), so one load remains.
fn weight(from_b: bool, i: u32) -> vec4<f32> {
    if from_b {
        return window_b[i];
    }
    return window_a[i];
}
