//! Everything that talks to wgpu: adapter and device, buffers, compiled
//! pipelines, shader sources, and recorded dispatches.

mod buffers;
mod context;
mod dispatch;
mod pipeline_store;
mod pipelines;
mod precision;
mod profiler;
pub mod reflect;
pub mod shaders;
mod specialize;

pub use context::{
    ADAPTER_ENV, AdapterChoice, COOP_MATRIX_ENV, GpuContext, MAX_BINDING_ENV, REQUIRE_GPU_ENV,
    gpu_required, list_adapters,
};
pub use dispatch::{Dispatch, DispatchBuilder, WORKGROUP, groups_for};
pub use precision::Precision;
pub use profiler::{Profile, TimingSource};
