//! u2cut: U²-Net background removal with hand-written WGSL kernels on wgpu.
//!
//! [`Remover`] is the whole pipeline on in-memory images, what
//! `u2cut remove` runs: rembg's preprocessing, the network and the mask's
//! way back, as GPU passes in one submit per batch (or on the CPU
//! references without a GPU). [`pipeline`] feeds it a stream of inputs,
//! decoding and encoding on threads around the GPU's batches.
//!
//! ```no_run
//! use std::sync::Arc;
//! use u2cut::gpu::{AdapterChoice, GpuContext};
//! use u2cut::remove::{Background, Options};
//! use u2cut::{Model, Network, Remover};
//!
//! # fn main() -> anyhow::Result<()> {
//! let model = Arc::new(Model::builtin()); // U²-Netp
//! let net = match GpuContext::new(&AdapterChoice::default()) {
//!     Ok(ctx) => Network::gpu(&ctx, model),
//!     Err(_) => Network::cpu(model), // no GPU: the CPU references, same results
//! };
//! let remover = Remover::new(net, Options::default());
//!
//! // Decoded upright (EXIF orientation), any format the image crate reads,
//! // JPEGs as Pillow decodes them; a truncated or corrupt one is an error:
//! let photo = u2cut::io::decode_file("photo.jpg".as_ref(), &Default::default())?;
//! let photo = image::DynamicImage::ImageRgba8(photo.image);
//!
//! let cutouts = remover.cutouts(std::slice::from_ref(&photo))?; // RGBA, alpha = mask
//! cutouts[0].save("photo.png")?;
//! let masks = remover.masks(std::slice::from_ref(&photo))?; // rembg's 8-bit mask
//! masks[0].save("mask.png")?;
//!
//! // Over white instead of transparency, cropped to the subject:
//! let options = Options {
//!     background: Background::Color([255, 255, 255, 255]),
//!     crop: Some(16),
//!     ..Options::default()
//! };
//! let on_white = Remover::new(Network::cpu(Arc::new(Model::builtin())), options);
//! on_white.cutouts(&[photo])?[0].save("photo_white.png")?;
//! # Ok(())
//! # }
//! ```

pub mod bench;
pub mod cache_dir;
pub mod error;
pub mod gpu;
pub mod graph;
pub mod io;
pub mod kernels;
pub mod manifest;
pub mod matting;
pub mod model;
pub mod network;
pub mod pipeline;
pub mod preprocess;
pub mod remove;
pub mod shard;
pub mod video;

pub use error::{Error, Result, ResultExt};
pub use model::Model;
pub use network::{Network, SideOutputs};
pub use remove::Remover;
