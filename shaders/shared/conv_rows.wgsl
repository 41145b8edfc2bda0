// Loading rows of a conv's input (the direct kernels, conv_winograd.wgsl):
// element by element with zeros outside the image, or four at a time.
// Needs shared/tensor.wgsl, shared/bilinear.wgsl, shared/conv_params.wgsl.

// Vector loads: 1 when every row starts at a multiple of 4 elements (width
// divisible by 4), so 4 neighbouring inputs are one aligned vec4 load. The
// same buffers are bound a second time as vec4 arrays for it.
override VEC: u32 = 0u;
@group(0) @binding(7) var<storage, read> in_a4: array<vec4<act>>;
@group(0) @binding(8) var<storage, read> in_b4: array<vec4<act>>;

// The kernels walk rows of one channel (from `base`, the channel's
// start in a or b), so it indexes the buffers itself rather than per
// element through fetch_channel. `from_b` is a literal at every call, so
// the branches on it fold away. Input at (y, x), or zero unless `ok` (the
// row is inside the image) and x is inside the row; the load itself is
// clamped into the image.
fn fetch_or_zero(from_b: bool, base: u32, y: u32, ok: bool, x: i32) -> f32 {
    let xc = u32(clamp(x, 0, i32(p.width) - 1));
    var v: f32;
    if from_b {
        v = f32(in_b[base + y * p.width + xc]);
    } else if UP_A != 0u {
        v = fetch_up(base, y, xc);
    } else {
        v = f32(in_a[base + y * p.width + xc]);
    }
    return select(0.0, v, ok && x >= 0 && x < i32(p.width));
}

// Four inputs from column x0 + dx of row y (x0 a multiple of 4). With VEC
// and dx a multiple of 4 they are one aligned load, all inside or all
// outside the row.
fn fetch4(from_b: bool, base: u32, y: u32, ok: bool, x0: u32, dx: i32) -> vec4<f32> {
    let x = i32(x0) + dx;
    if VEC != 0u && (dx & 3) == 0 && (from_b || UP_A == 0u) {
        let i = (base + y * p.width + u32(clamp(x, 0, i32(p.width) - 4))) / 4u;
        var v: vec4<f32>;
        if from_b {
            v = vec4<f32>(in_b4[i]);
        } else {
            v = vec4<f32>(in_a4[i]);
        }
        return select(vec4(0.0), v, ok && x >= 0 && x < i32(p.width));
    }
    return vec4(
        fetch_or_zero(from_b, base, y, ok, x),
        fetch_or_zero(from_b, base, y, ok, x + 1),
        fetch_or_zero(from_b, base, y, ok, x + 2),
        fetch_or_zero(from_b, base, y, ok, x + 3),
    );
}

// Columns x0-1 .. x0+8 of row iy, zero outside the image: the 8 pixels
// from x0 (with VEC, two vec4 loads) and the halo either side.
struct Row10 {
    left: f32,
    v0: vec4<f32>,
    v1: vec4<f32>,
    right: f32,
}

fn row10(from_b: bool, base: u32, iy: i32, x0: u32) -> Row10 {
    let ok = iy >= 0 && iy < i32(p.height);
    let row = u32(clamp(iy, 0, i32(p.height) - 1));
    let v0 = fetch4(from_b, base, row, ok, x0, 0);
    let v1 = fetch4(from_b, base, row, ok, x0, 4);
    let x = i32(x0);
    return Row10(fetch_or_zero(from_b, base, row, ok, x - 1), v0, v1, fetch_or_zero(from_b, base, row, ok, x + 8));
}
