//! Files in and out of `u2cut remove`: decoding with limits and EXIF
//! orientation ([`decode`]), encoding and atomic writes ([`encode`]),
//! finding the images in folders and naming their outputs ([`paths`]),
//! reading and writing each one's file or stream ([`paths::Job::open`],
//! [`paths::Job::write`]); network input tensors as `.npy` ([`npy`]).

mod chunks;
pub mod decode;
pub mod encode;
pub mod frames;
mod job;
mod jpeg;
mod listed;
pub mod npy;
pub mod paths;

pub use decode::{
    DEFAULT_MAX_PIXELS, DecodeOptions, Decoded, Header, decode_bytes, decode_file, open_bytes,
    open_file,
};
pub use encode::{Format, create_parent, persist, temp_file_for, write_atomic};
pub use listed::{Listed, Planned};
