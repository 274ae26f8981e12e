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

// CMS flags (cms.h) and, for the signed attributes, the ASN.1 type whose value OpenSSL writes
// verbatim (the bytes given are a complete DER element): from openssl-sys.
use openssl_sys::{CMS_BINARY, CMS_DETACHED, CMS_NOSMIMECAP, CMS_PARTIAL, V_ASN1_SEQUENCE};

/// Content ciphers we advertise, strongest first (no key size: -1).
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
    let content_len = i32::try_from(content.len()).map_err(|_| SignError("content too large".into()))?;
    // SAFETY: every pointer passed in comes from a live owned value (`cert.x509`, `key`, the
    // chain's certificates, `content`) that outlives this block, and OpenSSL only borrows them
    // or takes references of its own (CMS_sign and CMS_add1_signer up the reference counts).
    // Every pointer OpenSSL returns is checked for null before use; everything this block
    // allocates (the stack, the CMS structure, the algorithm list, the BIO, the DER buffer) is
    // freed on every path, success or error, exactly once.
    unsafe {
        ffi::ERR_clear_error();
        let certs = ffi::OPENSSL_sk_new_null();
        if certs.is_null() {
            return Err(openssl_error("OPENSSL_sk_new_null"));
        }
        for c in chain {
            if ffi::OPENSSL_sk_push(certs, c.x509.as_ptr() as *const libc::c_void) <= 0 {
                ffi::OPENSSL_sk_free(certs);
                return Err(openssl_error("OPENSSL_sk_push"));
            }
        }
        let flags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
        let cms = ffi::CMS_sign(ptr::null_mut(), ptr::null_mut(), certs, ptr::null_mut(), flags);
        // CMS_sign took its own references to the chain certificates.
        ffi::OPENSSL_sk_free(certs);
        if cms.is_null() {
            return Err(openssl_error("CMS_sign"));
        }
        let result = (|| {
            let si = ffi::CMS_add1_signer(cms, cert.x509.as_ptr(), key.as_ptr(), openssl::hash::MessageDigest::sha256().as_ptr(), flags);
            if si.is_null() {
                return Err(openssl_error("CMS_add1_signer"));
            }
            let mut algs: *mut openssl_sys::OPENSSL_STACK = ptr::null_mut();
            let mut listed = true;
            for &(nid, bits) in CAPABILITIES {
                listed &= ffi::CMS_add_simple_smimecap(&mut algs, nid, bits) == 1;
            }
            // CMS_add_simple_smimecap makes the list on its first call; it stays null only when
            // that allocation failed.
            let added = if listed && !algs.is_null() { ffi::CMS_add_smimecap(si, algs) } else { 0 };
            if !algs.is_null() {
                ffi::OPENSSL_sk_pop_free(algs, Some(ffi::X509_ALGOR_free));
            }
            if added != 1 {
                return Err(openssl_error("SMIMECapabilities"));
            }
            let ias_contents = issuer_and_serial_contents(cert);
            // SMIMEEncryptionKeyPreference ::= CHOICE { issuerAndSerialNumber [0] ... } (RFC 8551).
            let preference = der_tlv(0xa0, &ias_contents);
            add_attribute(si, "1.2.840.113549.1.9.16.2.11", V_ASN1_SEQUENCE, &preference)?;
            // Outlook reads its own attribute (1.3.6.1.4.1.311.16.4, IssuerAndSerialNumber).
            add_attribute(si, "1.3.6.1.4.1.311.16.4", V_ASN1_SEQUENCE, &der_tlv(0x30, &ias_contents))?;
            // A read-only BIO over `content`, which outlives it (freed just below).
            let data = ffi::BIO_new_mem_buf(content.as_ptr().cast(), content_len);
            if data.is_null() {
                return Err(openssl_error("BIO_new_mem_buf"));
            }
            let ok = ffi::CMS_final(cms, data, ptr::null_mut(), flags);
            ffi::BIO_free_all(data);
            if ok != 1 {
                return Err(openssl_error("CMS_final"));
            }
            let mut out: *mut u8 = ptr::null_mut();
            let len = ffi::i2d_CMS_ContentInfo(cms, &mut out);
            if len <= 0 || out.is_null() {
                return Err(openssl_error("i2d_CMS_ContentInfo"));
            }
            // i2d wrote `len` bytes to the buffer it allocated at `out`; copied, then freed.
            let der = std::slice::from_raw_parts(out, len as usize).to_vec();
            ffi::CRYPTO_free(out.cast(), b"sign.rs\0".as_ptr().cast(), 0);
            Ok(der)
        })();
        ffi::CMS_ContentInfo_free(cms);
        result
    }
}

/// Adds a signed attribute whose value is the DER element `der`.
///
/// # Safety
/// `si` must be a live signer info of a CMS structure the caller owns.
unsafe fn add_attribute(si: *mut ffi::CMS_SignerInfo, oid: &str, kind: libc::c_int, der: &[u8]) -> Result<(), SignError> {
    let text = CString::new(oid).expect("OID text has no NUL");
    let len = libc::c_int::try_from(der.len()).map_err(|_| SignError("attribute too large".into()))?;
    // SAFETY: `text` is a NUL-terminated string that outlives the call; the object OpenSSL
    // returns is checked for null and freed once (CMS_signed_add1_attr_by_OBJ copies it, and
    // copies `der`, which it reads `len` bytes of).
    let obj = ffi::OBJ_txt2obj(text.as_ptr(), 1);
    if obj.is_null() {
        return Err(openssl_error("OBJ_txt2obj"));
    }
    let ok = ffi::CMS_signed_add1_attr_by_OBJ(si, obj, kind, der.as_ptr().cast(), len);
    ffi::ASN1_OBJECT_free(obj);
    if ok != 1 {
        return Err(openssl_error("signed attribute"));
    }
    Ok(())
}
