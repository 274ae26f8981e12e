//! PKCS#11 module benchmark (not a test): `cargo bench -p smime-companion-pkcs11 --bench find`.
//!
//! With BENCH_CERTS (default 1,000) contact certificates in the cache (their CA trusted, so each
//! passes the encryption check C_Initialize runs on it), through the module's exported functions
//! as NSS calls them:
//! - trust lookups: C_FindObjectsInit(CKO_NSS_TRUST / CKO_TRUST, issuer, serial) + C_FindObjects +
//!   C_FindObjectsFinal, which NSS makes thousands of times a session (the module has no trust
//!   objects: each finds nothing);
//! - certificate lookups by issuer and serial number (CMS recipients, dbKeys);
//! - the e-mail traversal behind every recipient lookup: all certificates, then the attributes
//!   NSS reads for each (nssCryptokiCertificate_GetAttributes).
//!
//! - the encryption check (`certs::policy::encryption_verdict`) C_Initialize runs on each contact
//!   certificate, against OpenSSL's chain verification alone.
//!
//! Prints calls per second; asserts nothing about time.

#[path = "../../tests/common/certgen.rs"]
mod certgen;

use certgen::{Ca, Leaf};
use smime_companion::certs::summary::Cert;
use smime_companion::contacts::{ContactCache, Source};
use smime_companion::home::Home;
use smime_companion_pkcs11::types::*;
use smime_companion_pkcs11::*;
use std::ptr::null_mut;
use std::time::Instant;

fn attr(ty: CK_ATTRIBUTE_TYPE, v: &[u8]) -> CK_ATTRIBUTE {
    CK_ATTRIBUTE { type_: ty, pValue: v.as_ptr() as *mut _, ulValueLen: v.len() as CK_ULONG }
}

unsafe fn find(h: CK_SESSION_HANDLE, t: &mut [CK_ATTRIBUTE], out: &mut Vec<CK_OBJECT_HANDLE>) -> usize {
    out.clear();
    assert_eq!(C_FindObjectsInit(h, t.as_mut_ptr(), t.len() as CK_ULONG), CKR_OK);
    let mut calls = 2;
    loop {
        // NSS asks for 16 handles at a time (OBJECT_STACK_SIZE).
        let mut buf = [0 as CK_OBJECT_HANDLE; 16];
        let mut n = 0;
        assert_eq!(C_FindObjects(h, buf.as_mut_ptr(), 16, &mut n), CKR_OK);
        calls += 1;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n as usize]);
    }
    assert_eq!(C_FindObjectsFinal(h), CKR_OK);
    calls
}

fn main() {
    let count: usize = std::env::var("BENCH_CERTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path());
    let ca = Ca::new("Bench CA");
    // The CA is trusted, so every contact certificate passes the encryption check and is offered.
    let anchors = smime_companion::certs::trust::user_anchor_dir(&home);
    std::fs::create_dir_all(&anchors).unwrap();
    std::fs::write(anchors.join("bench-ca.pem"), ca.pem()).unwrap();
    let key = certgen::ec_key();
    let certs: Vec<Cert> =
        (0..count).map(|i| Cert::from_x509(&Leaf::for_address(&format!("user{i}@bench.example")).issue(&ca, Some(&key))).unwrap()).collect();
    let mut cache = ContactCache::open(&home).unwrap();
    cache.import(&certs, Source::Import, smime_companion::time::now()).unwrap();
    drop(cache);

    set_home_override(Some(dir.path().to_path_buf()));
    unsafe {
        let t = Instant::now();
        assert_eq!(C_Initialize(null_mut()), CKR_OK);
        println!("C_Initialize with {count} cached certificates: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
        let mut h = 0;
        assert_eq!(C_OpenSession(1, CKF_SERIAL_SESSION, null_mut(), None, &mut h), CKR_OK);
        let yes = [1u8];
        let mut out = Vec::new();

        // 1. Trust lookups (no trust objects: nothing found).
        let lookups = 10_000;
        let t = Instant::now();
        let mut calls = 0;
        for i in 0..lookups {
            let c = &certs[i % count];
            let serial = smime_companion::asn1::der_tlv(0x02, &c.fields.serial);
            let class = if i % 2 == 0 { CKO_NSS_TRUST } else { CKO_TRUST }.to_ne_bytes();
            let mut t = [attr(CKA_TOKEN, &yes), attr(CKA_CLASS, &class), attr(CKA_ISSUER, &c.fields.issuer_der), attr(CKA_SERIAL_NUMBER, &serial)];
            calls += find(h, &mut t, &mut out);
            assert!(out.is_empty());
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "trust lookups: {lookups} in {:.1} ms = {:.0} lookups/s = {:.0} calls/s ({calls} calls; a short Thunderbird session makes ~8,500)",
            s * 1e3,
            lookups as f64 / s,
            calls as f64 / s
        );

        // 2. Certificate lookups by issuer and serial number (all hits).
        let t = Instant::now();
        let mut calls = 0;
        for i in 0..lookups {
            let c = &certs[(i * 7919) % count];
            let serial = smime_companion::asn1::der_tlv(0x02, &c.fields.serial);
            let class = CKO_CERTIFICATE.to_ne_bytes();
            let mut t = [attr(CKA_TOKEN, &yes), attr(CKA_CLASS, &class), attr(CKA_ISSUER, &c.fields.issuer_der), attr(CKA_SERIAL_NUMBER, &serial)];
            calls += find(h, &mut t, &mut out);
            assert_eq!(out.len(), 1);
        }
        let s = t.elapsed().as_secs_f64();
        println!("certificate lookups by issuer and serial: {lookups} in {:.1} ms = {:.0} lookups/s = {:.0} calls/s", s * 1e3, lookups as f64 / s, calls as f64 / s);

        // 3. The e-mail traversal: every certificate, and the attributes NSS reads for each.
        let rounds = 50;
        let t = Instant::now();
        let mut calls = 0;
        let mut buf = vec![0u8; 4096];
        for _ in 0..rounds {
            let class = CKO_CERTIFICATE.to_ne_bytes();
            let mut t = [attr(CKA_TOKEN, &yes), attr(CKA_CLASS, &class)];
            calls += find(h, &mut t, &mut out);
            assert_eq!(out.len(), count);
            for &o in &out {
                for ty in [CKA_CERTIFICATE_TYPE, CKA_ID, CKA_VALUE, CKA_ISSUER, CKA_SERIAL_NUMBER, CKA_SUBJECT, CKA_LABEL] {
                    let mut a = CK_ATTRIBUTE { type_: ty, pValue: buf.as_mut_ptr() as *mut _, ulValueLen: buf.len() as CK_ULONG };
                    assert_eq!(C_GetAttributeValue(h, o, &mut a, 1), CKR_OK);
                    calls += 1;
                }
            }
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "e-mail traversal over {count} certificates: {rounds} in {:.1} ms = {:.2} ms per traversal = {:.0} calls/s",
            s * 1e3,
            s * 1e3 / rounds as f64,
            calls as f64 / s
        );
        assert_eq!(C_Finalize(null_mut()), CKR_OK);
    }

    // 4. What C_Initialize spends most of its time on: the encryption check of each contact
    // certificate, against OpenSSL's chain verification alone in the same run.
    let n = count.min(500);
    let anchors = smime_companion::certs::trust::TrustAnchors::load(&home);
    let t = Instant::now();
    for c in &certs[..n] {
        assert_eq!(smime_companion::certs::policy::encryption_verdict(&anchors, c, &[], smime_companion::time::now()), Ok(()));
    }
    let ours = t.elapsed().as_secs_f64() / n as f64;
    let mut store = openssl::x509::store::X509StoreBuilder::new().unwrap();
    store.add_cert(ca.cert.clone()).unwrap();
    store.set_purpose(openssl::x509::X509PurposeId::SMIME_SIGN).unwrap();
    let store = store.build();
    let empty = openssl::stack::Stack::new().unwrap();
    let t = Instant::now();
    for c in &certs[..n] {
        let mut ctx = openssl::x509::X509StoreContext::new().unwrap();
        assert!(ctx.init(&store, &c.x509, &empty, |ctx| ctx.verify_cert()).unwrap());
    }
    let openssl_alone = t.elapsed().as_secs_f64() / n as f64;
    println!(
        "encryption check per certificate: {:.3} ms; OpenSSL's chain verification alone: {:.3} ms (ratio {:.2})",
        ours * 1e3,
        openssl_alone * 1e3,
        ours / openssl_alone
    );
}
