// Verdicts shaped like docs/INSPECT.md's examples, for the tests of look and details.

export function cert(overrides = {}) {
  return {
    subject: "CN=Alice Example,O=Example Corp,C=DE",
    subject_fields: {
      common_name: "Alice Example", email: null, organization: "Example Corp", organizational_unit: null,
      organization_identifier: null, given_name: "Alice", surname: "Example", pseudonym: null, title: null,
      serial_number: null, country: "DE", locality: null, state: null,
    },
    emails: ["alice@example.org"],
    issuer: "CN=Example Issuing CA,O=Example Trust",
    issuer_fields: { common_name: "Example Issuing CA", organization: "Example Trust" },
    serial: "4f2a",
    not_before: "2026-01-01T00:00:00Z",
    not_after: "2028-01-01T00:00:00Z",
    fingerprint_sha256: "0123456789abcdef".repeat(4),
    fingerprint_sha1: "00".repeat(20),
    key: { type: "rsa", bits: 3072, curve: null },
    key_usage: ["digital_signature"],
    extended_key_usage: ["email_protection"],
    policies: ["2.23.140.1.5.3.2"],
    validation: { type: "sponsor", generation: "multipurpose", source: "cabf_smime_br" },
    self_signed: false,
    is_ca: false,
    ...overrides,
  };
}

export const LOCKED_FINGERPRINT = "cd".repeat(32);

export function verdict({ signature = "valid", encryption = "none", problems, signer = cert(), warnings = [], layers, from, failure, revocation } = {}) {
  const signed = signature !== "none";
  const state = signature;
  return {
    signature: {
      state,
      warnings,
      signer: signed && state !== "partially_signed" ? signer : null,
      signing_time: signed ? "2026-11-27T10:00:00Z" : null,
      problems: problems ?? (["valid", "none", "partially_signed"].includes(state) ? [] : [{ code: state }]),
      covered_part: state === "partially_signed" ? "2" : null,
      layers: layers ?? (signed
        ? [{
          part: "", form: "multipart_signed", position: "root", state, problems: [],
          signers: [{
            state, problems: [], certificate: signer,
            chain: [cert({ subject: "CN=Example Issuing CA", subject_fields: { common_name: "Example Issuing CA", organization: "Example Trust" } })],
            anchor: state === "untrusted" ? null : "system", signing_time: "2026-11-27T10:00:00Z",
            digest_algorithm: "sha256", signature_algorithm: "rsa_pkcs1v15", capabilities: [],
            revocation: revocation ?? { status: "unknown", reason: "no_source", retry: false, certificates: [{ depth: 0, subject: "CN=Alice Example", status: "unknown", reason: "no_source" }] },
          }],
        }]
        : []),
    },
    encryption: {
      state: encryption,
      form: encryption === "none" ? null : "enveloped_data",
      content_cipher: encryption === "none" ? null : "aes-256-cbc",
      authenticated: false,
      recipients: encryption === "none" ? [] : [{ key_transport: "rsa_pkcs1v15", issuer: "CN=CA", serial: "0a", subject_key_id: null, email: "bob@example.org", mine: ["decrypted", "locked"].includes(encryption) }],
      locked_identities: encryption === "locked" ? [LOCKED_FINGERPRINT] : [],
      decrypted_with: encryption === "decrypted"
        ? { fingerprint_sha256: "ab".repeat(32), subject: "CN=Bob", emails: ["bob@example.org"], not_after: "2027-01-01T00:00:00Z", expired: false, replaced: false }
        : null,
      failure: failure ?? (encryption === "failed" ? "integrity_check_failed" : encryption === "unsupported" ? "rc2-40-cbc" : null),
      warnings: [],
    },
    message: {
      size_bytes: 5120, line_endings: "crlf",
      from: from ?? [{ name: "Alice Example", address: "alice@example.org" }],
      sender: null, date: "2026-11-27T10:00:05Z", structure: [], decrypted_by_thunderbird: false,
    },
    content: null,
  };
}

// One of the user's own certificates, shaped like the host's IdentityInfo (identities_list).
export function identity(overrides = {}) {
  const fingerprint = overrides.fingerprint ?? "aa".repeat(32);
  return {
    fingerprint,
    emails: ["bob@example.org"],
    subject: "CN=Bob Reader,C=DE",
    issuer: "CN=Example Issuing CA,O=Example Trust",
    not_before: "2026-01-01T00:00:00Z",
    not_after: "2028-01-01T00:00:00Z",
    expired: false,
    expires_in_days: 400,
    replaced_by: null,
    imported_at: "2026-11-01T10:00:00Z",
    backed_up_at: null,
    key: { type: "rsa", bits: 3072, curve: null },
    can_sign: true,
    can_encrypt: true,
    unlocked: false,
    certificate: cert({ subject: "CN=Bob Reader,C=DE", emails: ["bob@example.org"], fingerprint_sha256: fingerprint,
      subject_fields: { ...cert().subject_fields, common_name: "Bob Reader", organization: null, given_name: null, surname: null },
      validation: { type: "individual", generation: "multipurpose", source: "cabf_smime_br" } }),
    chain: [],
    ...overrides,
  };
}

/** A Thunderbird identity (identities API MailIdentity) with its S/MIME capabilities. */
export function tbIdentity(email, { canSign = false, canEncrypt = false } = {}) {
  return { id: `id-${email}`, accountId: "account2", email, name: "Bob Reader", encryptionCapabilities: { "S/MIME": { canSign, canEncrypt }, OpenPGP: { canSign: false, canEncrypt: false } } };
}
