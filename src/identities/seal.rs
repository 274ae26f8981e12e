//! Private keys at rest: PKCS#8, encrypted with AES-256-GCM under a key derived from the user's
//! passphrase with PBKDF2-HMAC-SHA256 (600,000 iterations, random salt). GCM makes a wrong
//! passphrase certain to be noticed, and binds the key to its certificate (the fingerprint is
//! authenticated data), so a sealed key cannot be swapped between identities.

use crate::hex;
use openssl::pkey::{PKey, Private};
use openssl::rand::rand_bytes;
use openssl::symm::{decrypt_aead, encrypt_aead, Cipher};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// PBKDF2 iterations for new seals (OWASP's 2023 figure for PBKDF2-HMAC-SHA256).
pub const KDF_ITERATIONS: u32 = 600_000;

/// The most iterations a sealed key may ask for when it is opened: room for future seals to
/// raise [`KDF_ITERATIONS`] many times over, but a damaged or planted value (up to u32::MAX: past
/// i32::MAX OpenSSL's PBKDF2 panics, below it an unlock could take hours) is refused at once.
pub const MAX_KDF_ITERATIONS: u32 = 10_000_000;

/// A secret passphrase, wiped from memory when dropped and never printed.
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    pub fn new(text: impl Into<String>) -> Passphrase {
        Passphrase(Zeroizing::new(text.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(redacted)")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SealedKey {
    pub kdf: String,
    pub iterations: u32,
    pub salt: String,
    pub cipher: String,
    pub nonce: String,
    pub ciphertext: String,
    pub tag: String,
}

/// Why a sealed key could not be opened.
#[derive(Debug, PartialEq, Eq)]
pub enum OpenError {
    WrongPassphrase,
    Damaged,
}

fn derive(passphrase: &Passphrase, salt: &[u8], iterations: u32) -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    openssl::pkcs5::pbkdf2_hmac(passphrase.as_str().as_bytes(), salt, iterations as usize, openssl::hash::MessageDigest::sha256(), &mut key[..])
        .expect("PBKDF2 with valid parameters");
    key
}

/// Seals a private key for the identity with certificate fingerprint `binding`.
pub fn seal(key: &PKey<Private>, passphrase: &Passphrase, binding: &str) -> Result<SealedKey, openssl::error::ErrorStack> {
    let der = Zeroizing::new(key.private_key_to_pkcs8()?);
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    rand_bytes(&mut salt)?;
    rand_bytes(&mut nonce)?;
    let k = derive(passphrase, &salt, KDF_ITERATIONS);
    let mut tag = [0u8; 16];
    let ciphertext = encrypt_aead(Cipher::aes_256_gcm(), &k[..], Some(&nonce), binding.as_bytes(), &der, &mut tag)?;
    Ok(SealedKey {
        kdf: "pbkdf2-hmac-sha256".into(),
        iterations: KDF_ITERATIONS,
        salt: hex::encode(&salt),
        cipher: "aes-256-gcm".into(),
        nonce: hex::encode(&nonce),
        ciphertext: hex::encode(&ciphertext),
        tag: hex::encode(&tag),
    })
}

/// Opens a sealed key.
pub fn open(sealed: &SealedKey, passphrase: &Passphrase, binding: &str) -> Result<PKey<Private>, OpenError> {
    if sealed.kdf != "pbkdf2-hmac-sha256" || sealed.cipher != "aes-256-gcm" || !(1..=MAX_KDF_ITERATIONS).contains(&sealed.iterations) {
        return Err(OpenError::Damaged);
    }
    let parts = (hex::decode(&sealed.salt), hex::decode(&sealed.nonce), hex::decode(&sealed.ciphertext), hex::decode(&sealed.tag));
    let (Some(salt), Some(nonce), Some(ciphertext), Some(tag)) = parts else {
        return Err(OpenError::Damaged);
    };
    let k = derive(passphrase, &salt, sealed.iterations);
    let der = decrypt_aead(Cipher::aes_256_gcm(), &k[..], Some(&nonce), binding.as_bytes(), &ciphertext, &tag)
        .map(Zeroizing::new)
        .map_err(|_| {
            let _ = openssl::error::ErrorStack::get();
            OpenError::WrongPassphrase
        })?;
    PKey::private_key_from_pkcs8(&der).map_err(|_| OpenError::Damaged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_round_trip_and_wrong_passphrases_are_refused() {
        let key = PKey::from_ec_key(openssl::ec::EcKey::generate(&openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap()).unwrap()).unwrap();
        let sealed = seal(&key, &Passphrase::new("correct horse"), "fp1").unwrap();
        assert!(!sealed.ciphertext.is_empty());
        let opened = open(&sealed, &Passphrase::new("correct horse"), "fp1").unwrap();
        assert!(opened.public_eq(&key));
        assert_eq!(open(&sealed, &Passphrase::new("wrong"), "fp1").err(), Some(OpenError::WrongPassphrase));
        assert_eq!(open(&sealed, &Passphrase::new("correct horse"), "fp2").err(), Some(OpenError::WrongPassphrase), "bound to its identity");
        assert_eq!(format!("{:?}", Passphrase::new("secret")), "Passphrase(redacted)");
    }

    #[test]
    fn iterations_outside_a_sane_range_are_damage_not_a_panic_or_a_hang() {
        let key = PKey::from_ec_key(openssl::ec::EcKey::generate(&openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap()).unwrap()).unwrap();
        let sealed = seal(&key, &Passphrase::new("pw"), "fp").unwrap();
        for iterations in [0, MAX_KDF_ITERATIONS + 1, i32::MAX as u32, i32::MAX as u32 + 1, u32::MAX] {
            let start = std::time::Instant::now();
            let bad = SealedKey { iterations, ..sealed.clone() };
            assert_eq!(open(&bad, &Passphrase::new("pw"), "fp").err(), Some(OpenError::Damaged), "{iterations}");
            assert!(start.elapsed() < std::time::Duration::from_secs(1), "{iterations}: {:?}", start.elapsed());
        }
        assert!(open(&sealed, &Passphrase::new("pw"), "fp").is_ok());
    }
}
