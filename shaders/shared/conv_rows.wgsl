// Loading rows of a conv's input (the direct kernels, conv_winograd.wgsl):
// element by element with zeros outside the image, or four at a time.

//#include "shared/bilinear.wgsl"
//#include "shared/conv_params.wgsl"

// Vector loads: 1 when every row starts at a multiple of 4 elements (width
// divisible by 4, and a's too when UP_A = 2), so 4 neighbouring inputs are
// one aligned vec4 load. The same buffers are bound a second time as vec4
// arrays for it.
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
    if !from_b && UP_A == 2u {
        return row10_up2(base, iy, x0);
    }
    let ok = iy >= 0 && iy < i32(p.height);
    let row = u32(clamp(iy, 0, i32(p.height) - 1));
    let v0 = fetch4(from_b, base, row, ok, x0, 0);
    let v1 = fetch4(from_b, base, row, ok, x0, 4);
    let x = i32(x0);
    return Row10(fetch_or_zero(from_b, base, row, ok, x - 1), v0, v1, fetch_or_zero(from_b, base, row, ok, x + 8));
}

// Columns i0-1 .. i0+4 of a's row sy (i0 a multiple of 4), clamped into
// the row: with VEC one vec4 load and two scalars.
struct Row6 {
    left: f32,
    mid: vec4<f32>,
    right: f32,
}

fn source_row6(base: u32, sy: u32, i0: u32) -> Row6 {
    let row = base + sy * p.a_width;
    let last = p.a_width - 1u;
    var mid: vec4<f32>;
    if VEC != 0u {
        mid = vec4<f32>(in_a4[(row + i0) / 4u]);
    } else {
        mid = vec4(f32(in_a[row + min(i0, last)]), f32(in_a[row + min(i0 + 1u, last)]), f32(in_a[row + min(i0 + 2u, last)]), f32(in_a[row + min(i0 + 3u, last)]));
    }
    return Row6(f32(in_a[row + u32(max(i32(i0) - 1, 0))]), mid, f32(in_a[row + min(i0 + 4u, last)]));
}

// row10 of `a` upsampled exactly 2x (UP_A = 2; VEC means a's rows are
// 4-aligned too). Output column 2i is a's columns i-1 and i mixed 1:3,
// column 2i+1 columns i and i+1 mixed 3:1 (the far one clamped at the
// edges: upsample.wgsl's weights at scale 2), so columns x0-1 .. x0+8 are
// mixes of a's six columns from x0 / 2 - 1 in two rows: 6 loads, where
// fetch_up per column takes 40. Rows are mixed first: 6 mixes, not 10.
fn row10_up2(base: u32, iy: i32, x0: u32) -> Row10 {
    let ok = iy >= 0 && iy < i32(p.height);
    let sy = source_coord(u32(clamp(iy, 0, i32(p.height) - 1)), p.a_height, p.height);
    let y0 = u32(sy.x);
    let top = source_row6(base, y0, x0 / 2u);
    let bottom = source_row6(base, min(y0 + 1u, p.a_height - 1u), x0 / 2u);
    let l = mix(top.left, bottom.left, sy.y);
    let m = mix(top.mid, bottom.mid, vec4(sy.y));
    let r = mix(top.right, bottom.right, sy.y);
    // Columns x0, x0+2, x0+4, x0+6 and x0+1, x0+3, x0+5, x0+7.
    let even = mix(vec4(l, m.xyz), m, vec4(0.75));
    let odd = mix(m, vec4(m.yzw, r), vec4(0.25));
    let x = vec4(x0) + vec4(0u, 1u, 2u, 3u);
    let w = vec4(p.width);
    return Row10(
        select(0.0, mix(l, m.x, 0.25), ok && x0 > 0u),
        select(vec4(0.0), vec4(even.x, odd.x, even.y, odd.y), vec4(ok) & (x < w)),
        select(vec4(0.0), vec4(even.z, odd.z, even.w, odd.w), vec4(ok) & (x + 4u < w)),
        select(0.0, mix(m.w, r, 0.75), ok && x0 + 8u < p.width),
    );
}
