//! The few OpenSSL 3 functions neither the `openssl` crate nor `openssl-sys` binds, declared
//! against libcrypto as `<openssl/cms.h>`, `<openssl/x509_vfy.h>` and `<openssl/pkcs12.h>` define
//! them (OpenSSL 3.0). Functions `openssl-sys` already declares are re-exported from it, never
//! declared twice. Each is used by exactly one safe wrapper elsewhere (`smime::cms`,
//! `smime::sign`, `certs::trust`, `certs::revocation::ocsp`, `pkcs12`); nothing outside those wrappers touches raw pointers.
//!
//! - per-signer CMS verification, so every signer gets its own verdict (`CMS_verify` only says
//!   whether all signers are good);
//! - the certificates and CRLs a message carries;
//! - signing with chosen signed attributes (`CMS_add1_signer`, `CMS_final`);
//! - a verify callback, so chain verification reports every problem, not only the first;
//! - the nonce of an OCSP request and its check against the answer (revocation);
//! - counting the private keys in a PKCS#12 file (`PKCS12_parse` silently takes the first);
//! - per-verification time, flags, purpose and CRLs, so one store (with the system's CA
//!   certificates loaded once) serves every verification of a run;
//! - OpenSSL's own reading of a certificate where a decision rests on it: whether it is a CA
//!   (`X509_check_ca`) and how strong its signature is (`X509_get_signature_info`).
//!
//! Pointers returned here may be null wherever OpenSSL's documentation allows it; every caller
//! checks before use.
#![allow(non_camel_case_types)]

use libc::{c_int, c_void};
use openssl_sys::{ASN1_OBJECT, BIO, EVP_PKEY, OPENSSL_STACK, X509, X509_STORE_CTX};

// Declared by openssl-sys 0.9 (handwritten/{cms,stack,bio,err,object,asn1,x509,x509_vfy,crypto,
// pkcs12,pkcs7}.rs): used from there.
pub use openssl_sys::{
    d2i_CMS_ContentInfo, d2i_PKCS12, i2d_CMS_ContentInfo, ASN1_OBJECT_free, BIO_ctrl, BIO_free_all, BIO_new_mem_buf,
    BIO_read, CMS_ContentInfo, CMS_ContentInfo_free, CMS_sign, CRYPTO_free, ERR_clear_error, OBJ_txt2obj,
    OPENSSL_sk_free, OPENSSL_sk_new_null, OPENSSL_sk_num, OPENSSL_sk_pop_free, OPENSSL_sk_push, OPENSSL_sk_value,
    PKCS12_free, PKCS7_free, X509_ALGOR_free, X509_STORE_CTX_get_error, X509_STORE_CTX_get_error_depth,
    X509_VERIFY_PARAM_set_flags, X509_VERIFY_PARAM_set_time, X509_get_default_cert_dir, X509_get_default_cert_file,
};

pub enum CMS_SignerInfo {}

pub type VerifyCallback = Option<unsafe extern "C" fn(ok: c_int, ctx: *mut X509_STORE_CTX) -> c_int>;

extern "C" {
    pub fn CMS_get0_SignerInfos(cms: *mut CMS_ContentInfo) -> *mut OPENSSL_STACK;
    // <openssl/ocsp.h>: the nonce of an OCSP request and its check against the answer
    // (`certs::revocation::ocsp`).
    pub fn OCSP_request_add1_nonce(req: *mut openssl_sys::OCSP_REQUEST, val: *mut libc::c_uchar, len: c_int) -> c_int;
    pub fn OCSP_check_nonce(req: *mut openssl_sys::OCSP_REQUEST, bs: *mut openssl_sys::OCSP_BASICRESP) -> c_int;
    pub fn CMS_get1_certs(cms: *mut CMS_ContentInfo) -> *mut OPENSSL_STACK;
    pub fn CMS_get1_crls(cms: *mut CMS_ContentInfo) -> *mut OPENSSL_STACK;
    pub fn CMS_dataInit(cms: *mut CMS_ContentInfo, icont: *mut BIO) -> *mut BIO;
    pub fn CMS_decrypt_set1_pkey(cms: *mut CMS_ContentInfo, pk: *mut EVP_PKEY, cert: *mut X509) -> c_int;
    pub fn BIO_method_type(b: *const BIO) -> c_int;
    pub fn CMS_SignerInfo_cert_cmp(si: *mut CMS_SignerInfo, cert: *mut X509) -> c_int;
    pub fn CMS_SignerInfo_set1_signer_cert(si: *mut CMS_SignerInfo, signer: *mut X509);
    pub fn CMS_SignerInfo_verify(si: *mut CMS_SignerInfo) -> c_int;
    pub fn CMS_SignerInfo_verify_content(si: *mut CMS_SignerInfo, chain: *mut BIO) -> c_int;
    /// -1 when the SignerInfo has no signed attributes at all (not even an empty set).
    pub fn CMS_signed_get_attr_count(si: *const CMS_SignerInfo) -> c_int;
    pub fn CMS_add1_signer(
        cms: *mut CMS_ContentInfo,
        signer: *mut X509,
        pk: *mut EVP_PKEY,
        md: *const openssl_sys::EVP_MD,
        flags: libc::c_uint,
    ) -> *mut CMS_SignerInfo;
    pub fn CMS_add_simple_smimecap(algs: *mut *mut OPENSSL_STACK, algnid: c_int, keysize: c_int) -> c_int;
    pub fn CMS_add_smimecap(si: *mut CMS_SignerInfo, algs: *mut OPENSSL_STACK) -> c_int;
    pub fn CMS_signed_add1_attr_by_OBJ(
        si: *mut CMS_SignerInfo,
        obj: *const ASN1_OBJECT,
        attrtype: c_int,
        bytes: *const c_void,
        len: c_int,
    ) -> c_int;
    pub fn CMS_final(cms: *mut CMS_ContentInfo, data: *mut BIO, dcont: *mut BIO, flags: libc::c_uint) -> c_int;

    pub fn X509_STORE_CTX_set_verify_cb(ctx: *mut X509_STORE_CTX, verify_cb: VerifyCallback);
    pub fn X509_STORE_CTX_get0_param(ctx: *mut X509_STORE_CTX) -> *mut openssl_sys::X509_VERIFY_PARAM;
    pub fn X509_STORE_CTX_set_purpose(ctx: *mut X509_STORE_CTX, purpose: c_int) -> c_int;
    pub fn X509_STORE_CTX_set0_crls(ctx: *mut X509_STORE_CTX, sk: *mut OPENSSL_STACK);
    pub fn X509_check_ca(x: *mut X509) -> c_int;
    pub fn X509_get_signature_info(x: *mut X509, mdnid: *mut c_int, pknid: *mut c_int, secbits: *mut c_int, flags: *mut u32) -> c_int;

    pub fn PKCS12_unpack_authsafes(p12: *const openssl_sys::PKCS12) -> *mut OPENSSL_STACK;
    pub fn PKCS12_unpack_p7data(p7: *mut openssl_sys::PKCS7) -> *mut OPENSSL_STACK;
    pub fn PKCS12_unpack_p7encdata(p7: *mut openssl_sys::PKCS7, pass: *const libc::c_char, passlen: c_int) -> *mut OPENSSL_STACK;
    pub fn PKCS12_SAFEBAG_get_nid(bag: *const c_void) -> c_int;
    pub fn PKCS12_SAFEBAG_free(bag: *mut c_void);
}

/// `X509_ALGOR_free` with the element type `OPENSSL_sk_pop_free` passes.
///
/// # Safety
/// `p` is null or an `X509_ALGOR` nobody else owns.
pub unsafe extern "C" fn free_x509_algor(p: *mut c_void) {
    // SAFETY: the caller passes an X509_ALGOR (or null, which X509_ALGOR_free accepts).
    unsafe { X509_ALGOR_free(p.cast()) }
}

/// `PKCS7_free` with the element type `OPENSSL_sk_pop_free` passes.
///
/// # Safety
/// `p` is null or a `PKCS7` nobody else owns.
pub unsafe extern "C" fn free_pkcs7(p: *mut c_void) {
    // SAFETY: the caller passes a PKCS7 (or null, which PKCS7_free accepts).
    unsafe { PKCS7_free(p.cast()) }
}
