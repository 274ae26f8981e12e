//! The private-key operations, with OpenSSL: raw RSA PKCS#1 v1.5 signatures over the DigestInfo
//! NSS hands in (`CKM_RSA_PKCS`), RSA PKCS#1 v1.5 and OAEP decryption, raw ECDSA signatures
//! (`r || s`), and ECDH with the ANSI X9.63 key derivation functions (`CKM_ECDH1_DERIVE`).
//! Secrets (shared secrets, derived and unwrapped keys) are returned as [`Zeroizing`], wiped
//! when dropped.

use crate::types::*;
use openssl::bn::BigNumContext;
use openssl::ec::EcPoint;
use openssl::ecdsa::EcdsaSig;
use openssl::hash::{Hasher, MessageDigest};
use openssl::pkey::{PKey, Private};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Padding;
use zeroize::{Zeroize, Zeroizing};

/// What one sign or decrypt operation does.
#[derive(Clone)]
pub enum Mechanism {
    RsaPkcs,
    RsaOaep { md: MessageDigest, mgf1: MessageDigest, label: Vec<u8> },
    Ecdsa,
    /// RFC 3394 unwrap with a derived secret key (decrypt only).
    AesKeyWrap,
}

fn digest_of_mechanism(m: CK_MECHANISM_TYPE) -> Option<MessageDigest> {
    Some(match m {
        CKM_SHA_1 => MessageDigest::sha1(),
        CKM_SHA224 => MessageDigest::sha224(),
        CKM_SHA256 => MessageDigest::sha256(),
        CKM_SHA384 => MessageDigest::sha384(),
        CKM_SHA512 => MessageDigest::sha512(),
        _ => return None,
    })
}

fn digest_of_mgf(m: CK_ULONG) -> Option<MessageDigest> {
    Some(match m {
        CKG_MGF1_SHA1 => MessageDigest::sha1(),
        CKG_MGF1_SHA224 => MessageDigest::sha224(),
        CKG_MGF1_SHA256 => MessageDigest::sha256(),
        CKG_MGF1_SHA384 => MessageDigest::sha384(),
        CKG_MGF1_SHA512 => MessageDigest::sha512(),
        _ => return None,
    })
}

/// Reads `CK_RSA_PKCS_OAEP_PARAMS`.
///
/// # Safety
/// `mechanism.pParameter` must point to `ulParameterLen` readable bytes (the caller's promise).
pub unsafe fn oaep_params(mechanism: &CK_MECHANISM) -> Result<Mechanism, CK_RV> {
    if mechanism.pParameter.is_null() || mechanism.ulParameterLen as usize != std::mem::size_of::<CK_RSA_PKCS_OAEP_PARAMS>() {
        return Err(CKR_MECHANISM_PARAM_INVALID);
    }
    let p = std::ptr::read_unaligned(mechanism.pParameter as *const CK_RSA_PKCS_OAEP_PARAMS);
    let md = digest_of_mechanism(p.hashAlg).ok_or(CKR_MECHANISM_PARAM_INVALID)?;
    let mgf1 = digest_of_mgf(p.mgf).ok_or(CKR_MECHANISM_PARAM_INVALID)?;
    if p.source != 0 && p.source != CKZ_DATA_SPECIFIED {
        return Err(CKR_MECHANISM_PARAM_INVALID);
    }
    let label = match (p.pSourceData.is_null(), p.ulSourceDataLen) {
        (_, 0) => Vec::new(),
        (true, _) => return Err(CKR_MECHANISM_PARAM_INVALID),
        (false, n) => std::slice::from_raw_parts(p.pSourceData as *const u8, n as usize).to_vec(),
    };
    Ok(Mechanism::RsaOaep { md, mgf1, label })
}

/// A raw signature: RSA PKCS#1 v1.5 over the given bytes (NSS passes the DigestInfo), or ECDSA
/// over the given hash as `r || s`, each `field_len` bytes.
pub fn sign(key: &PKey<Private>, mechanism: &Mechanism, data: &[u8], out_len: usize) -> Result<Vec<u8>, CK_RV> {
    let mut ctx = PkeyCtx::new(key).map_err(|_| CKR_GENERAL_ERROR)?;
    ctx.sign_init().map_err(|_| CKR_FUNCTION_FAILED)?;
    match mechanism {
        Mechanism::RsaPkcs => {
            if data.len() + 11 > out_len {
                return Err(CKR_DATA_LEN_RANGE);
            }
            ctx.set_rsa_padding(Padding::PKCS1).map_err(|_| CKR_FUNCTION_FAILED)?;
            let mut sig = Vec::new();
            ctx.sign_to_vec(data, &mut sig).map_err(|_| CKR_FUNCTION_FAILED)?;
            Ok(sig)
        }
        Mechanism::Ecdsa => {
            if data.is_empty() {
                return Err(CKR_DATA_LEN_RANGE);
            }
            let mut der = Vec::new();
            ctx.sign_to_vec(data, &mut der).map_err(|_| CKR_FUNCTION_FAILED)?;
            let sig = EcdsaSig::from_der(&der).map_err(|_| CKR_FUNCTION_FAILED)?;
            let half = out_len / 2;
            let r = sig.r().to_vec_padded(half as i32).map_err(|_| CKR_FUNCTION_FAILED)?;
            let s = sig.s().to_vec_padded(half as i32).map_err(|_| CKR_FUNCTION_FAILED)?;
            Ok([r, s].concat())
        }
        Mechanism::RsaOaep { .. } | Mechanism::AesKeyWrap => Err(CKR_MECHANISM_INVALID),
    }
}

/// RSA decryption (PKCS#1 v1.5 or OAEP) of one block of exactly the modulus length (a content
/// key, so wiped when dropped).
pub fn decrypt(key: &PKey<Private>, mechanism: &Mechanism, data: &[u8], modulus_len: usize) -> Result<Zeroizing<Vec<u8>>, CK_RV> {
    if data.len() != modulus_len {
        return Err(CKR_ENCRYPTED_DATA_LEN_RANGE);
    }
    let mut ctx = PkeyCtx::new(key).map_err(|_| CKR_GENERAL_ERROR)?;
    ctx.decrypt_init().map_err(|_| CKR_FUNCTION_FAILED)?;
    match mechanism {
        Mechanism::RsaPkcs => ctx.set_rsa_padding(Padding::PKCS1).map_err(|_| CKR_FUNCTION_FAILED)?,
        Mechanism::RsaOaep { md, mgf1, label } => {
            ctx.set_rsa_padding(Padding::PKCS1_OAEP).map_err(|_| CKR_FUNCTION_FAILED)?;
            ctx.set_rsa_oaep_md(openssl::md::Md::from_nid(md.type_()).ok_or(CKR_MECHANISM_PARAM_INVALID)?)
                .map_err(|_| CKR_MECHANISM_PARAM_INVALID)?;
            ctx.set_rsa_mgf1_md(openssl::md::Md::from_nid(mgf1.type_()).ok_or(CKR_MECHANISM_PARAM_INVALID)?)
                .map_err(|_| CKR_MECHANISM_PARAM_INVALID)?;
            if !label.is_empty() {
                ctx.set_rsa_oaep_label(label).map_err(|_| CKR_MECHANISM_PARAM_INVALID)?;
            }
        }
        Mechanism::Ecdsa | Mechanism::AesKeyWrap => return Err(CKR_MECHANISM_INVALID),
    }
    let mut out = Zeroizing::new(Vec::new());
    ctx.decrypt_to_vec(data, &mut out).map_err(|_| CKR_ENCRYPTED_DATA_INVALID)?;
    Ok(out)
}

/// RFC 3394 AES key unwrap (default IV): what NSS asks for, as `C_Decrypt`, to open the
/// content-encryption key with the key ECDH derived on this token.
pub fn aes_key_unwrap(kek: &[u8], wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, CK_RV> {
    if wrapped.len() < 24 || wrapped.len() % 8 != 0 {
        return Err(CKR_ENCRYPTED_DATA_LEN_RANGE);
    }
    let key = openssl::aes::AesKey::new_decrypt(kek).map_err(|_| CKR_KEY_SIZE_RANGE)?;
    let mut out = Zeroizing::new(vec![0u8; wrapped.len() - 8]);
    openssl::aes::unwrap_key(&key, None, &mut out, wrapped).map_err(|_| CKR_ENCRYPTED_DATA_INVALID)?;
    Ok(out)
}

/// The parameters of `CKM_ECDH1_DERIVE`.
pub struct EcdhParams {
    pub kdf: CK_ULONG,
    pub shared_info: Vec<u8>,
    pub public: Vec<u8>,
}

/// Reads `CK_ECDH1_DERIVE_PARAMS`.
///
/// # Safety
/// `mechanism.pParameter` must point to `ulParameterLen` readable bytes, and the structure's
/// pointers to as many bytes as it says.
pub unsafe fn ecdh_params(mechanism: &CK_MECHANISM) -> Result<EcdhParams, CK_RV> {
    if mechanism.pParameter.is_null() || mechanism.ulParameterLen as usize != std::mem::size_of::<CK_ECDH1_DERIVE_PARAMS>() {
        return Err(CKR_MECHANISM_PARAM_INVALID);
    }
    let p = std::ptr::read_unaligned(mechanism.pParameter as *const CK_ECDH1_DERIVE_PARAMS);
    let bytes = |ptr: *mut u8, len: CK_ULONG| -> Result<Vec<u8>, CK_RV> {
        match (ptr.is_null(), len) {
            (_, 0) => Ok(Vec::new()),
            (true, _) => Err(CKR_MECHANISM_PARAM_INVALID),
            (false, n) => Ok(std::slice::from_raw_parts(ptr as *const u8, n as usize).to_vec()),
        }
    };
    let shared_info = bytes(p.pSharedData, p.ulSharedDataLen)?;
    let public = bytes(p.pPublicData, p.ulPublicDataLen)?;
    if public.is_empty() || kdf_digest(p.kdf).is_err() || (p.kdf == CKD_NULL && !shared_info.is_empty()) {
        return Err(CKR_MECHANISM_PARAM_INVALID);
    }
    Ok(EcdhParams { kdf: p.kdf, shared_info, public })
}

fn kdf_digest(kdf: CK_ULONG) -> Result<Option<MessageDigest>, CK_RV> {
    Ok(Some(match kdf {
        CKD_NULL => return Ok(None),
        CKD_SHA1_KDF => MessageDigest::sha1(),
        CKD_SHA224_KDF => MessageDigest::sha224(),
        CKD_SHA256_KDF => MessageDigest::sha256(),
        CKD_SHA384_KDF => MessageDigest::sha384(),
        CKD_SHA512_KDF => MessageDigest::sha512(),
        _ => return Err(CKR_MECHANISM_PARAM_INVALID),
    }))
}

/// ANSI X9.63 KDF: Hash(Z || counter || SharedInfo) for counter = 1, 2, ... until `len` bytes.
pub fn x963_kdf(md: MessageDigest, z: &[u8], shared_info: &[u8], len: usize) -> Result<Zeroizing<Vec<u8>>, CK_RV> {
    // Never grown past its capacity, so no copy of the key is left behind by a reallocation.
    let mut out = Zeroizing::new(Vec::with_capacity(len + md.size()));
    let mut counter: u32 = 1;
    while out.len() < len {
        let mut h = Hasher::new(md).map_err(|_| CKR_GENERAL_ERROR)?;
        h.update(z).and_then(|_| h.update(&counter.to_be_bytes())).and_then(|_| h.update(shared_info)).map_err(|_| CKR_GENERAL_ERROR)?;
        let mut block = h.finish().map_err(|_| CKR_GENERAL_ERROR)?;
        out.extend_from_slice(&block);
        block.zeroize();
        counter += 1;
    }
    out.truncate(len);
    Ok(out)
}

/// ECDH with the peer's public point (raw X9.62, or wrapped in a DER OCTET STRING as some callers
/// send it), then the KDF; `len` = None keeps the whole shared secret (CKD_NULL only).
pub fn ecdh_derive(key: &PKey<Private>, params: &EcdhParams, len: Option<usize>) -> Result<Zeroizing<Vec<u8>>, CK_RV> {
    let ec = key.ec_key().map_err(|_| CKR_KEY_TYPE_INCONSISTENT)?;
    let group = ec.group();
    let mut ctx = BigNumContext::new().map_err(|_| CKR_GENERAL_ERROR)?;
    let point = EcPoint::from_bytes(group, &params.public, &mut ctx)
        .or_else(|_| EcPoint::from_bytes(group, unwrap_octet_string(&params.public), &mut ctx))
        .map_err(|_| CKR_MECHANISM_PARAM_INVALID)?;
    if !point.is_on_curve(group, &mut ctx).unwrap_or(false) {
        return Err(CKR_MECHANISM_PARAM_INVALID);
    }
    let peer_ec = openssl::ec::EcKey::from_public_key(group, &point).map_err(|_| CKR_MECHANISM_PARAM_INVALID)?;
    let peer = PKey::from_ec_key(peer_ec).map_err(|_| CKR_GENERAL_ERROR)?;
    let mut deriver = openssl::derive::Deriver::new(key).map_err(|_| CKR_GENERAL_ERROR)?;
    deriver.set_peer(&peer).map_err(|_| CKR_MECHANISM_PARAM_INVALID)?;
    let z = Zeroizing::new(deriver.derive_to_vec().map_err(|_| CKR_FUNCTION_FAILED)?);
    match kdf_digest(params.kdf)? {
        None => {
            let len = len.unwrap_or(z.len());
            if len > z.len() {
                return Err(CKR_TEMPLATE_INCONSISTENT);
            }
            // CKD_NULL: the secret itself; a shorter key takes its last bytes (PKCS#11 2.40, 2.3.6).
            Ok(Zeroizing::new(z[z.len() - len..].to_vec()))
        }
        Some(md) => x963_kdf(md, &z, &params.shared_info, len.ok_or(CKR_TEMPLATE_INCOMPLETE)?),
    }
}

/// A DER OCTET STRING around an EC point, as NSS may pass the peer's public value.
fn unwrap_octet_string(bytes: &[u8]) -> &[u8] {
    if bytes.len() > 2 && bytes[0] == 0x04 {
        let (len, head) = match bytes[1] {
            n if n < 0x80 => (n as usize, 2),
            0x81 if bytes.len() > 3 => (bytes[2] as usize, 3),
            _ => return bytes,
        };
        if head + len == bytes.len() && matches!(bytes.get(head), Some(0x02..=0x04)) {
            return &bytes[head..];
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x963_kdf_matches_a_published_vector() {
        // NIST CAVS ANSI X9.63 KDF, SHA-256, shared secret 192 bits, SharedInfo 0 bits, 128 bits out
        // (the first vector of the SHA-256 set).
        let z = hex("96c05619d56c328ab95fe84b18264b08725b85e33fd34f08");
        let k = x963_kdf(MessageDigest::sha256(), &z, &[], 16).unwrap();
        assert_eq!(*k, hex("443024c3dae66b95e6f5670601558f71"));
    }

    #[test]
    fn aes_key_unwrap_matches_rfc_3394() {
        // RFC 3394 4.1: 128-bit data wrapped with a 128-bit KEK.
        let kek = hex("000102030405060708090A0B0C0D0E0F");
        let wrapped = hex("1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5");
        assert_eq!(*aes_key_unwrap(&kek, &wrapped).unwrap(), hex("00112233445566778899AABBCCDDEEFF"));
        let mut bad = wrapped.clone();
        bad[3] ^= 1;
        assert_eq!(aes_key_unwrap(&kek, &bad), Err(CKR_ENCRYPTED_DATA_INVALID));
        assert_eq!(aes_key_unwrap(&kek, &wrapped[..16]), Err(CKR_ENCRYPTED_DATA_LEN_RANGE));
    }

    #[test]
    fn octet_string_wrapped_points_are_unwrapped() {
        let raw = [&[4u8][..], &[1u8; 64][..]].concat();
        let wrapped = [&[4u8, 65][..], &raw[..]].concat();
        assert_eq!(unwrap_octet_string(&wrapped), &raw[..]);
        assert_eq!(unwrap_octet_string(&raw), &raw[..]);
    }

    fn hex(s: &str) -> Vec<u8> {
        smime_companion::hex::decode(s).unwrap()
    }
}
