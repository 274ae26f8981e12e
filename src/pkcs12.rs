//! Reading PKCS#12 (.p12/.pfx) files: PBES2/AES as current software writes them, and the legacy
//! 3DES and RC2 forms older Windows and Firefox exports use (RC2 needs OpenSSL's legacy
//! provider, loaded once on first use).

use crate::certs::summary::Cert;
use crate::error::{Error, Result};
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{PKey, Private};
use std::sync::OnceLock;

/// What a PKCS#12 file holds.
pub struct Pkcs12Contents {
    pub key: Option<PKey<Private>>,
    pub cert: Option<Cert>,
    /// Other certificates in the file (normally the chain).
    pub others: Vec<Cert>,
    /// How many private keys the file holds (OpenSSL's parser returns only the first).
    pub key_count: usize,
}

fn load_legacy_provider() {
    static PROVIDERS: OnceLock<Vec<openssl::provider::Provider>> = OnceLock::new();
    PROVIDERS.get_or_init(|| {
        // Loading "legacy" explicitly disables the implicit default provider: load both.
        ["default", "legacy"]
            .iter()
            .filter_map(|name| match openssl::provider::Provider::try_load(None, name, true) {
                Ok(p) => Some(p),
                Err(e) => {
                    log::warn!("OpenSSL provider {name} unavailable: {e}");
                    None
                }
            })
            .collect()
    });
}

/// Opens a PKCS#12 file with its password. `source` names it in errors.
pub fn open(bytes: &[u8], password: &str, source: &str) -> Result<Pkcs12Contents> {
    load_legacy_provider();
    // OpenSSL's error stack stays with the error as its cause: the log and `--verbose` show it,
    // the reply does not.
    let p12 = Pkcs12::from_der(bytes)
        .map_err(|e| Error::BadPkcs12 { source: source.into(), reason: "not PKCS#12, or truncated".into(), cause: Some(e) })?;
    let parsed = p12.parse2(password).map_err(|e| {
        let text = e.to_string();
        if text.contains("mac verify failure") || text.contains("decrypt") || text.contains("bad decrypt") {
            Error::WrongPassword { source: source.into(), cause: Some(e) }
        } else {
            Error::BadPkcs12 { source: source.into(), reason: "corrupt or unsupported encryption".into(), cause: Some(e) }
        }
    })?;
    let cert = parsed.cert.as_deref().map(Cert::from_x509).transpose().map_err(|e| Error::BadPkcs12 {
        source: source.into(),
        reason: format!("certificate unreadable: {e}"),
        cause: None,
    })?;
    let others = parsed
        .ca
        .map(|stack| stack.iter().filter_map(|c| Cert::from_x509(c).ok()).collect())
        .unwrap_or_default();
    let key_count = count_keys(bytes, password);
    Ok(Pkcs12Contents { key: parsed.pkey, cert, others, key_count })
}


/// Counts the key bags in every SafeContents, decrypting the encrypted ones with the password
/// (already known to be right).
fn count_keys(bytes: &[u8], password: &str) -> usize {
    use crate::ffi;
    let Ok(pass) = std::ffi::CString::new(password) else { return 0 };
    let Ok(len) = libc::c_long::try_from(bytes.len()) else { return 0 };
    let mut count = 0;
    // SAFETY: `p` points at `len` readable bytes for d2i_PKCS12, which returns an object we own
    // (or null, checked). Every stack returned by the unpack calls is ours (null checked) and is
    // freed once with its elements; indices stay below each stack's length; the PKCS7 and bag
    // pointers are borrowed from stacks that are still alive. `pass` is NUL-terminated.
    unsafe {
        let mut p = bytes.as_ptr();
        let p12 = ffi::d2i_PKCS12(std::ptr::null_mut(), &mut p, len);
        if p12.is_null() {
            let _ = openssl::error::ErrorStack::get();
            return 0;
        }
        let safes = ffi::PKCS12_unpack_authsafes(p12);
        if !safes.is_null() {
            for i in 0..ffi::OPENSSL_sk_num(safes) {
                let p7 = ffi::OPENSSL_sk_value(safes, i) as *mut openssl_sys::PKCS7;
                if p7.is_null() {
                    continue;
                }
                let mut bags = ffi::PKCS12_unpack_p7data(p7);
                if bags.is_null() {
                    bags = ffi::PKCS12_unpack_p7encdata(p7, pass.as_ptr(), -1);
                }
                if bags.is_null() {
                    continue;
                }
                for j in 0..ffi::OPENSSL_sk_num(bags) {
                    let bag = ffi::OPENSSL_sk_value(bags, j);
                    if bag.is_null() {
                        continue;
                    }
                    let nid = ffi::PKCS12_SAFEBAG_get_nid(bag);
                    if nid == openssl_sys::NID_keyBag || nid == openssl_sys::NID_pkcs8ShroudedKeyBag {
                        count += 1;
                    }
                }
                ffi::OPENSSL_sk_pop_free(bags, Some(ffi::PKCS12_SAFEBAG_free));
            }
            ffi::OPENSSL_sk_pop_free(safes, Some(ffi::free_pkcs7));
        }
        ffi::PKCS12_free(p12);
    }
    let _ = openssl::error::ErrorStack::get();
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn openssls_error_stack_stays_behind_the_error_not_in_its_message() {
        let Err(e) = open(b"not a PKCS#12 file", "x", "garbage.p12") else { panic!("opened garbage") };
        assert_eq!(e.code(), "bad_pkcs12");
        assert_eq!(e.to_string(), "garbage.p12: not a usable PKCS#12 file (not PKCS#12, or truncated)");
        assert!(e.source().and_then(|c| c.downcast_ref::<openssl::error::ErrorStack>()).is_some(), "the stack is kept");
        let causes = crate::error::causes(&e);
        assert!(!causes.is_empty() && causes.iter().all(|c| !e.to_string().contains(c.as_str())), "{causes:?}");
    }
}
