//! The uniform-window kernel (shaders/conv_subgroup_uniform.wgsl): the
//! subgroup kernel reading its weights from 64 KiB uniform-buffer windows
//! (llvmpipe turns a uniform load into one vector gather instead of a
//! loop over the lanes). It binds one output block's weights at a time,
//! so its grid covers one block and runs once per block.

use super::direct::{quads, tiled_rows};
use super::kernel::{Caps, Kernel, Recording, Unsupported, tile_grid};
use super::subgroup::lane_rows;
use super::{ConvParams, ConvSpec, OCB};
use crate::gpu::Dispatch;
use crate::gpu::shaders::{self, Shader};

/// Bytes of one uniform weight window (`WINDOW` vec4s in the shader):
/// WebGPU's guaranteed uniform binding size.
pub const WINDOW_BYTES: u64 = 64 << 10;

pub struct SubgroupUniform;

impl Kernel for SubgroupUniform {
    fn name(&self) -> &'static str {
        "subgroup_uniform"
    }

    fn supports(&self, caps: &Caps) -> Result<(), Unsupported> {
        caps.subgroups_of_8_to_16()?;
        match caps.limits.max_uniform_buffer_binding_size >= WINDOW_BYTES {
            true => Ok(()),
            false => Err(Unsupported(format!(
                "it needs uniform bindings of 64 KiB ({} allows {} bytes)",
                caps.info.name, caps.limits.max_uniform_buffer_binding_size
            ))),
        }
    }

    fn takes(&self, caps: &Caps, spec: &ConvSpec, p: &ConvParams) -> Result<(), Unsupported> {
        match weight_windows(caps, spec, p) {
            Some(_) => Ok(()),
            None => Err(Unsupported(format!(
                "its weights for {} + {} input channels overrun a 64 KiB uniform window",
                p.a.channels, p.b.channels
            ))),
        }
    }

    fn reads_uniform_windows(&self) -> bool {
        true
    }

    fn shader(&self, _caps: &Caps) -> Shader {
        shaders::CONV_SUBGROUP_UNIFORM
    }

    fn grid(&self, caps: &Caps, _spec: &ConvSpec, p: &ConvParams) -> (u64, u32) {
        tile_grid(p, lane_rows(caps, p.height), 1)
    }

    fn configure<'a>(&self, r: Recording<'a>) -> Recording<'a> {
        let quads = quads(r.spec);
        tiled_rows(r).constant("QUADS", quads)
    }

    fn record(&self, r: Recording) -> crate::Result<Dispatch> {
        let caps = Caps::of(r.ctx);
        let windows = weight_windows(&caps, r.spec, &r.p).expect("takes() checked it");
        let weights = &r.weights.packed;
        let mut parts = windows
            .iter()
            .zip(0..)
            .map(|(&[(at_a, w_a), (at_b, w_b)], block)| {
                let mut part = r.clone();
                part.p = ConvParams {
                    cout_blocks: 1,
                    first_block: block,
                    w_a,
                    w_b,
                    ..r.p
                };
                part.builder = part.builder.range(9, weights, at_a, WINDOW_BYTES).range(
                    10,
                    weights,
                    at_b,
                    WINDOW_BYTES,
                );
                part.build()
            });
        let first = parts.next().expect("a conv has an output block")?;
        parts.try_fold(first, |d, part| Ok(d.then(part?)))
    }
}

/// Per output block, for a's and for b's channels: the byte offset to bind
/// a window from (aligned as the adapter requires, at or below the view's
/// first weight) and the vec4 of that window where the view's weights
/// begin. None if some view's weights overrun their window.
fn weight_windows(caps: &Caps, spec: &ConvSpec, p: &ConvParams) -> Option<Vec<[(u64, u32); 2]>> {
    let align = u64::from(caps.limits.min_uniform_buffer_offset_alignment);
    let channel_bytes = u64::from(spec.k * spec.k * OCB) * 4;
    let window = |block: u32, first: u32, channels: u32| {
        let start = u64::from(block * spec.cin + first) * channel_bytes;
        let offset = start / align * align;
        let end = start + u64::from(channels) * channel_bytes;
        (end - offset <= WINDOW_BYTES).then_some((offset, ((start - offset) / 16) as u32))
    };
    (0..p.cout_blocks)
        .map(|block| {
            let a = window(block, 0, p.a.channels)?;
            // An empty b reads nothing; its binding repeats a's window.
            let b = match p.b.channels {
                0 => a,
                channels => window(block, p.a.channels, channels)?,
            };
            Some([a, b])
        })
        .collect()
}
