// Connected components of a binary mask, and the removal of small ones
// (islands of foreground, or holes of background with `invert`): GPU
// union-find after Playne & Hawick (2018). Every pixel starts as its own
// root; `merge` unites each pixel with its already-visited neighbours by
// pointing the larger root at the smaller one with atomicMin, so roots only
// decrease and every component ends at its smallest pixel index, whatever
// the order of the unions. `compress` flattens the trees, `count` sizes them.

//#include "shared/tensor.wgsl"

// Keep in sync with src/kernels/components.rs (ComponentParams).
struct ComponentParams {
    width: u32,
    height: u32,
    // Pixels with value > threshold are "in" (or <= threshold with invert = 1).
    threshold: f32,
    invert: u32,
    // 4 or 8.
    connectivity: u32,
    // `keep`: components with fewer pixels are removed (set to the other class).
    min_size: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> cp: ComponentParams;
@group(0) @binding(1) var<storage, read> mask: array<f32>;
@group(0) @binding(2) var<storage, read_write> labels: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read_write> sizes: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read_write> dst: array<f32>;

const NONE: u32 = 0xffffffffu;

fn inside(i: u32) -> bool {
    return (mask[i] > cp.threshold) != (cp.invert == 1u);
}

fn find(i: u32) -> u32 {
    var a = i;
    var parent = atomicLoad(&labels[a]);
    while parent != a {
        a = parent;
        parent = atomicLoad(&labels[a]);
    }
    return a;
}

fn unite(i: u32, j: u32) {
    var a = i;
    var b = j;
    loop {
        a = find(a);
        b = find(b);
        if a == b {
            break;
        }
        // Point the larger root at the smaller; if it was no longer a root
        // (another invocation got there first), follow where it went.
        let hi = max(a, b);
        let lo = min(a, b);
        let old = atomicMin(&labels[hi], lo);
        if old == hi {
            break;
        }
        a = old;
        b = lo;
    }
}

@compute @workgroup_size(WG)
fn init(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let e = invocation_index(wg, nwg, li);
    if e >= cp.width * cp.height {
        return;
    }
    atomicStore(&labels[e], select(NONE, e, inside(e)));
    atomicStore(&sizes[e], 0u);
}

@compute @workgroup_size(WG)
fn merge(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let e = invocation_index(wg, nwg, li);
    if e >= cp.width * cp.height || !inside(e) {
        return;
    }
    let px = e % cp.width;
    let py = e / cp.width;
    if px > 0u && inside(e - 1u) {
        unite(e, e - 1u);
    }
    if py > 0u {
        let up = e - cp.width;
        if inside(up) {
            unite(e, up);
        }
        if cp.connectivity == 8u {
            if px > 0u && inside(up - 1u) {
                unite(e, up - 1u);
            }
            if px + 1u < cp.width && inside(up + 1u) {
                unite(e, up + 1u);
            }
        }
    }
}

@compute @workgroup_size(WG)
fn compress(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let e = invocation_index(wg, nwg, li);
    if e >= cp.width * cp.height || !inside(e) {
        return;
    }
    atomicStore(&labels[e], find(e));
}

@compute @workgroup_size(WG)
fn count(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let e = invocation_index(wg, nwg, li);
    if e >= cp.width * cp.height || !inside(e) {
        return;
    }
    atomicAdd(&sizes[atomicLoad(&labels[e])], 1u);
}

// dst = the mask with components under min_size set to the other class
// (islands to 0, holes to 1).
@compute @workgroup_size(WG)
fn keep(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let e = invocation_index(wg, nwg, li);
    if e >= cp.width * cp.height {
        return;
    }
    var v = mask[e];
    if inside(e) && atomicLoad(&sizes[atomicLoad(&labels[e])]) < cp.min_size {
        v = select(0.0, 1.0, cp.invert == 1u);
    }
    dst[e] = v;
}
