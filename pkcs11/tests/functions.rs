//! Every function the module exports, called through the table `C_GetFunctionList` hands out (as
//! NSS does), over a data folder made here: two identities (RSA "alice", EC "gina", different
//! passphrases) and contacts (RSA "bob", "carol", an intermediate CA), the test root (and its
//! intermediate) trusted in the folder's anchors. Bad arguments and buffer-too-small calls follow
//! the PKCS#11 rules. Which contact certificates are offered at all (only those the companion
//! would encrypt to). The module is process-global, so the tests take turns (one lock) and each
//! initializes and finalizes it. Its clock is one the tests move by hand: "a second later, the
//! module has looked again" needs no sleep.

#[path = "../../tests/common/certgen.rs"]
mod certgen;

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey, PointConversionForm};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::{Padding, Rsa};
use openssl::x509::extension::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName};
use openssl::x509::{X509NameBuilder, X509};
use smime_companion::certs::summary::Cert;
use smime_companion::contacts::{ContactCache, Source};
use smime_companion::home::Home;
use smime_companion::identities::seal::{seal, Passphrase};
use smime_companion::identities::IdentityStore;
use smime_companion_pkcs11::module::{ManualClock, POLL_INTERVAL};
use smime_companion_pkcs11::types::*;
use std::ptr::null_mut;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

const ALICE_PIN: &str = "alice pin";
/// A bound only a wait for another process's lock reaches: the module waits at most its own
/// `BUSY_TIMEOUT` (100 ms), never the host's (10 s).
const NOT_THE_HOSTS_WAIT: Duration = Duration::from_secs(smime_companion::store::BUSY_TIMEOUT.as_secs() / 2);
const GINA_PIN: &str = "gina pin";

struct Fixture {
    dir: tempfile::TempDir,
    alice: (X509, PKey<Private>),
    gina: (X509, PKey<Private>),
    bob: X509,
    inter: X509,
    root: (X509, PKey<Private>),
}

fn name(cn: &str) -> openssl::x509::X509Name {
    let mut b = X509NameBuilder::new().unwrap();
    b.append_entry_by_nid(Nid::COMMONNAME, cn).unwrap();
    b.build()
}

fn issue(cn: &str, email: Option<&str>, key: &PKey<Private>, issuer: Option<(&X509, &PKey<Private>)>, ca: bool) -> X509 {
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    let mut serial = BigNum::new().unwrap();
    serial.rand(64, openssl::bn::MsbOption::MAYBE_ZERO, false).unwrap();
    b.set_serial_number(&Asn1Integer::from_bn(&serial).unwrap()).unwrap();
    b.set_subject_name(&name(cn)).unwrap();
    b.set_issuer_name(issuer.map_or(&name(cn), |(c, _)| c.subject_name())).unwrap();
    b.set_pubkey(key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
    b.set_not_after(&Asn1Time::days_from_now(365).unwrap()).unwrap();
    if ca {
        b.append_extension(BasicConstraints::new().critical().ca().build().unwrap()).unwrap();
        b.append_extension(KeyUsage::new().critical().key_cert_sign().crl_sign().build().unwrap()).unwrap();
    } else {
        let mut ku = KeyUsage::new();
        ku.critical().digital_signature();
        if key.rsa().is_ok() {
            ku.key_encipherment();
        } else {
            ku.key_agreement();
        }
        b.append_extension(ku.build().unwrap()).unwrap();
        b.append_extension(ExtendedKeyUsage::new().email_protection().build().unwrap()).unwrap();
        let san = SubjectAlternativeName::new().email(email.unwrap()).build(&b.x509v3_context(issuer.map(|(c, _)| c.as_ref()), None)).unwrap();
        b.append_extension(san).unwrap();
    }
    b.sign(issuer.map_or(key, |(_, k)| k), MessageDigest::sha256()).unwrap();
    b.build()
}

fn rsa_key() -> PKey<Private> {
    PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap()
}

fn ec_key() -> PKey<Private> {
    PKey::from_ec_key(EcKey::generate(&EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap()).unwrap()).unwrap()
}

/// Makes `certs` trust anchors of the data folder `dir` (as `smime-companion trust add` does).
fn trust(dir: &std::path::Path, certs: &[&X509]) {
    let anchors = smime_companion::certs::trust::user_anchor_dir(&Home::at(dir));
    std::fs::create_dir_all(&anchors).unwrap();
    for c in certs {
        let name = Cert::from_x509(c).unwrap().fingerprint_sha256();
        std::fs::write(anchors.join(format!("{name}.pem")), c.to_pem().unwrap()).unwrap();
    }
}

/// The fixture's root and intermediate as anchors of `dir`: its contacts' chains verify without
/// the intermediate being a token object.
fn trust_fixture_pki(dir: &std::path::Path) {
    let f = fixture();
    trust(dir, &[&f.root.0, &f.inter]);
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root_key = rsa_key();
        let root = issue("Test Root", None, &root_key, None, true);
        let inter_key = rsa_key();
        let inter = issue("Test Intermediate", None, &inter_key, Some((&root, &root_key)), true);
        trust(dir.path(), &[&root]);
        let alice_key = rsa_key();
        let alice = issue("Alice", Some("alice@example.org"), &alice_key, Some((&inter, &inter_key)), false);
        let gina_key = ec_key();
        let gina = issue("Gina", Some("gina@example.org"), &gina_key, Some((&inter, &inter_key)), false);
        let bob = issue("Bob", Some("bob@example.net"), &rsa_key(), Some((&inter, &inter_key)), false);
        let carol = issue("Carol", Some("carol@example.net"), &rsa_key(), Some((&inter, &inter_key)), false);
        let home = Home::at(dir.path());
        let mut store = IdentityStore::open(&home).unwrap();
        let now = smime_companion::time::now();
        for (cert, key, pin) in [(&alice, &alice_key, ALICE_PIN), (&gina, &gina_key, GINA_PIN)] {
            let c = Cert::from_x509(cert).unwrap();
            let sealed = seal(key, &Passphrase::new(pin), &c.fingerprint_sha256()).unwrap();
            store.add(&c, &[Cert::from_x509(&inter).unwrap()], &sealed, now).unwrap();
        }
        let mut cache = ContactCache::open(&home).unwrap();
        let certs: Vec<Cert> = [&bob, &carol, &inter].iter().map(|c| Cert::from_x509(c).unwrap()).collect();
        cache.import(&certs, Source::Import, now).unwrap();
        Fixture { dir, alice: (alice, alice_key), gina: (gina, gina_key), bob, inter, root: (root, root_key) }
    })
}

/// The function table, and the module initialized over the fixture with a clock the test moves;
/// finalized on drop.
struct Module {
    f: &'static CK_FUNCTION_LIST,
    clock: Arc<ManualClock>,
    _turn: MutexGuard<'static, ()>,
}

impl Drop for Module {
    fn drop(&mut self) {
        unsafe { (self.f.C_Finalize.unwrap())(null_mut()) };
    }
}

fn turn() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

fn functions() -> &'static CK_FUNCTION_LIST {
    let mut p: CK_FUNCTION_LIST_PTR = null_mut();
    assert_eq!(unsafe { smime_companion_pkcs11::C_GetFunctionList(&mut p) }, CKR_OK);
    unsafe { &*p }
}

fn module_at(dir: &std::path::Path) -> Module {
    let turn = turn();
    smime_companion_pkcs11::set_home_override(Some(dir.to_path_buf()));
    let clock = Arc::new(ManualClock::default());
    smime_companion_pkcs11::set_clock_override(Some(clock.clone()));
    let f = functions();
    assert_eq!(unsafe { (f.C_Initialize.unwrap())(null_mut()) }, CKR_OK);
    Module { f, clock, _turn: turn }
}

fn module() -> Module {
    module_at(fixture().dir.path())
}

const SLOT: CK_SLOT_ID = 1;

impl Module {
    /// Moves the module's clock on by its poll interval: its next look at the databases (a
    /// search, a session query) asks them again.
    fn next_poll(&self) {
        self.clock.advance(POLL_INTERVAL);
    }

    fn open(&self) -> CK_SESSION_HANDLE {
        let mut h = 0;
        assert_eq!(unsafe { (self.f.C_OpenSession.unwrap())(SLOT, CKF_SERIAL_SESSION, null_mut(), None, &mut h) }, CKR_OK);
        h
    }

    fn login(&self, h: CK_SESSION_HANDLE, pin: &str) -> CK_RV {
        unsafe { (self.f.C_Login.unwrap())(h, CKU_USER, pin.as_ptr() as *mut u8, pin.len() as CK_ULONG) }
    }

    fn find(&self, h: CK_SESSION_HANDLE, template: &[(CK_ATTRIBUTE_TYPE, Vec<u8>)]) -> Vec<CK_OBJECT_HANDLE> {
        let mut attrs: Vec<CK_ATTRIBUTE> =
            template.iter().map(|(t, v)| CK_ATTRIBUTE { type_: *t, pValue: v.as_ptr() as *mut _, ulValueLen: v.len() as CK_ULONG }).collect();
        unsafe {
            assert_eq!((self.f.C_FindObjectsInit.unwrap())(h, attrs.as_mut_ptr(), attrs.len() as CK_ULONG), CKR_OK);
            let mut out = Vec::new();
            loop {
                let mut buf = [0 as CK_OBJECT_HANDLE; 3];
                let mut n = 0;
                assert_eq!((self.f.C_FindObjects.unwrap())(h, buf.as_mut_ptr(), 3, &mut n), CKR_OK);
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&buf[..n as usize]);
            }
            assert_eq!((self.f.C_FindObjectsFinal.unwrap())(h), CKR_OK);
            out
        }
    }

    /// One attribute's value (None: the call failed).
    fn attr(&self, h: CK_SESSION_HANDLE, o: CK_OBJECT_HANDLE, ty: CK_ATTRIBUTE_TYPE) -> Result<Vec<u8>, CK_RV> {
        let mut a = CK_ATTRIBUTE { type_: ty, pValue: null_mut(), ulValueLen: 0 };
        let rv = unsafe { (self.f.C_GetAttributeValue.unwrap())(h, o, &mut a, 1) };
        if rv != CKR_OK {
            return Err(rv);
        }
        let mut v = vec![0u8; a.ulValueLen as usize];
        a.pValue = v.as_mut_ptr() as *mut _;
        let rv = unsafe { (self.f.C_GetAttributeValue.unwrap())(h, o, &mut a, 1) };
        if rv != CKR_OK {
            return Err(rv);
        }
        v.truncate(a.ulValueLen as usize);
        Ok(v)
    }
}

fn ul(v: CK_ULONG) -> Vec<u8> {
    v.to_ne_bytes().to_vec()
}

fn class(c: CK_OBJECT_CLASS) -> (CK_ATTRIBUTE_TYPE, Vec<u8>) {
    (CKA_CLASS, ul(c))
}

fn mech(m: CK_MECHANISM_TYPE) -> CK_MECHANISM {
    CK_MECHANISM { mechanism: m, pParameter: null_mut(), ulParameterLen: 0 }
}

fn private_key_of(m: &Module, h: CK_SESSION_HANDLE, cert: &X509) -> CK_OBJECT_HANDLE {
    let certs = m.find(h, &[class(CKO_CERTIFICATE), (CKA_VALUE, cert.to_der().unwrap())]);
    assert_eq!(certs.len(), 1);
    let id = m.attr(h, certs[0], CKA_ID).unwrap();
    let keys = m.find(h, &[class(CKO_PRIVATE_KEY), (CKA_ID, id)]);
    assert_eq!(keys.len(), 1, "private key visible");
    keys[0]
}

// --- general ---------------------------------------------------------------------------------------

#[test]
fn initialize_finalize_and_calls_before_initialize() {
    let _turn = turn();
    let f = functions();
    unsafe {
        let mut info = std::mem::zeroed::<CK_INFO>();
        assert_eq!((f.C_GetInfo.unwrap())(&mut info), CKR_CRYPTOKI_NOT_INITIALIZED);
        let mut n = 0;
        assert_eq!((f.C_GetSlotList.unwrap())(0, null_mut(), &mut n), CKR_CRYPTOKI_NOT_INITIALIZED);
        assert_eq!((f.C_Finalize.unwrap())(null_mut()), CKR_CRYPTOKI_NOT_INITIALIZED);
        assert_eq!((f.C_CloseSession.unwrap())(1), CKR_CRYPTOKI_NOT_INITIALIZED);
        assert_eq!((f.C_WaitForSlotEvent.unwrap())(1, &mut n, null_mut()), CKR_CRYPTOKI_NOT_INITIALIZED);

        smime_companion_pkcs11::set_home_override(Some(fixture().dir.path().to_path_buf()));
        // Mutex callbacks: all or none; ours (OS locking) only when the caller allows it.
        unsafe extern "C" fn create(_: *mut CK_VOID_PTR) -> CK_RV {
            CKR_OK
        }
        unsafe extern "C" fn other(_: CK_VOID_PTR) -> CK_RV {
            CKR_OK
        }
        let mut args = CK_C_INITIALIZE_ARGS { CreateMutex: Some(create), DestroyMutex: None, LockMutex: None, UnlockMutex: None, flags: 0, pReserved: null_mut() };
        assert_eq!((f.C_Initialize.unwrap())(&mut args as *mut _ as CK_VOID_PTR), CKR_ARGUMENTS_BAD);
        args.DestroyMutex = Some(other);
        args.LockMutex = Some(other);
        args.UnlockMutex = Some(other);
        assert_eq!((f.C_Initialize.unwrap())(&mut args as *mut _ as CK_VOID_PTR), CKR_CANT_LOCK);
        args.flags = CKF_OS_LOCKING_OK;
        assert_eq!((f.C_Initialize.unwrap())(&mut args as *mut _ as CK_VOID_PTR), CKR_OK);
        assert_eq!((f.C_Initialize.unwrap())(null_mut()), CKR_CRYPTOKI_ALREADY_INITIALIZED);
        let mut x = 0u8;
        assert_eq!((f.C_Finalize.unwrap())(&mut x as *mut u8 as CK_VOID_PTR), CKR_ARGUMENTS_BAD);
        assert_eq!((f.C_Finalize.unwrap())(null_mut()), CKR_OK);
        assert_eq!((f.C_Finalize.unwrap())(null_mut()), CKR_CRYPTOKI_NOT_INITIALIZED);
        // NSS's form: OS locking, no callbacks.
        let mut nss = CK_C_INITIALIZE_ARGS { CreateMutex: None, DestroyMutex: None, LockMutex: None, UnlockMutex: None, flags: CKF_OS_LOCKING_OK, pReserved: null_mut() };
        assert_eq!((f.C_Initialize.unwrap())(&mut nss as *mut _ as CK_VOID_PTR), CKR_OK);
        assert_eq!((f.C_Finalize.unwrap())(null_mut()), CKR_OK);
    }
}

#[test]
fn function_list_is_complete() {
    unsafe {
        assert_eq!(smime_companion_pkcs11::C_GetFunctionList(null_mut()), CKR_ARGUMENTS_BAD);
    }
    let f = functions();
    assert_eq!(f.version, CK_VERSION { major: 2, minor: 40 });
    // 68 function pointers after the version, none missing.
    let words = unsafe {
        std::slice::from_raw_parts((f as *const CK_FUNCTION_LIST as *const u8).add(std::mem::size_of::<usize>()) as *const usize, 68)
    };
    assert!(words.iter().all(|&p| p != 0));
    assert_eq!(std::mem::size_of::<CK_FUNCTION_LIST>(), std::mem::size_of::<usize>() * 69);
}

#[test]
fn get_info() {
    let m = module();
    unsafe {
        assert_eq!((m.f.C_GetInfo.unwrap())(null_mut()), CKR_ARGUMENTS_BAD);
        let mut info = std::mem::zeroed::<CK_INFO>();
        assert_eq!((m.f.C_GetInfo.unwrap())(&mut info), CKR_OK);
        assert_eq!(info.cryptokiVersion, CK_VERSION { major: 2, minor: 40 });
        assert!(info.manufacturerID.starts_with(b"S/MIME Companion "));
        assert!(!info.libraryDescription.contains(&0));
    }
}

// --- slots, tokens, mechanisms ---------------------------------------------------------------------

#[test]
fn slot_list_two_call_convention() {
    let m = module();
    unsafe {
        let f = m.f.C_GetSlotList.unwrap();
        let mut n: CK_ULONG = 0;
        assert_eq!(f(1, null_mut(), &mut n), CKR_OK);
        assert_eq!(n, 1);
        let mut slots = [0 as CK_SLOT_ID; 2];
        n = 0;
        assert_eq!(f(1, slots.as_mut_ptr(), &mut n), CKR_BUFFER_TOO_SMALL);
        assert_eq!(n, 1);
        n = 2;
        assert_eq!(f(0, slots.as_mut_ptr(), &mut n), CKR_OK);
        assert_eq!((n, slots[0]), (1, SLOT));
        assert_eq!(f(0, slots.as_mut_ptr(), null_mut()), CKR_ARGUMENTS_BAD);
    }
}

#[test]
fn slot_and_token_info() {
    let m = module();
    unsafe {
        let mut si = std::mem::zeroed::<CK_SLOT_INFO>();
        assert_eq!((m.f.C_GetSlotInfo.unwrap())(7, &mut si), CKR_SLOT_ID_INVALID);
        assert_eq!((m.f.C_GetSlotInfo.unwrap())(SLOT, null_mut()), CKR_ARGUMENTS_BAD);
        assert_eq!((m.f.C_GetSlotInfo.unwrap())(SLOT, &mut si), CKR_OK);
        assert_eq!(si.flags & CKF_TOKEN_PRESENT, CKF_TOKEN_PRESENT);
        let mut ti = std::mem::zeroed::<CK_TOKEN_INFO>();
        assert_eq!((m.f.C_GetTokenInfo.unwrap())(7, &mut ti), CKR_SLOT_ID_INVALID);
        assert_eq!((m.f.C_GetTokenInfo.unwrap())(SLOT, null_mut()), CKR_ARGUMENTS_BAD);
        assert_eq!((m.f.C_GetTokenInfo.unwrap())(SLOT, &mut ti), CKR_OK);
        assert_eq!(&ti.label, &padded::<32>("S/MIME Companion"));
        let want = CKF_TOKEN_INITIALIZED | CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED | CKF_WRITE_PROTECTED;
        assert_eq!(ti.flags & want, want);
    }
}

#[test]
fn mechanisms_only_what_is_implemented() {
    let m = module();
    unsafe {
        let list = m.f.C_GetMechanismList.unwrap();
        let mut n = 0;
        assert_eq!(list(7, null_mut(), &mut n), CKR_SLOT_ID_INVALID);
        assert_eq!(list(SLOT, null_mut(), &mut n), CKR_OK);
        assert_eq!(n, 5);
        let mut types = vec![0 as CK_MECHANISM_TYPE; 5];
        let mut small = 2;
        assert_eq!(list(SLOT, types.as_mut_ptr(), &mut small), CKR_BUFFER_TOO_SMALL);
        assert_eq!(small, 5);
        assert_eq!(list(SLOT, types.as_mut_ptr(), &mut n), CKR_OK);
        assert_eq!(types, vec![CKM_RSA_PKCS, CKM_RSA_PKCS_OAEP, CKM_ECDSA, CKM_ECDH1_DERIVE, CKM_AES_KEY_WRAP]);
        let info = m.f.C_GetMechanismInfo.unwrap();
        let mut mi = CK_MECHANISM_INFO::default();
        assert_eq!(info(SLOT, CKM_RSA_PKCS, &mut mi), CKR_OK);
        assert_eq!(mi.flags, CKF_SIGN | CKF_DECRYPT);
        assert_eq!(info(SLOT, CKM_ECDH1_DERIVE, &mut mi), CKR_OK);
        assert_eq!(mi.flags & CKF_DERIVE, CKF_DERIVE);
        // Combined hash-and-sign, hashing, symmetric ciphers: NSS must do those itself.
        for not in [0x40 /* CKM_SHA256_RSA_PKCS */, 0x6 /* SHA1_RSA_PKCS */, 0x1044 /* ECDSA_SHA256 */, CKM_SHA256, 0x1082 /* AES_CBC */, 0x3 /* RSA_X_509 */] {
            assert_eq!(info(SLOT, not, &mut mi), CKR_MECHANISM_INVALID, "0x{not:x}");
        }
        assert_eq!(info(SLOT, CKM_RSA_PKCS, null_mut()), CKR_ARGUMENTS_BAD);
        assert_eq!(info(9, CKM_RSA_PKCS, &mut mi), CKR_SLOT_ID_INVALID);
    }
}

#[test]
fn token_is_read_only() {
    let m = module();
    let h = m.open();
    unsafe {
        assert_eq!((m.f.C_InitToken.unwrap())(SLOT, null_mut(), 0, null_mut()), CKR_TOKEN_WRITE_PROTECTED);
        assert_eq!((m.f.C_InitToken.unwrap())(3, null_mut(), 0, null_mut()), CKR_SLOT_ID_INVALID);
        assert_eq!((m.f.C_InitPIN.unwrap())(h, null_mut(), 0), CKR_TOKEN_WRITE_PROTECTED);
        assert_eq!((m.f.C_InitPIN.unwrap())(999, null_mut(), 0), CKR_SESSION_HANDLE_INVALID);
        assert_eq!((m.f.C_SetPIN.unwrap())(h, null_mut(), 0, null_mut(), 0), CKR_TOKEN_WRITE_PROTECTED);
        assert_eq!((m.f.C_SetPIN.unwrap())(999, null_mut(), 0, null_mut(), 0), CKR_SESSION_HANDLE_INVALID);
        let mut o = 0;
        let mut t = [CK_ATTRIBUTE { type_: CKA_CLASS, pValue: null_mut(), ulValueLen: 0 }];
        assert_eq!((m.f.C_CreateObject.unwrap())(h, t.as_mut_ptr(), 1, &mut o), CKR_TOKEN_WRITE_PROTECTED);
        assert_eq!((m.f.C_CreateObject.unwrap())(h, null_mut(), 1, &mut o), CKR_ARGUMENTS_BAD);
        assert_eq!((m.f.C_CreateObject.unwrap())(h, t.as_mut_ptr(), 1, null_mut()), CKR_ARGUMENTS_BAD);
        let certs = m.find(h, &[class(CKO_CERTIFICATE)]);
        assert_eq!((m.f.C_CopyObject.unwrap())(h, certs[0], null_mut(), 0, &mut o), CKR_TOKEN_WRITE_PROTECTED);
        assert_eq!((m.f.C_CopyObject.unwrap())(h, 0xdead, null_mut(), 0, &mut o), CKR_OBJECT_HANDLE_INVALID);
        assert_eq!((m.f.C_SetAttributeValue.unwrap())(h, certs[0], t.as_mut_ptr(), 1), CKR_TOKEN_WRITE_PROTECTED);
        assert_eq!((m.f.C_SetAttributeValue.unwrap())(h, 0xdead, t.as_mut_ptr(), 1), CKR_OBJECT_HANDLE_INVALID);
        assert_eq!((m.f.C_DestroyObject.unwrap())(h, certs[0]), CKR_TOKEN_WRITE_PROTECTED);
        assert_eq!((m.f.C_DestroyObject.unwrap())(h, 0xdead), CKR_OBJECT_HANDLE_INVALID);
        assert_eq!((m.f.C_DestroyObject.unwrap())(999, certs[0]), CKR_SESSION_HANDLE_INVALID);
    }
}

// --- sessions and login ------------------------------------------------------------------------------

#[test]
fn sessions() {
    let m = module();
    unsafe {
        let open = m.f.C_OpenSession.unwrap();
        let mut h = 0;
        assert_eq!(open(SLOT, 0, null_mut(), None, &mut h), CKR_SESSION_PARALLEL_NOT_SUPPORTED);
        assert_eq!(open(SLOT, CKF_SERIAL_SESSION | CKF_RW_SESSION, null_mut(), None, &mut h), CKR_TOKEN_WRITE_PROTECTED);
        assert_eq!(open(SLOT, CKF_SERIAL_SESSION, null_mut(), None, null_mut()), CKR_ARGUMENTS_BAD);
        assert_eq!(open(4, CKF_SERIAL_SESSION, null_mut(), None, &mut h), CKR_SLOT_ID_INVALID);
        let a = m.open();
        let b = m.open();
        assert_ne!(a, b);
        let mut si = std::mem::zeroed::<CK_SESSION_INFO>();
        assert_eq!((m.f.C_GetSessionInfo.unwrap())(a, &mut si), CKR_OK);
        assert_eq!((si.slotID, si.state, si.flags), (SLOT, CKS_RO_PUBLIC_SESSION, CKF_SERIAL_SESSION));
        assert_eq!((m.f.C_GetSessionInfo.unwrap())(a, null_mut()), CKR_ARGUMENTS_BAD);
        assert_eq!((m.f.C_GetSessionInfo.unwrap())(12345, &mut si), CKR_SESSION_HANDLE_INVALID);
        let mut ti = std::mem::zeroed::<CK_TOKEN_INFO>();
        (m.f.C_GetTokenInfo.unwrap())(SLOT, &mut ti);
        assert_eq!(ti.ulSessionCount, 2);
        assert_eq!((m.f.C_CloseSession.unwrap())(a), CKR_OK);
        assert_eq!((m.f.C_CloseSession.unwrap())(a), CKR_SESSION_HANDLE_INVALID);
        assert_eq!((m.f.C_CloseAllSessions.unwrap())(5), CKR_SLOT_ID_INVALID);
        assert_eq!((m.f.C_CloseAllSessions.unwrap())(SLOT), CKR_OK);
        assert_eq!((m.f.C_GetSessionInfo.unwrap())(b, &mut si), CKR_SESSION_HANDLE_INVALID);
        let mut len = 0;
        let c = m.open();
        assert_eq!((m.f.C_GetOperationState.unwrap())(c, null_mut(), &mut len), CKR_FUNCTION_NOT_SUPPORTED);
        assert_eq!((m.f.C_SetOperationState.unwrap())(c, null_mut(), 0, 0, 0), CKR_FUNCTION_NOT_SUPPORTED);
        assert_eq!((m.f.C_GetOperationState.unwrap())(999, null_mut(), &mut len), CKR_SESSION_HANDLE_INVALID);
    }
}

#[test]
fn login_unlocks_every_identity_the_pin_opens() {
    let m = module();
    let h = m.open();
    let f = fixture();
    unsafe {
        let login = m.f.C_Login.unwrap();
        assert_eq!(login(h, CKU_USER, null_mut(), 4), CKR_ARGUMENTS_BAD);
        assert_eq!(login(999, CKU_USER, b"x".as_ptr() as *mut u8, 1), CKR_SESSION_HANDLE_INVALID);
        assert_eq!(login(h, 7, b"x".as_ptr() as *mut u8, 1), CKR_USER_TYPE_INVALID);
        assert_eq!(login(h, CKU_CONTEXT_SPECIFIC, b"x".as_ptr() as *mut u8, 1), CKR_OPERATION_NOT_INITIALIZED);
        assert_eq!(m.login(h, "wrong"), CKR_PIN_INCORRECT);
        assert_eq!((m.f.C_Logout.unwrap())(h), CKR_USER_NOT_LOGGED_IN);
        assert!(m.find(h, &[class(CKO_PRIVATE_KEY)]).is_empty(), "private keys hidden before login");
        assert_eq!(m.login(h, ALICE_PIN), CKR_OK);
        assert_eq!(m.login(h, ALICE_PIN), CKR_USER_ALREADY_LOGGED_IN);
        let mut si = std::mem::zeroed::<CK_SESSION_INFO>();
        (m.f.C_GetSessionInfo.unwrap())(h, &mut si);
        assert_eq!(si.state, CKS_RO_USER_FUNCTIONS);
        // Alice's PIN opens Alice's key only.
        let keys = m.find(h, &[class(CKO_PRIVATE_KEY)]);
        assert_eq!(keys.len(), 1);
        assert_eq!(m.attr(h, keys[0], CKA_KEY_TYPE).unwrap(), ul(CKK_RSA));
        private_key_of(&m, h, &f.alice.0);
        assert_eq!((m.f.C_Logout.unwrap())(h), CKR_OK);
        assert_eq!((m.f.C_Logout.unwrap())(999), CKR_SESSION_HANDLE_INVALID);
        assert_eq!(m.login(h, GINA_PIN), CKR_OK);
        let keys = m.find(h, &[class(CKO_PRIVATE_KEY)]);
        assert_eq!(keys.len(), 1);
        assert_eq!(m.attr(h, keys[0], CKA_KEY_TYPE).unwrap(), ul(CKK_EC));
        // Closing the last session ends the login.
        assert_eq!((m.f.C_CloseSession.unwrap())(h), CKR_OK);
        let h = m.open();
        (m.f.C_GetSessionInfo.unwrap())(h, &mut si);
        assert_eq!(si.state, CKS_RO_PUBLIC_SESSION);
    }
}

#[test]
fn login_without_identities() {
    let empty = tempfile::tempdir().unwrap();
    let m = module_at(empty.path());
    let h = m.open();
    assert_eq!(m.login(h, "anything"), CKR_USER_PIN_NOT_INITIALIZED);
    // Only the profile object: no databases are created by the module.
    assert_eq!(m.find(h, &[]).len(), 1);
    assert!(!empty.path().join("contacts.sqlite").exists());
    let mut ti = unsafe { std::mem::zeroed::<CK_TOKEN_INFO>() };
    unsafe { (m.f.C_GetTokenInfo.unwrap())(SLOT, &mut ti) };
    assert_eq!(ti.flags & CKF_USER_PIN_INITIALIZED, 0);
}

// --- objects ---------------------------------------------------------------------------------------

#[test]
fn objects_nss_needs() {
    let m = module();
    let h = m.open();
    let f = fixture();
    // The profile object that makes NSS treat the certificates as public.
    let profiles = m.find(h, &[class(CKO_PROFILE)]);
    assert_eq!(profiles.len(), 1);
    assert_eq!(m.attr(h, profiles[0], CKA_PROFILE_ID).unwrap(), ul(CKP_PUBLIC_CERTIFICATES_TOKEN));
    // Certificates: 2 own, 2 contacts, 1 intermediate; all token objects, all public.
    let certs = m.find(h, &[(CKA_TOKEN, vec![1]), class(CKO_CERTIFICATE)]);
    assert_eq!(certs.len(), 5);
    for &c in &certs {
        assert_eq!(m.attr(h, c, CKA_TOKEN).unwrap(), vec![1]);
        assert_eq!(m.attr(h, c, CKA_PRIVATE).unwrap(), vec![0]);
        assert_eq!(m.attr(h, c, CKA_CERTIFICATE_TYPE).unwrap(), ul(CKC_X_509));
        assert!(!m.attr(h, c, CKA_LABEL).unwrap().is_empty());
        for ty in [CKA_VALUE, CKA_ISSUER, CKA_SUBJECT] {
            assert!(!m.attr(h, c, ty).unwrap().is_empty());
        }
        let serial = m.attr(h, c, CKA_SERIAL_NUMBER).unwrap();
        assert_eq!(serial[0], 0x02, "DER INTEGER with its tag");
        assert_eq!(serial[1] as usize, serial.len() - 2);
    }
    // The issuer-and-serial search NSS makes for CMS recipients and dbKeys.
    let bob = Cert::from_x509(&f.bob).unwrap();
    let mut serial = vec![0x02, bob.fields.serial.len() as u8];
    serial.extend(&bob.fields.serial);
    let found = m.find(h, &[(CKA_TOKEN, vec![1]), class(CKO_CERTIFICATE), (CKA_ISSUER, bob.fields.issuer_der.clone()), (CKA_SERIAL_NUMBER, serial.clone())]);
    assert_eq!(found.len(), 1);
    assert_eq!(m.attr(h, found[0], CKA_VALUE).unwrap(), bob.der);
    // No trust objects: NSS's thousands of trust searches find nothing.
    for c in [CKO_NSS_TRUST, CKO_TRUST] {
        assert!(m.find(h, &[(CKA_TOKEN, vec![1]), class(c), (CKA_ISSUER, bob.fields.issuer_der.clone()), (CKA_SERIAL_NUMBER, serial.clone())]).is_empty());
    }
    // Chain building: the intermediate by subject.
    let inter = Cert::from_x509(&f.inter).unwrap();
    assert_eq!(m.find(h, &[class(CKO_CERTIFICATE), (CKA_SUBJECT, inter.fields.subject_der.clone())]).len(), 1);
    // Own certificate, public key and (after login) private key share one CKA_ID.
    let alice = m.find(h, &[class(CKO_CERTIFICATE), (CKA_VALUE, f.alice.0.to_der().unwrap())]);
    let id = m.attr(h, alice[0], CKA_ID).unwrap();
    assert_eq!(id.len(), 20);
    let public = m.find(h, &[class(CKO_PUBLIC_KEY), (CKA_ID, id.clone())]);
    assert_eq!(public.len(), 1);
    assert_eq!(m.attr(h, public[0], CKA_MODULUS).unwrap(), f.alice.0.public_key().unwrap().rsa().unwrap().n().to_vec());
    assert_eq!(m.attr(h, public[0], CKA_PRIVATE).unwrap(), vec![0]);
    assert_eq!(m.login(h, ALICE_PIN), CKR_OK);
    let key = private_key_of(&m, h, &f.alice.0);
    assert_eq!(m.attr(h, key, CKA_ID).unwrap(), id);
    for (ty, want) in [(CKA_TOKEN, vec![1]), (CKA_PRIVATE, vec![1]), (CKA_SIGN, vec![1]), (CKA_DECRYPT, vec![1]), (CKA_ALWAYS_AUTHENTICATE, vec![0]), (CKA_KEY_TYPE, ul(CKK_RSA))] {
        assert_eq!(m.attr(h, key, ty).unwrap(), want, "attribute 0x{ty:x}");
    }
    assert_eq!(m.attr(h, key, CKA_MODULUS).unwrap().len(), 256);
    // EC: CKA_EC_PARAMS (the named curve) on the public key.
    let gina = m.find(h, &[class(CKO_CERTIFICATE), (CKA_VALUE, f.gina.0.to_der().unwrap())]);
    let gina_id = m.attr(h, gina[0], CKA_ID).unwrap();
    let gina_pub = m.find(h, &[class(CKO_PUBLIC_KEY), (CKA_ID, gina_id)]);
    assert_eq!(m.attr(h, gina_pub[0], CKA_EC_PARAMS).unwrap(), vec![0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]);
    assert_eq!(m.attr(h, gina_pub[0], CKA_EC_POINT).unwrap()[..3], [0x04, 65, 0x04]);
}

#[test]
fn get_attribute_value_rules() {
    let m = module();
    let h = m.open();
    let f = fixture();
    let cert = m.find(h, &[class(CKO_CERTIFICATE), (CKA_VALUE, f.bob.to_der().unwrap())])[0];
    let der = f.bob.to_der().unwrap();
    unsafe {
        let get = m.f.C_GetAttributeValue.unwrap();
        // Size query, then a too-small buffer, an unknown attribute, and a good one in one call.
        let mut small = [0u8; 4];
        let mut good = vec![0u8; 64];
        let mut t = [
            CK_ATTRIBUTE { type_: CKA_VALUE, pValue: null_mut(), ulValueLen: 0 },
            CK_ATTRIBUTE { type_: CKA_SUBJECT, pValue: small.as_mut_ptr() as *mut _, ulValueLen: 4 },
            CK_ATTRIBUTE { type_: 0x7777, pValue: null_mut(), ulValueLen: 0 },
            CK_ATTRIBUTE { type_: CKA_LABEL, pValue: good.as_mut_ptr() as *mut _, ulValueLen: 64 },
        ];
        let rv = get(h, cert, t.as_mut_ptr(), 4);
        assert!(rv == CKR_BUFFER_TOO_SMALL || rv == CKR_ATTRIBUTE_TYPE_INVALID, "0x{rv:x}");
        assert_eq!(t[0].ulValueLen as usize, der.len());
        assert_eq!(t[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
        assert_eq!(t[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
        assert_eq!(&good[..t[3].ulValueLen as usize], b"Bob <bob@example.net>");
        assert_eq!(get(h, cert, null_mut(), 1), CKR_ARGUMENTS_BAD);
        assert_eq!(get(h, cert, null_mut(), 0), CKR_OK);
        assert_eq!(get(h, 0xdead, t.as_mut_ptr(), 1), CKR_OBJECT_HANDLE_INVALID);
        assert_eq!(get(777, cert, t.as_mut_ptr(), 1), CKR_SESSION_HANDLE_INVALID);
        let mut size = 0;
        assert_eq!((m.f.C_GetObjectSize.unwrap())(h, cert, &mut size), CKR_OK);
        assert!(size as usize > der.len());
        assert_eq!((m.f.C_GetObjectSize.unwrap())(h, cert, null_mut()), CKR_ARGUMENTS_BAD);
        assert_eq!((m.f.C_GetObjectSize.unwrap())(h, 0xdead, &mut size), CKR_OBJECT_HANDLE_INVALID);
    }
    // Private key material is never revealed; the key is invisible without login.
    assert_eq!(m.login(h, ALICE_PIN), CKR_OK);
    let key = private_key_of(&m, h, &f.alice.0);
    assert_eq!(m.attr(h, key, CKA_PRIVATE_EXPONENT), Err(CKR_ATTRIBUTE_SENSITIVE));
    assert_eq!(m.attr(h, key, CKA_VALUE), Err(CKR_ATTRIBUTE_SENSITIVE));
    unsafe { (m.f.C_Logout.unwrap())(h) };
    assert_eq!(m.attr(h, key, CKA_LABEL), Err(CKR_OBJECT_HANDLE_INVALID));
}

#[test]
fn find_objects_rules() {
    let m = module();
    let h = m.open();
    unsafe {
        let init = m.f.C_FindObjectsInit.unwrap();
        let next = m.f.C_FindObjects.unwrap();
        let fin = m.f.C_FindObjectsFinal.unwrap();
        let mut buf = [0 as CK_OBJECT_HANDLE; 2];
        let mut n = 0;
        assert_eq!(next(h, buf.as_mut_ptr(), 2, &mut n), CKR_OPERATION_NOT_INITIALIZED);
        assert_eq!(fin(h), CKR_OPERATION_NOT_INITIALIZED);
        assert_eq!(init(h, null_mut(), 1), CKR_ARGUMENTS_BAD);
        assert_eq!(init(999, null_mut(), 0), CKR_SESSION_HANDLE_INVALID);
        assert_eq!(init(h, null_mut(), 0), CKR_OK);
        assert_eq!(init(h, null_mut(), 0), CKR_OPERATION_ACTIVE);
        assert_eq!(next(h, buf.as_mut_ptr(), 2, null_mut()), CKR_ARGUMENTS_BAD);
        assert_eq!(next(h, null_mut(), 2, &mut n), CKR_ARGUMENTS_BAD);
        let mut total = 0;
        loop {
            assert_eq!(next(h, buf.as_mut_ptr(), 2, &mut n), CKR_OK);
            assert!(n <= 2);
            if n == 0 {
                break;
            }
            total += n;
        }
        // profile + 5 certificates + 2 public keys (private keys need a login)
        assert_eq!(total, 8);
        assert_eq!(fin(h), CKR_OK);
        // An attribute value with the wrong length matches nothing.
        assert!(m.find(h, &[(CKA_CLASS, vec![1])]).is_empty());
        // Any count is fine as a maximum, also after a partial read (the largest once
        // overflowed to a slice panic).
        let mut all = [0 as CK_OBJECT_HANDLE; 16];
        assert_eq!(init(h, null_mut(), 0), CKR_OK);
        assert_eq!(next(h, all.as_mut_ptr(), 1, &mut n), CKR_OK);
        assert_eq!(n, 1);
        assert_eq!(next(h, all.as_mut_ptr().add(1), CK_ULONG::MAX, &mut n), CKR_OK);
        assert_eq!(n, 7);
        assert_eq!(next(h, all.as_mut_ptr(), CK_ULONG::MAX, &mut n), CKR_OK);
        assert_eq!(n, 0);
        assert_eq!(fin(h), CKR_OK);
    }
}

// --- signing and decryption -----------------------------------------------------------------------------

fn digest_info_sha256(data: &[u8]) -> Vec<u8> {
    let mut di = vec![0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20];
    di.extend(openssl::sha::sha256(data));
    di
}

#[test]
fn sign_rsa_pkcs() {
    let m = module();
    let h = m.open();
    let f = fixture();
    let di = digest_info_sha256(b"signed attributes");
    unsafe {
        let init = m.f.C_SignInit.unwrap();
        let sign = m.f.C_Sign.unwrap();
        let mut mm = mech(CKM_RSA_PKCS);
        let mut len: CK_ULONG = 0;
        assert_eq!(sign(h, di.as_ptr() as *mut u8, di.len() as CK_ULONG, null_mut(), &mut len), CKR_OPERATION_NOT_INITIALIZED);
        assert_eq!(init(h, &mut mm, 5), CKR_USER_NOT_LOGGED_IN);
        assert_eq!(m.login(h, ALICE_PIN), CKR_OK);
        let key = private_key_of(&m, h, &f.alice.0);
        assert_eq!(init(h, null_mut(), key), CKR_ARGUMENTS_BAD);
        let mut combined = mech(0x40);
        assert_eq!(init(h, &mut combined, key), CKR_MECHANISM_INVALID);
        assert_eq!(init(h, &mut mm, 0xdead), CKR_KEY_HANDLE_INVALID);
        let cert = m.find(h, &[class(CKO_CERTIFICATE), (CKA_VALUE, f.alice.0.to_der().unwrap())])[0];
        assert_eq!(init(h, &mut mm, cert), CKR_KEY_HANDLE_INVALID);
        assert_eq!(init(999, &mut mm, key), CKR_SESSION_HANDLE_INVALID);
        assert_eq!(init(h, &mut mm, key), CKR_OK);
        assert_eq!(init(h, &mut mm, key), CKR_OPERATION_ACTIVE);
        // Size query, buffer too small: both keep the operation.
        assert_eq!(sign(h, di.as_ptr() as *mut u8, di.len() as CK_ULONG, null_mut(), &mut len), CKR_OK);
        assert_eq!(len, 256);
        let mut sig = vec![0u8; 256];
        len = 10;
        assert_eq!(sign(h, di.as_ptr() as *mut u8, di.len() as CK_ULONG, sig.as_mut_ptr(), &mut len), CKR_BUFFER_TOO_SMALL);
        assert_eq!(len, 256);
        assert_eq!(sign(h, di.as_ptr() as *mut u8, di.len() as CK_ULONG, sig.as_mut_ptr(), null_mut()), CKR_ARGUMENTS_BAD);
        assert_eq!(sign(h, di.as_ptr() as *mut u8, di.len() as CK_ULONG, sig.as_mut_ptr(), &mut len), CKR_OK);
        assert_eq!(len, 256);
        // The signature opens with Alice's public key to the DigestInfo.
        let rsa = f.alice.0.public_key().unwrap().rsa().unwrap();
        let mut out = vec![0u8; 256];
        let n = rsa.public_decrypt(&sig, &mut out, Padding::PKCS1).unwrap();
        assert_eq!(&out[..n], &di[..]);
        // The operation has ended.
        assert_eq!(sign(h, di.as_ptr() as *mut u8, di.len() as CK_ULONG, sig.as_mut_ptr(), &mut len), CKR_OPERATION_NOT_INITIALIZED);
        // Multi-part: update, then final.
        assert_eq!(init(h, &mut mm, key), CKR_OK);
        assert_eq!((m.f.C_SignUpdate.unwrap())(h, di.as_ptr() as *mut u8, 10), CKR_OK);
        assert_eq!((m.f.C_SignUpdate.unwrap())(h, di.as_ptr().add(10) as *mut u8, di.len() as CK_ULONG - 10), CKR_OK);
        len = 256;
        assert_eq!((m.f.C_SignFinal.unwrap())(h, sig.as_mut_ptr(), &mut len), CKR_OK);
        let n = rsa.public_decrypt(&sig, &mut out, Padding::PKCS1).unwrap();
        assert_eq!(&out[..n], &di[..]);
        assert_eq!((m.f.C_SignUpdate.unwrap())(h, di.as_ptr() as *mut u8, 1), CKR_OPERATION_NOT_INITIALIZED);
        // Too much data for the modulus ends the operation with an error.
        let big = vec![1u8; 250];
        assert_eq!(init(h, &mut mm, key), CKR_OK);
        assert_eq!(sign(h, big.as_ptr() as *mut u8, 250, sig.as_mut_ptr(), &mut len), CKR_DATA_LEN_RANGE);
        // ECDSA with an RSA key, decryption mechanisms for signing.
        let mut ecdsa = mech(CKM_ECDSA);
        assert_eq!(init(h, &mut ecdsa, key), CKR_KEY_TYPE_INCONSISTENT);
    }
}

#[test]
fn decrypt_rsa_pkcs_and_oaep() {
    let m = module();
    let h = m.open();
    let f = fixture();
    let rsa = f.alice.0.public_key().unwrap().rsa().unwrap();
    let secret = b"a 32-byte content encryption key";
    let mut ct = vec![0u8; 256];
    rsa.public_encrypt(secret, &mut ct, Padding::PKCS1).unwrap();
    assert_eq!(m.login(h, ALICE_PIN), CKR_OK);
    let key = private_key_of(&m, h, &f.alice.0);
    unsafe {
        let init = m.f.C_DecryptInit.unwrap();
        let dec = m.f.C_Decrypt.unwrap();
        let mut mm = mech(CKM_RSA_PKCS);
        let mut len: CK_ULONG = 0;
        assert_eq!(dec(h, ct.as_mut_ptr(), 256, null_mut(), &mut len), CKR_OPERATION_NOT_INITIALIZED);
        assert_eq!(init(h, &mut mm, key), CKR_OK);
        assert_eq!(init(h, &mut mm, key), CKR_OPERATION_ACTIVE);
        assert_eq!(dec(h, ct.as_mut_ptr(), 256, null_mut(), &mut len), CKR_OK);
        assert_eq!(len, 256, "an upper bound before decrypting");
        let mut out = vec![0u8; 256];
        len = 4;
        assert_eq!(dec(h, ct.as_mut_ptr(), 256, out.as_mut_ptr(), &mut len), CKR_BUFFER_TOO_SMALL);
        assert_eq!(len as usize, secret.len(), "the exact length once decrypted");
        assert_eq!(dec(h, ct.as_mut_ptr(), 256, out.as_mut_ptr(), &mut len), CKR_OK);
        assert_eq!(&out[..len as usize], secret);
        assert_eq!(dec(h, ct.as_mut_ptr(), 256, out.as_mut_ptr(), &mut len), CKR_OPERATION_NOT_INITIALIZED);
        // Wrong length ends the operation.
        assert_eq!(init(h, &mut mm, key), CKR_OK);
        len = 256;
        assert_eq!(dec(h, ct.as_mut_ptr(), 100, out.as_mut_ptr(), &mut len), CKR_ENCRYPTED_DATA_LEN_RANGE);
        // OAEP with SHA-256 and a label; bad parameters are refused.
        let mut oaep_ct = Vec::new();
        let pubkey = f.alice.0.public_key().unwrap();
        let mut ctx = openssl::pkey_ctx::PkeyCtx::new(&pubkey).unwrap();
        ctx.encrypt_init().unwrap();
        ctx.set_rsa_padding(Padding::PKCS1_OAEP).unwrap();
        ctx.set_rsa_oaep_md(openssl::md::Md::sha256()).unwrap();
        ctx.set_rsa_mgf1_md(openssl::md::Md::sha256()).unwrap();
        ctx.set_rsa_oaep_label(b"label").unwrap();
        ctx.encrypt_to_vec(secret, &mut oaep_ct).unwrap();
        let mut label = *b"label";
        let mut params = CK_RSA_PKCS_OAEP_PARAMS { hashAlg: CKM_SHA256, mgf: CKG_MGF1_SHA256, source: CKZ_DATA_SPECIFIED, pSourceData: label.as_mut_ptr() as *mut _, ulSourceDataLen: 5 };
        let mut om = CK_MECHANISM { mechanism: CKM_RSA_PKCS_OAEP, pParameter: &mut params as *mut _ as *mut _, ulParameterLen: std::mem::size_of::<CK_RSA_PKCS_OAEP_PARAMS>() as CK_ULONG };
        assert_eq!(init(h, &mut om, key), CKR_OK);
        len = 256;
        assert_eq!(dec(h, oaep_ct.as_mut_ptr(), 256, out.as_mut_ptr(), &mut len), CKR_OK);
        assert_eq!(&out[..len as usize], secret);
        let mut no_params = mech(CKM_RSA_PKCS_OAEP);
        assert_eq!(init(h, &mut no_params, key), CKR_MECHANISM_PARAM_INVALID);
        let mut bad_params = CK_RSA_PKCS_OAEP_PARAMS { hashAlg: 0x1234, ..params };
        let mut bad = CK_MECHANISM { pParameter: &mut bad_params as *mut _ as *mut _, ..om };
        assert_eq!(init(h, &mut bad, key), CKR_MECHANISM_PARAM_INVALID);
        // OAEP is for decryption only.
        assert_eq!((m.f.C_SignInit.unwrap())(h, &mut om, key), CKR_MECHANISM_INVALID);
        // Decryption with an EC key or an unknown mechanism.
        let mut ecdsa = mech(CKM_ECDSA);
        assert_eq!(init(h, &mut ecdsa, key), CKR_MECHANISM_INVALID);
        let mut ul_out = 0;
        assert_eq!((m.f.C_DecryptUpdate.unwrap())(h, ct.as_mut_ptr(), 1, out.as_mut_ptr(), &mut ul_out), CKR_FUNCTION_NOT_SUPPORTED);
        assert_eq!((m.f.C_DecryptFinal.unwrap())(h, out.as_mut_ptr(), &mut ul_out), CKR_FUNCTION_NOT_SUPPORTED);
    }
}

#[test]
fn ecdsa_sign_and_ecdh_derive() {
    let m = module();
    let h = m.open();
    let f = fixture();
    assert_eq!(m.login(h, GINA_PIN), CKR_OK);
    let key = private_key_of(&m, h, &f.gina.0);
    let hash = openssl::sha::sha256(b"signed attributes");
    unsafe {
        let mut mm = mech(CKM_ECDSA);
        assert_eq!((m.f.C_SignInit.unwrap())(h, &mut mm, key), CKR_OK);
        let mut len: CK_ULONG = 0;
        assert_eq!((m.f.C_Sign.unwrap())(h, hash.as_ptr() as *mut u8, 32, null_mut(), &mut len), CKR_OK);
        assert_eq!(len, 64);
        let mut sig = vec![0u8; 64];
        assert_eq!((m.f.C_Sign.unwrap())(h, hash.as_ptr() as *mut u8, 32, sig.as_mut_ptr(), &mut len), CKR_OK);
        let parsed = EcdsaSig::from_private_components(BigNum::from_slice(&sig[..32]).unwrap(), BigNum::from_slice(&sig[32..]).unwrap()).unwrap();
        assert!(parsed.verify(&hash, &f.gina.0.public_key().unwrap().ec_key().unwrap()).unwrap());
        let mut rsa = mech(CKM_RSA_PKCS);
        assert_eq!((m.f.C_DecryptInit.unwrap())(h, &mut rsa, key), CKR_KEY_FUNCTION_NOT_PERMITTED);

        // ECDH with an ephemeral key, SHA-256 X9.63 KDF, 32-byte AES key (what NSS asks for CMS).
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let eph = EcKey::generate(&group).unwrap();
        let mut ctx = BigNumContext::new().unwrap();
        let mut point = eph.public_key().to_bytes(&group, PointConversionForm::UNCOMPRESSED, &mut ctx).unwrap();
        let mut shared = b"shared info".to_vec();
        let mut params = CK_ECDH1_DERIVE_PARAMS { kdf: CKD_SHA256_KDF, ulSharedDataLen: shared.len() as CK_ULONG, pSharedData: shared.as_mut_ptr(), ulPublicDataLen: point.len() as CK_ULONG, pPublicData: point.as_mut_ptr() };
        let mut dm = CK_MECHANISM { mechanism: CKM_ECDH1_DERIVE, pParameter: &mut params as *mut _ as *mut _, ulParameterLen: std::mem::size_of::<CK_ECDH1_DERIVE_PARAMS>() as CK_ULONG };
        let (secret_class, aes, len32, yes) = (ul(CKO_SECRET_KEY), ul(CKK_AES), ul(32), [1u8]);
        let mut t = [
            CK_ATTRIBUTE { type_: CKA_CLASS, pValue: secret_class.as_ptr() as *mut _, ulValueLen: 8 },
            CK_ATTRIBUTE { type_: CKA_KEY_TYPE, pValue: aes.as_ptr() as *mut _, ulValueLen: 8 },
            CK_ATTRIBUTE { type_: CKA_WRAP, pValue: yes.as_ptr() as *mut _, ulValueLen: 1 },
            CK_ATTRIBUTE { type_: CKA_VALUE_LEN, pValue: len32.as_ptr() as *mut _, ulValueLen: 8 },
        ];
        let derive = m.f.C_DeriveKey.unwrap();
        let mut derived = 0;
        assert_eq!(derive(h, &mut dm, key, t.as_mut_ptr(), 3, &mut derived), CKR_TEMPLATE_INCOMPLETE, "AES needs CKA_VALUE_LEN");
        assert_eq!(derive(h, &mut dm, key, t.as_mut_ptr(), 4, null_mut()), CKR_ARGUMENTS_BAD);
        assert_eq!(derive(h, null_mut(), key, t.as_mut_ptr(), 4, &mut derived), CKR_ARGUMENTS_BAD);
        let mut bad = mech(CKM_ECDH1_DERIVE);
        assert_eq!(derive(h, &mut bad, key, t.as_mut_ptr(), 4, &mut derived), CKR_MECHANISM_PARAM_INVALID);
        let mut other = mech(CKM_RSA_PKCS);
        assert_eq!(derive(h, &mut other, key, t.as_mut_ptr(), 4, &mut derived), CKR_MECHANISM_INVALID);
        assert_eq!(derive(h, &mut dm, key, t.as_mut_ptr(), 4, &mut derived), CKR_OK);
        let value = m.attr(h, derived, CKA_VALUE).unwrap();
        // The same key, computed from the other side.
        let gina_pub = PKey::from_ec_key(f.gina.0.public_key().unwrap().ec_key().unwrap()).unwrap();
        let eph_key = PKey::from_ec_key(eph).unwrap();
        let mut d = openssl::derive::Deriver::new(&eph_key).unwrap();
        d.set_peer(&gina_pub).unwrap();
        let z = d.derive_to_vec().unwrap();
        let expect = smime_companion_pkcs11::crypto::x963_kdf(MessageDigest::sha256(), &z, b"shared info", 32).unwrap();
        assert_eq!(value, *expect);
        // The derived key unwraps an AES-wrapped content key (NSS's hand unwrap).
        let cek = [7u8; 32];
        let kek = openssl::aes::AesKey::new_encrypt(&expect).unwrap();
        let mut wrapped = vec![0u8; 40];
        openssl::aes::wrap_key(&kek, None, &mut wrapped, &cek).unwrap();
        let mut kw = mech(CKM_AES_KEY_WRAP);
        assert_eq!((m.f.C_DecryptInit.unwrap())(h, &mut kw, derived), CKR_OK);
        let mut out = vec![0u8; 40];
        let mut len: CK_ULONG = 40;
        assert_eq!((m.f.C_Decrypt.unwrap())(h, wrapped.as_mut_ptr(), 40, out.as_mut_ptr(), &mut len), CKR_OK);
        assert_eq!(&out[..len as usize], &cek);
        assert_eq!((m.f.C_DecryptInit.unwrap())(h, &mut kw, key), CKR_KEY_HANDLE_INVALID);
        // Session objects are found, destroyed, and gone with their session.
        assert_eq!(m.find(h, &[class(CKO_SECRET_KEY)]), vec![derived]);
        assert_eq!((m.f.C_DestroyObject.unwrap())(h, derived), CKR_OK);
        assert_eq!(m.attr(h, derived, CKA_VALUE), Err(CKR_OBJECT_HANDLE_INVALID));
        assert_eq!(derive(h, &mut dm, key, t.as_mut_ptr(), 4, &mut derived), CKR_OK);
        (m.f.C_CloseSession.unwrap())(h);
        let h2 = m.open();
        assert!(m.find(h2, &[class(CKO_SECRET_KEY)]).is_empty());
        // Not logged in any more: no derivation.
        assert_eq!(derive(h2, &mut dm, key, t.as_mut_ptr(), 4, &mut derived), CKR_USER_NOT_LOGGED_IN);
    }
}

#[test]
fn unsupported_functions() {
    let m = module();
    let h = m.open();
    let mut b = [0u8; 8];
    let mut l: CK_ULONG = 8;
    let p = b.as_mut_ptr();
    let mut mm = mech(CKM_RSA_PKCS);
    let mut o = 0;
    unsafe {
        let f = m.f;
        let results = [
            f.C_EncryptInit.unwrap()(h, &mut mm, 1),
            f.C_Encrypt.unwrap()(h, p, 1, p, &mut l),
            f.C_EncryptUpdate.unwrap()(h, p, 1, p, &mut l),
            f.C_EncryptFinal.unwrap()(h, p, &mut l),
            f.C_DigestInit.unwrap()(h, &mut mm),
            f.C_Digest.unwrap()(h, p, 1, p, &mut l),
            f.C_DigestUpdate.unwrap()(h, p, 1),
            f.C_DigestKey.unwrap()(h, 1),
            f.C_DigestFinal.unwrap()(h, p, &mut l),
            f.C_SignRecoverInit.unwrap()(h, &mut mm, 1),
            f.C_SignRecover.unwrap()(h, p, 1, p, &mut l),
            f.C_VerifyInit.unwrap()(h, &mut mm, 1),
            f.C_Verify.unwrap()(h, p, 1, p, 1),
            f.C_VerifyUpdate.unwrap()(h, p, 1),
            f.C_VerifyFinal.unwrap()(h, p, 1),
            f.C_VerifyRecoverInit.unwrap()(h, &mut mm, 1),
            f.C_VerifyRecover.unwrap()(h, p, 1, p, &mut l),
            f.C_DigestEncryptUpdate.unwrap()(h, p, 1, p, &mut l),
            f.C_DecryptDigestUpdate.unwrap()(h, p, 1, p, &mut l),
            f.C_SignEncryptUpdate.unwrap()(h, p, 1, p, &mut l),
            f.C_DecryptVerifyUpdate.unwrap()(h, p, 1, p, &mut l),
            f.C_GenerateKey.unwrap()(h, &mut mm, null_mut(), 0, &mut o),
            f.C_GenerateKeyPair.unwrap()(h, &mut mm, null_mut(), 0, null_mut(), 0, &mut o, &mut o),
            f.C_WrapKey.unwrap()(h, &mut mm, 1, 2, p, &mut l),
            f.C_UnwrapKey.unwrap()(h, &mut mm, 1, p, 1, null_mut(), 0, &mut o),
        ];
        assert!(results.iter().all(|&r| r == CKR_FUNCTION_NOT_SUPPORTED), "{results:x?}");
        assert_eq!(f.C_EncryptInit.unwrap()(999, &mut mm, 1), CKR_SESSION_HANDLE_INVALID);
        assert_eq!(f.C_UnwrapKey.unwrap()(999, &mut mm, 1, p, 1, null_mut(), 0, &mut o), CKR_SESSION_HANDLE_INVALID);
        assert_eq!(f.C_SeedRandom.unwrap()(h, p, 8), CKR_RANDOM_NO_RNG);
        assert_eq!(f.C_GenerateRandom.unwrap()(h, p, 8), CKR_RANDOM_NO_RNG);
        assert_eq!(f.C_GenerateRandom.unwrap()(999, p, 8), CKR_SESSION_HANDLE_INVALID);
        assert_eq!(f.C_GetFunctionStatus.unwrap()(h), CKR_FUNCTION_NOT_PARALLEL);
        assert_eq!(f.C_CancelFunction.unwrap()(h), CKR_FUNCTION_NOT_PARALLEL);
        let mut slot = 0;
        assert_eq!(f.C_WaitForSlotEvent.unwrap()(1 /* CKF_DONT_BLOCK */, &mut slot, null_mut()), CKR_NO_EVENT);
        assert_eq!(f.C_WaitForSlotEvent.unwrap()(0, &mut slot, null_mut()), CKR_FUNCTION_NOT_SUPPORTED);
        assert_eq!(f.C_WaitForSlotEvent.unwrap()(1, null_mut(), null_mut()), CKR_ARGUMENTS_BAD);
    }
}

// --- behaviour inside Thunderbird ---------------------------------------------------------------------------

#[test]
fn cache_changes_are_seen_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    let f = fixture();
    trust_fixture_pki(dir.path());
    let home = Home::at(dir.path());
    let mut cache = ContactCache::open(&home).unwrap();
    let now = smime_companion::time::now();
    cache.import(&[Cert::from_x509(&f.bob).unwrap()], Source::Import, now).unwrap();
    let m = module_at(dir.path());
    let h = m.open();
    assert_eq!(m.find(h, &[class(CKO_CERTIFICATE)]).len(), 1);
    // A new harvest by another connection (the host) appears within about a second.
    let root = Cert::from_x509(&f.root.0).unwrap();
    let carol_key = rsa_key();
    let carol = issue("Dave", Some("dave@example.net"), &carol_key, Some((&f.root.0, &f.root.1)), false);
    cache.import(&[Cert::from_x509(&carol).unwrap(), root], Source::Import, now).unwrap();
    assert_eq!(m.find(h, &[class(CKO_CERTIFICATE)]).len(), 1, "the databases are asked at most once per poll interval");
    m.next_poll();
    // The new certificate is there; self-signed roots are never exposed.
    assert_eq!(m.find(h, &[class(CKO_CERTIFICATE)]).len(), 2);
    // A deletion ends every session (the token acts as removed and put back, so NSS drops
    // its cached copies); the new session sees the certificate gone.
    cache.delete_contact("dave@example.net", now).unwrap();
    wait_for_token_reset(&m, h, "the deletion");
    let h = m.open();
    assert_eq!(m.find(h, &[class(CKO_CERTIFICATE)]).len(), 1);
}

#[test]
fn identities_lock_logs_out() {
    let m = module();
    let h = m.open();
    assert_eq!(m.login(h, ALICE_PIN), CKR_OK);
    let mut store = IdentityStore::open(&Home::at(fixture().dir.path())).unwrap();
    store.raise_lock_epoch().unwrap();
    let mut si = unsafe { std::mem::zeroed::<CK_SESSION_INFO>() };
    assert_eq!(unsafe { (m.f.C_GetSessionInfo.unwrap())(h, &mut si) }, CKR_OK);
    assert_eq!(si.state, CKS_RO_USER_FUNCTIONS, "logged in until the module looks again");
    m.next_poll();
    assert_eq!(unsafe { (m.f.C_GetSessionInfo.unwrap())(h, &mut si) }, CKR_OK);
    assert_eq!(si.state, CKS_RO_PUBLIC_SESSION, "still logged in after identities lock");
    assert!(m.find(h, &[class(CKO_PRIVATE_KEY)]).is_empty());
}

/// A renewal imported while Thunderbird is logged in: the module cannot open the new key with a
/// PIN it does not keep, so the login ends, at NSS's next session check (C_GetSessionInfo) and not
/// before: in between, the keys NSS was told it may use stay usable. The next login, with the same
/// passphrase, opens the old and the new key.
#[test]
fn an_identity_imported_while_logged_in_logs_out_and_the_next_login_opens_it() {
    let f = fixture();
    let dir = alice_and_bob();
    let m = module_at(dir.path());
    let h = m.open();
    assert_eq!(m.login(h, ALICE_PIN), CKR_OK);
    assert_eq!(m.find(h, &[class(CKO_PRIVATE_KEY)]).len(), 1);
    let renewed_key = rsa_key();
    let renewed = issue("Alice", Some("alice@example.org"), &renewed_key, Some((&f.root.0, &f.root.1)), false);
    let cert = Cert::from_x509(&renewed).unwrap();
    let sealed = seal(&renewed_key, &Passphrase::new(ALICE_PIN), &cert.fingerprint_sha256()).unwrap();
    IdentityStore::open(&Home::at(dir.path())).unwrap().add(&cert, &[], &sealed, smime_companion::time::now()).unwrap();
    // Until the module looks at the databases again, nothing has changed.
    assert_eq!(m.find(h, &[class(CKO_PUBLIC_KEY)]).len(), 1, "the module looked before its poll interval");
    // At its next look, searches see the new identity (its public key) while the old key stays usable.
    m.next_poll();
    assert_eq!(m.find(h, &[class(CKO_PUBLIC_KEY)]).len(), 2, "the new identity did not appear");
    assert_eq!(m.find(h, &[class(CKO_PRIVATE_KEY)]).len(), 1, "no logout between NSS's session checks");
    // NSS's next session check ends the login.
    let mut si = unsafe { std::mem::zeroed::<CK_SESSION_INFO>() };
    assert_eq!(unsafe { (m.f.C_GetSessionInfo.unwrap())(h, &mut si) }, CKR_OK);
    assert_eq!(si.state, CKS_RO_PUBLIC_SESSION, "still logged in after a new identity arrived");
    assert!(m.find(h, &[class(CKO_PRIVATE_KEY)]).is_empty());
    assert_eq!(m.login(h, ALICE_PIN), CKR_OK);
    assert_eq!(m.find(h, &[class(CKO_PRIVATE_KEY)]).len(), 2, "the next login opens the new key too");
}

#[test]
fn a_locked_database_does_not_block() {
    let dir = tempfile::tempdir().unwrap();
    trust_fixture_pki(dir.path());
    let home = Home::at(dir.path());
    ContactCache::open(&home).unwrap().import(&[Cert::from_x509(&fixture().bob).unwrap()], Source::Import, 0).unwrap();
    let m = module_at(dir.path());
    let h = m.open();
    assert_eq!(m.find(h, &[class(CKO_CERTIFICATE)]).len(), 1);
    // Another process (the host harvesting) is in the middle of a write transaction: readers
    // must not wait for it (WAL); the module's reads would give up after a short busy timeout.
    let other = rusqlite::Connection::open(smime_companion::contacts::db_path(&home)).unwrap();
    other.execute_batch("BEGIN IMMEDIATE; INSERT INTO history (address, at, event) VALUES ('x', 0, 'x');").unwrap();
    m.next_poll();
    let start = Instant::now();
    assert_eq!(m.find(h, &[class(CKO_CERTIFICATE)]).len(), 1);
    assert!(start.elapsed() < NOT_THE_HOSTS_WAIT, "{:?}", start.elapsed());
    other.execute_batch("COMMIT").unwrap();
    drop(other);
}

#[test]
fn the_module_never_writes_migrates_or_waits_long_for_the_databases() {
    let dir = tempfile::tempdir().unwrap();
    trust_fixture_pki(dir.path());
    let home = Home::at(dir.path());
    // A contact cache at an older schema, in rollback-journal mode (never opened by this version
    // of the companion): the module neither migrates it nor switches it to WAL.
    let path = smime_companion::contacts::db_path(&home);
    smime_companion::contacts::schema::create_at_version(&mut rusqlite::Connection::open(&path).unwrap(), 1).unwrap();
    let before = std::fs::read(&path).unwrap();
    {
        let m = module_at(dir.path());
        let h = m.open();
        assert!(m.find(h, &[class(CKO_CERTIFICATE)]).is_empty());
        // Once the companion migrated it, the module reads it, without a restart.
        assert!(std::fs::read(&path).unwrap() == before, "the module wrote to the database");
        let conn = rusqlite::Connection::open(&path).unwrap();
        let (version, journal): (i64, String) =
            (conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap(), conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap());
        assert_eq!((version, journal.as_str()), (1, "delete"));
        drop(conn);
        ContactCache::open(&home).unwrap().import(&[Cert::from_x509(&fixture().bob).unwrap()], Source::Import, 0).unwrap();
        m.next_poll();
        assert_eq!(m.find(h, &[class(CKO_CERTIFICATE)]).len(), 1, "the migrated cache was not read");
    }
    // A lock readers must wait for (a rollback-journal database in the middle of a write, held
    // by another process): the module waits its own 100 ms, not the host's 10 s.
    let locked = tempfile::tempdir().unwrap();
    let path = smime_companion::contacts::db_path(&Home::at(locked.path()));
    let current = smime_companion::contacts::schema::CURRENT_VERSION;
    smime_companion::contacts::schema::create_at_version(&mut rusqlite::Connection::open(&path).unwrap(), current).unwrap();
    let holder = rusqlite::Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE;").unwrap();
    let start = Instant::now();
    let m = module_at(locked.path());
    let h = m.open();
    assert_eq!(m.find(h, &[class(CKO_CERTIFICATE)]).len(), 0);
    assert!(start.elapsed() < NOT_THE_HOSTS_WAIT, "{:?}", start.elapsed());
    holder.execute_batch("COMMIT;").unwrap();
}

/// A data folder with Alice's identity and Bob as a contact, for damaging one of the two.
fn alice_and_bob() -> tempfile::TempDir {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    trust_fixture_pki(dir.path());
    let home = Home::at(dir.path());
    let alice = Cert::from_x509(&f.alice.0).unwrap();
    let sealed = seal(&f.alice.1, &Passphrase::new(ALICE_PIN), &alice.fingerprint_sha256()).unwrap();
    IdentityStore::open(&home).unwrap().add(&alice, &[], &sealed, 0).unwrap();
    ContactCache::open(&home).unwrap().import(&[Cert::from_x509(&f.bob).unwrap()], Source::Import, 0).unwrap();
    dir
}

/// Ways a database can be unusable to the module.
fn damage(path: &std::path::Path, how: &str) -> Option<rusqlite::Connection> {
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    match how {
        "not a database" => std::fs::write(path, vec![0x42u8; 8192]).unwrap(),
        "too new" => rusqlite::Connection::open(path).unwrap().execute_batch("PRAGMA user_version = 99;").unwrap(),
        "negative version" => rusqlite::Connection::open(path).unwrap().execute_batch("PRAGMA user_version = -1;").unwrap(),
        "locked" => {
            // In the middle of another process's write, in rollback-journal mode: readers wait.
            let conn = rusqlite::Connection::open(path).unwrap();
            conn.execute_batch("PRAGMA journal_mode = DELETE; BEGIN EXCLUSIVE;").unwrap();
            return Some(conn);
        }
        _ => unreachable!(),
    }
    None
}

#[test]
fn a_bad_contact_cache_does_not_hide_the_keys_nor_bad_identities_the_contacts() {
    let f = fixture();
    for how in ["not a database", "too new", "negative version", "locked"] {
        let dir = alice_and_bob();
        let _holder = damage(&smime_companion::contacts::db_path(&Home::at(dir.path())), how);
        let m = module_at(dir.path());
        let h = m.open();
        assert_eq!(m.login(h, ALICE_PIN), CKR_OK, "contacts {how}");
        private_key_of(&m, h, &f.alice.0);
        assert!(m.find(h, &[class(CKO_CERTIFICATE), (CKA_VALUE, f.bob.to_der().unwrap())]).is_empty(), "contacts {how}");
    }
    for how in ["not a database", "too new", "negative version", "locked"] {
        let dir = alice_and_bob();
        let _holder = damage(&smime_companion::identities::db_path(&Home::at(dir.path())), how);
        let m = module_at(dir.path());
        let h = m.open();
        assert_eq!(m.find(h, &[class(CKO_CERTIFICATE), (CKA_VALUE, f.bob.to_der().unwrap())]).len(), 1, "identities {how}");
        assert_eq!(m.login(h, ALICE_PIN), CKR_USER_PIN_NOT_INITIALIZED, "identities {how}");
    }
}

#[test]
fn many_threads_at_once() {
    let m = module();
    let f = m.f;
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                let h = m.open();
                for _ in 0..200 {
                    assert_eq!(m.find(h, &[class(CKO_NSS_TRUST)]).len(), 0);
                    assert_eq!(m.find(h, &[class(CKO_CERTIFICATE)]).len(), 5);
                }
                unsafe { assert_eq!((f.C_CloseSession.unwrap())(h), CKR_OK) };
            });
        }
    });
}

/// Asserts that at its next poll the module closes session `h`: objects went away, and the
/// token acts as removed and put back.
fn wait_for_token_reset(m: &Module, h: CK_SESSION_HANDLE, what: &str) {
    let mut si = unsafe { std::mem::zeroed::<CK_SESSION_INFO>() };
    assert_eq!(unsafe { (m.f.C_GetSessionInfo.unwrap())(h, &mut si) }, CKR_OK, "{what}: noticed before the module looked again");
    m.next_poll();
    assert_eq!(unsafe { (m.f.C_GetSessionInfo.unwrap())(h, &mut si) }, CKR_SESSION_HANDLE_INVALID, "{what}: not noticed");
}

fn write_crl(dir: &std::path::Path, name: &str, crl: &openssl::x509::X509Crl) {
    let crls = smime_companion::certs::trust::user_anchor_dir(&Home::at(dir)).join("crls");
    std::fs::create_dir_all(&crls).unwrap();
    std::fs::write(crls.join(format!("{name}.crl.pem")), crl.to_pem().unwrap()).unwrap();
}

#[test]
fn only_contact_certificates_the_companion_would_encrypt_to_are_offered() {
    use certgen::{Ca, CaSpec, Leaf};
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path());
    let root = Ca::new("Offer Root");
    trust(dir.path(), &[&root.cert]);
    let tls = Ca::build(CaSpec { issuer: Some(&root), eku: vec!["serverAuth"], ..CaSpec::named("Offer TLS Sub-CA") });
    let stranger_root = Ca::new("Offer Stranger Root");
    let good = Leaf::for_address("good@example.org").issue(&root, None);
    let under_tls = Leaf::for_address("tls@example.org").issue(&tls, None);
    let sha1 = Leaf { digest: MessageDigest::sha1(), ..Leaf::for_address("sha1@example.org") }.issue(&root, None);
    let revoked = Leaf::for_address("revoked@example.org").issue(&root, None);
    let stranger = Leaf::for_address("stranger@example.org").issue(&stranger_root, None);
    write_crl(dir.path(), "offer", &root.crl(&[&revoked], 1, -1));
    let all = [&good, &under_tls, &sha1, &revoked, &stranger, &tls.cert];
    let certs: Vec<Cert> = all.iter().map(|c| Cert::from_x509(c).unwrap()).collect();
    ContactCache::open(&home).unwrap().import(&certs, Source::Import, smime_companion::time::now()).unwrap();
    let m = module_at(dir.path());
    let h = m.open();
    let offered = |h, c: &X509| m.find(h, &[class(CKO_CERTIFICATE), (CKA_VALUE, c.to_der().unwrap())]).len();
    assert_eq!(offered(h, &good), 1, "a certificate that passes is offered");
    for (what, c) in [("under a TLS-only CA", &under_tls), ("SHA-1 signed", &sha1), ("revoked", &revoked), ("untrusted", &stranger)] {
        assert_eq!(offered(h, c), 0, "{what}: not offered");
    }
    // Trusting the stranger's root makes its certificate appear, without a restart.
    trust(dir.path(), &[&stranger_root.cert]);
    m.next_poll();
    assert_eq!(offered(h, &stranger), 1, "the newly trusted certificate did not appear");
    // A newer CRL that revokes the good one takes it away.
    write_crl(dir.path(), "offer-2", &root.crl(&[&revoked, &good], 2, 0));
    wait_for_token_reset(&m, h, "the revocation");
    let h = m.open();
    assert_eq!(offered(h, &good), 0, "revoked now");
    assert_eq!(offered(h, &stranger), 1);
}

#[test]
fn verdicts_are_computed_once_and_again_only_when_what_they_rest_on_changes() {
    use certgen::{Ca, Leaf};
    use smime_companion_pkcs11::objects::TokenCert;
    use smime_companion_pkcs11::usable::{Candidate, UsableFilter, FULL_RECHECK_SECS};
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path());
    let root = Ca::new("Verdict Root");
    trust(dir.path(), &[&root.cert]);
    let inter = root.sub("Verdict Intermediate");
    let leaf = |address: &str, ca: &Ca| Leaf::for_address(address).issue(ca, None);
    let candidate = |c: &X509| Candidate::new(TokenCert::parse(c.to_der().unwrap()).unwrap());
    let first = leaf("a@example.org", &root);
    let mut candidates = vec![candidate(&first), candidate(&leaf("b@example.org", &root)), candidate(&leaf("c@example.org", &inter))];
    let no_intermediates = || -> Vec<Vec<u8>> { Vec::new() };
    let with_inter = || vec![inter.cert.to_der().unwrap()];
    let mut f = UsableFilter::default();
    let now = smime_companion::time::now();
    assert_eq!(f.refresh(&home, &candidates, &no_intermediates, true, now).map(|u| u.len()), Some(2), "c lacks its intermediate");
    assert_eq!(f.computed, 3);
    assert!(f.refresh(&home, &candidates, &no_intermediates, false, now + 1).is_none(), "nothing changed");
    assert_eq!(f.computed, 3, "nothing judged again");
    // The intermediate becomes known: everything is judged again, and c is usable.
    assert_eq!(f.refresh(&home, &candidates, &with_inter, true, now + 2).map(|u| u.len()), Some(3));
    assert_eq!(f.computed, 6);
    // A new certificate in the cache: only it is judged.
    candidates.push(candidate(&leaf("d@example.org", &root)));
    assert_eq!(f.refresh(&home, &candidates, &with_inter, true, now + 3).map(|u| u.len()), Some(4));
    assert_eq!(f.computed, 7);
    // A CRL in the anchor folder: all judged again; the revoked one goes.
    write_crl(dir.path(), "verdicts", &root.crl(&[&first], 1, -1));
    assert_eq!(f.refresh(&home, &candidates, &with_inter, false, now + 4).map(|u| u.len()), Some(3));
    assert_eq!(f.computed, 11);
    // An hour on, all are judged again (the same outcome: nothing new to show).
    assert!(f.refresh(&home, &candidates, &with_inter, false, now + 4 + FULL_RECHECK_SECS).is_none());
    assert_eq!(f.computed, 15);
}
