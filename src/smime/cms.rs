//! Safe wrapper over the OpenSSL CMS calls the `openssl` crate lacks: parse a ContentInfo, list
//! the certificates and CRLs it carries, and verify each signer on its own. OpenSSL makes every
//! cryptographic decision here.
//!
//! Every raw pointer stays inside this module. A `Cms` owns its `CMS_ContentInfo`; SignerInfos
//! and BIOs borrowed from it never outlive the call that borrowed them.

use crate::ffi;
use foreign_types::ForeignType;
use libc::c_int;
use openssl::error::ErrorStack;
use openssl::x509::{X509Crl, X509};
use openssl_sys::{OPENSSL_STACK, X509 as RawX509, X509_CRL};
use std::ptr::{self, NonNull};

/// Bytes read from a content BIO at a time.
const CHUNK: c_int = 1 << 16;

/// An owned `CMS_ContentInfo`.
pub struct Cms {
    ptr: NonNull<ffi::CMS_ContentInfo>,
}

impl Drop for Cms {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from d2i_CMS_ContentInfo, is owned by this value alone, and is
        // freed exactly once, here.
        unsafe { ffi::CMS_ContentInfo_free(self.ptr.as_ptr()) }
    }
}

/// What OpenSSL said about one signer.
#[derive(Debug, Clone, Default)]
pub struct SignerCheck {
    /// Index into the candidate certificates of the one this signer names, if any.
    pub cert_index: Option<usize>,
    /// The signature verified: over the signed attributes when there are some, else over the
    /// content digest (RFC 5652 §5.4).
    pub signature_ok: bool,
    /// The content digest matched (with signed attributes: the messageDigest attribute; without:
    /// the signature over it). None when the content could not be digested at all.
    pub content_ok: Option<bool>,
    /// The SignerInfo has signed attributes (as OpenSSL parsed it).
    pub signed_attributes: bool,
    /// OpenSSL's reasons for failures, for classification and the debug log.
    pub errors: Vec<String>,
}

/// Result of digesting the content and checking the signers.
pub struct SignedOutcome {
    /// The first SignerInfos, as many as the caller asked to check, in order.
    pub signers: Vec<SignerCheck>,
    /// How many SignerInfos the SignedData has in all.
    pub signer_count: usize,
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
        // SAFETY: `p` points at `len` readable bytes that outlive the call; d2i reads no more
        // than `len` of them and returns a new object that we own, or null.
        let ptr = unsafe { ffi::d2i_CMS_ContentInfo(ptr::null_mut(), &mut p, len) };
        drain_errors();
        NonNull::new(ptr).map(|ptr| Cms { ptr })
    }

    /// The certificates carried in the message.
    pub fn certificates(&self) -> Vec<X509> {
        // SAFETY: `self.ptr` is a live ContentInfo. CMS_get1_certs returns a new stack (or null)
        // whose every element holds a reference for us: `take_stack` moves each into an owned
        // X509 and frees the stack.
        let out = unsafe { take_stack(ffi::CMS_get1_certs(self.ptr.as_ptr()), |p| X509::from_ptr(p.cast::<RawX509>())) };
        drain_errors();
        out
    }

    /// The CRLs carried in the message.
    pub fn crls(&self) -> Vec<X509Crl> {
        // SAFETY: as for `certificates`: a new stack of elements with a reference each.
        let out = unsafe { take_stack(ffi::CMS_get1_crls(self.ptr.as_ptr()), |p| X509Crl::from_ptr(p.cast::<X509_CRL>())) };
        drain_errors();
        out
    }

    /// The SignerInfos of a SignedData (none for any other content type), borrowed from `self`:
    /// valid while `self` lives and no SignerInfo is added or removed.
    fn signer_infos(&self) -> Vec<NonNull<ffi::CMS_SignerInfo>> {
        // SAFETY: `self.ptr` is a live ContentInfo; the stack returned (null for a content type
        // without signers) is owned by it and only read here.
        let infos = unsafe { ffi::CMS_get0_SignerInfos(self.ptr.as_ptr()) };
        drain_errors();
        if infos.is_null() {
            return Vec::new();
        }
        // SAFETY: `infos` is a live, non-null stack owned by the ContentInfo.
        let count = unsafe { ffi::OPENSSL_sk_num(infos) }.max(0);
        // SAFETY: every index is below the stack's length; a null element is skipped.
        (0..count).filter_map(|i| NonNull::new(unsafe { ffi::OPENSSL_sk_value(infos, i) }.cast::<ffi::CMS_SignerInfo>())).collect()
    }

    /// For each of the first `max` SignerInfos, the index of the first of `certs` it names
    /// (by issuer and serial number, or subject key identifier).
    pub fn signer_certificates(&self, certs: &[X509], max: usize) -> Vec<Option<usize>> {
        let found = self.signer_infos().into_iter().take(max).map(|si| position_of(si, certs)).collect();
        drain_errors();
        found
    }

    /// Digests the content (`detached` for multipart/signed, else the embedded content) and
    /// checks the first `max` SignerInfos against it, looking up each signer's certificate in
    /// `candidates`. Digesting happens once, whatever the number of signers.
    pub fn verify_signers(&mut self, detached: Option<&[u8]>, candidates: &[X509], max: usize) -> SignedOutcome {
        // SAFETY: clears this thread's OpenSSL error queue; no pointers involved.
        unsafe { ffi::ERR_clear_error() };
        let infos = self.signer_infos();
        let mut outcome = SignedOutcome { signers: Vec::new(), signer_count: infos.len(), content: Vec::new(), digest_setup_error: None };
        let chain = match self.content_digests(detached, &mut outcome.content) {
            Ok(chain) => Some(chain),
            Err(e) => {
                outcome.digest_setup_error = Some(e);
                None
            }
        };
        for si in infos.into_iter().take(max) {
            let mut check = SignerCheck { cert_index: position_of(si, candidates), ..SignerCheck::default() };
            drain_errors();
            // SAFETY: `si` is a live SignerInfo of `self` (see `signer_infos`).
            check.signed_attributes = unsafe { ffi::CMS_signed_get_attr_count(si.as_ptr()) } >= 0;
            if let Some(idx) = check.cert_index {
                // SAFETY: `si` is live; the certificate is a live X509 that the SignerInfo
                // takes its own reference to.
                unsafe { ffi::CMS_SignerInfo_set1_signer_cert(si.as_ptr(), candidates[idx].as_ptr()) };
                if check.signed_attributes {
                    // SAFETY: `si` is live and has its signer certificate (and so its key) set.
                    check.signature_ok = unsafe { ffi::CMS_SignerInfo_verify(si.as_ptr()) } == 1;
                    check.errors.extend(drain_errors());
                }
                if let Some(chain) = &chain {
                    // SAFETY: `si` is live with its key set; `chain` is the digest BIO chain
                    // of this ContentInfo, read to its end, and still alive.
                    let ok = unsafe { ffi::CMS_SignerInfo_verify_content(si.as_ptr(), chain.0.as_ptr()) } == 1;
                    check.content_ok = Some(ok);
                    check.errors.extend(drain_errors());
                }
                if !check.signed_attributes {
                    // Without signed attributes the signature is over the content digest, and
                    // CMS_SignerInfo_verify_content checked exactly that (CMS_SignerInfo_verify
                    // only knows signatures over signed attributes).
                    check.signature_ok = check.content_ok == Some(true);
                }
            }
            outcome.signers.push(check);
        }
        drop(chain);
        drain_errors();
        outcome
    }

    /// Sets up the digest BIO chain over the content and reads the content through it, so each
    /// digest the SignedData lists is computed once. The embedded content is kept in `content`.
    fn content_digests(&mut self, detached: Option<&[u8]>, content: &mut Vec<u8>) -> Result<OwnedBio, String> {
        let input = match detached {
            Some(data) => {
                let len = c_int::try_from(data.len()).map_err(|_| "content too large".to_string())?;
                // SAFETY: `data` outlives the BIO: the BIO (alone or inside the chain) is freed
                // before this function's caller returns, and a mem-buf BIO only reads.
                let bio = unsafe { ffi::BIO_new_mem_buf(data.as_ptr().cast(), len) };
                Some(NonNull::new(bio).ok_or_else(|| "out of memory".to_string())?)
            }
            None => None,
        };
        let icont = input.map_or(ptr::null_mut(), NonNull::as_ptr);
        // SAFETY: `self.ptr` is a live ContentInfo; `icont` is null (use the embedded content)
        // or a live BIO that the returned chain takes over on success.
        let chain = unsafe { ffi::CMS_dataInit(self.ptr.as_ptr(), icont) };
        let Some(chain) = NonNull::new(chain).map(OwnedBio) else {
            if let Some(input) = input {
                // SAFETY: on failure CMS_dataInit leaves `icont` to us; freed once.
                unsafe { ffi::BIO_free_all(input.as_ptr()) };
            }
            let reason = drain_errors().join("; ");
            return Err(if reason.is_empty() { "cannot digest content".into() } else { reason });
        };
        let mut buf = vec![0u8; CHUNK as usize];
        loop {
            // SAFETY: `chain` is live; `buf` has CHUNK writable bytes.
            let n = unsafe { ffi::BIO_read(chain.0.as_ptr(), buf.as_mut_ptr().cast(), CHUNK) };
            let Ok(n @ 1..) = usize::try_from(n) else { break };
            if detached.is_none() {
                content.extend_from_slice(&buf[..n]);
            }
        }
        Ok(chain)
    }
}

/// A BIO chain we own, freed when dropped.
struct OwnedBio(NonNull<openssl_sys::BIO>);

impl Drop for OwnedBio {
    fn drop(&mut self) {
        // SAFETY: the chain came from CMS_dataInit, is owned by this value alone, and is freed
        // exactly once, here (with the content BIO it took over).
        unsafe { ffi::BIO_free_all(self.0.as_ptr()) }
    }
}

/// Index of the first certificate in `certs` that `si` names.
fn position_of(si: NonNull<ffi::CMS_SignerInfo>, certs: &[X509]) -> Option<usize> {
    // SAFETY: `si` is a live SignerInfo and each certificate a live X509; the comparison only
    // reads both.
    certs.iter().position(|c| unsafe { ffi::CMS_SignerInfo_cert_cmp(si.as_ptr(), c.as_ptr()) } == 0)
}

impl Cms {
    /// Decrypts an (Auth)EnvelopedData with the key of the recipient `cert` names, streaming the
    /// plaintext into one buffer (OpenSSL's `CMS_decrypt` would hold it twice). For AES-GCM the
    /// tag is checked at the end; a failure returns no plaintext at all.
    pub fn decrypt(&mut self, key: &openssl::pkey::PKeyRef<openssl::pkey::Private>, cert: &X509, size_hint: usize) -> Result<Vec<u8>, String> {
        use foreign_types::ForeignTypeRef;
        const BIO_C_GET_CIPHER_STATUS: libc::c_int = 113;
        const BIO_TYPE_CIPHER: libc::c_int = 10 | 0x0200;
        // SAFETY: clears this thread's OpenSSL error queue.
        unsafe { ffi::ERR_clear_error() };
        // SAFETY: `self.ptr` is a live ContentInfo, `key` and `cert` live objects; OpenSSL
        // takes its own references to what it keeps.
        if unsafe { ffi::CMS_decrypt_set1_pkey(self.ptr.as_ptr(), key.as_ptr(), cert.as_ptr()) } != 1 {
            return Err(drain_errors().join("; "));
        }
        // SAFETY: `self.ptr` is live; a null input BIO means "the embedded ciphertext".
        let Some(chain) = NonNull::new(unsafe { ffi::CMS_dataInit(self.ptr.as_ptr(), ptr::null_mut()) }).map(OwnedBio) else {
            return Err(drain_errors().join("; "));
        };
        let mut out = crate::bigbuf::with_capacity(size_hint);
        let mut buf = vec![0u8; CHUNK as usize];
        let read_error = loop {
            // SAFETY: `chain` is live; `buf` has CHUNK writable bytes.
            let n = unsafe { ffi::BIO_read(chain.0.as_ptr(), buf.as_mut_ptr().cast(), CHUNK) };
            match usize::try_from(n) {
                Ok(0) => break false,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(_) => break true,
            }
        };
        // The cipher BIO reports whether the final block (and the GCM tag) checked out.
        // SAFETY: `chain` is live; BIO_C_GET_CIPHER_STATUS only reads the cipher BIO's state.
        let status_ok = unsafe {
            ffi::BIO_method_type(chain.0.as_ptr()) != BIO_TYPE_CIPHER
                || ffi::BIO_ctrl(chain.0.as_ptr(), BIO_C_GET_CIPHER_STATUS, 0, ptr::null_mut()) > 0
        };
        drop(chain);
        let errors = drain_errors();
        if read_error || !status_ok || !errors.is_empty() {
            return Err(if errors.is_empty() { "final block or authentication tag invalid".into() } else { errors.join("; ") });
        }
        Ok(out)
    }
}

/// Moves the elements of a `get1` stack (each element holds a reference for us) into Rust
/// values, then frees the stack itself. Null elements are skipped.
///
/// # Safety
/// `stack` is null or a stack we own whose non-null elements each carry a reference that
/// `wrap` takes over.
unsafe fn take_stack<T>(stack: *mut OPENSSL_STACK, mut wrap: impl FnMut(*mut libc::c_void) -> T) -> Vec<T> {
    if stack.is_null() {
        return Vec::new();
    }
    // SAFETY: `stack` is a live stack we own (caller's contract); indices are below its length;
    // it is freed once, after its elements were moved out.
    unsafe {
        let n = ffi::OPENSSL_sk_num(stack).max(0);
        let out = (0..n).map(|i| ffi::OPENSSL_sk_value(stack, i)).filter(|p| !p.is_null()).map(&mut wrap).collect();
        ffi::OPENSSL_sk_free(stack);
        out
    }
}
