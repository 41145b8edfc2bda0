#![no_main]
//! libFuzzer target: [`checks::npy`](../checks.rs).

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::npy(data));
