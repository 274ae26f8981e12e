//! The few OpenSSL 3 functions the `openssl` crate does not bind, declared against libcrypto as
//! `<openssl/cms.h>` and `<openssl/x509_vfy.h>` define them. Each is used by exactly one safe
//! wrapper elsewhere; nothing outside those wrappers touches raw pointers.
//!
//! - per-signer CMS verification, so every signer gets its own verdict (`CMS_verify` only says
//!   whether all signers are good);
//! - the certificates and CRLs a message carries;
//! - a verify callback, so chain verification reports every problem, not only the first;
//! - counting the private keys in a PKCS#12 file (`PKCS12_parse` silently takes the first);
//! - per-verification time, flags, purpose and CRLs, so one store (with the system's CA
//!   certificates loaded once) serves every verification of a run;
//! - OpenSSL's own reading of a certificate where a decision rests on it: whether it is a CA
//!   (`X509_check_ca`) and how strong its signature is (`X509_get_signature_info`).
#![allow(non_camel_case_types)]

use libc::{c_int, c_void};
use openssl_sys::{ASN1_OBJECT, BIO, EVP_PKEY, OPENSSL_STACK, X509, X509_STORE_CTX};

pub enum CMS_ContentInfo {}
pub enum CMS_SignerInfo {}

pub type VerifyCallback = Option<unsafe extern "C" fn(ok: c_int, ctx: *mut X509_STORE_CTX) -> c_int>;

extern "C" {
    pub fn d2i_CMS_ContentInfo(a: *mut *mut CMS_ContentInfo, pp: *mut *const u8, length: libc::c_long) -> *mut CMS_ContentInfo;
    pub fn CMS_ContentInfo_free(cms: *mut CMS_ContentInfo);
    pub fn CMS_get0_SignerInfos(cms: *mut CMS_ContentInfo) -> *mut OPENSSL_STACK;
    pub fn CMS_get1_certs(cms: *mut CMS_ContentInfo) -> *mut OPENSSL_STACK;
    pub fn CMS_get1_crls(cms: *mut CMS_ContentInfo) -> *mut OPENSSL_STACK;
    pub fn CMS_dataInit(cms: *mut CMS_ContentInfo, icont: *mut BIO) -> *mut BIO;
    pub fn CMS_decrypt_set1_pkey(cms: *mut CMS_ContentInfo, pk: *mut EVP_PKEY, cert: *mut X509) -> c_int;
    pub fn BIO_method_type(b: *const BIO) -> c_int;
    pub fn BIO_ctrl(b: *mut BIO, cmd: c_int, larg: libc::c_long, parg: *mut c_void) -> libc::c_long;
    pub fn CMS_SignerInfo_cert_cmp(si: *mut CMS_SignerInfo, cert: *mut X509) -> c_int;
    pub fn CMS_SignerInfo_set1_signer_cert(si: *mut CMS_SignerInfo, signer: *mut X509);
    pub fn CMS_SignerInfo_verify(si: *mut CMS_SignerInfo) -> c_int;
    pub fn CMS_SignerInfo_verify_content(si: *mut CMS_SignerInfo, chain: *mut BIO) -> c_int;
    pub fn CMS_sign(
        signcert: *mut X509,
        pkey: *mut EVP_PKEY,
        certs: *mut OPENSSL_STACK,
        data: *mut BIO,
        flags: libc::c_uint,
    ) -> *mut CMS_ContentInfo;
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
    pub fn i2d_CMS_ContentInfo(a: *const CMS_ContentInfo, out: *mut *mut u8) -> c_int;
    pub fn OBJ_txt2obj(s: *const libc::c_char, no_name: c_int) -> *mut ASN1_OBJECT;
    pub fn ASN1_OBJECT_free(a: *mut ASN1_OBJECT);
    pub fn X509_ALGOR_free(a: *mut c_void);
    pub fn CRYPTO_free(p: *mut c_void, file: *const libc::c_char, line: c_int);

    pub fn X509_STORE_CTX_set_verify_cb(ctx: *mut X509_STORE_CTX, verify_cb: VerifyCallback);
    pub fn X509_STORE_CTX_get_error(ctx: *const X509_STORE_CTX) -> c_int;
    pub fn X509_STORE_CTX_get_error_depth(ctx: *const X509_STORE_CTX) -> c_int;
    pub fn X509_STORE_CTX_get0_param(ctx: *mut X509_STORE_CTX) -> *mut openssl_sys::X509_VERIFY_PARAM;
    pub fn X509_STORE_CTX_set_purpose(ctx: *mut X509_STORE_CTX, purpose: c_int) -> c_int;
    pub fn X509_STORE_CTX_set0_crls(ctx: *mut X509_STORE_CTX, sk: *mut OPENSSL_STACK);
    pub fn X509_VERIFY_PARAM_set_time(param: *mut openssl_sys::X509_VERIFY_PARAM, t: libc::time_t);
    pub fn X509_VERIFY_PARAM_set_flags(param: *mut openssl_sys::X509_VERIFY_PARAM, flags: libc::c_ulong) -> c_int;
    pub fn X509_check_ca(x: *mut X509) -> c_int;
    pub fn X509_get_signature_info(x: *mut X509, mdnid: *mut c_int, pknid: *mut c_int, secbits: *mut c_int, flags: *mut u32) -> c_int;
    pub fn X509_get_default_cert_dir() -> *const libc::c_char;
    pub fn X509_get_default_cert_file() -> *const libc::c_char;
    pub fn OPENSSL_sk_new_null() -> *mut OPENSSL_STACK;
    pub fn OPENSSL_sk_pop_free(st: *mut OPENSSL_STACK, func: Option<unsafe extern "C" fn(*mut c_void)>);
    pub fn d2i_PKCS12(a: *mut *mut openssl_sys::PKCS12, pp: *mut *const u8, length: libc::c_long) -> *mut openssl_sys::PKCS12;
    pub fn PKCS12_free(p12: *mut openssl_sys::PKCS12);
    pub fn PKCS12_unpack_authsafes(p12: *const openssl_sys::PKCS12) -> *mut OPENSSL_STACK;
    pub fn PKCS12_unpack_p7data(p7: *mut openssl_sys::PKCS7) -> *mut OPENSSL_STACK;
    pub fn PKCS12_unpack_p7encdata(p7: *mut openssl_sys::PKCS7, pass: *const libc::c_char, passlen: c_int) -> *mut OPENSSL_STACK;
    pub fn PKCS12_SAFEBAG_get_nid(bag: *const c_void) -> c_int;
    pub fn PKCS7_free(p7: *mut c_void);
    pub fn PKCS12_SAFEBAG_free(bag: *mut c_void);
    pub fn OPENSSL_sk_push(st: *mut OPENSSL_STACK, data: *const c_void) -> c_int;

    pub fn OPENSSL_sk_num(st: *const OPENSSL_STACK) -> c_int;
    pub fn OPENSSL_sk_value(st: *const OPENSSL_STACK, i: c_int) -> *mut c_void;
    pub fn OPENSSL_sk_free(st: *mut OPENSSL_STACK);

    pub fn BIO_read(b: *mut BIO, data: *mut c_void, dlen: c_int) -> c_int;
    pub fn BIO_free_all(a: *mut BIO);
    pub fn BIO_new_mem_buf(buf: *const c_void, len: c_int) -> *mut BIO;
    pub fn ERR_clear_error();
}
