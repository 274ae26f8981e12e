//! Protocol benchmark (not a test): `cargo bench --bench protocol`.
//!
//! 1. Cold `hello`: a new host process per call, as `runtime.sendNativeMessage` does, started with
//!    Thunderbird's arguments; compared with a bare process start (`/bin/true`) in the same run.
//! 2. 25 MiB through the chunking: a chunked upload (transfer), and a `ping` whose 25 MiB echo
//!    comes back as chunk frames.
//!
//! Prints medians and percentiles; asserts nothing about time.

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn bare_start() -> Duration {
    let t = Instant::now();
    let status = Command::new("/bin/true").stdin(Stdio::null()).stdout(Stdio::null()).status().unwrap();
    assert!(status.success());
    t.elapsed()
}

fn cold_hello(home: &std::path::Path) -> Duration {
    let t = Instant::now();
    let mut host = Host::start(home);
    host.send(&json!({"id": 1, "op": "hello"}));
    let reply = host.recv();
    assert_eq!(reply["ok"], true);
    let (status, _) = host.finish(Duration::from_secs(10));
    assert!(status.success());
    t.elapsed()
}

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let home = temp_home();
    // Warm the page cache and the log folder once.
    cold_hello(home.path());
    bare_start();
    let mut bare = Vec::with_capacity(runs);
    let mut hello = Vec::with_capacity(runs);
    for _ in 0..runs {
        bare.push(bare_start());
        hello.push(cold_hello(home.path()));
    }
    let (b50, b90) = (percentile(&mut bare, 0.5), percentile(&mut bare, 0.9));
    let (h50, h90) = (percentile(&mut hello, 0.5), percentile(&mut hello, 0.9));
    println!("cold start, {runs} runs each (spawn, request, reply, EOF, exit):");
    println!("  bare process (/bin/true)   median {:7.3} ms   p90 {:7.3} ms", ms(b50), ms(b90));
    println!("  hello, new host per call   median {:7.3} ms   p90 {:7.3} ms", ms(h50), ms(h90));
    println!("  hello minus bare start     median {:7.3} ms   (goal: within 5 ms)", ms(h50) - ms(b50));

    let size = 25 * 1024 * 1024;
    let data: Vec<u8> = (0..size as u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect();
    let mut host = Host::start(home.path());
    let mut up = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let id = host.upload(&data, 8 * 1024 * 1024);
        up.push(t.elapsed());
        host.ok("transfer_discard", json!({"transfer_id": id}));
    }
    let echo = "e".repeat(size);
    let mut round = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let result = host.ok("ping", json!({"echo": echo}));
        round.push(t.elapsed());
        assert_eq!(result["echo"].as_str().map(str::len), Some(size));
    }
    let (u50, r50) = (percentile(&mut up, 0.5), percentile(&mut round, 0.5));
    println!("25 MiB through the chunking (median of 5):");
    println!("  upload as transfer (8 MiB chunks, base64)         {:8.1} ms  {:6.0} MiB/s", ms(u50), 25.0 / u50.as_secs_f64());
    println!("  ping echo: 25 MiB request + chunked 25 MiB reply  {:8.1} ms  {:6.0} MiB/s each way", ms(r50), 25.0 / r50.as_secs_f64());
    host.finish(Duration::from_secs(10));
}
