//! Compiled compute pipelines, built once per (shader in its variant,
//! entry point, override constants) and shared by every plan on the device.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

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
#[derive(Default)]
pub struct PipelineCache {
    parsed: Mutex<HashMap<Shader, Arc<OnceLock<Parsed>>>>,
    pipelines: Mutex<HashMap<Key, Arc<OnceLock<Pipeline>>>>,
}

/// The slot for `key`, created empty on first use.
fn slot<K: Eq + std::hash::Hash, V>(
    map: &Mutex<HashMap<K, Arc<OnceLock<V>>>>,
    key: K,
) -> Arc<OnceLock<V>> {
    map.lock().unwrap().entry(key).or_default().clone()
}

impl PipelineCache {
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
                    cache: None,
                });
                Pipeline {
                    pipeline,
                    bindings: specialized.bindings.into(),
                }
            })
            .clone()
    }
}
