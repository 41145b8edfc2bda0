//! Adapter selection and device creation.
//!
//! A real GPU is preferred over an integrated one, which is preferred over a
//! software rasterizer (llvmpipe / lavapipe). `--adapter` or `U2CUT_ADAPTER`
//! overrides the choice by index or by a substring of the adapter's name.

use std::sync::Arc;

use anyhow::{Context as _, Result};

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

/// How to pick an adapter.
#[derive(Clone, Debug, Default)]
pub struct AdapterChoice {
    /// Index into the enumerated adapter list, or a case-insensitive
    /// substring of the adapter name. `None` = best available.
    pub selector: Option<String>,
}

impl AdapterChoice {
    /// The explicit selector if given, else `U2CUT_ADAPTER`, else automatic.
    pub fn from_flag_or_env(flag: Option<&str>) -> Self {
        let selector = flag
            .map(str::to_owned)
            .or_else(|| std::env::var(ADAPTER_ENV).ok().filter(|s| !s.is_empty()));
        Self { selector }
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
    pub(crate) pipelines: Arc<PipelineCache>,
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
/// on it (what `u2cut info --adapters` shows).
pub fn list_adapters() -> Vec<(wgpu::AdapterInfo, wgpu::Features)> {
    sorted_adapters(&instance())
        .iter()
        .map(|a| (a.get_info(), a.features() & wanted_features()))
        .collect()
}

fn sorted_adapters(instance: &wgpu::Instance) -> Vec<wgpu::Adapter> {
    let mut adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    adapters.sort_by_key(|a| device_rank(a.get_info().device_type));
    adapters
}

/// Why no adapter could be chosen; callers tell "no GPU at all" (fall back
/// to the CPU) from "the one asked for does not exist" (a usage error).
#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    #[error(
        "no GPU adapter found (install a Vulkan driver, e.g. `apt-get install mesa-vulkan-drivers libvulkan1`)"
    )]
    NoAdapter,
    #[error("no adapter matches `{selector}` (--adapter / {ADAPTER_ENV}); available: {available}")]
    NoMatch { selector: String, available: String },
}

fn pick(
    adapters: Vec<wgpu::Adapter>,
    choice: &AdapterChoice,
) -> Result<wgpu::Adapter, AdapterError> {
    let Some(sel) = &choice.selector else {
        return adapters.into_iter().next().ok_or(AdapterError::NoAdapter);
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
    found.ok_or_else(|| AdapterError::NoMatch {
        selector: sel.clone(),
        available: if names.is_empty() {
            "none".to_owned()
        } else {
            names
                .iter()
                .enumerate()
                .map(|(i, n)| format!("[{i}] {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        },
    })
}

impl GpuContext {
    /// Picks an adapter and opens a device with the adapter's full limits and
    /// the useful optional features it has.
    pub fn new(choice: &AdapterChoice) -> Result<Self> {
        let adapter = pick(sorted_adapters(&instance()), choice)?;
        let info = adapter.get_info();
        let features = adapter.features() & wanted_features();
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("u2cut"),
            required_features: features,
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .with_context(|| format!("opening device on adapter `{}`", info.name))?;
        Ok(Self {
            device,
            queue,
            info,
            features,
            limits,
            pipelines: Arc::new(PipelineCache::default()),
        })
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

    /// Largest buffer a single storage binding may cover.
    pub fn max_binding_bytes(&self) -> u64 {
        self.limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size)
    }
}
