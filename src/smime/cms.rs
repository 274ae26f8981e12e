//! Safe wrapper over the OpenSSL CMS calls the `openssl` crate lacks: parse a ContentInfo, list
//! the certificates and CRLs it carries, and verify each signer on its own. OpenSSL makes every
//! cryptographic decision here.

use crate::ffi;
use foreign_types::ForeignType;
use openssl::error::ErrorStack;
use openssl::x509::{X509Crl, X509};
use openssl_sys::{OPENSSL_STACK, X509 as RawX509, X509_CRL};
use std::ptr;

/// An owned `CMS_ContentInfo`.
pub struct Cms {
    ptr: *mut ffi::CMS_ContentInfo,
}

impl Drop for Cms {
    fn drop(&mut self) {
        unsafe { ffi::CMS_ContentInfo_free(self.ptr) }
    }
}

/// What OpenSSL said about one signer.
#[derive(Debug, Clone, Default)]
pub struct SignerCheck {
    /// Index into the candidate certificates of the one this signer names, if any.
    pub cert_index: Option<usize>,
    /// The signature over the signed attributes (or over the digest) verified.
    pub signature_ok: bool,
    /// The content digest matched. None when the content could not be digested at all.
    pub content_ok: Option<bool>,
    /// OpenSSL's reasons for failures, for classification and the debug log.
    pub errors: Vec<String>,
}

/// Result of digesting the content and checking every signer.
pub struct SignedOutcome {
    pub signers: Vec<SignerCheck>,
    /// The embedded content of an opaque signature (empty for a detached one: the caller has it).
    pub content: Vec<u8>,
    /// Digesting failed before any signer could be checked (e.g. unknown digest algorithm).
    pub digest_setup_error: Option<String>,
}

fn drain_errors() -> Vec<String> {
    ErrorStack::get().errors().iter().map(|e| e.reason().unwrap_or("unknown").to_string()).collect()
}

impl Cms {
    /// Parses DER or BER. None when it is not a CMS ContentInfo.
    pub fn from_der(der: &[u8]) -> Option<Cms> {
        let mut p = der.as_ptr();
        let len = libc::c_long::try_from(der.len()).ok()?;
        let ptr = unsafe { ffi::d2i_CMS_ContentInfo(ptr::null_mut(), &mut p, len) };
        drain_errors();
        (!ptr.is_null()).then_some(Cms { ptr })
    }

    /// The certificates carried in the message.
    pub fn certificates(&self) -> Vec<X509> {
        unsafe {
            let stack = ffi::CMS_get1_certs(self.ptr);
            let out = take_stack(stack, |p| X509::from_ptr(p as *mut RawX509));
            drain_errors();
            out
        }
    }

    /// The CRLs carried in the message.
    pub fn crls(&self) -> Vec<X509Crl> {
        unsafe {
            let stack = ffi::CMS_get1_crls(self.ptr);
            let out = take_stack(stack, |p| X509Crl::from_ptr(p as *mut X509_CRL));
            drain_errors();
            out
        }
    }

    /// Digests the content (`detached` for multipart/signed, else the embedded content) and
    /// checks every SignerInfo against it, looking up each signer's certificate in `candidates`.
    pub fn verify_signers(&mut self, detached: Option<&[u8]>, candidates: &[X509]) -> SignedOutcome {
        unsafe { ffi::ERR_clear_error() };
        let mut outcome = SignedOutcome { signers: Vec::new(), content: Vec::new(), digest_setup_error: None };
        let infos = unsafe { ffi::CMS_get0_SignerInfos(self.ptr) };
        let count = if infos.is_null() { 0 } else { unsafe { ffi::OPENSSL_sk_num(infos) }.max(0) as usize };

        // The content BIO chain computes every digest the SignedData lists while we read it.
        let input = match detached {
            Some(data) => match i32::try_from(data.len()) {
                Ok(len) => unsafe { ffi::BIO_new_mem_buf(data.as_ptr().cast(), len) },
                Err(_) => ptr::null_mut(),
            },
            None => ptr::null_mut(),
        };
        if detached.is_some() && input.is_null() {
            outcome.digest_setup_error = Some("content too large".into());
        }
        let chain = if outcome.digest_setup_error.is_none() { unsafe { ffi::CMS_dataInit(self.ptr, input) } } else { ptr::null_mut() };
        if chain.is_null() {
            if !input.is_null() {
                unsafe { ffi::BIO_free_all(input) };
            }
            let reason = drain_errors().join("; ");
            outcome.digest_setup_error.get_or_insert(if reason.is_empty() { "cannot digest content".into() } else { reason });
        } else {
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = unsafe { ffi::BIO_read(chain, buf.as_mut_ptr().cast(), buf.len() as i32) };
                if n <= 0 {
                    break;
                }
                if detached.is_none() {
                    outcome.content.extend_from_slice(&buf[..n as usize]);
                }
            }
        }

        for i in 0..count {
            let si = unsafe { ffi::OPENSSL_sk_value(infos, i as i32) } as *mut ffi::CMS_SignerInfo;
            let mut check = SignerCheck::default();
            check.cert_index = candidates
                .iter()
                .position(|c| unsafe { ffi::CMS_SignerInfo_cert_cmp(si, c.as_ptr()) } == 0);
            drain_errors();
            if let Some(idx) = check.cert_index {
                unsafe { ffi::CMS_SignerInfo_set1_signer_cert(si, candidates[idx].as_ptr()) };
                check.signature_ok = unsafe { ffi::CMS_SignerInfo_verify(si) } == 1;
                check.errors.extend(drain_errors());
                if !chain.is_null() {
                    let ok = unsafe { ffi::CMS_SignerInfo_verify_content(si, chain) } == 1;
                    check.content_ok = Some(ok);
                    check.errors.extend(drain_errors());
                }
            }
            outcome.signers.push(check);
        }
        if !chain.is_null() {
            unsafe { ffi::BIO_free_all(chain) };
        }
        drain_errors();
        outcome
    }
}

impl Cms {
    /// Decrypts an (Auth)EnvelopedData with the key of the recipient `cert` names, streaming the
    /// plaintext into one buffer (OpenSSL's `CMS_decrypt` would hold it twice). For AES-GCM the
    /// tag is checked at the end; a failure returns no plaintext at all.
    pub fn decrypt(&mut self, key: &openssl::pkey::PKeyRef<openssl::pkey::Private>, cert: &X509, size_hint: usize) -> Result<Vec<u8>, String> {
        use foreign_types::ForeignTypeRef;
        const BIO_C_GET_CIPHER_STATUS: libc::c_int = 113;
        const BIO_TYPE_CIPHER: libc::c_int = 10 | 0x0200;
        unsafe {
            ffi::ERR_clear_error();
            if ffi::CMS_decrypt_set1_pkey(self.ptr, key.as_ptr(), cert.as_ptr()) != 1 {
                return Err(drain_errors().join("; "));
            }
            let chain = ffi::CMS_dataInit(self.ptr, ptr::null_mut());
            if chain.is_null() {
                return Err(drain_errors().join("; "));
            }
            let mut out = crate::bigbuf::with_capacity(size_hint);
            let mut buf = vec![0u8; 1 << 16];
            let read_error = loop {
                let n = ffi::BIO_read(chain, buf.as_mut_ptr().cast(), buf.len() as i32);
                if n <= 0 {
                    break n < 0;
                }
                out.extend_from_slice(&buf[..n as usize]);
            };
            // The cipher BIO reports whether the final block (and the GCM tag) checked out.
            let status_ok = ffi::BIO_method_type(chain) != BIO_TYPE_CIPHER
                || ffi::BIO_ctrl(chain, BIO_C_GET_CIPHER_STATUS, 0, ptr::null_mut()) > 0;
            ffi::BIO_free_all(chain);
            let errors = drain_errors();
            if read_error || !status_ok || !errors.is_empty() {
                return Err(if errors.is_empty() { "final block or authentication tag invalid".into() } else { errors.join("; ") });
            }
            Ok(out)
        }
    }
}

/// Moves the elements of a `get1` stack (each element holds a reference for us) into Rust
/// values, then frees the stack itself.
unsafe fn take_stack<T>(stack: *mut OPENSSL_STACK, wrap: impl FnMut(*mut libc::c_void) -> T) -> Vec<T> {
    if stack.is_null() {
        return Vec::new();
    }
    let n = ffi::OPENSSL_sk_num(stack).max(0);
    let out = (0..n).map(|i| ffi::OPENSSL_sk_value(stack, i)).map(wrap).collect();
    ffi::OPENSSL_sk_free(stack);
    out
}
