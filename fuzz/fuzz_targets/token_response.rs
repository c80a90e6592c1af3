//! Token responses: never a panic.
#![no_main]
use keyhole_core::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = fuzzing::token_response(data);
});
