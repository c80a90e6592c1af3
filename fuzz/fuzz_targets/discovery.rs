//! Discovery documents: never a panic; what passes keeps every back channel on the issuer.
#![no_main]
use keyhole_core::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(metadata) = fuzzing::discovery(data, "https://clerk.example.com") {
        assert_eq!(metadata.token_endpoint.host_str(), Some("clerk.example.com"));
        assert_eq!(metadata.jwks_uri.host_str(), Some("clerk.example.com"));
    }
});
