//! u2cut: U²-Net background removal with hand-written WGSL kernels on wgpu.

pub mod bench;
pub mod gpu;
pub mod graph;
pub mod kernels;
pub mod model;
pub mod network;
pub mod preprocess;

pub use model::Model;
pub use network::{Network, SideOutputs};
