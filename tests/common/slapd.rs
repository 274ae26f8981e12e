//! A real OpenLDAP `slapd` (Debian's package) for the directory tests and benchmark: started as
//! a child on free 127.0.0.1 ports (`ldap://` with StartTLS, and `ldaps://`), with a generated
//! `slapd.conf` and an LDIF loaded by `slapd -T add`, in a temporary folder; stopped on drop.
//!
//! The binary is copied into that folder and run from there: AppArmor profiles attach by path,
//! and Debian's profile for /usr/sbin/slapd would keep it out of a folder under /tmp.
#![allow(dead_code)]

use super::certgen::Ca;
use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::x509::extension::{ExtendedKeyUsage, KeyUsage, SubjectAlternativeName};
use openssl::x509::{X509NameBuilder, X509};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BASE_DN: &str = "dc=example,dc=org";
pub const ADMIN_DN: &str = "cn=admin,dc=example,dc=org";
pub const ADMIN_PASSWORD: &str = "secret";

/// Installs slapd and ldap-utils when missing (once per test process).
pub fn ensure_installed() {
    static ONCE: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("installer/debian-packages.sh");
        let ok = Command::new(script).args(["slapd", "ldap-utils"]).status().map(|s| s.success()).unwrap_or(false);
        assert!(ok && slapd_binary().exists(), "the directory tests need Debian's slapd: installer/debian-packages.sh slapd ldap-utils");
    });
}

fn slapd_binary() -> PathBuf {
    PathBuf::from("/usr/sbin/slapd")
}

/// A server certificate and key (PEM) for the IP address `ip` (and no host name), issued by `ca`.
pub fn server_tls(ca: &Ca, ip: &str) -> (Vec<u8>, Vec<u8>) {
    let key = super::certgen::ec_key();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    let mut serial = openssl::bn::BigNum::new().unwrap();
    serial.rand(63, openssl::bn::MsbOption::MAYBE_ZERO, false).unwrap();
    b.set_serial_number(&serial.to_asn1_integer().unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_nid(Nid::COMMONNAME, "directory.test").unwrap();
    b.set_subject_name(&name.build()).unwrap();
    b.set_issuer_name(ca.cert.subject_name()).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
    b.set_not_after(&Asn1Time::days_from_now(30).unwrap()).unwrap();
    b.append_extension(KeyUsage::new().critical().digital_signature().key_agreement().build().unwrap()).unwrap();
    b.append_extension(ExtendedKeyUsage::new().server_auth().build().unwrap()).unwrap();
    let san = SubjectAlternativeName::new().ip(ip).build(&b.x509v3_context(Some(&ca.cert), None)).unwrap();
    b.append_extension(san).unwrap();
    b.sign(&ca.key, MessageDigest::sha256()).unwrap();
    (b.build().to_pem().unwrap(), key.private_key_to_pem_pkcs8().unwrap())
}

/// One person's entry: `mail`, AD-style `proxyAddresses`, certificates as
/// `userCertificate;binary` values and `userSMIMECertificate` values (PKCS#7 bundles).
pub fn person(uid: &str, mail: &str, proxy: &[&str], user_certificates: &[&X509], smime: &[&[u8]]) -> String {
    let b64 = |bytes: &[u8]| super::b64(bytes);
    let mut out = format!(
        "dn: uid={uid},ou=people,{BASE_DN}\nobjectClass: inetOrgPerson\nobjectClass: companionTestMailbox\nuid: {uid}\ncn: {uid}\nsn: {uid}\nmail: {mail}\n"
    );
    for p in proxy {
        out.push_str(&format!("proxyAddresses: {p}\n"));
    }
    for c in user_certificates {
        out.push_str(&format!("userCertificate;binary:: {}\n", b64(&c.to_der().unwrap())));
    }
    for s in smime {
        out.push_str(&format!("userSMIMECertificate:: {}\n", b64(s)));
    }
    out.push('\n');
    out
}

pub struct Slapd {
    child: Child,
    dir: tempfile::TempDir,
    pub ldap_port: u16,
    pub ldaps_port: u16,
}

/// Runs `start` again while it fails with "text file busy": another test thread may fork while
/// the copied binary is still open for writing, and its child holds that descriptor until it
/// execs. Bounded: 100 tries.
fn retry_busy<T>(mut start: impl FnMut() -> std::io::Result<T>) -> T {
    for _ in 0..100 {
        match start() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => std::thread::sleep(Duration::from_millis(20)),
            other => return other.unwrap(),
        }
    }
    panic!("the copied slapd stayed busy for 2 s");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Slapd {
    /// Starts slapd with `people` (LDIF entries under ou=people) and TLS with `tls` (PEM
    /// certificate, PEM key). Waits until both ports accept connections.
    pub fn start(people: &str, tls: &(Vec<u8>, Vec<u8>)) -> Slapd {
        ensure_installed();
        let dir = tempfile::Builder::new().prefix("smc-slapd-").tempdir().unwrap();
        let d = dir.path();
        let bin = d.join("slapd");
        std::fs::copy(slapd_binary(), &bin).unwrap();
        std::fs::create_dir(d.join("db")).unwrap();
        std::fs::write(d.join("server.pem"), &tls.0).unwrap();
        std::fs::write(d.join("server.key"), &tls.1).unwrap();
        let conf = format!(
            "include /etc/ldap/schema/core.schema\n\
             include /etc/ldap/schema/cosine.schema\n\
             include /etc/ldap/schema/inetorgperson.schema\n\
             # Active Directory's proxyAddresses, for the default filter (caseIgnoreMatch as in AD)\n\
             attributetype ( 1.3.6.1.4.1.99999.1.1 NAME 'proxyAddresses' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )\n\
             objectclass ( 1.3.6.1.4.1.99999.2.1 NAME 'companionTestMailbox' SUP top AUXILIARY MAY ( proxyAddresses ) )\n\
             modulepath /usr/lib/ldap\n\
             moduleload back_mdb\n\
             pidfile {dir}/slapd.pid\n\
             TLSCertificateFile {dir}/server.pem\n\
             TLSCertificateKeyFile {dir}/server.key\n\
             sizelimit 500\n\
             database mdb\n\
             suffix \"{BASE_DN}\"\n\
             rootdn \"{ADMIN_DN}\"\n\
             rootpw {ADMIN_PASSWORD}\n\
             directory {dir}/db\n\
             maxsize 104857600\n",
            dir = d.display()
        );
        std::fs::write(d.join("slapd.conf"), conf).unwrap();
        let ldif = format!(
            "dn: {BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n\
             dn: ou=people,{BASE_DN}\nobjectClass: organizationalUnit\nou: people\n\n{people}"
        );
        std::fs::write(d.join("data.ldif"), ldif).unwrap();
        let out = retry_busy(|| Command::new(&bin).args(["-T", "add", "-f"]).arg(d.join("slapd.conf")).arg("-l").arg(d.join("data.ldif")).output());
        assert!(out.status.success(), "slapadd: {}", String::from_utf8_lossy(&out.stderr));
        let (ldap_port, ldaps_port) = (free_port(), free_port());
        let urls = format!("ldap://127.0.0.1:{ldap_port}/ ldaps://127.0.0.1:{ldaps_port}/");
        let child = retry_busy(|| {
            Command::new(&bin)
                .args(["-d", "0", "-h", &urls, "-f"])
                .arg(d.join("slapd.conf"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(d.join("slapd.log"))?)
                .spawn()
        });
        let mut slapd = Slapd { child, dir, ldap_port, ldaps_port };
        let start = Instant::now();
        for port in [ldap_port, ldaps_port] {
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                if let Some(status) = slapd.child.try_wait().unwrap() {
                    panic!("slapd exited ({status}): {}", slapd.log());
                }
                assert!(start.elapsed() < Duration::from_secs(30), "slapd did not listen within 30 s: {}", slapd.log());
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        slapd
    }

    pub fn ldap_url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.ldap_port)
    }

    pub fn ldaps_url(&self) -> String {
        format!("ldaps://127.0.0.1:{}", self.ldaps_port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("slapd.log")).unwrap_or_default()
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
