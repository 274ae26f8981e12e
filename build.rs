//! Reads the add-ons' IDs from their manifests, the one place each is defined, so the host's
//! allow-list, the manifests and the installer can never disagree with the add-ons themselves:
//! the Thunderbird add-on's from `extension/manifest.json`, the Outlook-on-the-web extension's
//! (Chromium, Chrome, Edge) from the public key in `extension/outlook-web/manifest.json`.

use base64::Engine;
use std::fs;

fn main() {
    let manifest_path = "extension/manifest.json";
    println!("cargo:rerun-if-changed={manifest_path}");
    let manifest = read_json(manifest_path);
    let id = manifest
        .pointer("/browser_specific_settings/gecko/id")
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("{manifest_path} lacks browser_specific_settings.gecko.id"));
    let version = manifest.get("version").and_then(|v| v.as_str()).unwrap_or("");
    println!("cargo:rustc-env=SMIME_COMPANION_ADDON_ID={id}");
    println!("cargo:rustc-env=SMIME_COMPANION_ADDON_VERSION={version}");

    let chromium_path = "extension/outlook-web/manifest.json";
    println!("cargo:rerun-if-changed={chromium_path}");
    let chromium = read_json(chromium_path);
    let key = chromium
        .get("key")
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("{chromium_path} lacks `key`"));
    let der = base64::engine::general_purpose::STANDARD
        .decode(key)
        .unwrap_or_else(|e| panic!("{chromium_path}: `key` is not base64: {e}"));
    println!("cargo:rustc-env=SMIME_COMPANION_CHROMIUM_ID={}", chromium_extension_id(&der));
}

fn read_json(path: &str) -> serde_json::Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

/// Chromium's extension ID for a public key (SubjectPublicKeyInfo DER): the first 128 bits of its
/// SHA-256, each hex digit 0-f written as a letter a-p (crx_file::id_util::GenerateId).
/// A unit test in src/product.rs recomputes it with OpenSSL.
fn chromium_extension_id(public_key_der: &[u8]) -> String {
    sha256(public_key_der)[..16].iter().flat_map(|b| [b >> 4, b & 0xf]).map(|n| (b'a' + n) as char).collect()
}

/// SHA-256 (FIPS 180-4). Here because a build script cannot use the crate's own OpenSSL
/// binding, and one digest of a few hundred bytes does not justify another dependency.
fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];
    let mut h: [u32; 8] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in message.chunks(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
        }
        let mut v = h;
        for i in 0..64 {
            let s1 = v[4].rotate_right(6) ^ v[4].rotate_right(11) ^ v[4].rotate_right(25);
            let ch = (v[4] & v[5]) ^ (!v[4] & v[6]);
            let t1 = v[7].wrapping_add(s1).wrapping_add(ch).wrapping_add(K[i]).wrapping_add(w[i]);
            let s0 = v[0].rotate_right(2) ^ v[0].rotate_right(13) ^ v[0].rotate_right(22);
            let maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
            let t2 = s0.wrapping_add(maj);
            v = [t1.wrapping_add(t2), v[0], v[1], v[2], v[3].wrapping_add(t1), v[4], v[5], v[6]];
        }
        for (a, b) in h.iter_mut().zip(v) {
            *a = a.wrapping_add(b);
        }
    }
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}
