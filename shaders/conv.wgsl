// Direct conv, every invocation loading its own weights: on GPUs the
// addresses are uniform across the workgroup, so the loads are broadcasts.
// The body is shared/conv_direct.wgsl.

//#include "shared/tensor.wgsl"
//#include "shared/conv_params.wgsl"
//#include "shared/conv_direct.wgsl"

// Quad q of one channel's weights from w: vec4 w + 4k + q for tap k.
fn quad(w: u32) -> Quad {
    return Quad(array(
        weights[w], weights[w + 4u], weights[w + 8u],
        weights[w + 12u], weights[w + 16u], weights[w + 20u],
        weights[w + 24u], weights[w + 28u], weights[w + 32u],
    ));
}

fn accumulate(from_b: bool, w: u32, lane: u32, r0: RowTaps, r1: RowTaps, r2: RowTaps) {
    window(r0, r1, r2, quad(w), quad(w + 1u), quad(w + 2u), quad(w + 3u));
}

fn rows3(from_b: bool, base: u32, y: u32, x0: u32, lane: u32) -> array<RowTaps, 3> {
    return loaded_rows3(from_b, base, y, x0);
}

@compute @workgroup_size(WG)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let t = invocation_index(wg, nwg, li);
    if t >= tile_count() {
        return;
    }
    conv_direct(t / p.tiles_x, t % p.tiles_x * PX, true, wg.z, 0u);
}
