//! Filled in by the ipv6 wire work.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|_data: &[u8]| {});
