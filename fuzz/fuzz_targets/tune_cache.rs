#![no_main]
//! libFuzzer target: [`checks::tune_cache`](../checks.rs).

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::tune_cache(data));
