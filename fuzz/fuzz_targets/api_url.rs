//! API URLs: never a panic; an accepted URL carries no credentials.
#![no_main]
use keyhole_core::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(url) = fuzzing::api_url(text) {
            assert!(url.username().is_empty() && url.password().is_none());
            assert!(matches!(url.scheme(), "http" | "https"));
        }
    }
});
