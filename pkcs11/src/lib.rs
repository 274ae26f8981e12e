//! S/MIME Companion's PKCS#11 module (`libsmime_companion_pkcs11.so`): Thunderbird's NSS loads
//! it and then finds recipients' certificates in the companion's contact cache, and signs and
//! decrypts with the user's keys kept by the companion (docs/PKCS11.md).
//!
//! One slot, one token ("S/MIME Companion"), read-only. Certificates are public (a
//! `CKP_PUBLIC_CERTIFICATES_TOKEN` profile object tells NSS so); private keys need a login whose
//! PIN is the identity passphrase. Mechanisms: `CKM_RSA_PKCS` (sign, decrypt),
//! `CKM_RSA_PKCS_OAEP` (decrypt), `CKM_ECDSA` (sign), `CKM_ECDH1_DERIVE` (with the X9.63 KDFs);
//! `C_GetMechanismInfo` refuses everything else, so NSS hashes by itself and never picks a
//! combined hash-and-sign mechanism the module does not have.
//!
//! Every exported function catches panics (`CKR_GENERAL_ERROR`), checks its pointers, and never
//! waits long: see [`module`] for locking and freshness. Set `SMIME_COMPANION_PKCS11_TRACE` to a
//! file path to log every call with its result (like pkcs11-spy).
//!
//! # Safety
//! The exported `C_*` functions are called by a PKCS#11 consumer under the PKCS#11 v2.40 contract:
//! every pointer argument is NULL or valid for the length the standard gives it. Within that,
//! they check NULLs and lengths themselves and answer with a CK_RV.
#![allow(clippy::missing_safety_doc)]

pub mod crypto;
pub mod module;
pub mod objects;
pub mod types;
pub mod usable;

use module::{Clock, Module, OpKind, Output, SLOT_ID};
use smime_companion::home::Home;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use types::*;

/// The token's label, as NSS shows it (nicknames are `S/MIME Companion:<label>`).
pub const TOKEN_LABEL: &str = "S/MIME Companion";
pub const MANUFACTURER: &str = "S/MIME Companion";
const VERSION: CK_VERSION = CK_VERSION { major: 0, minor: 1 };

static MODULE: RwLock<Option<Arc<Module>>> = RwLock::new(None);
static HOME_OVERRIDE: Mutex<Option<PathBuf>> = Mutex::new(None);
static CLOCK_OVERRIDE: Mutex<Option<Arc<dyn Clock>>> = Mutex::new(None);

/// Tests and benchmarks point the next `C_Initialize` at a data folder (instead of
/// `SMIME_COMPANION_HOME` or the per-user folder).
#[doc(hidden)]
pub fn set_home_override(dir: Option<PathBuf>) {
    *HOME_OVERRIDE.lock().unwrap_or_else(|p| p.into_inner()) = dir;
}

/// Tests give the next `C_Initialize` a clock they move by hand ([`module::ManualClock`]), so
/// that "a second later" needs no sleep; None: the system's clock.
#[doc(hidden)]
pub fn set_clock_override(clock: Option<Arc<dyn Clock>>) {
    *CLOCK_OVERRIDE.lock().unwrap_or_else(|p| p.into_inner()) = clock;
}

fn module() -> Result<Arc<Module>, CK_RV> {
    MODULE.read().unwrap_or_else(|p| p.into_inner()).clone().ok_or(CKR_CRYPTOKI_NOT_INITIALIZED)
}

fn trace_file() -> Option<&'static Mutex<std::fs::File>> {
    static TRACE: OnceLock<Option<Mutex<std::fs::File>>> = OnceLock::new();
    TRACE
        .get_or_init(|| {
            let path = std::env::var_os("SMIME_COMPANION_PKCS11_TRACE").filter(|p| !p.is_empty())?;
            std::fs::OpenOptions::new().create(true).append(true).open(path).ok().map(Mutex::new)
        })
        .as_ref()
}

/// Writes one line to the trace file, when tracing is on.
pub(crate) fn trace_line(line: impl FnOnce() -> String) {
    if let Some(file) = trace_file() {
        let text = line();
        let mut f = file.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(f, "{text}");
    }
}

/// Runs one exported function: panics become `CKR_GENERAL_ERROR`, errors their CK_RV.
fn guard(name: &'static str, f: impl FnOnce() -> Result<CK_RV, CK_RV>) -> CK_RV {
    guard_detail(name, String::new, f)
}

/// Like [`guard`], with a detail for the trace (the class searched, the mechanism).
fn guard_detail(name: &'static str, detail: impl FnOnce() -> String, f: impl FnOnce() -> Result<CK_RV, CK_RV>) -> CK_RV {
    let rv = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(rv)) | Ok(Err(rv)) => rv,
        Err(_) => CKR_GENERAL_ERROR,
    };
    if let Some(file) = trace_file() {
        let d = catch_unwind(AssertUnwindSafe(detail)).unwrap_or_default();
        let mut f = file.lock().unwrap_or_else(|p| p.into_inner());
        let _ = if d.is_empty() { writeln!(f, "{name} -> 0x{rv:x}") } else { writeln!(f, "{name} {d} -> 0x{rv:x}") };
    }
    rv
}

fn ok() -> Result<CK_RV, CK_RV> {
    Ok(CKR_OK)
}

/// A C array as a slice; NULL is allowed only with a zero count.
unsafe fn slice<'a, T>(p: *const T, n: CK_ULONG) -> Result<&'a [T], CK_RV> {
    match (p.is_null(), n) {
        (_, 0) => Ok(&[]),
        (true, _) => Err(CKR_ARGUMENTS_BAD),
        (false, n) => Ok(std::slice::from_raw_parts(p, n as usize)),
    }
}

unsafe fn out<'a, T>(p: *mut T) -> Result<&'a mut T, CK_RV> {
    p.as_mut().ok_or(CKR_ARGUMENTS_BAD)
}

/// Copies a list into a caller's array with the PKCS#11 two-call convention: NULL array gives the
/// count; a too-small array gives the count and CKR_BUFFER_TOO_SMALL.
unsafe fn write_list<T: Copy>(items: &[T], p: *mut T, count: CK_ULONG_PTR) -> Result<CK_RV, CK_RV> {
    let count = out(count)?;
    if p.is_null() {
        *count = items.len() as CK_ULONG;
        return ok();
    }
    if (*count as usize) < items.len() {
        *count = items.len() as CK_ULONG;
        return Err(CKR_BUFFER_TOO_SMALL);
    }
    std::ptr::copy_nonoverlapping(items.as_ptr(), p, items.len());
    *count = items.len() as CK_ULONG;
    ok()
}

/// A search or creation template as (type, value) pairs.
unsafe fn read_template(p: CK_ATTRIBUTE_PTR, n: CK_ULONG) -> Result<Vec<(CK_ATTRIBUTE_TYPE, Vec<u8>)>, CK_RV> {
    let attrs = slice(p, n)?;
    attrs
        .iter()
        .map(|a| {
            let ty = a.type_;
            let v = slice(a.pValue as *const u8, a.ulValueLen)?.to_vec();
            Ok((ty, v))
        })
        .collect()
}

fn check_slot(slot: CK_SLOT_ID) -> Result<(), CK_RV> {
    if slot == SLOT_ID {
        Ok(())
    } else {
        Err(CKR_SLOT_ID_INVALID)
    }
}

// --- general --------------------------------------------------------------------------------------

#[no_mangle]
pub unsafe extern "C" fn C_Initialize(init_args: CK_VOID_PTR) -> CK_RV {
    guard("C_Initialize", || {
        if let Some(args) = (init_args as *const CK_C_INITIALIZE_ARGS).as_ref() {
            let fns = [args.CreateMutex.is_some(), args.DestroyMutex.is_some(), args.LockMutex.is_some(), args.UnlockMutex.is_some()];
            if fns.iter().any(|&f| f) && !fns.iter().all(|&f| f) {
                return Err(CKR_ARGUMENTS_BAD);
            }
            // Our own (OS) locks are used; callers that require theirs cannot be served.
            if fns[0] && args.flags & CKF_OS_LOCKING_OK == 0 {
                return Err(CKR_CANT_LOCK);
            }
        }
        let mut slot = MODULE.write().unwrap_or_else(|p| p.into_inner());
        if slot.is_some() {
            return Err(CKR_CRYPTOKI_ALREADY_INITIALIZED);
        }
        let explicit = HOME_OVERRIDE.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let home = Home::resolve(explicit.as_deref()).ok();
        let clock = CLOCK_OVERRIDE.lock().unwrap_or_else(|p| p.into_inner()).clone();
        *slot = Some(Arc::new(match clock {
            Some(clock) => Module::with_clock(home, clock),
            None => Module::new(home),
        }));
        ok()
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_Finalize(reserved: CK_VOID_PTR) -> CK_RV {
    guard("C_Finalize", || {
        if !reserved.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        MODULE.write().unwrap_or_else(|p| p.into_inner()).take().map(|_| CKR_OK).ok_or(CKR_CRYPTOKI_NOT_INITIALIZED)
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_GetInfo(info: *mut CK_INFO) -> CK_RV {
    guard("C_GetInfo", || {
        module()?;
        *out(info)? = CK_INFO {
            cryptokiVersion: CK_VERSION { major: 2, minor: 40 },
            manufacturerID: padded(MANUFACTURER),
            flags: 0,
            libraryDescription: padded("S/MIME Companion PKCS#11 module"),
            libraryVersion: VERSION,
        };
        ok()
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_GetFunctionList(list: CK_FUNCTION_LIST_PTR_PTR) -> CK_RV {
    guard("C_GetFunctionList", || {
        *out(list)? = &FUNCTION_LIST as *const CK_FUNCTION_LIST as CK_FUNCTION_LIST_PTR;
        ok()
    })
}

// --- slots and tokens ---------------------------------------------------------------------------

#[no_mangle]
pub unsafe extern "C" fn C_GetSlotList(_token_present: CK_BBOOL, list: CK_SLOT_ID_PTR, count: CK_ULONG_PTR) -> CK_RV {
    guard("C_GetSlotList", || {
        module()?;
        write_list(&[SLOT_ID], list, count)
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_GetSlotInfo(slot: CK_SLOT_ID, info: *mut CK_SLOT_INFO) -> CK_RV {
    guard("C_GetSlotInfo", || {
        let m = module()?;
        check_slot(slot)?;
        m.refresh(false);
        *out(info)? = CK_SLOT_INFO {
            slotDescription: padded("S/MIME Companion: contact certificates and your keys"),
            manufacturerID: padded(MANUFACTURER),
            // "Removable", so that NSS drops its cached copies of deleted objects when the token
            // signals a removal (see module::State::install); the token is always present.
            flags: CKF_TOKEN_PRESENT | CKF_REMOVABLE_DEVICE,
            hardwareVersion: VERSION,
            firmwareVersion: VERSION,
        };
        ok()
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_GetTokenInfo(slot: CK_SLOT_ID, info: *mut CK_TOKEN_INFO) -> CK_RV {
    guard("C_GetTokenInfo", || {
        let m = module()?;
        check_slot(slot)?;
        let info = out(info)?;
        let (sessions, rw, has_identities) = m.token_counts();
        let mut flags = CKF_TOKEN_INITIALIZED | CKF_WRITE_PROTECTED | CKF_LOGIN_REQUIRED;
        if has_identities {
            flags |= CKF_USER_PIN_INITIALIZED;
        }
        *info = CK_TOKEN_INFO {
            label: padded(TOKEN_LABEL),
            manufacturerID: padded(MANUFACTURER),
            model: padded("companion"),
            serialNumber: padded("1"),
            flags,
            ulMaxSessionCount: CK_EFFECTIVELY_INFINITE,
            ulSessionCount: sessions as CK_ULONG,
            ulMaxRwSessionCount: 0,
            ulRwSessionCount: rw as CK_ULONG,
            ulMaxPinLen: 1024,
            ulMinPinLen: 1,
            ulTotalPublicMemory: CK_UNAVAILABLE_INFORMATION,
            ulFreePublicMemory: CK_UNAVAILABLE_INFORMATION,
            ulTotalPrivateMemory: CK_UNAVAILABLE_INFORMATION,
            ulFreePrivateMemory: CK_UNAVAILABLE_INFORMATION,
            hardwareVersion: VERSION,
            firmwareVersion: VERSION,
            utcTime: padded(""),
        };
        ok()
    })
}

/// The mechanisms and what they are good for. Nothing else is answered: NSS picks a combined
/// mechanism (CKM_SHA256_RSA_PKCS) only when the token says it has it.
pub const MECHANISMS: &[(CK_MECHANISM_TYPE, CK_MECHANISM_INFO)] = &[
    (CKM_RSA_PKCS, CK_MECHANISM_INFO { ulMinKeySize: 1024, ulMaxKeySize: 16384, flags: CKF_SIGN | CKF_DECRYPT }),
    (CKM_RSA_PKCS_OAEP, CK_MECHANISM_INFO { ulMinKeySize: 1024, ulMaxKeySize: 16384, flags: CKF_DECRYPT }),
    (CKM_ECDSA, CK_MECHANISM_INFO { ulMinKeySize: 256, ulMaxKeySize: 521, flags: CKF_SIGN | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS }),
    (CKM_ECDH1_DERIVE, CK_MECHANISM_INFO { ulMinKeySize: 256, ulMaxKeySize: 521, flags: CKF_DERIVE | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS }),
    // Only with the keys CKM_ECDH1_DERIVE made here, only to decrypt (NSS's "hand unwrap").
    (CKM_AES_KEY_WRAP, CK_MECHANISM_INFO { ulMinKeySize: 16, ulMaxKeySize: 32, flags: CKF_DECRYPT }),
];

#[no_mangle]
pub unsafe extern "C" fn C_GetMechanismList(slot: CK_SLOT_ID, list: CK_MECHANISM_TYPE_PTR, count: CK_ULONG_PTR) -> CK_RV {
    guard("C_GetMechanismList", || {
        module()?;
        check_slot(slot)?;
        let types: Vec<CK_MECHANISM_TYPE> = MECHANISMS.iter().map(|(t, _)| *t).collect();
        write_list(&types, list, count)
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_GetMechanismInfo(slot: CK_SLOT_ID, ty: CK_MECHANISM_TYPE, info: *mut CK_MECHANISM_INFO) -> CK_RV {
    guard_detail("C_GetMechanismInfo", || format!("0x{ty:x}"), || {
        module()?;
        check_slot(slot)?;
        let info = out(info)?;
        let (_, i) = MECHANISMS.iter().find(|(t, _)| *t == ty).ok_or(CKR_MECHANISM_INVALID)?;
        *info = *i;
        ok()
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_InitToken(slot: CK_SLOT_ID, _pin: *mut CK_UTF8CHAR, _len: CK_ULONG, _label: *mut CK_UTF8CHAR) -> CK_RV {
    guard("C_InitToken", || {
        module()?;
        check_slot(slot)?;
        Err(CKR_TOKEN_WRITE_PROTECTED)
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_InitPIN(h: CK_SESSION_HANDLE, _pin: *mut CK_UTF8CHAR, _len: CK_ULONG) -> CK_RV {
    guard("C_InitPIN", || {
        module()?.check_session(h)?;
        Err(CKR_TOKEN_WRITE_PROTECTED)
    })
}

/// The PIN is the identity passphrase; it is changed by importing the identity again.
#[no_mangle]
pub unsafe extern "C" fn C_SetPIN(h: CK_SESSION_HANDLE, _old: *mut CK_UTF8CHAR, _ol: CK_ULONG, _new: *mut CK_UTF8CHAR, _nl: CK_ULONG) -> CK_RV {
    guard("C_SetPIN", || {
        module()?.check_session(h)?;
        Err(CKR_TOKEN_WRITE_PROTECTED)
    })
}

// --- sessions ---------------------------------------------------------------------------------------

#[no_mangle]
pub unsafe extern "C" fn C_OpenSession(slot: CK_SLOT_ID, flags: CK_FLAGS, _app: CK_VOID_PTR, _notify: CK_NOTIFY, h: CK_SESSION_HANDLE_PTR) -> CK_RV {
    guard("C_OpenSession", || {
        let m = module()?;
        check_slot(slot)?;
        let h = out(h)?;
        *h = m.open_session(flags)?;
        ok()
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_CloseSession(h: CK_SESSION_HANDLE) -> CK_RV {
    guard("C_CloseSession", || {
        module()?.close_session(h)?;
        ok()
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_CloseAllSessions(slot: CK_SLOT_ID) -> CK_RV {
    guard("C_CloseAllSessions", || {
        let m = module()?;
        check_slot(slot)?;
        m.close_all_sessions();
        ok()
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_GetSessionInfo(h: CK_SESSION_HANDLE, info: *mut CK_SESSION_INFO) -> CK_RV {
    guard("C_GetSessionInfo", || {
        let m = module()?;
        let (state, flags) = m.session_info(h)?;
        *out(info)? = CK_SESSION_INFO { slotID: SLOT_ID, state, flags, ulDeviceError: 0 };
        ok()
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_GetOperationState(h: CK_SESSION_HANDLE, _state: CK_BYTE_PTR, _len: CK_ULONG_PTR) -> CK_RV {
    guard("C_GetOperationState", || {
        module()?.check_session(h)?;
        Err(CKR_FUNCTION_NOT_SUPPORTED)
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_SetOperationState(h: CK_SESSION_HANDLE, _state: CK_BYTE_PTR, _len: CK_ULONG, _ek: CK_OBJECT_HANDLE, _ak: CK_OBJECT_HANDLE) -> CK_RV {
    guard("C_SetOperationState", || {
        module()?.check_session(h)?;
        Err(CKR_FUNCTION_NOT_SUPPORTED)
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_Login(h: CK_SESSION_HANDLE, user: CK_USER_TYPE, pin: *mut CK_UTF8CHAR, len: CK_ULONG) -> CK_RV {
    guard("C_Login", || {
        let m = module()?;
        let pin = slice(pin as *const u8, len)?;
        m.login(h, user, pin)?;
        ok()
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_Logout(h: CK_SESSION_HANDLE) -> CK_RV {
    guard("C_Logout", || {
        module()?.logout(h)?;
        ok()
    })
}

// --- objects ------------------------------------------------------------------------------------------

#[no_mangle]
pub unsafe extern "C" fn C_CreateObject(h: CK_SESSION_HANDLE, template: CK_ATTRIBUTE_PTR, n: CK_ULONG, obj: CK_OBJECT_HANDLE_PTR) -> CK_RV {
    guard("C_CreateObject", || {
        module()?.check_session(h)?;
        slice(template as *const CK_ATTRIBUTE, n)?;
        out(obj)?;
        Err(CKR_TOKEN_WRITE_PROTECTED)
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_CopyObject(h: CK_SESSION_HANDLE, o: CK_OBJECT_HANDLE, _t: CK_ATTRIBUTE_PTR, _n: CK_ULONG, new: CK_OBJECT_HANDLE_PTR) -> CK_RV {
    guard("C_CopyObject", || {
        module()?.with_object(h, o, |_| ())?;
        out(new)?;
        Err(CKR_TOKEN_WRITE_PROTECTED)
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_DestroyObject(h: CK_SESSION_HANDLE, o: CK_OBJECT_HANDLE) -> CK_RV {
    guard("C_DestroyObject", || {
        module()?.destroy_object(h, o)?;
        ok()
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_GetObjectSize(h: CK_SESSION_HANDLE, o: CK_OBJECT_HANDLE, size: CK_ULONG_PTR) -> CK_RV {
    guard("C_GetObjectSize", || {
        let n = module()?.with_object(h, o, |obj| obj.size())?;
        *out(size)? = n as CK_ULONG;
        ok()
    })
}

/// Per attribute: its value, or its length (NULL buffer); CK_UNAVAILABLE_INFORMATION with
/// CKR_ATTRIBUTE_SENSITIVE, CKR_ATTRIBUTE_TYPE_INVALID or CKR_BUFFER_TOO_SMALL otherwise. All
/// attributes are processed; the last of those errors is returned.
#[no_mangle]
pub unsafe extern "C" fn C_GetAttributeValue(h: CK_SESSION_HANDLE, o: CK_OBJECT_HANDLE, template: CK_ATTRIBUTE_PTR, n: CK_ULONG) -> CK_RV {
    guard("C_GetAttributeValue", || {
        let m = module()?;
        if template.is_null() && n > 0 {
            return Err(CKR_ARGUMENTS_BAD);
        }
        let attrs: &mut [CK_ATTRIBUTE] = if n == 0 { &mut [] } else { std::slice::from_raw_parts_mut(template, n as usize) };
        m.with_object(h, o, |obj| {
            let mut rv = CKR_OK;
            for a in attrs.iter_mut() {
                match obj.get(a.type_) {
                    objects::AttrValue::Value(v) => {
                        if a.pValue.is_null() {
                            a.ulValueLen = v.len() as CK_ULONG;
                        } else if (a.ulValueLen as usize) < v.len() {
                            a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                            rv = CKR_BUFFER_TOO_SMALL;
                        } else {
                            std::ptr::copy_nonoverlapping(v.as_ptr(), a.pValue as *mut u8, v.len());
                            a.ulValueLen = v.len() as CK_ULONG;
                        }
                    }
                    objects::AttrValue::Sensitive => {
                        a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                        rv = CKR_ATTRIBUTE_SENSITIVE;
                    }
                    objects::AttrValue::Invalid => {
                        a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                        rv = CKR_ATTRIBUTE_TYPE_INVALID;
                    }
                }
            }
            rv
        })
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_SetAttributeValue(h: CK_SESSION_HANDLE, o: CK_OBJECT_HANDLE, template: CK_ATTRIBUTE_PTR, n: CK_ULONG) -> CK_RV {
    guard("C_SetAttributeValue", || {
        module()?.with_object(h, o, |_| ())?;
        slice(template as *const CK_ATTRIBUTE, n)?;
        Err(CKR_TOKEN_WRITE_PROTECTED)
    })
}

fn describe_template(t: &[(CK_ATTRIBUTE_TYPE, Vec<u8>)]) -> String {
    t.iter()
        .map(|(ty, v)| match (*ty, v.len()) {
            (CKA_CLASS, 8) | (CKA_CLASS, 4) => {
                let mut b = [0u8; std::mem::size_of::<CK_ULONG>()];
                let n = v.len().min(b.len());
                b[..n].copy_from_slice(&v[..n]);
                format!("CLASS=0x{:x}", CK_ULONG::from_ne_bytes(b))
            }
            (ty, len) => format!("0x{ty:x}[{len}]"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[no_mangle]
pub unsafe extern "C" fn C_FindObjectsInit(h: CK_SESSION_HANDLE, template: CK_ATTRIBUTE_PTR, n: CK_ULONG) -> CK_RV {
    let parsed = std::cell::RefCell::new(Vec::new());
    let found = std::cell::Cell::new(None);
    let detail = || {
        let d = describe_template(&parsed.borrow());
        match found.get() {
            Some(n) if d.is_empty() => format!("=> {n} found"),
            Some(n) => format!("{d},=> {n} found"),
            None => d,
        }
    };
    guard_detail("C_FindObjectsInit", detail, || {
        let m = module()?;
        *parsed.borrow_mut() = read_template(template, n)?;
        found.set(Some(m.find_init(h, &parsed.borrow())?));
        ok()
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_FindObjects(h: CK_SESSION_HANDLE, objs: CK_OBJECT_HANDLE_PTR, max: CK_ULONG, count: CK_ULONG_PTR) -> CK_RV {
    guard("C_FindObjects", || {
        let m = module()?;
        let count = out(count)?;
        if objs.is_null() && max > 0 {
            return Err(CKR_ARGUMENTS_BAD);
        }
        let found = m.find_next(h, max as usize)?;
        if !found.is_empty() {
            std::ptr::copy_nonoverlapping(found.as_ptr(), objs, found.len());
        }
        *count = found.len() as CK_ULONG;
        ok()
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_FindObjectsFinal(h: CK_SESSION_HANDLE) -> CK_RV {
    guard("C_FindObjectsFinal", || {
        module()?.find_final(h)?;
        ok()
    })
}

// --- sign and decrypt ---------------------------------------------------------------------------------

unsafe fn mechanism_of(p: CK_MECHANISM_PTR, op: OpKind) -> Result<crypto::Mechanism, CK_RV> {
    let m = std::ptr::read_unaligned(p.as_ref().ok_or(CKR_ARGUMENTS_BAD)? as *const CK_MECHANISM);
    match (m.mechanism, op) {
        (CKM_RSA_PKCS, _) => Ok(crypto::Mechanism::RsaPkcs),
        (CKM_RSA_PKCS_OAEP, OpKind::Decrypt) => crypto::oaep_params(&m),
        (CKM_ECDSA, OpKind::Sign) => Ok(crypto::Mechanism::Ecdsa),
        (CKM_AES_KEY_WRAP, OpKind::Decrypt) => Ok(crypto::Mechanism::AesKeyWrap),
        _ => Err(CKR_MECHANISM_INVALID),
    }
}

fn mechanism_name(p: CK_MECHANISM_PTR) -> String {
    unsafe { p.as_ref().map(|m| format!("0x{:x}", { m.mechanism })).unwrap_or_default() }
}

/// Writes an operation's output with the two-call convention.
unsafe fn write_output(result: Output, buf: CK_BYTE_PTR, len: &mut CK_ULONG) -> Result<CK_RV, CK_RV> {
    match result {
        Output::Length(n) => {
            *len = n as CK_ULONG;
            ok()
        }
        Output::TooSmall(n) => {
            *len = n as CK_ULONG;
            Err(CKR_BUFFER_TOO_SMALL)
        }
        Output::Done(v) => {
            std::ptr::copy_nonoverlapping(v.as_ptr(), buf, v.len());
            *len = v.len() as CK_ULONG;
            ok()
        }
    }
}

unsafe fn run(kind: OpKind, h: CK_SESSION_HANDLE, data: &[u8], buf: CK_BYTE_PTR, len: CK_ULONG_PTR) -> Result<CK_RV, CK_RV> {
    let m = module()?;
    let len = out(len)?;
    let capacity = (!buf.is_null()).then_some(*len as usize);
    let result = m.op_run(h, kind, data, capacity)?;
    write_output(result, buf, len)
}

#[no_mangle]
pub unsafe extern "C" fn C_SignInit(h: CK_SESSION_HANDLE, mechanism: CK_MECHANISM_PTR, key: CK_OBJECT_HANDLE) -> CK_RV {
    guard_detail("C_SignInit", || mechanism_name(mechanism), || {
        let m = module()?;
        m.check_session(h)?;
        m.op_init(h, OpKind::Sign, mechanism_of(mechanism, OpKind::Sign)?, key)?;
        ok()
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_Sign(h: CK_SESSION_HANDLE, data: CK_BYTE_PTR, len: CK_ULONG, sig: CK_BYTE_PTR, sig_len: CK_ULONG_PTR) -> CK_RV {
    guard("C_Sign", || run(OpKind::Sign, h, slice(data as *const u8, len)?, sig, sig_len))
}

#[no_mangle]
pub unsafe extern "C" fn C_SignUpdate(h: CK_SESSION_HANDLE, data: CK_BYTE_PTR, len: CK_ULONG) -> CK_RV {
    guard("C_SignUpdate", || {
        module()?.sign_update(h, slice(data as *const u8, len)?)?;
        ok()
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_SignFinal(h: CK_SESSION_HANDLE, sig: CK_BYTE_PTR, sig_len: CK_ULONG_PTR) -> CK_RV {
    guard("C_SignFinal", || run(OpKind::Sign, h, &[], sig, sig_len))
}

#[no_mangle]
pub unsafe extern "C" fn C_DecryptInit(h: CK_SESSION_HANDLE, mechanism: CK_MECHANISM_PTR, key: CK_OBJECT_HANDLE) -> CK_RV {
    guard_detail("C_DecryptInit", || mechanism_name(mechanism), || {
        let m = module()?;
        m.check_session(h)?;
        m.op_init(h, OpKind::Decrypt, mechanism_of(mechanism, OpKind::Decrypt)?, key)?;
        ok()
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_Decrypt(h: CK_SESSION_HANDLE, data: CK_BYTE_PTR, len: CK_ULONG, plain: CK_BYTE_PTR, plain_len: CK_ULONG_PTR) -> CK_RV {
    guard("C_Decrypt", || run(OpKind::Decrypt, h, slice(data as *const u8, len)?, plain, plain_len))
}

// --- derive (ECDH) ----------------------------------------------------------------------------------

#[no_mangle]
pub unsafe extern "C" fn C_DeriveKey(
    h: CK_SESSION_HANDLE,
    mechanism: CK_MECHANISM_PTR,
    base: CK_OBJECT_HANDLE,
    template: CK_ATTRIBUTE_PTR,
    n: CK_ULONG,
    key: CK_OBJECT_HANDLE_PTR,
) -> CK_RV {
    let parsed = std::cell::RefCell::new(Vec::new());
    guard_detail("C_DeriveKey", || format!("{} {}", mechanism_name(mechanism), describe_template(&parsed.borrow())), || {
        let m = module()?;
        m.check_session(h)?;
        let mech = std::ptr::read_unaligned(mechanism.as_ref().ok_or(CKR_ARGUMENTS_BAD)? as *const CK_MECHANISM);
        let key = out(key)?;
        if mech.mechanism != CKM_ECDH1_DERIVE {
            return Err(CKR_MECHANISM_INVALID);
        }
        let params = crypto::ecdh_params(&mech)?;
        *parsed.borrow_mut() = read_template(template, n)?;
        *key = m.derive(h, &params, base, &parsed.borrow())?;
        ok()
    })
}

// --- everything else: not supported ----------------------------------------------------------------

macro_rules! unsupported_session_fn {
    ($name:ident ( $($arg:ident : $ty:ty),* )) => {
        #[no_mangle]
        pub unsafe extern "C" fn $name(h: CK_SESSION_HANDLE $(, $arg: $ty)*) -> CK_RV {
            $(let _ = $arg;)*
            guard(stringify!($name), || {
                module()?.check_session(h)?;
                Err(CKR_FUNCTION_NOT_SUPPORTED)
            })
        }
    };
}

unsupported_session_fn!(C_EncryptInit(m: CK_MECHANISM_PTR, k: CK_OBJECT_HANDLE));
unsupported_session_fn!(C_Encrypt(d: CK_BYTE_PTR, l: CK_ULONG, o: CK_BYTE_PTR, ol: CK_ULONG_PTR));
unsupported_session_fn!(C_EncryptUpdate(d: CK_BYTE_PTR, l: CK_ULONG, o: CK_BYTE_PTR, ol: CK_ULONG_PTR));
unsupported_session_fn!(C_EncryptFinal(o: CK_BYTE_PTR, ol: CK_ULONG_PTR));
unsupported_session_fn!(C_DecryptUpdate(d: CK_BYTE_PTR, l: CK_ULONG, o: CK_BYTE_PTR, ol: CK_ULONG_PTR));
unsupported_session_fn!(C_DecryptFinal(o: CK_BYTE_PTR, ol: CK_ULONG_PTR));
unsupported_session_fn!(C_DigestInit(m: CK_MECHANISM_PTR));
unsupported_session_fn!(C_Digest(d: CK_BYTE_PTR, l: CK_ULONG, o: CK_BYTE_PTR, ol: CK_ULONG_PTR));
unsupported_session_fn!(C_DigestUpdate(d: CK_BYTE_PTR, l: CK_ULONG));
unsupported_session_fn!(C_DigestKey(k: CK_OBJECT_HANDLE));
unsupported_session_fn!(C_DigestFinal(o: CK_BYTE_PTR, ol: CK_ULONG_PTR));
unsupported_session_fn!(C_SignRecoverInit(m: CK_MECHANISM_PTR, k: CK_OBJECT_HANDLE));
unsupported_session_fn!(C_SignRecover(d: CK_BYTE_PTR, l: CK_ULONG, o: CK_BYTE_PTR, ol: CK_ULONG_PTR));
unsupported_session_fn!(C_VerifyInit(m: CK_MECHANISM_PTR, k: CK_OBJECT_HANDLE));
unsupported_session_fn!(C_Verify(d: CK_BYTE_PTR, l: CK_ULONG, s: CK_BYTE_PTR, sl: CK_ULONG));
unsupported_session_fn!(C_VerifyUpdate(d: CK_BYTE_PTR, l: CK_ULONG));
unsupported_session_fn!(C_VerifyFinal(s: CK_BYTE_PTR, sl: CK_ULONG));
unsupported_session_fn!(C_VerifyRecoverInit(m: CK_MECHANISM_PTR, k: CK_OBJECT_HANDLE));
unsupported_session_fn!(C_VerifyRecover(d: CK_BYTE_PTR, l: CK_ULONG, o: CK_BYTE_PTR, ol: CK_ULONG_PTR));
unsupported_session_fn!(C_DigestEncryptUpdate(d: CK_BYTE_PTR, l: CK_ULONG, o: CK_BYTE_PTR, ol: CK_ULONG_PTR));
unsupported_session_fn!(C_DecryptDigestUpdate(d: CK_BYTE_PTR, l: CK_ULONG, o: CK_BYTE_PTR, ol: CK_ULONG_PTR));
unsupported_session_fn!(C_SignEncryptUpdate(d: CK_BYTE_PTR, l: CK_ULONG, o: CK_BYTE_PTR, ol: CK_ULONG_PTR));
unsupported_session_fn!(C_DecryptVerifyUpdate(d: CK_BYTE_PTR, l: CK_ULONG, o: CK_BYTE_PTR, ol: CK_ULONG_PTR));
unsupported_session_fn!(C_GenerateKey(m: CK_MECHANISM_PTR, t: CK_ATTRIBUTE_PTR, n: CK_ULONG, k: CK_OBJECT_HANDLE_PTR));
unsupported_session_fn!(C_GenerateKeyPair(
    m: CK_MECHANISM_PTR,
    pt: CK_ATTRIBUTE_PTR,
    pn: CK_ULONG,
    st: CK_ATTRIBUTE_PTR,
    sn: CK_ULONG,
    pk: CK_OBJECT_HANDLE_PTR,
    sk: CK_OBJECT_HANDLE_PTR
));
unsupported_session_fn!(C_WrapKey(m: CK_MECHANISM_PTR, w: CK_OBJECT_HANDLE, k: CK_OBJECT_HANDLE, o: CK_BYTE_PTR, ol: CK_ULONG_PTR));
unsupported_session_fn!(C_UnwrapKey(
    m: CK_MECHANISM_PTR,
    u: CK_OBJECT_HANDLE,
    w: CK_BYTE_PTR,
    wl: CK_ULONG,
    t: CK_ATTRIBUTE_PTR,
    n: CK_ULONG,
    k: CK_OBJECT_HANDLE_PTR
));

/// No random number generator (the token info has no CKF_RNG).
#[no_mangle]
pub unsafe extern "C" fn C_SeedRandom(h: CK_SESSION_HANDLE, _seed: CK_BYTE_PTR, _len: CK_ULONG) -> CK_RV {
    guard("C_SeedRandom", || {
        module()?.check_session(h)?;
        Err(CKR_RANDOM_NO_RNG)
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_GenerateRandom(h: CK_SESSION_HANDLE, _out: CK_BYTE_PTR, _len: CK_ULONG) -> CK_RV {
    guard("C_GenerateRandom", || {
        module()?.check_session(h)?;
        Err(CKR_RANDOM_NO_RNG)
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_GetFunctionStatus(h: CK_SESSION_HANDLE) -> CK_RV {
    guard("C_GetFunctionStatus", || {
        module()?.check_session(h)?;
        Err(CKR_FUNCTION_NOT_PARALLEL)
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_CancelFunction(h: CK_SESSION_HANDLE) -> CK_RV {
    guard("C_CancelFunction", || {
        module()?.check_session(h)?;
        Err(CKR_FUNCTION_NOT_PARALLEL)
    })
}

/// The one slot's token never comes or goes.
#[no_mangle]
pub unsafe extern "C" fn C_WaitForSlotEvent(flags: CK_FLAGS, slot: CK_SLOT_ID_PTR, reserved: CK_VOID_PTR) -> CK_RV {
    guard("C_WaitForSlotEvent", || {
        module()?;
        if slot.is_null() || !reserved.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        const CKF_DONT_BLOCK: CK_FLAGS = 1;
        if flags & CKF_DONT_BLOCK != 0 {
            Err(CKR_NO_EVENT)
        } else {
            Err(CKR_FUNCTION_NOT_SUPPORTED)
        }
    })
}

/// The function table `C_GetFunctionList` hands out.
pub static FUNCTION_LIST: CK_FUNCTION_LIST = CK_FUNCTION_LIST {
    version: CK_VERSION { major: 2, minor: 40 },
    C_Initialize: Some(C_Initialize),
    C_Finalize: Some(C_Finalize),
    C_GetInfo: Some(C_GetInfo),
    C_GetFunctionList: Some(C_GetFunctionList),
    C_GetSlotList: Some(C_GetSlotList),
    C_GetSlotInfo: Some(C_GetSlotInfo),
    C_GetTokenInfo: Some(C_GetTokenInfo),
    C_GetMechanismList: Some(C_GetMechanismList),
    C_GetMechanismInfo: Some(C_GetMechanismInfo),
    C_InitToken: Some(C_InitToken),
    C_InitPIN: Some(C_InitPIN),
    C_SetPIN: Some(C_SetPIN),
    C_OpenSession: Some(C_OpenSession),
    C_CloseSession: Some(C_CloseSession),
    C_CloseAllSessions: Some(C_CloseAllSessions),
    C_GetSessionInfo: Some(C_GetSessionInfo),
    C_GetOperationState: Some(C_GetOperationState),
    C_SetOperationState: Some(C_SetOperationState),
    C_Login: Some(C_Login),
    C_Logout: Some(C_Logout),
    C_CreateObject: Some(C_CreateObject),
    C_CopyObject: Some(C_CopyObject),
    C_DestroyObject: Some(C_DestroyObject),
    C_GetObjectSize: Some(C_GetObjectSize),
    C_GetAttributeValue: Some(C_GetAttributeValue),
    C_SetAttributeValue: Some(C_SetAttributeValue),
    C_FindObjectsInit: Some(C_FindObjectsInit),
    C_FindObjects: Some(C_FindObjects),
    C_FindObjectsFinal: Some(C_FindObjectsFinal),
    C_EncryptInit: Some(C_EncryptInit),
    C_Encrypt: Some(C_Encrypt),
    C_EncryptUpdate: Some(C_EncryptUpdate),
    C_EncryptFinal: Some(C_EncryptFinal),
    C_DecryptInit: Some(C_DecryptInit),
    C_Decrypt: Some(C_Decrypt),
    C_DecryptUpdate: Some(C_DecryptUpdate),
    C_DecryptFinal: Some(C_DecryptFinal),
    C_DigestInit: Some(C_DigestInit),
    C_Digest: Some(C_Digest),
    C_DigestUpdate: Some(C_DigestUpdate),
    C_DigestKey: Some(C_DigestKey),
    C_DigestFinal: Some(C_DigestFinal),
    C_SignInit: Some(C_SignInit),
    C_Sign: Some(C_Sign),
    C_SignUpdate: Some(C_SignUpdate),
    C_SignFinal: Some(C_SignFinal),
    C_SignRecoverInit: Some(C_SignRecoverInit),
    C_SignRecover: Some(C_SignRecover),
    C_VerifyInit: Some(C_VerifyInit),
    C_Verify: Some(C_Verify),
    C_VerifyUpdate: Some(C_VerifyUpdate),
    C_VerifyFinal: Some(C_VerifyFinal),
    C_VerifyRecoverInit: Some(C_VerifyRecoverInit),
    C_VerifyRecover: Some(C_VerifyRecover),
    C_DigestEncryptUpdate: Some(C_DigestEncryptUpdate),
    C_DecryptDigestUpdate: Some(C_DecryptDigestUpdate),
    C_SignEncryptUpdate: Some(C_SignEncryptUpdate),
    C_DecryptVerifyUpdate: Some(C_DecryptVerifyUpdate),
    C_GenerateKey: Some(C_GenerateKey),
    C_GenerateKeyPair: Some(C_GenerateKeyPair),
    C_WrapKey: Some(C_WrapKey),
    C_UnwrapKey: Some(C_UnwrapKey),
    C_DeriveKey: Some(C_DeriveKey),
    C_SeedRandom: Some(C_SeedRandom),
    C_GenerateRandom: Some(C_GenerateRandom),
    C_GetFunctionStatus: Some(C_GetFunctionStatus),
    C_CancelFunction: Some(C_CancelFunction),
    C_WaitForSlotEvent: Some(C_WaitForSlotEvent),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_general_error() {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        assert_eq!(guard("test", || panic!("boom")), CKR_GENERAL_ERROR);
        assert_eq!(guard_detail("test", || panic!("detail"), || Ok(CKR_OK)), CKR_OK);
        std::panic::set_hook(hook);
    }

    #[test]
    fn text_fields_are_blank_padded() {
        assert_eq!(&padded::<8>("abc"), b"abc     ");
        assert_eq!(&padded::<4>("abcdef"), b"abcd");
        // Never half a UTF-8 character.
        assert_eq!(&padded::<3>("aé€"), b"a\xc3\xa9");
    }
}
