// Formatting of certificate and verdict values for people: fingerprints, dates, algorithm names.
// Pure; dates use Intl with the UI language passed in.

/**
 * "AB12 CD34 …": upper-case hex in groups of four, easy to read aloud on the phone; a SHA-256
 * fingerprint becomes two lines of eight groups.
 */
export function groupFingerprint(hex) {
  const clean = String(hex ?? "").replace(/[^0-9a-f]/gi, "").toUpperCase();
  const groups = clean.match(/.{1,4}/g) ?? [];
  const lines = [];
  for (let i = 0; i < groups.length; i += 8) lines.push(groups.slice(i, i + 8).join(" "));
  return lines.join("\n");
}

/** A date-time formatter for RFC 3339 strings; invalid or missing input gives null. */
export function dateFormatter(locale) {
  return isoFormatter(locale, { dateStyle: "medium", timeStyle: "short" });
}

/** A date-only formatter ("27 Nov 2026") for RFC 3339 strings; invalid or missing input gives null. */
export function dayFormatter(locale) {
  return isoFormatter(locale, { dateStyle: "medium" });
}

function isoFormatter(locale, options) {
  const fmt = new Intl.DateTimeFormat(locale, options);
  return (iso) => {
    if (!iso) return null;
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? null : fmt.format(d);
  };
}

const ALGORITHMS = {
  sha1: "SHA-1",
  sha224: "SHA-224",
  sha256: "SHA-256",
  sha384: "SHA-384",
  sha512: "SHA-512",
  md5: "MD5",
  rsa_pkcs1v15: "RSA (PKCS #1 v1.5)",
  rsa_pss: "RSA-PSS",
  rsa_oaep: "RSA-OAEP",
  ecdsa: "ECDSA",
  ecdh: "ECDH",
  ed25519: "Ed25519",
  ed448: "Ed448",
};

/** Display name of a digest, signature or key-transport algorithm code. */
export function algorithmName(code) {
  if (!code) return null;
  return ALGORITHMS[code] ?? String(code).toUpperCase();
}

/** "AES-256-CBC" from "aes-256-cbc". */
export function cipherName(code) {
  return code ? String(code).toUpperCase() : null;
}

/** "RSA 3072 bit", "EC prime256v1": the unit in the UI language (`t`, texts.mjs). */
export function keyName(key, t) {
  if (!key?.type) return null;
  const type = String(key.type).toUpperCase();
  if (key.curve) return `${type} ${key.curve}`;
  return key.bits ? t("value_key_bits", [type, String(key.bits)]) : type; // a size, not a count: no grouping
}

/** "Example Issuing CA (Example Trust)": the readable part of a distinguished name. */
export function distinguishedName(fields, fallback) {
  const cn = fields?.common_name;
  const org = fields?.organization;
  if (cn && org && cn !== org) return `${cn} (${org})`;
  return cn || org || fallback || null;
}

/** "E2E Test CA" from "O=S-MIME Companion Tests,CN=E2E Test CA": the common name, else the whole name. */
export function dnName(dn) {
  const cn = String(dn ?? "").match(/(?:^|,)\s*CN=((?:\\.|[^,])+)/);
  return cn ? cn[1].replace(/\\(.)/g, "$1").trim() : String(dn ?? "");
}
