//! The wall clock of the timing log lines (`keyhole_core::timing`, `keyhole_app::startup`) that
//! `scripts/bench` lines up with its own clock: microseconds since the Unix epoch.

use std::time::{SystemTime, UNIX_EPOCH};

/// `at` in microseconds since the Unix epoch; 0 for a time before it (a clock set that far back
/// only spoils a benchmark's figure).
pub fn unix_micros(at: SystemTime) -> u128 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_micros())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn counts_microseconds_from_the_epoch_and_clamps_before_it() {
        assert_eq!(
            unix_micros(UNIX_EPOCH + Duration::from_millis(1_500)),
            1_500_000
        );
        assert_eq!(unix_micros(UNIX_EPOCH), 0);
        assert_eq!(unix_micros(UNIX_EPOCH - Duration::from_secs(1)), 0);
    }
}
