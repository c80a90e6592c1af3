//! `scripts/bench`'s answer viewer row: from an answer's last byte to its first window of lines
//! ready to send to the window (the engine's part of "last byte → first painted screen": the
//! sniff, the first 120 pretty lines, and their JSON for the IPC), for a 50 MB JSON answer against
//! a 100 KB one of the same shape (the sandbox's `/sized`), measured in the same run. What the
//! window then draws is 120 lines either way. Prints one JSON object.
//!
//! `cargo run --release -p keyhole-core --example answer_first_window [runs]`

use std::time::Instant;

use keyhole_core::{Answer, Mode};

/// A JSON object of exactly `total` bytes, like `sandbox/sandbox.mjs`'s `/sized?bytes=N`.
fn sized(total: usize) -> Vec<u8> {
    let mut out = String::with_capacity(total);
    out.push_str("{\"items\":[");
    let tail_len = "],\"end\":\"".len() + "\"}".len();
    for i in 0.. {
        let item = format!(
            "{}{{\"i\":{i},\"id\":\"item_{i:08}\",\"name\":\"Ada Lovelace {}\",\"ok\":{},\"score\":{},\"tags\":[\"a\",\"b{}\"],\"note\":null}}",
            if i > 0 { "," } else { "" },
            i % 97,
            i % 3 == 0,
            f64::from(i % 1000) / 8.0,
            i % 7
        );
        if out.len() + item.len() + tail_len > total {
            break;
        }
        out.push_str(&item);
    }
    out.push_str("],\"end\":\"");
    while out.len() + 2 < total {
        out.push('z');
    }
    out.push_str("\"}");
    out.into_bytes()
}

/// Milliseconds from the bytes to the first window's JSON, median of `runs`.
fn first_window_ms(body: &bytes::Bytes, runs: usize) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            let answer = Answer::new(body.clone(), Some("application/json"));
            let window = answer.lines(Mode::Pretty, 0, 120);
            let json = serde_json::to_vec(&window).expect("serializes");
            assert!(!json.is_empty() && window.lines.len() == 120);
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(21);
    let small = bytes::Bytes::from(sized(100 * 1000));
    let large = bytes::Bytes::from(sized(50 * 1000 * 1000));
    // Warm-up of both, uncounted.
    first_window_ms(&small, 3);
    first_window_ms(&large, 3);
    let small_ms = first_window_ms(&small, runs);
    let large_ms = first_window_ms(&large, runs);
    println!(
        "{{\"runs\": {runs}, \"small_bytes\": {}, \"large_bytes\": {}, \"small_ms\": {small_ms:.3}, \"large_ms\": {large_ms:.3}, \"ratio\": {:.2}}}",
        small.len(),
        large.len(),
        large_ms / small_ms
    );
}
