//! Contact-cache benchmark (not a test): `cargo bench --bench contacts`.
//!
//! With 100,000 certificates (one per address, EC P-256, one shared CA): import rate (bundles of
//! 1,000 through the same path as `contacts import`), lookup by address (median and p99 of the
//! stored certificates for one address), the full encryption choice for one address (including
//! the chain check against the anchors), `recipients_check` for 50 addresses, and the database
//! size. Set BENCH_CERTS to change the count.

#[path = "../tests/common/certgen.rs"]
mod certgen;

use certgen::{Ca, Leaf};
use smime_companion::certs::summary::Cert;
use smime_companion::contacts::{service, ContactCache, Source};
use smime_companion::context::Context;
use smime_companion::home::Home;
use std::time::{Duration, Instant};

fn pct(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    let count: usize = std::env::var("BENCH_CERTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path());
    let ca = Ca::new("Bench CA");
    std::fs::create_dir_all(dir.path().join("anchors")).unwrap();
    std::fs::write(dir.path().join("anchors/ca.pem"), ca.pem()).unwrap();
    let key = certgen::ec_key();

    let t = Instant::now();
    let certs: Vec<Cert> = (0..count)
        .map(|i| Cert::from_x509(&Leaf::for_address(&format!("user{i}@bench.example")).issue(&ca, Some(&key))).unwrap())
        .collect();
    println!("generated {count} certificates in {:.1} s", t.elapsed().as_secs_f64());

    let mut cache = ContactCache::open(&home).unwrap();
    let t = Instant::now();
    for chunk in certs.chunks(1000) {
        cache.import(chunk, Source::Import, smime_companion::time::now()).unwrap();
    }
    let import = t.elapsed();
    println!("import: {count} certificates in {:.2} s = {:.0} certificates/s (goal: at least 2,000/s)", import.as_secs_f64(), count as f64 / import.as_secs_f64());

    let mut rng = 0x2545F4914F6CDD1Du64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % count as u64) as usize
    };
    let mut lookups = Vec::with_capacity(5000);
    for _ in 0..5000 {
        let address = format!("user{}@bench.example", next());
        let t = Instant::now();
        let found = cache.certificates_for(&address).unwrap();
        lookups.push(t.elapsed());
        assert_eq!(found.len(), 1);
    }
    let (l50, l99) = (pct(&mut lookups, 0.5), pct(&mut lookups, 0.99));
    println!("lookup by address: median {:.1} µs, p99 {:.1} µs (goal: p99 at most 1 ms)", us(l50), us(l99));

    let mut ctx = Context::new(home.clone(), None);
    let mut choices = Vec::new();
    for _ in 0..500 {
        let address = format!("user{}@bench.example", next());
        let t = Instant::now();
        let r = service::check(&mut ctx, &[address]).unwrap();
        choices.push(t.elapsed());
        assert!(r[0].reason_code().is_none());
    }
    let (c50, c99) = (pct(&mut choices, 0.5), pct(&mut choices, 0.99));
    println!("encryption choice for one address (with chain check): median {:.0} µs, p99 {:.0} µs", us(c50), us(c99));

    let mut batches = Vec::new();
    for _ in 0..50 {
        let addresses: Vec<String> = (0..50).map(|_| format!("user{}@bench.example", next())).collect();
        let t = Instant::now();
        let r = service::check(&mut ctx, &addresses).unwrap();
        batches.push(t.elapsed());
        assert_eq!(r.len(), 50);
    }
    let (b50, b99) = (pct(&mut batches, 0.5), pct(&mut batches, 0.99));
    println!("recipients_check, 50 addresses: median {:.1} ms, p99 {:.1} ms", us(b50) / 1000.0, us(b99) / 1000.0);

    let stats = cache.stats(smime_companion::time::now()).unwrap();
    let wal = std::fs::metadata(dir.path().join("contacts.sqlite-wal")).map(|m| m.len()).unwrap_or(0);
    println!(
        "database: {:.1} MiB (+{:.1} MiB WAL) for {} certificates = {:.0} bytes each",
        stats.database_bytes as f64 / 1048576.0,
        wal as f64 / 1048576.0,
        stats.certificates,
        stats.database_bytes as f64 / stats.certificates as f64
    );
}
