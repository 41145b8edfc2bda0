//! The integration tests: one crate, so wgpu, naga and image are linked
//! once and the test binary's GPU context and compiled pipelines
//! (tests/it/common) are shared by every module. Run one module with
//! `cargo test --release --test it MODULE::`.

mod common;

mod bench;
mod browser;
mod cli;
mod deploy;
mod frames;
mod fuzz;
mod image_kernels;
mod jpeg;
mod kernels;
mod layout;
mod matting;
mod model;
mod pipeline;
mod preprocess;
mod real_u2net;
mod reference;
mod remove;
mod remove_parity;
mod serve;
mod shaders;
mod sharded;
mod video;
mod weights;
