// Shared declarations for every kernel. Keep in sync with src/kernels/mod.rs.

// A range of channels of an NCHW f32 tensor. Element (n, c, p) of the view,
// p = y * width + x, is at ((n * c_total + c_offset + c) * plane + p). Views
// let a kernel read or write part of a concatenation without copying it.
struct View {
    c_total: u32,
    c_offset: u32,
    channels: u32,
    plane: u32,
}

// Spatial ops (pooling, resizing) read one view and write another of another size.
struct SpatialParams {
    src: View,
    dst: View,
    in_h: u32,
    in_w: u32,
    out_h: u32,
    out_w: u32,
}

const WG: u32 = 64u;

// The network kernels store activations as `array<act>`, where `act` is
// f32 or f16 as the prelude declares it (src/gpu/shaders.rs, Variant);
// arithmetic stays f32 in both, converting on every load and store.

fn view_index(v: View, n: u32, c: u32, p: u32) -> u32 {
    return (n * v.c_total + v.c_offset + c) * v.plane + p;
}

// Workgroups are laid out in x and y because one dimension holds at most
// 65535 of them; z is left to the kernel (image and channel blocks).
fn linear_group(wg: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wg.y * nwg.x + wg.x;
}

// This invocation's index along the linearized x/y grid (z apart).
fn invocation_index(wg: vec3<u32>, nwg: vec3<u32>, li: u32) -> u32 {
    return linear_group(wg, nwg) * WG + li;
}

// Pooling and resizing: each invocation writes SPX adjacent outputs of one
// output row, so the index arithmetic (integer divisions, which llvmpipe
// does lane by lane) is paid once per SPX outputs. Keep in sync with
// kernels::SPATIAL_PX.
const SPX: u32 = 4u;

struct RowTile {
    c: u32,
    oy: u32,
    // The first of the tile's SPX columns; some may be past the row's end.
    ox0: u32,
}

// Tile t of `channels` planes of out_h x out_w; c >= channels past the last.
fn row_tile(t: u32, channels: u32, out_h: u32, out_w: u32) -> RowTile {
    let tiles_x = (out_w + SPX - 1u) / SPX;
    let row = t / tiles_x;
    return RowTile(row / out_h, row % out_h, (t % tiles_x) * SPX);
}
