#![no_main]
//! libFuzzer target: [`checks::weights`](../checks.rs).

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::weights(data));
