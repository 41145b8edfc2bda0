//! Compiled compute pipelines, built once per (shader in its variant,
//! entry point, override constants) and shared by every plan on the device.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::shaders::Shader;

type Module = Shader;
type Key = (Module, &'static str, Vec<(&'static str, u64)>);

/// Plans record their dispatches from several threads, so that the
/// driver compiles distinct pipelines in parallel (on llvmpipe a direct
/// conv pipeline takes about a second). Each entry is a `OnceLock`: the
/// first thread to ask compiles, the others wait for it.
#[derive(Default)]
pub struct PipelineCache {
    modules: Mutex<HashMap<Module, Arc<OnceLock<wgpu::ShaderModule>>>>,
    pipelines: Mutex<HashMap<Key, Arc<OnceLock<wgpu::ComputePipeline>>>>,
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
    ) -> wgpu::ComputePipeline {
        let module: Module = shader;
        let key: Key = (
            module,
            entry,
            constants.iter().map(|(k, v)| (*k, v.to_bits())).collect(),
        );
        slot(&self.pipelines, key)
            .get_or_init(|| {
                let module = slot(&self.modules, module)
                    .get_or_init(|| {
                        device.create_shader_module(wgpu::ShaderModuleDescriptor {
                            label: Some(shader.name),
                            source: wgpu::ShaderSource::Wgsl(shader.source().into()),
                        })
                    })
                    .clone();
                device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(entry),
                    layout: None,
                    module: &module,
                    entry_point: Some(entry),
                    compilation_options: wgpu::PipelineCompilationOptions {
                        constants,
                        // Our kernels write every workgroup variable before reading it.
                        zero_initialize_workgroup_memory: false,
                    },
                    cache: None,
                })
            })
            .clone()
    }
}
