//! The fuzz targets' checks (fuzz/checks.rs) on stable: every input of
//! each target's corpus and regressions (fuzz/corpus/<target>,
//! fuzz/regressions/<target>: crash inputs found by libFuzzer, kept), then
//! a bounded pass of seeded random mutations of them (bit flips,
//! truncations, insertions, deletions, splices). libFuzzer's own runs are
//! `cargo +nightly fuzz run <target>` (fuzz/README.md).

#[path = "../../fuzz/checks.rs"]
mod checks;

use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Mutations tried per corpus input: about half a minute for all four
/// targets on two cores.
const MUTATIONS: usize = 10_000;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files = Vec::new();
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            files.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    files.sort();
    files
}

fn mutate(rng: &mut StdRng, data: &[u8], other: &[u8]) -> Vec<u8> {
    let mut d = data.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        let at = rng.random_range(0..=d.len());
        match rng.random_range(0..6) {
            0 if !d.is_empty() => {
                let i = rng.random_range(0..d.len());
                d[i] ^= 1 << rng.random_range(0..8);
            }
            1 if !d.is_empty() => {
                let i = rng.random_range(0..d.len());
                d[i] = [0, 0xff, 0x7f, 0x80, rng.random()][rng.random_range(0..5)];
            }
            2 => d.truncate(at),
            3 => d
                .splice(
                    at..at,
                    (0..rng.random_range(1..16)).map(|_| rng.random::<u8>()),
                )
                .for_each(drop),
            4 => {
                let end = rng.random_range(at..=d.len());
                d.drain(at..end);
            }
            _ => {
                let from = rng.random_range(0..=other.len());
                d.truncate(at);
                d.extend_from_slice(&other[from..]);
            }
        }
    }
    d
}

fn replay(target: &str, check: fn(&[u8])) {
    let corpus = inputs(target);
    assert!(!corpus.is_empty(), "no corpus for {target}");
    for (path, data) in &corpus {
        eprintln!("{target}: {}", path.display());
        check(data);
    }
    let mut rng = StdRng::seed_from_u64(22);
    for (i, (path, data)) in corpus.iter().enumerate() {
        let other = &corpus[(i + 1) % corpus.len()].1;
        for n in 0..MUTATIONS {
            let m = mutate(&mut rng, data, other);
            // Named before it runs, so a crash says which input it was.
            let hint = format!("{target}: mutation {n} of {}", path.display());
            let result = std::panic::catch_unwind(|| check(&m));
            assert!(result.is_ok(), "{hint} panicked; its bytes: {m:?}");
        }
    }
}

#[test]
fn image_inputs() {
    replay("image", checks::image);
}

#[test]
fn npy_inputs() {
    replay("npy", checks::npy);
}

#[test]
fn weights_inputs() {
    replay("weights", checks::weights);
}

#[test]
fn tune_cache_inputs() {
    replay("tune_cache", checks::tune_cache);
}
