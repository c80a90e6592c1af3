//! Raw bytes at the loopback listener: never a panic; a code only for the issued state.
#![no_main]
use keyhole_core::fuzzing;
use libfuzzer_sys::fuzz_target;

const STATE: &str = "Zq0vX3w9pT2mK7sL1cB8nR4yH6dF5gJ0aE2uI9oQ";

fuzz_target!(|data: &[u8]| {
    if let Some((status, _, Some(Ok(_)))) =
        fuzzing::callback(data, STATE, "https://clerk.example.com", 8765)
    {
        assert_eq!(status, 200);
        let text = String::from_utf8_lossy(data);
        assert!(text.contains(STATE), "a code was taken without the issued state");
    }
});
