//! What each fuzz target checks, shared by the libFuzzer targets
//! (fuzz/fuzz_targets, nightly) and their replay over the corpora on
//! stable (tests/it/fuzz.rs). The rule: an input either works or gives an
//! error; a panic, an abort, a hang or memory past the limits is the bug.

#![allow(dead_code)] // each target uses one check

use std::path::Path;

use u2cut::graph::tune::TuneCache;
use u2cut::io::{DecodeOptions, npy, open_bytes};
use u2cut::model::{LoadOptions, Model};

/// Fuzzed images may have at most this many pixels: each decode stays
/// within tens of megabytes, as `--max-pixels` bounds a real run's.
const MAX_PIXELS: u64 = 1 << 22;

/// Image headers, the size check before decoding, EXIF orientation and
/// the decoders (libjpeg-turbo's for JPEGs, the image crate's for the
/// rest), strict and with `--allow-truncated`.
pub fn image(data: &[u8]) {
    for allow_truncated in [false, true] {
        let options = DecodeOptions {
            max_pixels: MAX_PIXELS,
            allow_truncated,
        };
        let Ok(header) = open_bytes(data.to_vec(), &options) else {
            continue;
        };
        let (w, h) = (header.width, header.height);
        assert!(w > 0 && h > 0 && u64::from(w) * u64::from(h) <= MAX_PIXELS);
        if let Ok(decoded) = header.decode() {
            // EXIF orientation may swap the sides, nothing else.
            let got = decoded.image.dimensions();
            assert!(got == (w, h) || got == (h, w), "{w}x{h} decoded as {got:?}");
        }
    }
}

/// `u2cut infer --input-tensor`'s .npy parser.
pub fn npy(data: &[u8]) {
    if let Ok(t) = npy::read_nchw(data, 64) {
        let len = t.n as usize * 3 * t.height as usize * t.width as usize;
        assert_eq!(t.data.len(), len);
    }
}

/// Weights given with `-m FILE`: the safetensors header, the tensors'
/// shapes and the model configuration read from them.
pub fn weights(data: &[u8]) {
    for fold_bn in [true, false] {
        if let Ok(model) = Model::from_bytes(data, "fuzz.safetensors", LoadOptions { fold_bn }) {
            let _ = model.parameters();
        }
    }
}

/// The tuning cache file (`tune.json`), and lookups in it.
pub fn tune_cache(data: &[u8]) {
    if let Ok(cache) = TuneCache::parse(data, Path::new("tune.json"), "fuzz") {
        let _ = cache.get("16>16 k3 d1 40x40 b1 f32");
        let _ = cache.upsample_fusion("320x320 b1 f32");
    }
}
