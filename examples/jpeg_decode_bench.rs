//! JPEG decoding speed: u2cut's decode (libjpeg-turbo's decoder, built
//! without SIMD, with its corrupt-data checks) against the image crate's
//! own (zune-jpeg, SIMD), which u2cut used before. Median of `RUNS`
//! decodes of each file to RGBA8, in one process. BENCHMARKS.md has the
//! numbers ("JPEG decoding").
//!
//!     cargo run --release --example jpeg_decode_bench -- photo.jpg ...

use std::time::Instant;

use u2cut::io::{DecodeOptions, decode_bytes};

const RUNS: usize = 9;

fn median_ms(mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[RUNS / 2]
}

fn main() {
    println!("| file | pixels | u2cut (libjpeg-turbo) ms | image crate (zune-jpeg) ms | ratio |");
    println!("| --- | --- | --- | --- | --- |");
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let options = DecodeOptions::default();
        let ours = median_ms(|| {
            decode_bytes(bytes.clone(), &options).unwrap_or_else(|e| panic!("{path}: {e}"));
        });
        let mut size = (0, 0);
        let theirs = median_ms(|| {
            let img = image::load_from_memory(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
            size = (img.width(), img.height());
            drop(img.into_rgba8());
        });
        println!(
            "| {path} | {}x{} | {ours:.1} | {theirs:.1} | {:.2} |",
            size.0,
            size.1,
            ours / theirs
        );
    }
}
