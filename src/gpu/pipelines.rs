//! Compiled compute pipelines, built once per (shader in its variant,
//! entry point, override constants) and shared by every plan on the device.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use super::pipeline_store::PipelineStore;
use super::shaders::Shader;
use super::specialize::{self, Parsed};

type Key = (Shader, &'static str, Vec<(&'static str, u64)>);

/// A compiled pipeline and the group-0 bindings its entry point uses once
/// specialized: a bind group holds exactly those.
#[derive(Clone)]
pub struct Pipeline {
    pub pipeline: wgpu::ComputePipeline,
    pub bindings: Arc<[u32]>,
}

/// Plans record their dispatches from several threads, so that the
/// driver compiles distinct pipelines in parallel (on llvmpipe a direct
/// conv pipeline takes about a second). Each entry is a `OnceLock`: the
/// first thread to ask compiles, the others wait for it.
pub struct PipelineCache {
    parsed: Mutex<HashMap<Shader, Arc<OnceLock<Parsed>>>>,
    pipelines: Mutex<HashMap<Key, Arc<OnceLock<Pipeline>>>>,
    /// The driver's cache, kept on disk, that every pipeline is made with.
    store: Option<PipelineStore>,
    compiled: AtomicUsize,
    compile_nanos: AtomicU64,
    /// Taken and called when the first pipeline compile starts.
    first_compile: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

/// The slot for `key`, created empty on first use.
fn slot<K: Eq + std::hash::Hash, V>(
    map: &Mutex<HashMap<K, Arc<OnceLock<V>>>>,
    key: K,
) -> Arc<OnceLock<V>> {
    map.lock().unwrap().entry(key).or_default().clone()
}

impl PipelineCache {
    pub fn new(store: Option<PipelineStore>) -> Self {
        Self {
            parsed: Mutex::default(),
            pipelines: Mutex::default(),
            store,
            compiled: AtomicUsize::new(0),
            compile_nanos: AtomicU64::new(0),
            first_compile: Mutex::default(),
        }
    }

    pub fn store(&self) -> Option<&PipelineStore> {
        self.store.as_ref()
    }

    /// See [`GpuContext::compiled_pipelines`](super::GpuContext::compiled_pipelines).
    pub fn compiled(&self) -> (usize, f64) {
        let secs = self.compile_nanos.load(Ordering::Relaxed) as f64 * 1e-9;
        (self.compiled.load(Ordering::Relaxed), secs)
    }

    /// See [`GpuContext::on_first_compile`](super::GpuContext::on_first_compile).
    pub fn on_first_compile(&self, notice: Box<dyn FnOnce() + Send>) {
        *self.first_compile.lock().unwrap() = Some(notice);
    }

    /// The pipeline for `entry` in `shader` with the given `override`
    /// constants, compiled on first use.
    pub fn get(
        &self,
        device: &wgpu::Device,
        shader: Shader,
        entry: &'static str,
        constants: &[(&'static str, f64)],
    ) -> Pipeline {
        let key: Key = (
            shader,
            entry,
            constants.iter().map(|(k, v)| (*k, v.to_bits())).collect(),
        );
        slot(&self.pipelines, key)
            .get_or_init(|| {
                let notice = self.first_compile.lock().unwrap().take();
                if let Some(notice) = notice {
                    notice();
                }
                let start = Instant::now();
                let parsed = slot(&self.parsed, shader);
                let parsed = parsed.get_or_init(|| specialize::parse(shader));
                let specialized = specialize::specialize(parsed, entry, constants);
                let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(shader.name),
                    source: wgpu::ShaderSource::Naga(Cow::Owned(specialized.module)),
                });
                let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(entry),
                    layout: None,
                    module: &module,
                    entry_point: Some(entry),
                    compilation_options: wgpu::PipelineCompilationOptions {
                        constants: &[],
                        // Our kernels write every workgroup variable before reading it.
                        zero_initialize_workgroup_memory: false,
                    },
                    cache: self.store.as_ref().map(|s| &s.cache),
                });
                self.compiled.fetch_add(1, Ordering::Relaxed);
                let nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
                self.compile_nanos.fetch_add(nanos, Ordering::Relaxed);
                Pipeline {
                    pipeline,
                    bindings: specialized.bindings.into(),
                }
            })
            .clone()
    }
}
