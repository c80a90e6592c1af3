//! Publishable keys: never a panic; a decoded issuer is an https host.
#![no_main]
use keyhole_core::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = std::str::from_utf8(data) {
        if let Ok(issuer) = fuzzing::publishable_key(key) {
            assert!(issuer.starts_with("https://"));
        }
    }
});
