//! u2cut: U²-Net background removal with hand-written WGSL kernels on wgpu.

pub mod gpu;
pub mod kernels;
