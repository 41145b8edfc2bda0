//! Connected components by GPU union-find, and removal of small ones
//! (shaders/components.wgsl). The CPU reference is sequential union-find
//! with the same rule (the smaller index becomes the root), so labels agree
//! exactly: each component is labelled by its smallest pixel index.

use crate::Result;
use bytemuck::{Pod, Zeroable};

use crate::gpu::{Dispatch, DispatchBuilder, GpuContext, groups_for, shaders};

/// `ComponentParams` in shaders/components.wgsl (tests/it/layout.rs checks the layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct ComponentParams {
    pub width: u32,
    pub height: u32,
    /// Pixels above it are "in" (at or below it with `invert`).
    pub threshold: f32,
    pub invert: u32,
    /// 4 or 8.
    pub connectivity: u32,
    /// `keep`: smaller components are set to the other class.
    pub min_size: u32,
    pub _pad: [u32; 2],
}

/// Label of pixels that are not "in".
pub const NONE: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Init,
    Merge,
    Compress,
    Count,
    Keep,
}

impl Step {
    pub const LABEL: [Step; 4] = [Step::Init, Step::Merge, Step::Compress, Step::Count];

    fn entry(self) -> &'static str {
        match self {
            Self::Init => "init",
            Self::Merge => "merge",
            Self::Compress => "compress",
            Self::Count => "count",
            Self::Keep => "keep",
        }
    }

    /// Records the step over every pixel; `dst` only for `Keep`.
    pub fn dispatch(
        self,
        ctx: &GpuContext,
        p: &ComponentParams,
        mask: &wgpu::Buffer,
        labels: &wgpu::Buffer,
        sizes: &wgpu::Buffer,
        dst: Option<&wgpu::Buffer>,
    ) -> Result<Dispatch> {
        let mut buffers = vec![(1, mask), (2, labels)];
        match self {
            Self::Merge | Self::Compress => {}
            Self::Init | Self::Count => buffers.push((3, sizes)),
            Self::Keep => {
                buffers.push((3, sizes));
                buffers.push((4, dst.expect("keep writes a mask")));
            }
        }
        DispatchBuilder::new(ctx, shaders::COMPONENTS, self.entry()).build(
            format!("components_{}", self.entry()),
            p,
            &buffers,
            groups_for(u64::from(p.width) * u64::from(p.height)),
            1,
        )
    }
}

impl ComponentParams {
    fn inside(&self, v: f32) -> bool {
        (v > self.threshold) != (self.invert == 1)
    }
}

fn find(labels: &[u32], mut a: usize) -> usize {
    while labels[a] as usize != a {
        a = labels[a] as usize;
    }
    a
}

/// CPU reference of `init`, `merge`, `compress` and `count`: (labels, sizes).
pub fn label_cpu(p: &ComponentParams, mask: &[f32]) -> (Vec<u32>, Vec<u32>) {
    let w = p.width as usize;
    let inside = |i: usize| p.inside(mask[i]);
    let mut labels: Vec<u32> = (0..mask.len())
        .map(|i| if inside(i) { i as u32 } else { NONE })
        .collect();
    for e in 0..mask.len() {
        if !inside(e) {
            continue;
        }
        let (x, y) = (e % w, e / w);
        let mut neighbours = Vec::with_capacity(4);
        if x > 0 {
            neighbours.push(e - 1);
        }
        if y > 0 {
            neighbours.push(e - w);
            if p.connectivity == 8 {
                if x > 0 {
                    neighbours.push(e - w - 1);
                }
                if x + 1 < w {
                    neighbours.push(e - w + 1);
                }
            }
        }
        for n in neighbours.into_iter().filter(|&n| inside(n)) {
            let (a, b) = (find(&labels, e), find(&labels, n));
            labels[a.max(b)] = a.min(b) as u32;
        }
    }
    let mut sizes = vec![0u32; mask.len()];
    for e in 0..mask.len() {
        if inside(e) {
            let root = find(&labels, e);
            labels[e] = root as u32;
            sizes[root] += 1;
        }
    }
    (labels, sizes)
}

/// CPU reference of `keep`.
pub fn keep_cpu(p: &ComponentParams, mask: &[f32], labels: &[u32], sizes: &[u32]) -> Vec<f32> {
    mask.iter()
        .enumerate()
        .map(|(e, &v)| {
            if p.inside(v) && sizes[labels[e] as usize] < p.min_size {
                f32::from(u8::from(p.invert == 1))
            } else {
                v
            }
        })
        .collect()
}
