//! Making a detached CMS signature for outgoing mail: SHA-256, the signer's chain,
//! SMIMECapabilities (what we can decrypt, strongest first), signingTime, and the encryption key
//! preference (RFC 8551's attribute and Microsoft's), so recipients know which certificate to
//! encrypt to. The `openssl` crate's `CmsContentInfo::sign` cannot add attributes, hence FFI.

use crate::asn1::der_tlv;
use crate::certs::summary::Cert;
use crate::ffi;
use foreign_types::ForeignType;
use openssl::pkey::{PKey, Private};
use std::ffi::CString;
use std::ptr;

use openssl_sys::{CMS_BINARY, CMS_DETACHED, CMS_NOSMIMECAP, CMS_PARTIAL, V_ASN1_SEQUENCE};

/// Content ciphers we advertise, strongest first.
const CAPABILITIES: &[(libc::c_int, libc::c_int)] = &[
    (openssl_sys::NID_aes_256_gcm, -1),
    (openssl_sys::NID_aes_128_gcm, -1),
    (openssl_sys::NID_aes_256_cbc, -1),
    (openssl_sys::NID_aes_192_cbc, -1),
    (openssl_sys::NID_aes_128_cbc, -1),
];

/// Why signing failed (OpenSSL's words, for the log and the error).
#[derive(Debug)]
pub struct SignError(pub String);

fn openssl_error(what: &str) -> SignError {
    let stack = openssl::error::ErrorStack::get();
    SignError(format!("{what}: {stack}"))
}

/// The contents of a certificate's IssuerAndSerialNumber (issuer Name, serial INTEGER), DER.
fn issuer_and_serial_contents(cert: &Cert) -> Vec<u8> {
    [cert.fields.issuer_der.clone(), der_tlv(0x02, &cert.fields.serial)].concat()
}

/// Signs `content` (the exact bytes of the first part of the multipart/signed) and returns the
/// DER of the detached SignedData.
pub fn sign_detached(content: &[u8], cert: &Cert, key: &PKey<Private>, chain: &[Cert]) -> Result<Vec<u8>, SignError> {
    let content_len = libc::c_int::try_from(content.len()).map_err(|_| SignError("content too large".into()))?;
    // SAFETY: clears this thread's OpenSSL error queue.
    unsafe { ffi::ERR_clear_error() };
    let flags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
    let cms = {
        // SAFETY: a new, empty stack that we own (null on allocation failure, checked).
        let certs = unsafe { ffi::OPENSSL_sk_new_null() };
        if certs.is_null() {
            return Err(openssl_error("OPENSSL_sk_new_null"));
        }
        for c in chain {
            // SAFETY: `certs` is live; the stack borrows each certificate, which outlives it.
            if unsafe { ffi::OPENSSL_sk_push(certs, c.x509.as_ptr() as *const libc::c_void) } <= 0 {
                // SAFETY: `certs` is ours and holds only borrowed pointers: free the stack alone.
                unsafe { ffi::OPENSSL_sk_free(certs) };
                return Err(openssl_error("OPENSSL_sk_push"));
            }
        }
        // SAFETY: with CMS_PARTIAL and no signer, CMS_sign makes an empty SignedData holding its
        // own references to the chain certificates (`certs` is a stack of X509).
        let cms = unsafe { ffi::CMS_sign(ptr::null_mut(), ptr::null_mut(), certs.cast(), ptr::null_mut(), flags) };
        // SAFETY: CMS_sign took its own references; the stack itself is ours to free, once.
        unsafe { ffi::OPENSSL_sk_free(certs) };
        if cms.is_null() {
            return Err(openssl_error("CMS_sign"));
        }
        cms
    };
    let result = (|| {
        // SAFETY: `cms` is a live partial SignedData; certificate and key are live and OpenSSL
        // takes its own references. The SignerInfo returned is owned by `cms`.
        let si = unsafe { ffi::CMS_add1_signer(cms, cert.x509.as_ptr(), key.as_ptr(), openssl::hash::MessageDigest::sha256().as_ptr(), flags) };
        if si.is_null() {
            return Err(openssl_error("CMS_add1_signer"));
        }
        let mut algs: *mut openssl_sys::OPENSSL_STACK = ptr::null_mut();
        let mut listed = true;
        for &(nid, bits) in CAPABILITIES {
            // SAFETY: `algs` is null (a stack is made) or the stack made by the first call.
            listed &= unsafe { ffi::CMS_add_simple_smimecap(&mut algs, nid, bits) } == 1;
        }
        // SAFETY: `si` is live; `algs` is the stack of X509_ALGOR built above (or null, which
        // CMS_add_smimecap refuses); it is ours to free with its elements, once.
        let added = unsafe {
            let added = if listed && !algs.is_null() { ffi::CMS_add_smimecap(si, algs) } else { 0 };
            ffi::OPENSSL_sk_pop_free(algs, Some(ffi::free_x509_algor));
            added
        };
        if added != 1 {
            return Err(openssl_error("SMIMECapabilities"));
        }
        let ias_contents = issuer_and_serial_contents(cert);
        // SMIMEEncryptionKeyPreference ::= CHOICE { issuerAndSerialNumber [0] ... } (RFC 8551).
        let preference = der_tlv(0xa0, &ias_contents);
        // SAFETY: `si` is the live SignerInfo just added to `cms`, which is still being built.
        unsafe { add_attribute(si, "1.2.840.113549.1.9.16.2.11", V_ASN1_SEQUENCE, &preference)? };
        // Outlook reads its own attribute (1.3.6.1.4.1.311.16.4, IssuerAndSerialNumber).
        // SAFETY: as above.
        unsafe { add_attribute(si, "1.3.6.1.4.1.311.16.4", V_ASN1_SEQUENCE, &der_tlv(0x30, &ias_contents))? };
        // SAFETY: `content` outlives the read-only BIO, which is freed below.
        let data = unsafe { ffi::BIO_new_mem_buf(content.as_ptr().cast(), content_len) };
        if data.is_null() {
            return Err(openssl_error("BIO_new_mem_buf"));
        }
        // SAFETY: `cms` and `data` are live; CMS_final reads `data` and leaves it to us; freed once.
        let ok = unsafe {
            let ok = ffi::CMS_final(cms, data, ptr::null_mut(), flags);
            ffi::BIO_free_all(data);
            ok
        };
        if ok != 1 {
            return Err(openssl_error("CMS_final"));
        }
        let mut out: *mut u8 = ptr::null_mut();
        // SAFETY: `cms` is live; with `out` null, i2d allocates the output for us.
        let len = unsafe { ffi::i2d_CMS_ContentInfo(cms, &mut out) };
        let Ok(len @ 1..) = usize::try_from(len) else {
            return Err(openssl_error("i2d_CMS_ContentInfo"));
        };
        if out.is_null() {
            return Err(openssl_error("i2d_CMS_ContentInfo"));
        }
        // SAFETY: i2d wrote `len` bytes at `out`, allocated with OPENSSL_malloc; copied, then
        // freed once with the matching allocator.
        let der = unsafe {
            let der = std::slice::from_raw_parts(out, len).to_vec();
            ffi::CRYPTO_free(out.cast(), c"sign.rs".as_ptr(), 0);
            der
        };
        Ok(der)
    })();
    // SAFETY: `cms` came from CMS_sign, is ours, and is freed once, here.
    unsafe { ffi::CMS_ContentInfo_free(cms) };
    result
}

/// Adds a signed attribute whose value is the DER element `der`.
///
/// # Safety
/// `si` is a live SignerInfo of a SignedData that is still being built.
unsafe fn add_attribute(si: *mut ffi::CMS_SignerInfo, oid: &str, kind: libc::c_int, der: &[u8]) -> Result<(), SignError> {
    let text = CString::new(oid).map_err(|_| SignError("OID text with NUL".into()))?;
    let len = libc::c_int::try_from(der.len()).map_err(|_| SignError("attribute too large".into()))?;
    // SAFETY: `text` is NUL-terminated; the object returned (or null) is ours.
    let obj = unsafe { ffi::OBJ_txt2obj(text.as_ptr(), 1) };
    if obj.is_null() {
        return Err(openssl_error("OBJ_txt2obj"));
    }
    // SAFETY: `si` is a live SignerInfo of the caller's SignedData; `obj` is live; `der` has
    // `len` readable bytes, which OpenSSL copies. The object is freed once, after.
    let ok = unsafe {
        let ok = ffi::CMS_signed_add1_attr_by_OBJ(si, obj, kind, der.as_ptr().cast(), len);
        ffi::ASN1_OBJECT_free(obj);
        ok
    };
    if ok != 1 {
        return Err(openssl_error("signed attribute"));
    }
    Ok(())
}
