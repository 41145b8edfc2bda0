//! Adapter selection and device creation.
//!
//! A real GPU is preferred over an integrated one, which is preferred over a
//! software rasterizer (llvmpipe / lavapipe). `--adapter` or `U2CUT_ADAPTER`
//! overrides the choice by index or by a substring of the adapter's name.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::error::GpuResultExt as _;
use crate::{Error, Result};

use super::pipeline_store::PipelineStore;
use super::pipelines::PipelineCache;

/// Environment variable naming the adapter to use (index or name substring).
pub const ADAPTER_ENV: &str = "U2CUT_ADAPTER";

/// Set to 1 to forbid falling back to the CPU (or skipping GPU tests) when
/// no adapter exists: CI sets it so a missing driver fails loudly.
pub const REQUIRE_GPU_ENV: &str = "U2CUT_REQUIRE_GPU";

/// Whether `U2CUT_REQUIRE_GPU=1` is set.
pub fn gpu_required() -> bool {
    std::env::var(REQUIRE_GPU_ENV).is_ok_and(|v| v == "1")
}

/// Set to 1 to open the device with wgpu's experimental cooperative-matrix
/// feature, where the adapter has it, which lets convs run on tensor cores
/// (the `coop` conv kernel: f16 products, see BENCHMARKS.md).
pub const COOP_MATRIX_ENV: &str = "U2CUT_COOP_MATRIX";

/// How to pick an adapter, and what to open on it.
#[derive(Clone, Debug, Default)]
pub struct AdapterChoice {
    /// Index into the enumerated adapter list, or a case-insensitive
    /// substring of the adapter name. `None` = best available.
    pub selector: Option<String>,
    /// Enable the experimental cooperative-matrix feature if the adapter
    /// has it (`U2CUT_COOP_MATRIX=1`).
    pub coop_matrix: bool,
    /// The folder whose `pipelines/` keeps the driver's compiled pipelines
    /// between runs (see [`PipelineStore`]); None keeps them in memory only.
    pub pipeline_cache: Option<PathBuf>,
}

impl AdapterChoice {
    /// The explicit selector if given, else `U2CUT_ADAPTER`, else automatic;
    /// cooperative matrices if `U2CUT_COOP_MATRIX=1`; compiled pipelines
    /// kept in u2cut's cache folder.
    pub fn from_flag_or_env(flag: Option<&str>) -> Self {
        let selector = flag
            .map(str::to_owned)
            .or_else(|| std::env::var(ADAPTER_ENV).ok().filter(|s| !s.is_empty()));
        let coop_matrix = std::env::var(COOP_MATRIX_ENV).is_ok_and(|v| v == "1");
        Self {
            selector,
            coop_matrix,
            pipeline_cache: crate::cache_dir::cache_dir(),
        }
    }
}

/// Caps the storage binding size u2cut plans for, in bytes: what a GPU
/// with smaller limits would allow, so that its failures can be reproduced
/// on any GPU (the tests do).
pub const MAX_BINDING_ENV: &str = "U2CUT_MAX_BINDING_BYTES";

fn binding_cap() -> Result<Option<u64>> {
    match std::env::var(MAX_BINDING_ENV) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().map(Some).map_err(|_| {
            Error::Input(format!("{MAX_BINDING_ENV}: `{v}` is not a number of bytes"))
        }),
        _ => Ok(None),
    }
}

/// The device, its queue, and everything the kernels need to know about it.
/// Cheap to clone: all fields are shared.
#[derive(Clone)]
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub features: wgpu::Features,
    pub limits: wgpu::Limits,
    /// The side S of the cooperative matrices the `coop` conv kernel uses
    /// (S x S f16 times S x S f16 into f32), when the device was opened
    /// with them: see [`coop_matrix_size`].
    pub coop_matrix: Option<u32>,
    /// Why the pipeline cache file could not be used, if it could not.
    pub pipeline_cache_warning: Option<String>,
    pub(crate) pipelines: Arc<PipelineCache>,
    /// How the device was chosen: what [`GpuContext::reopen`] opens again.
    choice: AdapterChoice,
    /// Why the device was lost, once wgpu has said so.
    lost: Arc<Mutex<Option<String>>>,
}

/// The matrix side conv_coop.wgsl can use on this adapter: a square S x S
/// x S shape multiplying f16 into f32, with S = 8 or 16, on subgroups of
/// exactly S * S / 8 lanes (the shader deals its 4 x S x S result tiles
/// per subgroup over a 64 x 32 workgroup tile). lavapipe (Mesa 26) offers
/// 8 on 8 lanes, NVIDIA 16 on 32. `subgroups`: the adapter's (min, max).
fn coop_matrix_size(
    properties: &[wgpu::CooperativeMatrixProperties],
    subgroups: (u32, u32),
) -> Option<u32> {
    [16, 8].into_iter().find(|&s| {
        let lanes = s * s / 8;
        subgroups == (lanes, lanes)
            && properties.iter().any(|p| {
                (p.m_size, p.n_size, p.k_size) == (s, s, s)
                    && p.ab_type == wgpu::CooperativeScalarType::F16
                    && p.cr_type == wgpu::CooperativeScalarType::F32
            })
    })
}

/// Lower is better: discrete GPUs first, software renderers last.
fn device_rank(t: wgpu::DeviceType) -> u8 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

/// Features we use when the adapter has them; none is required.
fn wanted_features() -> wgpu::Features {
    wgpu::Features::TIMESTAMP_QUERY
        | wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS
        | wgpu::Features::SHADER_F16
        | wgpu::Features::SUBGROUP
        | wgpu::Features::PIPELINE_CACHE
}

fn instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    // Compute only: Vulkan, Metal and DX12 have everything we need. GL lacks
    // compute on many drivers and would only shadow a missing Vulkan driver.
    if wgpu::Backends::from_env().is_none() {
        desc.backends = wgpu::Backends::PRIMARY;
    }
    wgpu::Instance::new(desc)
}

/// Every adapter wgpu can see, best first, with the features we would use
/// on it, its limits and the cooperative matrix size the coop conv kernel
/// would use with `U2CUT_COOP_MATRIX=1` (what `u2cut info --adapters` shows).
pub fn list_adapters() -> Vec<(wgpu::AdapterInfo, wgpu::Features, wgpu::Limits, Option<u32>)> {
    sorted_adapters(&instance())
        .iter()
        .map(|a| {
            (
                a.get_info(),
                a.features() & wanted_features(),
                a.limits(),
                adapter_coop_size(a),
            )
        })
        .collect()
}

/// [`coop_matrix_size`] for an adapter, if it has the (experimental)
/// feature and f16 shaders: the coop kernel's tiles are f16.
fn adapter_coop_size(adapter: &wgpu::Adapter) -> Option<u32> {
    let needs = wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX | wgpu::Features::SHADER_F16;
    adapter
        .features()
        .contains(needs)
        .then(|| {
            let info = adapter.get_info();
            coop_matrix_size(
                &adapter.cooperative_matrix_properties(),
                (info.subgroup_min_size, info.subgroup_max_size),
            )
        })
        .flatten()
}

fn sorted_adapters(instance: &wgpu::Instance) -> Vec<wgpu::Adapter> {
    let mut adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    adapters.sort_by_key(|a| device_rank(a.get_info().device_type));
    adapters
}

fn pick(adapters: Vec<wgpu::Adapter>, choice: &AdapterChoice) -> Result<wgpu::Adapter> {
    let Some(sel) = &choice.selector else {
        return adapters.into_iter().next().ok_or_else(|| {
            Error::NoAdapter(
                "no GPU adapter found (install a Vulkan driver, e.g. `apt-get install mesa-vulkan-drivers libvulkan1`)"
                    .to_owned(),
            )
        });
    };
    let names: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
    let found = match sel.parse::<usize>() {
        Ok(i) => adapters.into_iter().nth(i),
        Err(_) => {
            let needle = sel.to_lowercase();
            adapters
                .into_iter()
                .find(|a| a.get_info().name.to_lowercase().contains(&needle))
        }
    };
    found.ok_or_else(|| {
        let available = if names.is_empty() {
            "none".to_owned()
        } else {
            names
                .iter()
                .enumerate()
                .map(|(i, n)| format!("[{i}] {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        Error::NoMatch(format!(
            "no adapter matches `{sel}` (--adapter / {ADAPTER_ENV}); available: {available}"
        ))
    })
}

impl GpuContext {
    /// Picks an adapter and opens a device with the adapter's full limits and
    /// the useful optional features it has.
    pub fn new(choice: &AdapterChoice) -> Result<Self> {
        let adapter = pick(sorted_adapters(&instance()), choice)?;
        let info = adapter.get_info();
        let mut features = adapter.features() & wanted_features();
        let coop_matrix = adapter_coop_size(&adapter).filter(|_| choice.coop_matrix);
        let experimental = if coop_matrix.is_some() {
            features |= wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX;
            // SAFETY: the user asked for the experimental feature
            // (U2CUT_COOP_MATRIX=1); wgpu warns that its implementation may
            // have bugs. conv_coop.wgsl keeps to what the adapter reports.
            unsafe { wgpu::ExperimentalFeatures::enabled() }
        } else {
            wgpu::ExperimentalFeatures::disabled()
        };
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("u2cut"),
            required_features: features,
            required_limits: limits.clone(),
            experimental_features: experimental,
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .gpu(&format!("opening device on adapter `{}`", info.name))?;
        let mut limits = limits;
        if let Some(cap) = binding_cap()? {
            limits.max_storage_buffer_binding_size =
                limits.max_storage_buffer_binding_size.min(cap);
        }
        let lost = Arc::new(Mutex::new(None));
        let record = Arc::clone(&lost);
        device.set_device_lost_callback(move |reason, message| {
            *record.lock().unwrap() = Some(format!("{reason:?}: {message}"));
        });
        let (store, pipeline_cache_warning) = match &choice.pipeline_cache {
            Some(dir) => PipelineStore::open(&device, &info, dir),
            None => (None, None),
        };
        Ok(Self {
            device,
            queue,
            info,
            features,
            limits,
            coop_matrix,
            pipeline_cache_warning,
            pipelines: Arc::new(PipelineCache::new(store)),
            choice: choice.clone(),
            lost,
        })
    }

    /// A new device, chosen as this one was: what is left to do after
    /// this one is lost (a driver reset, a GPU fallen off the bus) or
    /// broken. Everything on this one is gone with it: weights, plans,
    /// compiled pipelines (the driver's cache file makes them quick).
    pub fn reopen(&self) -> Result<Self> {
        Self::new(&self.choice)
    }

    /// Why the device was lost, if wgpu has reported it lost (it is
    /// unusable from then on: see [`GpuContext::reopen`]).
    pub fn lost(&self) -> Option<String> {
        self.lost.lock().unwrap().clone()
    }

    /// One line naming the adapter, its backend and type, for logs and reports.
    pub fn describe(&self) -> String {
        format!(
            "{} ({:?}, {:?}{})",
            self.info.name,
            self.info.backend,
            self.info.device_type,
            if self.info.driver_info.is_empty() {
                String::new()
            } else {
                format!(", {}", self.info.driver_info)
            }
        )
    }

    /// Pipelines this device compiled so far, and the seconds that took
    /// (summed over the threads that compiled them).
    pub fn compiled_pipelines(&self) -> (usize, f64) {
        self.pipelines.compiled()
    }

    /// Calls `notice` once, when this device starts compiling its first
    /// pipeline (so a caller can say why the first batch is slow).
    pub fn on_first_compile(&self, notice: impl FnOnce() + Send + 'static) {
        self.pipelines.on_first_compile(Box::new(notice));
    }

    /// Writes the compiled pipelines to the cache file if the device has
    /// one and the driver has new data for it.
    pub fn save_pipeline_cache(&self) -> Result<()> {
        self.pipelines.store().map_or(Ok(()), PipelineStore::save)
    }

    /// Largest buffer a single storage binding may cover (at most
    /// [`MAX_BINDING_ENV`] bytes when it is set).
    pub fn max_binding_bytes(&self) -> u64 {
        self.limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wgpu::CooperativeScalarType::{F16, F32};

    fn shape(
        size: u32,
        ab: wgpu::CooperativeScalarType,
        cr: wgpu::CooperativeScalarType,
    ) -> wgpu::CooperativeMatrixProperties {
        wgpu::CooperativeMatrixProperties {
            m_size: size,
            n_size: size,
            k_size: size,
            ab_type: ab,
            cr_type: cr,
            saturating_accumulation: false,
        }
    }

    /// The coop kernel deals 4 S x S tiles to each of 512 / (S S)
    /// subgroups of a 64-invocation workgroup: only exact subgroup sizes
    /// and f16 -> f32 shapes qualify.
    #[test]
    fn coop_matrix_size_needs_the_shape_and_the_subgroup_size() {
        let nvidia = [shape(16, F16, F16), shape(16, F16, F32)];
        assert_eq!(coop_matrix_size(&nvidia, (32, 32)), Some(16));
        let lavapipe = [shape(8, F16, F16), shape(8, F16, F32)];
        assert_eq!(coop_matrix_size(&lavapipe, (8, 8)), Some(8));
        // Varying subgroups (RDNA: 32 or 64), the wrong size, f16 sums only.
        assert_eq!(coop_matrix_size(&nvidia, (32, 64)), None);
        assert_eq!(coop_matrix_size(&nvidia, (8, 8)), None);
        assert_eq!(coop_matrix_size(&[shape(16, F16, F16)], (32, 32)), None);
        assert_eq!(coop_matrix_size(&[shape(8, F32, F32)], (8, 8)), None);
        assert_eq!(coop_matrix_size(&[], (32, 32)), None);
    }
}
