//! Directory lookup benchmark (not a test): `cargo bench --bench directory`.
//!
//! A local OpenLDAP slapd (Debian's package, started here like the tests start it) holds 50
//! people, each with a certificate in `userCertificate;binary` and a newer one in a PKCS#7 bundle
//! in `userSMIMECertificate`. Measured: a lookup of all 50 over LDAPS in the process (connect,
//! TLS, two searches, parsing, the address check, judging each certificate, storing the newer
//! one and leaving the superseded older one out), the
//! same again when the cache has them all, over StartTLS, and `smime-companion contacts lookup`
//! of the 50 as a person runs it (process start included). The reference, measured in the same
//! run: `ldapsearch` fetching the same entries over LDAPS (the query alone). Goal: the 50 under
//! 1 s against the local slapd. Set BENCH_RECIPIENTS to change the count.

#[path = "../tests/common/mod.rs"]
mod common;

use common::certgen::{Ca, Leaf};
use common::slapd::{person, server_tls, Slapd, BASE_DN};
use smime_companion::certs::summary::Cert;
use smime_companion::context::Context;
use smime_companion::directory::settings::{DirectoryEntry, Origin};
use smime_companion::directory::{lookup, Mode};
use smime_companion::home::Home;
use std::process::Command;
use std::time::{Duration, Instant};

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let count: usize = std::env::var("BENCH_RECIPIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let root = Ca::new("Bench Root");
    let issuing = root.sub("Bench Issuing CA");
    let tls_ca = Ca::new("Bench TLS CA");
    let addresses: Vec<String> = (0..count).map(|i| format!("person{i}@bench.example")).collect();
    let mut people = String::new();
    for (i, a) in addresses.iter().enumerate() {
        let plain = Leaf { not_before_days: -30, ..Leaf::for_address(a) }.issue(&issuing, None);
        let newer = Leaf::for_address(a).issue(&issuing, None);
        let bundle = smime_companion::contacts::certs_only_p7(&[Cert::from_x509(&newer).unwrap(), Cert::from_x509(&issuing.cert).unwrap()]);
        people.push_str(&person(&format!("p{i}"), a, &[], &[&plain], &[&bundle]));
    }
    let slapd = Slapd::start(&people, &server_tls(&tls_ca, "127.0.0.1"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("anchors")).unwrap();
    std::fs::write(dir.path().join("anchors/root.pem"), root.pem()).unwrap();
    let ca_file = dir.path().join("tls-ca.pem");
    std::fs::write(&ca_file, tls_ca.pem()).unwrap();
    let entry = |url: String, starttls: bool| DirectoryEntry {
        id: Some("bench".into()),
        url,
        starttls,
        base_dn: BASE_DN.into(),
        ca_file: Some(ca_file.display().to_string()),
        ..DirectoryEntry::default()
    };
    let ldaps = entry(slapd.ldaps_url(), false).check(Origin::User).unwrap();
    let starttls = entry(slapd.ldap_url(), true).check(Origin::User).unwrap();
    println!("{count} recipients, each with 2 certificates (the newer in a PKCS#7 bundle with the issuing CA), local slapd");

    // In the process, a fresh cache each round: everything found is new and stored.
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    let mut tls = Vec::new();
    let mut network = Vec::new();
    for round in 0..5 {
        let home = dir.path().join(format!("home{round}"));
        std::fs::create_dir_all(home.join("anchors")).unwrap();
        std::fs::copy(dir.path().join("anchors/root.pem"), home.join("anchors/root.pem")).unwrap();
        let mut ctx = Context::new(Home::at(&home), None);
        let t = Instant::now();
        let report = lookup(&mut ctx, &addresses, std::slice::from_ref(&ldaps), Mode::Explicit).unwrap();
        cold.push(t.elapsed());
        network.push(Duration::from_millis(report.directories[0].millis));
        assert_eq!(report.directories[0].state, "ok", "{:?}", report.directories[0]);
        // The older of the two has another key: judged, and left out as superseded.
        assert!(report.addresses.iter().all(|a| a.found == 2 && a.new == 1 && a.superseded == 1));
        let t = Instant::now();
        let again = lookup(&mut ctx, &addresses, std::slice::from_ref(&ldaps), Mode::Explicit).unwrap();
        warm.push(t.elapsed());
        assert!(again.addresses.iter().all(|a| a.new == 0));
        let t = Instant::now();
        lookup(&mut ctx, &addresses, std::slice::from_ref(&starttls), Mode::Explicit).unwrap();
        tls.push(t.elapsed());
        let checks = smime_companion::contacts::service::check(&mut ctx, &addresses).unwrap();
        assert!(checks.iter().all(|c| c.reason_code().is_none()), "every recipient can receive encrypted mail");
    }
    let cold = median(cold);
    println!("lookup over LDAPS, all new (found, judged, stored):    {:.1} ms (goal: under 1000 ms)", ms(cold));
    println!("  of which talking to the directory (connect, TLS, searches): {:.0} ms", ms(median(network)));
    println!("lookup over LDAPS, all known already:               {:.1} ms", ms(median(warm)));
    println!("lookup over StartTLS, all known already:            {:.1} ms", ms(median(tls)));

    // As a person runs it: the CLI, process start included.
    let home = dir.path().join("cli");
    std::fs::create_dir_all(home.join("anchors")).unwrap();
    std::fs::copy(dir.path().join("anchors/root.pem"), home.join("anchors/root.pem")).unwrap();
    std::fs::write(
        home.join("config.json"),
        serde_json::to_vec(&serde_json::json!({"directories": [{"id": "bench", "url": slapd.ldaps_url(), "base_dn": BASE_DN, "ca_file": ca_file}]})).unwrap(),
    )
    .unwrap();
    let t = Instant::now();
    let (code, out, err) = common::cli(&home, &[&["contacts", "lookup"][..], &addresses.iter().map(String::as_str).collect::<Vec<_>>()].concat());
    let cli = t.elapsed();
    assert_eq!(code, 0, "{out}\n{err}");
    println!("smime-companion contacts lookup of {count} (new process, all new):  {:.1} ms", ms(cli));

    // The reference: ldapsearch fetching the same entries over LDAPS, nothing else.
    let filter = format!("(|{})", addresses.iter().map(|a| format!("(mail={a})")).collect::<String>());
    let mut reference = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let out = Command::new("ldapsearch")
            .env("LDAPTLS_CACERT", &ca_file)
            .args(["-x", "-LLL", "-H", &slapd.ldaps_url(), "-b", BASE_DN, &filter, "userCertificate;binary", "userSMIMECertificate"])
            .output()
            .expect("ldapsearch (Debian's ldap-utils)");
        reference.push(t.elapsed());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let reference = median(reference);
    println!("reference: ldapsearch of the same {count} entries over LDAPS: {:.1} ms", ms(reference));
    println!("ratio: companion lookup (with judging and storing) / ldapsearch (query alone) = {:.2}", cold.as_secs_f64() / reference.as_secs_f64());
}
