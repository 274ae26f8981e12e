//! Own identities end to end with the real CLI and ops: import checks, protection at rest,
//! backup, renewal history, lock/unlock, and interop of what we sign and encrypt with
//! `openssl cms`, NSS `cmsutil` and `gpgsm` (RSA 2048 and 4096, EC P-256 and P-384).

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const PASSPHRASE: &str = "Correct-Horse-Battery-Staple-7731";

fn pki() -> PathBuf {
    let (pki, vectors) = (repo_path("target/test-data/pki"), repo_path("target/test-data/vectors"));
    assert!(Command::new(repo_path("tests/vectors/make-vectors.sh")).arg(&pki).arg(&vectors).status().unwrap().success());
    pki
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A home that trusts the test root, with `who` imported under PASSPHRASE.
fn home_with(pki: &Path, who: &[&str]) -> tempfile::TempDir {
    let home = temp_home();
    assert_eq!(cli(home.path(), &["trust", "add", s(&pki.join("root.pem"))]).0, 0);
    let pass = home.path().join("passphrase.txt");
    std::fs::write(&pass, PASSPHRASE).unwrap();
    for name in who {
        let (code, _, err) = cli(
            home.path(),
            &["identities", "import", s(&pki.join(format!("users/{name}.p12"))), "--password-file", s(&pki.join("password.txt")), "--new-passphrase-file", s(&pass)],
        );
        assert_eq!(code, 0, "{name}: {err}");
    }
    home
}

fn passphrase_file(home: &Path) -> PathBuf {
    home.join("passphrase.txt")
}

fn message(dir: &Path, from: &str, to: &str, body: &str) -> PathBuf {
    let path = dir.join(format!("plain-{}.eml", from.split('@').next().unwrap()));
    let date = Command::new("date").arg("-R").output().unwrap().stdout;
    std::fs::write(
        &path,
        format!("From: {from}\r\nTo: {to}\r\nSubject: interop\r\nDate: {}\r\n\r\n{body}\r\n", String::from_utf8_lossy(&date).trim()),
    )
    .unwrap();
    path
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn cli_out(home: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new(BIN).args(args).env("SMIME_COMPANION_HOME", home).env("SMIME_COMPANION_SYSTEM_CONFIG", home.join("none")).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// A certificate file given where a .p12 belongs (the FAQ's "installed without the private key":
/// the .cer the CA sent, or a certificate saved from the certificate manager) is refused as what it
/// is, a certificate without its key, naming whose certificate it is: in every form a certificate
/// file comes in (PEM, DER, a .p7c bundle with the chain), through the CLI and the op the add-on
/// uses. Nothing is stored. A PEM file that does hold a private key is not called key-less.
#[test]
fn a_certificate_file_is_refused_as_a_certificate_without_its_private_key() {
    let pki = pki();
    let home = home_with(&pki, &[]);
    let dir = home.path();
    let pem = pki.join("users/alice.pem");
    let der = dir.join("alice.cer");
    let p7c = dir.join("alice.p7c");
    let with_key = dir.join("alice-with-key.pem");
    assert!(run(Command::new("openssl").args(["x509", "-in", s(&pem), "-outform", "DER", "-out", s(&der)])).0);
    assert!(run(Command::new("openssl").args(["crl2pkcs7", "-nocrl", "-certfile", s(&pem), "-certfile", s(&pki.join("chain.pem")), "-outform", "DER", "-out", s(&p7c)])).0);
    let mut pem_with_key = std::fs::read(pki.join("users/alice.key")).unwrap();
    pem_with_key.extend(std::fs::read(&pem).unwrap());
    std::fs::write(&with_key, pem_with_key).unwrap();
    let pw = pki.join("password.txt");

    for file in [&pem, &der, &p7c] {
        let (code, _, err) = cli(dir, &["identities", "import", s(file), "--password-file", s(&pw)]);
        assert_eq!(code, 3, "{file:?}: {err}");
        assert!(err.contains("certificate_without_key") && err.contains("CN=alice@example.org"), "{file:?}: {err}");
    }
    let (code, _, err) = cli(dir, &["identities", "import", s(&with_key), "--password-file", s(&pw)]);
    assert_eq!(code, 3);
    assert!(err.contains("bad_pkcs12") && !err.contains("certificate_without_key"), "{err}");

    let mut host = Host::start(dir);
    let reply = host.call(json!(1), "identities_import", json!({ "p12_b64": b64(&std::fs::read(&der).unwrap()), "password": "" }));
    assert_eq!(reply["ok"], false, "{reply}");
    assert_eq!(reply["error"]["code"], "certificate_without_key", "{reply}");
    assert_eq!(reply["error"]["details"]["subject"], "CN=alice@example.org", "{reply}");
    let listed = host.ok("identities_list", json!({}));
    assert_eq!(listed["identities"], json!([]), "nothing stored after a refused import");
}

#[test]
fn import_checks_refuse_what_cannot_work_and_report_the_rest() {
    let pki = pki();
    let home = home_with(&pki, &[]);
    let pw = pki.join("password.txt");
    let import = |file: &str, password: &Path| cli(home.path(), &["identities", "import", s(&pki.join(file)), "--password-file", s(password), "--json"]);

    let (code, _, err) = import("users/alice-nokey.p12", &pw);
    assert_eq!(code, 3);
    assert!(err.contains("pkcs12_without_key") && err.contains("private key"), "{err}");
    let wrong = home.path().join("wrong.txt");
    std::fs::write(&wrong, "not the password").unwrap();
    let (code, _, err) = import("users/alice.p12", &wrong);
    assert_eq!(code, 3);
    assert!(err.contains("wrong_password"), "{err}");
    let (_, out, _) = cli(home.path(), &["identities", "list", "--json"]);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["identities"], json!([]), "nothing stored after a refused import");
    let truncated = home.path().join("truncated.p12");
    std::fs::write(&truncated, &std::fs::read(pki.join("users/alice.p12")).unwrap()[..700]).unwrap();
    let (code, _, err) = cli(home.path(), &["identities", "import", s(&truncated), "--password-file", s(&pw)]);
    assert_eq!(code, 3);
    assert!(err.contains("bad_pkcs12"), "{err}");
    let (code, _, err) = import("users/twokeys.p12", &pw);
    assert_eq!(code, 3);
    assert!(err.contains("pkcs12_several_keys"), "{err}");

    // Legacy encodings open (RC2 through OpenSSL's legacy provider).
    for file in ["users/alice-3des.p12", "users/alice-rc2.p12"] {
        let (code, out, err) = import(file, &pw);
        assert_eq!(code, 0, "{file}: {err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert!(v["checks"].as_array().unwrap().iter().all(|c| c["ok"] == true), "{v}");
    }
    // Problems that do not refuse the import are named.
    let check = |file: &str, name: &str| -> Value {
        let (code, out, err) = import(file, &pw);
        assert_eq!(code, 0, "{file}: {err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        v["checks"].as_array().unwrap().iter().find(|c| c["check"] == name).unwrap().clone()
    };
    let fresh = temp_home();
    let nochain = {
        let (code, out, err) = cli(fresh.path(), &["identities", "import", s(&pki.join("users/alice-nochain.p12")), "--password-file", s(&pw), "--json"]);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<Value>(&out).unwrap()["checks"].as_array().unwrap().iter().find(|c| c["check"] == "chain_complete").unwrap().clone()
    };
    assert_eq!(nochain["ok"], false);
    assert_eq!(nochain["missing"], "CN=Companion Test Issuing CA,O=S-MIME Companion Tests");
    assert_eq!(check("users/frank.p12", "not_expired")["ok"], false);
    let usage = check("users/ivan.p12", "email_usage");
    assert_eq!((usage["ok"].clone(), usage["missing"].clone()), (json!(false), json!(["email_protection"])));
    let usage = check("users/oscar.p12", "email_usage");
    assert_eq!(usage["missing"], json!(["digital_signature"]));
}

#[test]
fn keys_are_encrypted_at_rest_and_no_secret_reaches_a_file_or_the_log() {
    let pki = pki();
    let home = home_with(&pki, &["alice"]);
    let dir = tempfile::tempdir().unwrap();
    cli(home.path(), &["contacts", "import", s(&pki.join("users/bob.pem"))]);
    let secret_body = "TOP-SECRET-BODY-4d2f9a";
    let msg = message(dir.path(), "alice@example.org", "bob@example.org", secret_body);
    let signed = dir.path().join("signed.eml");
    std::fs::write(&signed, cli_out(home.path(), &["sign", s(&msg), "--passphrase-file", s(&passphrase_file(home.path()))])).unwrap();
    let encrypted = cli_out(home.path(), &["encrypt", s(&msg), "--sign", "--passphrase-file", s(&passphrase_file(home.path()))]);
    let backup = dir.path().join("backup.p12");
    cli_out(
        home.path(),
        &["identities", "export", "alice@example.org", "--out", s(&backup), "--password-file", s(&passphrase_file(home.path())), "--passphrase-file", s(&passphrase_file(home.path()))],
    );
    // Reading the encrypted message (the host session unlocks, then inspects).
    let mut host = Host::start(home.path());
    host.ok("identities_unlock", json!({"passphrase": PASSPHRASE}));
    let v = host.ok("inspect_message", json!({"message_b64": b64(&encrypted), "return_content": true}));
    assert_eq!(v["encryption"]["state"], "decrypted");
    assert!(host.finish(Duration::from_secs(10)).0.success());

    let key_pem = std::fs::read_to_string(pki.join("users/alice.key")).unwrap();
    let key_der = openssl::pkey::PKey::private_key_from_pem(key_pem.as_bytes()).unwrap().private_key_to_pkcs8().unwrap();
    let mut checked = 0;
    for entry in walk(home.path()) {
        if entry.ends_with("passphrase.txt") {
            continue; // the test's own secret file
        }
        let bytes = std::fs::read(&entry).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(memchr::memmem::find(&bytes, &key_der).is_none(), "{} holds the private key in the clear", entry.display());
        assert!(!text.contains("PRIVATE KEY"), "{} holds a PEM private key", entry.display());
        assert!(!text.contains(PASSPHRASE), "{} holds the passphrase", entry.display());
        assert!(!text.contains(secret_body), "{} holds message plaintext", entry.display());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&entry).unwrap().permissions().mode() & 0o077, 0, "{} is readable by others", entry.display());
        }
        checked += 1;
    }
    assert!(checked >= 3, "data files and the log were checked ({checked})");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o700, "{} is not private", p.display());
            }
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// NSS database trusting the test root, with the given .p12 identities imported.
fn nss_db(pki: &Path, dir: &Path, p12s: &[&str]) -> PathBuf {
    let db = dir.join("nssdb");
    std::fs::create_dir_all(&db).unwrap();
    let db_arg = format!("sql:{}", db.display());
    assert!(run(Command::new("certutil").args(["-N", "-d", &db_arg, "--empty-password"])).0);
    assert!(run(Command::new("certutil").args(["-A", "-d", &db_arg, "-n", "root", "-t", "C,C,C", "-i", s(&pki.join("root.pem"))])).0);
    for p in p12s {
        let (ok, out) = run(Command::new("pk12util").args(["-i", s(&pki.join(format!("users/{p}.p12"))), "-d", &db_arg, "-W", "test", "-K", ""]));
        assert!(ok, "pk12util {p}: {out}");
    }
    db
}

/// Splits a multipart/signed message into (content part, signature DER) with openssl.
fn split_signed(msg: &Path, dir: &Path) -> (PathBuf, PathBuf) {
    let (content, sig) = (dir.join("content.bin"), dir.join("sig.der"));
    assert!(run(Command::new("openssl").args(["cms", "-verify", "-noverify", "-in", s(msg), "-out", s(&content)])).0);
    assert!(run(Command::new("openssl").args(["cms", "-cmsout", "-in", s(msg), "-outform", "DER", "-out", s(&sig)])).0);
    (content, sig)
}

fn gnupg_home(pki: &Path, dir: &Path) -> PathBuf {
    let g = dir.join("gnupg");
    std::fs::create_dir_all(&g).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&g, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    std::fs::write(g.join("gpgsm.conf"), "disable-crl-checks\n").unwrap();
    // The agent answers passphrase questions from gpgsm itself (loopback); started up front so a
    // busy machine does not hit gpgsm's wait for its first start.
    std::fs::write(g.join("gpg-agent.conf"), "allow-loopback-pinentry\n").unwrap();
    let _ = Command::new("gpgconf").env("GNUPGHOME", &g).args(["--launch", "gpg-agent"]).status();
    let (ok, out) = run(Command::new("gpgsm").env("GNUPGHOME", &g).args(["--batch", "--import", s(&pki.join("root.pem"))]));
    assert!(ok, "{out}");
    let fp = String::from_utf8(Command::new("openssl").args(["x509", "-noout", "-fingerprint", "-sha1", "-in", s(&pki.join("root.pem"))]).output().unwrap().stdout).unwrap();
    let fp = fp.trim().split('=').nth(1).unwrap().to_string();
    std::fs::write(g.join("trustlist.txt"), format!("{fp} S relax\n")).unwrap();
    g
}

#[test]
fn what_we_sign_verifies_with_openssl_nss_and_gpgsm() {
    let pki = pki();
    let signers = [("alice", "rsa2048"), ("dave", "rsa4096"), ("judy", "ec-p256"), ("ken", "ec-p384")];
    let home = home_with(&pki, &signers.map(|(n, _)| n));
    let dir = tempfile::tempdir().unwrap();
    let db = nss_db(&pki, dir.path(), &[]);
    let gnupg = gnupg_home(&pki, dir.path());
    for (name, kind) in signers {
        let from = if name == "dave" { "dave@example.com".to_string() } else { format!("{name}@example.org") };
        let msg = message(dir.path(), &from, "someone@example.net", &format!("Signed by {name}, ümlauts included."));
        let signed = dir.path().join(format!("signed-{name}.eml"));
        std::fs::write(&signed, cli_out(home.path(), &["sign", s(&msg), "--passphrase-file", s(&passphrase_file(home.path()))])).unwrap();
        let (ok, out) = run(Command::new("openssl").args(["cms", "-verify", "-in", s(&signed), "-CAfile", s(&pki.join("root.pem")), "-purpose", "smimesign", "-out", "/dev/null"]));
        assert!(ok, "openssl rejects {name} ({kind}): {out}");
        let (content, sig) = split_signed(&signed, dir.path());
        let (_, out) = run(Command::new("cmsutil").args(["-D", "-i", s(&sig), "-c", s(&content), "-d", &format!("sql:{}", db.display()), "-n", "-h", "1"]));
        assert!(out.contains("signer0.status=GoodSignature"), "NSS rejects {name} ({kind}): {out}");
        let (_, out) = run(Command::new("gpgsm").env("GNUPGHOME", &gnupg).args(["--batch", "--status-fd", "1", "--verify", s(&sig), s(&content)]));
        assert!(out.contains("[GNUPG:] GOODSIG"), "gpgsm rejects {name} ({kind}): {out}");
        // And we verify our own output, with every attribute in place.
        let (_, out, _) = cli(home.path(), &["inspect", s(&signed), "--json"]);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["signature"]["state"], "valid", "{name}");
        let signer = &v["signature"]["layers"][0]["signers"][0];
        assert_eq!(signer["digest_algorithm"], "sha256");
        assert!(signer["capabilities"].as_array().unwrap().contains(&json!("aes-256-cbc")));
        assert!(signer["encryption_key_preference"]["serial"].is_string());
        assert!(signer["signing_time"].is_string());
    }
}

#[test]
fn what_we_encrypt_decrypts_with_openssl_nss_and_gpgsm() {
    let pki = pki();
    let home = home_with(&pki, &["alice"]);
    let dir = tempfile::tempdir().unwrap();
    for r in ["bob", "dave", "judy", "ken"] {
        assert_eq!(cli(home.path(), &["contacts", "import", s(&pki.join(format!("users/{r}.pem")))]).0, 0);
    }
    let body = "Only for the recipients' eyes.";
    // RSA recipients: openssl, NSS and gpgsm all decrypt.
    let msg = message(dir.path(), "alice@example.org", "bob@example.org, dave@example.com", body);
    let enc = dir.path().join("enc-rsa.eml");
    std::fs::write(&enc, cli_out(home.path(), &["encrypt", s(&msg)])).unwrap();
    for (who, key) in [("bob", "users/bob.key"), ("dave", "users/dave.key"), ("alice", "users/alice.key")] {
        let (ok, out) = run(Command::new("openssl").args(["cms", "-decrypt", "-in", s(&enc), "-recip", s(&pki.join(format!("users/{who}.pem"))), "-inkey", s(&pki.join(key))]));
        assert!(ok && out.contains(body), "openssl cannot decrypt for {who}: {out}");
    }
    let der = dir.path().join("enc.der");
    assert!(run(Command::new("openssl").args(["cms", "-cmsout", "-in", s(&enc), "-outform", "DER", "-out", s(&der)])).0);
    let nss_dir = dir.path().join("nss");
    std::fs::create_dir_all(&nss_dir).unwrap();
    let db = nss_db(&pki, &nss_dir, &["bob"]);
    let (_, out) = run(Command::new("cmsutil").args(["-D", "-i", s(&der), "-d", &format!("sql:{}", db.display()), "-p", ""]));
    assert!(out.contains(body), "NSS cannot decrypt: {out}");
    let gnupg = gnupg_home(&pki, dir.path());
    let bob_3des = dir.path().join("bob-3des.p12");
    assert!(run(Command::new("openssl").args([
        "pkcs12", "-export", "-in", s(&pki.join("users/bob.pem")), "-inkey", s(&pki.join("users/bob.key")), "-keypbe", "PBE-SHA1-3DES",
        "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1", "-passout", "pass:nss", "-out", s(&bob_3des)
    ]))
    .0);
    // gpgsm keeps the .p12 password ("nss") on the imported key and asks for it on use.
    let with_passphrase = |args: &[&str]| {
        let out = Command::new("gpgsm")
            .env("GNUPGHOME", &gnupg)
            .args(["--batch", "--pinentry-mode", "loopback", "--passphrase-fd", "0"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                // One line per question (the .p12's password, then each bag's), all the same.
                std::io::Write::write_all(c.stdin.as_mut().unwrap(), b"nss\nnss\nnss\nnss\n")?;
                c.wait_with_output()
            })
            .unwrap();
        (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    };
    let (ok, out) = with_passphrase(&["--import", s(&bob_3des)]);
    assert!(ok, "gpgsm import: {out}");
    let (_, out) = with_passphrase(&["--decrypt", s(&der)]);
    assert!(out.contains(body), "gpgsm cannot decrypt: {out}");

    // EC recipients (ECDH): openssl decrypts (NSS 3.87 and gpgsm 2.2 on this machine cannot).
    for who in ["judy", "ken"] {
        let msg = message(dir.path(), "alice@example.org", &format!("{who}@example.org"), body);
        let enc = dir.path().join(format!("enc-{who}.eml"));
        std::fs::write(&enc, cli_out(home.path(), &["encrypt", s(&msg), "--sign", "--passphrase-file", s(&passphrase_file(home.path()))])).unwrap();
        let (ok, out) = run(Command::new("openssl").args(["cms", "-decrypt", "-in", s(&enc), "-recip", s(&pki.join(format!("users/{who}.pem"))), "-inkey", s(&pki.join(format!("users/{who}.key")))]));
        assert!(ok && out.contains("multipart/signed"), "openssl cannot decrypt for {who}: {out}");
    }

    // A recipient without a certificate stops it, and the error names each with the reason.
    let msg = message(dir.path(), "alice@example.org", "bob@example.org, stranger@example.net, x", body);
    let (code, _, err) = cli(home.path(), &["encrypt", s(&msg)]);
    assert_eq!(code, 3);
    assert!(err.contains("stranger@example.net (never_seen)") && err.contains("recipients_without_certificate"), "{err}");
}

#[test]
fn gcm_only_when_every_recipient_advertises_it() {
    let pki = pki();
    let home = home_with(&pki, &["alice", "bob"]);
    let dir = tempfile::tempdir().unwrap();
    // Bob's signed mail (made by us, advertising GCM) puts him in alice's cache with capabilities.
    let bob_home = home_with(&pki, &["bob"]);
    let to_alice = message(dir.path(), "bob@example.org", "alice@example.org", "hi");
    let signed = dir.path().join("bob-signed.eml");
    std::fs::write(&signed, cli_out(bob_home.path(), &["sign", s(&to_alice), "--passphrase-file", s(&passphrase_file(bob_home.path()))])).unwrap();
    cli_out(home.path(), &["inspect", s(&signed)]);
    let msg = message(dir.path(), "alice@example.org", "bob@example.org", "gcm please");
    let mut host = Host::start(home.path());
    let out = host.ok("encrypt_message", json!({"message_b64": b64(&std::fs::read(&msg).unwrap())}));
    assert_eq!(out["cipher"], "aes-256-gcm");
    // Dave never said he can do GCM: CBC for everyone.
    cli(home.path(), &["contacts", "import", s(&pki.join("users/dave.pem"))]);
    let out = host.ok("encrypt_message", json!({"message_b64": b64(&std::fs::read(&msg).unwrap()), "to": ["bob@example.org", "dave@example.com"]}));
    assert_eq!(out["cipher"], "aes-256-cbc");
    assert!(host.finish(Duration::from_secs(10)).0.success());
}

#[test]
fn backups_hold_the_key_and_restore_on_another_device() {
    let pki = pki();
    let home = home_with(&pki, &["alice"]);
    let dir = tempfile::tempdir().unwrap();
    let (code, _, _) = cli(home.path(), &["identities", "backup-status"]);
    assert_eq!(code, 1, "no backup yet");
    let password = dir.path().join("backup-password.txt");
    std::fs::write(&password, "backup-pw").unwrap();
    for (legacy, expect_alg) in [(false, "AES-256-CBC"), (true, "TripleDES")] {
        let out = dir.path().join(format!("backup-{legacy}.p12"));
        let mut args = vec!["identities", "export", "alice@example.org", "--out", s(&out), "--password-file", s(&password), "--passphrase-file"];
        let pass = passphrase_file(home.path());
        args.push(s(&pass));
        if legacy {
            args.push("--legacy");
        }
        assert_eq!(cli(home.path(), &args).0, 0);
        let (ok, info) = run(Command::new("openssl").args(["pkcs12", "-info", "-in", s(&out), "-passin", "pass:backup-pw", "-nodes", "-legacy"]));
        assert!(ok, "{info}");
        assert!(info.contains("PRIVATE KEY"), "the backup holds the private key");
        assert!(info.contains(expect_alg), "{legacy}: {info}");
        assert_eq!(info.matches("BEGIN CERTIFICATE").count(), 2, "the certificate and its intermediate (roots come from trust stores)");
        // Restores on another device.
        let other = temp_home();
        let (code, _, err) = cli(other.path(), &["identities", "import", s(&out), "--password-file", s(&password)]);
        assert_eq!(code, 0, "{err}");
    }
    assert_eq!(cli(home.path(), &["identities", "backup-status"]).0, 0);
}

#[test]
fn renewed_and_expired_identities_still_decrypt_old_mail_and_say_so() {
    let pki = pki();
    let home = home_with(&pki, &["alice", "alice2"]);
    let dir = tempfile::tempdir().unwrap();
    let (_, out, _) = cli(home.path(), &["identities", "list", "--json"]);
    let list: Value = serde_json::from_str(&out).unwrap();
    let old = list["identities"].as_array().unwrap().iter().find(|i| i["not_before"] == "2024-01-01T00:00:00Z").unwrap().clone();
    assert!(old["replaced_by"].is_string(), "alice's first certificate is marked renewed: {old}");
    // Mail encrypted to the old certificate still opens, and the verdict says it was replaced.
    let plain = dir.path().join("p.txt");
    std::fs::write(&plain, "Content-Type: text/plain\r\n\r\nold mail\r\n").unwrap();
    let enc = dir.path().join("old.eml");
    assert!(run(Command::new("openssl").args(["cms", "-encrypt", "-aes256", "-in", s(&plain), "-out", s(&enc), s(&pki.join("users/alice.pem"))])).0);
    let mut host = Host::start(home.path());
    let r = host.call(json!(1), "identities_unlock", json!({"passphrase": "wrong"}));
    assert_eq!(r["error"]["code"], "wrong_password");
    let locked = host.ok("inspect_message", json!({"message_b64": b64(&std::fs::read(&enc).unwrap())}));
    assert_eq!(locked["encryption"]["state"], "locked");
    assert_eq!(locked["encryption"]["locked_identities"], json!([old["fingerprint"]]));
    let unlocked = host.ok("identities_unlock", json!({"passphrase": PASSPHRASE}));
    assert_eq!(unlocked["unlocked"].as_array().unwrap().len(), 2);
    assert_eq!(unlocked["seconds"], 15 * 60, "keys stay unlocked 15 minutes by default");
    let v = host.ok("inspect_message", json!({"message_b64": b64(&std::fs::read(&enc).unwrap())}));
    assert_eq!(v["encryption"]["state"], "decrypted");
    assert_eq!(v["encryption"]["decrypted_with"]["fingerprint_sha256"], old["fingerprint"]);
    assert_eq!(v["encryption"]["decrypted_with"]["replaced"], true);
    // Locking drops the keys at once.
    host.ok("identities_lock", json!({}));
    let v = host.ok("inspect_message", json!({"message_b64": b64(&std::fs::read(&enc).unwrap())}));
    assert_eq!(v["encryption"]["state"], "locked");
    let radar = host.ok("expiry_radar", json!({"days": 36500}));
    assert_eq!(radar["identities"].as_array().unwrap().len(), 1, "only the current identity is on the radar");
    assert!(host.finish(Duration::from_secs(10)).0.success());
    // The time is configurable (docs/CONFIG.md).
    std::fs::write(home.path().join("config.json"), r#"{"unlock_minutes": 2}"#).unwrap();
    let mut host = Host::start(home.path());
    assert_eq!(host.ok("identities_unlock", json!({"passphrase": PASSPHRASE}))["seconds"], 120);
    assert!(host.finish(Duration::from_secs(10)).0.success());
}

#[test]
fn identity_ops_over_native_messaging() {
    let pki = pki();
    let home = temp_home();
    let mut host = Host::start(home.path());
    let p12 = std::fs::read(pki.join("users/judy.p12")).unwrap();
    let imported = host.ok("identities_import", json!({"p12_b64": b64(&p12), "password": "test", "new_passphrase": PASSPHRASE}));
    assert_eq!(imported["identity"]["emails"], json!(["judy@example.org"]));
    assert_eq!(imported["identity"]["unlocked"], true, "an import leaves the key unlocked for the session");
    let fp = imported["identity"]["fingerprint"].as_str().unwrap().to_string();
    assert_eq!(host.ok("backup_status", json!({}))["needs_backup"], true);
    // The add-on records the backup only once the user has saved the file (Save As may be
    // cancelled); a plain export records it at once.
    let exported = host.ok("identities_export", json!({"identity": "judy@example.org", "password": "backup", "passphrase": PASSPHRASE, "record_backup": false}));
    assert!(exported["file_name"].as_str().unwrap().ends_with(".p12"));
    assert_eq!(host.ok("backup_status", json!({}))["needs_backup"], true, "not saved yet");
    assert_eq!(host.ok("identities_backup_saved", json!({"identity": fp}))["backed_up"], true);
    assert_eq!(host.ok("backup_status", json!({}))["needs_backup"], false);
    host.ok("identities_export", json!({"identity": "judy@example.org", "password": "backup", "passphrase": PASSPHRASE}));
    assert_eq!(host.call(json!(0), "identities_backup_saved", json!({"identity": "nobody@example.org"}))["error"]["code"], "not_found");
    let r = host.call(json!(1), "identities_import", json!({"p12_b64": b64(b"garbage"), "password": "x"}));
    assert_eq!(r["error"]["code"], "bad_pkcs12");
    let r = host.call(json!(2), "sign_message", json!({"message_b64": b64(b"From: nobody@example.org\r\n\r\nx")}));
    assert_eq!(r["error"]["code"], "no_identity");
    host.ok("identities_delete", json!({"fingerprint": fp}));
    assert_eq!(host.ok("identities_list", json!({}))["identities"], json!([]));
    assert!(host.finish(Duration::from_secs(10)).0.success());
}

/// An unlocked key signs and decrypts for a while; taking it away for good (a .p12 with the key)
/// needs the passphrase every time. Before, any caller of `identities_export` got the key while
/// it was unlocked, with a backup password of their own choosing.
#[test]
fn export_always_needs_the_identitys_passphrase_even_while_unlocked() {
    let pki = pki();
    let home = temp_home();
    let mut host = Host::start(home.path());
    let p12 = std::fs::read(pki.join("users/judy.p12")).unwrap();
    let imported = host.ok("identities_import", json!({"p12_b64": b64(&p12), "password": "test", "new_passphrase": PASSPHRASE}));
    assert_eq!(imported["identity"]["unlocked"], true, "the key is unlocked in this session");
    let export = |host: &mut Host, params: Value| host.call(json!("x"), "identities_export", params);
    let r = export(&mut host, json!({"identity": "judy@example.org", "password": "attacker-chosen"}));
    assert_eq!(r["error"]["code"], "invalid_params", "no passphrase, no key: {r}");
    for wrong in ["", "wrong", "test"] {
        let r = export(&mut host, json!({"identity": "judy@example.org", "password": "attacker-chosen", "passphrase": wrong}));
        assert_eq!(r["error"]["code"], "wrong_password", "{wrong:?}: {r}");
        assert!(r.get("result").is_none());
    }
    assert_eq!(host.ok("backup_status", json!({}))["needs_backup"], true, "a refused export records no backup");
    let shown = host.ok("identities_show", json!({"identity": "judy@example.org"}));
    assert_eq!(shown["unlocked"], true, "a refused export leaves the session's key as it was");
    // The right passphrase gives a backup that opens with the new password, locked or unlocked.
    let ok = host.ok("identities_export", json!({"identity": "judy@example.org", "password": "backup-pw", "passphrase": PASSPHRASE, "record_backup": false}));
    let file = home.path().join("judy-backup.p12");
    std::fs::write(&file, base64_decode(ok["p12_b64"].as_str().unwrap())).unwrap();
    let (opened, info) = run(Command::new("openssl").args(["pkcs12", "-info", "-in", s(&file), "-passin", "pass:backup-pw", "-nodes"]));
    assert!(opened && info.contains("PRIVATE KEY"), "{info}");
    host.ok("identities_lock", json!({}));
    host.ok("identities_export", json!({"identity": "judy@example.org", "password": "backup-pw", "passphrase": PASSPHRASE, "record_backup": false}));
    assert!(host.finish(Duration::from_secs(10)).0.success());

    // The CLI asks too: no passphrase file and no terminal is a usage error, a wrong one refused.
    let out = home.path().join("cli-backup.p12");
    let pw = home.path().join("pw.txt");
    std::fs::write(&pw, "backup-pw").unwrap();
    let (code, _, err) = cli(home.path(), &["identities", "export", "judy@example.org", "--out", s(&out), "--password-file", s(&pw)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("Passphrase"), "{err}");
    let wrong = home.path().join("wrong.txt");
    std::fs::write(&wrong, "not it").unwrap();
    let (code, _, err) = cli(home.path(), &["identities", "export", "judy@example.org", "--out", s(&out), "--password-file", s(&pw), "--passphrase-file", s(&wrong)]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("wrong_password"), "{err}");
    assert!(!out.exists(), "nothing written");
    assert_eq!(cli(home.path(), &["identities", "backup-status"]).0, 1, "nothing recorded");
    let right = home.path().join("right.txt");
    std::fs::write(&right, PASSPHRASE).unwrap();
    let (code, _, err) = cli(home.path(), &["identities", "export", "judy@example.org", "--out", s(&out), "--password-file", s(&pw), "--passphrase-file", s(&right)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.exists());
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).unwrap()
}

/// A store with the given certificates as identities (sealed keys that are never opened here).
fn store_with(path: &Path, certs: &[&openssl::x509::X509]) -> smime_companion::identities::IdentityStore {
    use smime_companion::identities::seal::SealedKey;
    let mut store = smime_companion::identities::IdentityStore::open_at(path).unwrap();
    let sealed = SealedKey {
        kdf: "pbkdf2-hmac-sha256".into(),
        iterations: 1,
        salt: "00".into(),
        cipher: "aes-256-gcm".into(),
        nonce: "00".into(),
        ciphertext: "00".into(),
        tag: "00".into(),
    };
    for (i, cert) in certs.iter().enumerate() {
        store.add(&smime_companion::certs::summary::Cert::from_x509(cert).unwrap(), &[], &sealed, i as i64).unwrap();
    }
    store
}

#[test]
fn delete_and_backup_records_are_all_or_nothing() {
    use common::certgen::{Ca, Leaf};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("identities.sqlite");
    let ca = Ca::new("Atomic CA");
    let cert = smime_companion::certs::summary::Cert::from_x509(&Leaf::for_address("atom@example.org").issue(&ca, None)).unwrap();
    let mut store = store_with(&path, &[&cert.x509]);
    let fp = cert.fingerprint_sha256();
    // The history event cannot be written (as if the process died right after the first change):
    // the first change must not stay either.
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("CREATE TRIGGER no_events BEFORE INSERT ON identity_events BEGIN SELECT RAISE(ABORT, 'no events'); END;").unwrap();
    assert!(store.mark_backed_up(&fp, 1000).is_err());
    assert!(store.delete(&fp, 1000).is_err());
    let found = store.find(&fp).unwrap();
    assert_eq!(found.len(), 1, "deleted without its history event");
    assert_eq!(found[0].backed_up_at, None, "marked backed up without its history event");
    other.execute_batch("DROP TRIGGER no_events;").unwrap();
    store.mark_backed_up(&fp, 1000).unwrap();
    assert_eq!(store.find(&fp).unwrap()[0].backed_up_at, Some(1000));
    store.delete(&fp, 2000).unwrap();
    assert!(store.find(&fp).unwrap().is_empty());
    let events: Vec<String> = {
        let mut stmt = other.prepare("SELECT event FROM identity_events WHERE fingerprint = ?1 ORDER BY id").unwrap();
        stmt.query_map([&fp], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(events, ["imported", "backed_up", "deleted"]);
    assert_eq!(store.delete(&fp, 3000).err().unwrap().code(), "not_found");
}

#[test]
fn find_by_address_or_fingerprint_prefix() {
    use common::certgen::{Ca, Leaf};
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Find CA");
    let old = Leaf { not_before_days: -30, emails: vec!["Finn@Example.org", "finn.two@example.org"], ..Leaf::for_address("finn@example.org") }.issue(&ca, None);
    let new = Leaf::for_address("finn@example.org").issue(&ca, None);
    let other = Leaf::for_address("other@example.org").issue(&ca, None);
    let store = store_with(&dir.path().join("identities.sqlite"), &[&old, &new, &other]);
    let fp = |c: &openssl::x509::X509| smime_companion::certs::summary::Cert::from_x509(c).unwrap().fingerprint_sha256();
    let found = |key: &str| store.find(key).unwrap().iter().map(|i| i.fingerprint()).collect::<Vec<_>>();
    // Addresses: normalised (case-insensitive), newest first, every address of a certificate.
    assert_eq!(found("FINN@example.ORG"), [fp(&new), fp(&old)]);
    assert_eq!(found("finn.two@example.org"), [fp(&old)]);
    assert!(found("nobody@example.org").is_empty());
    // Fingerprints: a prefix of at least 8 digits, any case, colons allowed.
    let full = fp(&other);
    assert_eq!(found(&full), [full.as_str()]);
    let colons: String = full[..12].to_uppercase().as_bytes().chunks(2).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(":");
    assert_eq!(found(&colons), [full.as_str()]);
    assert!(found(&full[..7]).is_empty(), "too short a prefix");
    assert!(found("________").is_empty() && found("%%%%%%%%").is_empty(), "not a pattern");
    assert_eq!(store.get(&full).unwrap().map(|i| i.fingerprint()), Some(full.clone()));
    assert!(store.get(&full[..60]).unwrap().is_none(), "get takes a whole fingerprint");
    assert_eq!(store.one("finn@example.org").unwrap().fingerprint(), fp(&new), "the current one for an address");
}

/// An error says what went wrong in our words, on the wire and on the command line; the cause
/// behind it (here OpenSSL's error stack) goes only to `--verbose` and, at log level debug, to
/// the log, never into the reply.
#[test]
fn the_cause_behind_an_error_is_shown_by_verbose_and_logged_never_replied() {
    let home = temp_home();
    let file = home.path().join("garbage.p12");
    std::fs::write(&file, b"not a PKCS#12 file").unwrap();
    let pw = home.path().join("pw.txt");
    std::fs::write(&pw, "x\n").unwrap();
    let args = ["identities", "import", s(&file), "--password-file", s(&pw)];
    let (code, _, plain) = cli(home.path(), &args);
    assert_eq!(code, 3);
    assert!(plain.contains("not a usable PKCS#12 file (not PKCS#12, or truncated) [bad_pkcs12]"), "{plain}");
    assert!(!plain.contains("caused by"), "{plain}");
    let (code, _, verbose) = cli(home.path(), &[&["--verbose"], &args[..]].concat());
    assert_eq!(code, 3);
    let (first, causes) = verbose.split_once('\n').unwrap();
    assert_eq!(first, plain.trim_end(), "the same error line");
    assert!(causes.starts_with("  caused by: ") && causes.trim().len() > "caused by:".len(), "{verbose}");

    let mut cmd = thunderbird_command(home.path(), &addon_id());
    cmd.env("SMIME_COMPANION_LOG", "debug");
    let mut host = Host::spawn(cmd);
    let r = host.call(json!(41), "identities_import", json!({"p12_b64": b64(b"not a PKCS#12 file"), "password": "secret-password-41"}));
    assert_eq!(r["error"]["code"], "bad_pkcs12", "{r}");
    let message = r["error"]["message"].as_str().unwrap();
    let cause = causes.lines().next().unwrap().trim_start().trim_start_matches("caused by: ");
    assert!(!message.contains(cause), "OpenSSL's words stay out of the reply: {message}");
    assert!(host.finish(Duration::from_secs(10)).0.success());
    let log = std::fs::read_to_string(home.path().join("logs/smime-companion.log")).unwrap();
    let logged: Vec<&str> = log.lines().filter(|l| l.contains("request id=41 cause: ")).collect();
    assert!(logged.iter().any(|l| l.contains(cause)), "{log}");
    assert!(!log.contains("secret-password-41") && !log.contains(message), "no request parameter, no reply message: {log}");
}
