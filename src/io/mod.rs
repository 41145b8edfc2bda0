//! Files in and out of `u2cut remove`: decoding with limits and EXIF
//! orientation ([`decode`]), encoding and atomic writes ([`encode`]),
//! finding the images in folders and naming their outputs ([`paths`]).

pub mod decode;
pub mod encode;
pub mod paths;

pub use decode::{
    DEFAULT_MAX_PIXELS, Decoded, Header, TooLarge, decode_bytes, decode_file, open_bytes, open_file,
};
pub use encode::{Format, temp_file_for, write_atomic};
