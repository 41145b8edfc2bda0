//! Every conv kernel, as values: the tuner, `info --adapters`, the tests
//! and the bench iterate [`ConvKernel::all`]. Adding a kernel is its file
//! and one line in [`KERNELS`]; dropping one removes both (tuning caches
//! naming it then fall back to the untuned choice).

use std::fmt;
use std::hash::{Hash, Hasher};

use super::coop::Coop;
use super::direct::Direct;
use super::gemm::Gemm;
use super::kernel::{Caps, Kernel, Unsupported};
use super::subgroup::Subgroup;
use super::subgroup_uniform::SubgroupUniform;
use super::winograd::Winograd;
use super::{ConvParams, ConvSpec};
use crate::gpu::groups_for;

/// The kernels, in the order reports list them.
static KERNELS: [&dyn Kernel; 10] = [
    &Direct,
    &SUBGROUP,
    &SUBGROUP_ANY,
    &SubgroupUniform,
    &Winograd,
    &Gemm {
        name: "gemm64x32",
        tm: 4,
        tn: 2,
    },
    &Gemm {
        name: "gemm128x32",
        tm: 8,
        tn: 2,
    },
    &Gemm {
        name: "gemm64x64",
        tm: 4,
        tn: 4,
    },
    &Gemm {
        name: "gemm128x64",
        tm: 8,
        tn: 4,
    },
    &Coop,
];

static SUBGROUP: Subgroup = Subgroup {
    name: "subgroup",
    any_shape: false,
};
static SUBGROUP_ANY: Subgroup = Subgroup {
    name: "subgroup_any",
    any_shape: true,
};

/// Names that tuning caches written by older versions use.
const OLD_NAMES: [(&str, &str); 1] = [("gemm", "gemm64x32")];

/// A conv kernel: a handle to one entry of the registry, compared and
/// hashed by name.
#[derive(Clone, Copy)]
pub struct ConvKernel(&'static dyn Kernel);

impl ConvKernel {
    /// Every kernel, whether or not an adapter runs it.
    pub fn all() -> impl Iterator<Item = ConvKernel> {
        KERNELS.iter().map(|&k| ConvKernel(k))
    }

    /// The kernel of this name (or an older name of it).
    pub fn by_name(name: &str) -> Option<ConvKernel> {
        let name = OLD_NAMES
            .iter()
            .find(|(old, _)| *old == name)
            .map_or(name, |(_, new)| new);
        Self::all().find(|k| k.name() == name)
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    pub fn kernel(self) -> &'static dyn Kernel {
        self.0
    }

    /// See [`Kernel::f16_products`].
    pub fn f16_products(self) -> bool {
        self.0.f16_products()
    }

    /// Whether the device runs this kernel (on some layers at least).
    pub fn supports(self, caps: &Caps) -> Result<(), Unsupported> {
        self.0.supports(caps)
    }

    /// Whether the kernel can compute the conv `p` of `spec` on this device.
    pub fn check(self, caps: &Caps, spec: &ConvSpec, p: &ConvParams) -> Result<(), Unsupported> {
        self.0.supports(caps)?;
        self.0.takes(caps, spec, p)
    }

    /// The kernel for convs that were never tuned: on CPU adapters
    /// (llvmpipe) the subgroup kernel, in its any-shape form on layers of
    /// at most [`ANY_SHAPE_PIXELS`], else in uniform windows on 3x3 convs
    /// with a single output block or grids of at least
    /// [`MIN_SPLIT_GROUPS`]; elsewhere the direct kernel. BENCHMARKS.md has
    /// the measurements behind the rule; `u2cut bench --tune` measures
    /// every kernel.
    pub fn untuned(caps: &Caps, spec: &ConvSpec, p: &ConvParams) -> Self {
        let cpu = caps.info.device_type == wgpu::DeviceType::Cpu;
        let groups = groups_for(u64::from(p.height) * u64::from(p.tiles_x));
        let small = u64::from(p.height) * u64::from(p.width) <= ANY_SHAPE_PIXELS;
        let windows_pay = spec.k == 3 && (p.cout_blocks == 1 || groups >= MIN_SPLIT_GROUPS);
        let (any, uniform) = (ConvKernel(&SUBGROUP_ANY), ConvKernel(&SubgroupUniform));
        [any, uniform, ConvKernel(&SUBGROUP)]
            .into_iter()
            .filter(|&k| (small || k != any) && (windows_pay || k != uniform))
            .find(|k| cpu && k.check(caps, spec, p).is_ok())
            .unwrap_or_default()
    }
}

/// Layers of at most this many pixels per image take the any-shape
/// subgroup kernel on llvmpipe: at 320x320 the 20x20 and 10x10 layers, a
/// small share of the time that needed most of the conv pipelines
/// (BENCHMARKS.md).
const ANY_SHAPE_PIXELS: u64 = 32 * 32;

/// The uniform-window kernel runs one grid per output block: on llvmpipe
/// it beats the subgroup kernel on grids of at least this many workgroups
/// and loses on shorter ones, which cannot keep the threads busy.
const MIN_SPLIT_GROUPS: u64 = 16;

impl Default for ConvKernel {
    fn default() -> Self {
        ConvKernel(&Direct)
    }
}

impl PartialEq for ConvKernel {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl Eq for ConvKernel {}

impl Hash for ConvKernel {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name().hash(state);
    }
}

impl fmt::Debug for ConvKernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for ConvKernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for ConvKernel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        let names: Vec<_> = ConvKernel::all().map(ConvKernel::name).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        for k in ConvKernel::all() {
            assert_eq!(ConvKernel::by_name(k.name()), Some(k));
        }
        assert_eq!(
            ConvKernel::by_name("gemm").map(ConvKernel::name),
            Some("gemm64x32")
        );
        assert_eq!(ConvKernel::by_name("nope"), None);
    }
}
