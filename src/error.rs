//! The one error type of the host. Every variant has a stable snake_case `code()` that travels on
//! the wire and that the add-on maps to a localised text; `Display` is the developer message;
//! `details()` carries the structured context. OpenSSL's error stack never goes into a reply: it
//! is logged at debug level where it arises.

use serde_json::{json, Value};
use std::fmt;

#[derive(Debug)]
pub enum Error {
    // --- framing and envelope -------------------------------------------------------------
    /// A frame's body is not UTF-8.
    InvalidUtf8 { valid_up_to: usize },
    /// A frame's body is UTF-8 but not JSON.
    InvalidJson { line: usize, column: usize, reason: String },
    /// JSON, but not a request envelope (not an object, or a field of the wrong type).
    InvalidRequest { reason: String },
    /// The request has no `id`.
    MissingId,
    /// A key appears twice in one object of the request (`path` names the object, `$` the
    /// envelope); which one counts is not defined, so the request is refused.
    DuplicateKey { path: String, key: String },
    /// `op` names no operation in the op table.
    UnknownOp { op: String },
    /// `params` do not have the shape the operation expects.
    InvalidParams { op: String, reason: String },
    /// A frame header announced more than the request cap.
    RequestTooLarge { announced: u64, max: u64 },
    /// The input ended inside a frame.
    TruncatedFrame { expected: u64, received: u64 },
    /// The program that started the host is not on the allow-list.
    CallerNotAllowed { caller: String },
    /// A bug: a handler panicked or an invariant broke. The session goes on.
    Internal { reason: String },

    // --- chunked uploads ------------------------------------------------------------------
    UnknownTransfer { transfer_id: String },
    TransferTooLarge { requested: u64, max: u64 },
    TransferChunkOutOfOrder { transfer_id: String, expected: u64, got: u64 },
    TransferOverflow { transfer_id: String, announced: u64, received: u64 },
    TransferIncomplete { transfer_id: String, announced: u64, received: u64 },
    TransferDigestMismatch { transfer_id: String, expected: String, actual: String },
    TransferNotComplete { transfer_id: String },
    InvalidBase64 { field: String },

    // --- local environment ----------------------------------------------------------------
    /// A file or folder could not be read or written.
    Io { path: String, reason: String },
    /// A configuration file is broken.
    BadConfig { path: String, reason: String },

    // --- certificates and messages --------------------------------------------------------
    /// A file or payload that should hold certificates (or CRLs) does not.
    BadCertificate { path: String, reason: String },
    /// Nothing matches the key asked for.
    NotFound { what: String, key: String },
    /// Several things match a key that must name one.
    Ambiguous { what: String, key: String },
    /// A time value is not RFC 3339.
    BadTime { value: String },

    // --- keys -----------------------------------------------------------------------------
    /// The password does not open the PKCS#12 file (or key).
    WrongPassword { source: String },
    /// The file is not a PKCS#12 file, or it is truncated or corrupt.
    BadPkcs12 { source: String, reason: String },

    // --- stores ---------------------------------------------------------------------------
    /// A store (database) failed.
    Store { path: String, reason: String },
    /// A store is not a database, or damaged; it is left as it is.
    StoreCorrupt { path: String, reason: String },
    /// A store was written by a newer version; it is left as it is.
    StoreTooNew { path: String, version: i64, supported: i64 },
    /// Another process held the store for too long.
    StoreBusy { path: String },
    /// Text that should be an e-mail address is not one.
    InvalidAddress { address: String },

    // --- installation ---------------------------------------------------------------------
    /// The program to register does not exist or cannot be run.
    HostNotExecutable { path: String, reason: String },
    /// A Windows registry key could not be read or written.
    Registry { key: String, reason: String },
    /// A Thunderbird `policies.json` is not valid JSON or not shaped as policies; left untouched.
    BadPolicyFile { path: String, reason: String },

    // --- identities -----------------------------------------------------------------------
    /// A PKCS#12 file holds a certificate but not its private key.
    Pkcs12WithoutKey { source: String, subject: String },
    /// A certificate file (.cer, .crt, .pem, .p7c) was given where a certificate with its private
    /// key (.p12) is needed: such files never hold a key.
    CertificateWithoutKey { source: String, subject: String },
    /// A PKCS#12 file holds several private keys; which one is meant cannot be told.
    Pkcs12SeveralKeys { source: String, count: usize },
    /// The private key does not belong to the certificate.
    KeyMismatch { source: String, subject: String },
    /// A key must be protected by a passphrase, and none was given.
    PassphraseRequired,
    /// The identity's key is locked: unlock it with its passphrase.
    IdentityLocked { fingerprint: String },
    /// No identity of the user's can sign (or be encrypted to) for this address.
    NoIdentity { address: String },
    /// Some recipients have no usable certificate; each with the cache's reason.
    RecipientsWithoutCertificate { recipients: Vec<(String, String)> },
    /// The message has no recipients to encrypt to.
    NoRecipients,
    /// The input is not a message that can be signed or encrypted.
    BadMessage { reason: String },

    // --- directories ----------------------------------------------------------------------
    /// A lookup was asked for, and no directory is configured (or every entry has a mistake).
    NoDirectory { problems: Vec<String> },
}

/// Every code `Error::code` can return, with its meaning, in a stable order. The add-on must have
/// a text for each (checked by its tests) and `docs/PROTOCOL.md` lists them (checked by ours).
pub const ERROR_CODES: &[(&str, &str)] = &[
    ("invalid_utf8", "The frame's body is not UTF-8."),
    ("invalid_json", "The frame's body is not JSON."),
    ("invalid_request", "JSON, but not a request envelope (not an object, `op` or `id` of the wrong type, unknown field)."),
    ("missing_id", "The request has no `id`."),
    ("duplicate_key", "A key appears twice in one object of the request (the envelope, `params` or any object inside); `details.path` names the object (`$` the envelope, `$.params.to[0]` …), `details.key` the key."),
    ("unknown_op", "`op` names no operation; `hello` lists them."),
    ("invalid_params", "`params` do not have the shape the op expects."),
    ("request_too_large", "A frame header announced more than 64 MiB; the session ends."),
    ("truncated_frame", "The input ended inside a frame; the session ends."),
    ("caller_not_allowed", "The add-on or origin that started the host is not on its allow-list; the host exits."),
    ("internal_error", "A bug in the host; the session goes on."),
    ("unknown_transfer", "No such upload (unknown, discarded or already used)."),
    ("transfer_too_large", "The upload, or all open uploads together, would exceed 512 MiB."),
    ("transfer_chunk_out_of_order", "A chunk arrived with another index than the next one expected."),
    ("transfer_overflow", "More bytes arrived than the upload announced; it is discarded."),
    ("transfer_incomplete", "`transfer_end` came before all announced bytes."),
    ("transfer_digest_mismatch", "The upload's SHA-256 differs from the announced one; it is discarded."),
    ("transfer_not_complete", "An op named an upload that was not ended with `transfer_end`."),
    ("invalid_base64", "A `*_b64` field is not valid base64."),
    ("io_error", "A file or folder of the companion could not be read or written."),
    ("bad_config", "A configuration file is broken."),
    ("bad_certificate", "The file or data holds no readable certificate (or CRL): not PEM, DER or PKCS#7, or corrupt."),
    ("not_found", "Nothing matches the given address, fingerprint or name."),
    ("ambiguous", "Several entries match; give more of the fingerprint."),
    ("bad_time", "A time is not in RFC 3339 form (2026-11-27T10:00:00Z)."),
    ("wrong_password", "The password does not open this PKCS#12 file or key; nothing was changed."),
    ("bad_pkcs12", "Not a PKCS#12 (.p12/.pfx) file, or truncated or corrupt."),
    ("store_error", "The companion's database could not be read or written."),
    ("store_corrupt", "The companion's database is damaged or not a database; it was left untouched (move it aside to start afresh)."),
    ("store_too_new", "The database was written by a newer version of the companion; it was left untouched."),
    ("store_busy", "Another program held the database for too long; try again."),
    ("invalid_address", "Not an e-mail address."),
    ("host_not_executable", "The program to register for Thunderbird does not exist or is not executable; nothing was written."),
    ("registry_error", "A Windows registry key could not be read or written (administrator rights are needed for the machine-wide keys)."),
    ("bad_policy_file", "A Thunderbird policies.json is not valid JSON or not shaped as policies; it was left untouched."),
    ("pkcs12_without_key", "The file holds the certificate but not its private key: export it again from the original device with the private key (marked exportable), or have the certificate re-issued."),
    ("certificate_without_key", "The file is a certificate file (.cer, .crt, .pem, .p7c): it holds the certificate only, never its private key. Export the certificate with its private key as a .p12 file where it was requested or installed, or have it re-issued."),
    ("pkcs12_several_keys", "The file holds several private keys; export each identity on its own."),
    ("key_mismatch", "The private key in the file does not belong to its certificate."),
    ("passphrase_required", "A passphrase is needed to protect the private key (the file had none)."),
    ("identity_locked", "The private key is locked; unlock it with its passphrase."),
    ("no_identity", "You have no certificate with a private key for this address."),
    ("recipients_without_certificate", "Some recipients have no usable certificate; `details.recipients` gives each with the reason."),
    ("no_recipients", "The message has no recipients (To, Cc, Bcc) to encrypt to."),
    ("bad_message", "The input is not a message that can be signed or encrypted."),
    ("no_directory", "No LDAP directory is configured (or every entry has a mistake; `details.problems` says which): nothing to look up in (docs/DIRECTORY.md)."),
];

/// The codes alone.
pub fn error_codes() -> Vec<&'static str> {
    ERROR_CODES.iter().map(|(code, _)| *code).collect()
}

/// Renders the error-code table that docs/PROTOCOL.md embeds.
pub fn error_codes_markdown() -> String {
    let mut out = String::from("| code | meaning |\n|---|---|\n");
    for (code, meaning) in ERROR_CODES {
        out.push_str(&format!("| `{code}` | {meaning} |\n"));
    }
    out
}

impl Error {
    /// The stable wire code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidUtf8 { .. } => "invalid_utf8",
            Error::InvalidJson { .. } => "invalid_json",
            Error::InvalidRequest { .. } => "invalid_request",
            Error::MissingId => "missing_id",
            Error::DuplicateKey { .. } => "duplicate_key",
            Error::UnknownOp { .. } => "unknown_op",
            Error::InvalidParams { .. } => "invalid_params",
            Error::RequestTooLarge { .. } => "request_too_large",
            Error::TruncatedFrame { .. } => "truncated_frame",
            Error::CallerNotAllowed { .. } => "caller_not_allowed",
            Error::Internal { .. } => "internal_error",
            Error::UnknownTransfer { .. } => "unknown_transfer",
            Error::TransferTooLarge { .. } => "transfer_too_large",
            Error::TransferChunkOutOfOrder { .. } => "transfer_chunk_out_of_order",
            Error::TransferOverflow { .. } => "transfer_overflow",
            Error::TransferIncomplete { .. } => "transfer_incomplete",
            Error::TransferDigestMismatch { .. } => "transfer_digest_mismatch",
            Error::TransferNotComplete { .. } => "transfer_not_complete",
            Error::InvalidBase64 { .. } => "invalid_base64",
            Error::Io { .. } => "io_error",
            Error::BadConfig { .. } => "bad_config",
            Error::BadCertificate { .. } => "bad_certificate",
            Error::NotFound { .. } => "not_found",
            Error::Ambiguous { .. } => "ambiguous",
            Error::BadTime { .. } => "bad_time",
            Error::WrongPassword { .. } => "wrong_password",
            Error::BadPkcs12 { .. } => "bad_pkcs12",
            Error::Store { .. } => "store_error",
            Error::StoreCorrupt { .. } => "store_corrupt",
            Error::StoreTooNew { .. } => "store_too_new",
            Error::StoreBusy { .. } => "store_busy",
            Error::InvalidAddress { .. } => "invalid_address",
            Error::HostNotExecutable { .. } => "host_not_executable",
            Error::Registry { .. } => "registry_error",
            Error::BadPolicyFile { .. } => "bad_policy_file",
            Error::Pkcs12WithoutKey { .. } => "pkcs12_without_key",
            Error::CertificateWithoutKey { .. } => "certificate_without_key",
            Error::Pkcs12SeveralKeys { .. } => "pkcs12_several_keys",
            Error::KeyMismatch { .. } => "key_mismatch",
            Error::PassphraseRequired => "passphrase_required",
            Error::IdentityLocked { .. } => "identity_locked",
            Error::NoIdentity { .. } => "no_identity",
            Error::RecipientsWithoutCertificate { .. } => "recipients_without_certificate",
            Error::NoRecipients => "no_recipients",
            Error::BadMessage { .. } => "bad_message",
            Error::NoDirectory { .. } => "no_directory",
        }
    }

    /// Structured context for the add-on; never secrets or message content.
    pub fn details(&self) -> Value {
        match self {
            Error::InvalidUtf8 { valid_up_to } => json!({ "valid_up_to": valid_up_to }),
            Error::InvalidJson { line, column, .. } => json!({ "line": line, "column": column }),
            Error::UnknownOp { op } => json!({ "op": op }),
            Error::DuplicateKey { path, key } => json!({ "path": path, "key": key }),
            Error::InvalidParams { op, .. } => json!({ "op": op }),
            Error::RequestTooLarge { announced, max } => {
                json!({ "announced_bytes": announced, "max_bytes": max })
            }
            Error::TruncatedFrame { expected, received } => {
                json!({ "expected_bytes": expected, "received_bytes": received })
            }
            Error::CallerNotAllowed { caller } => json!({ "caller": caller }),
            Error::UnknownTransfer { transfer_id }
            | Error::TransferNotComplete { transfer_id } => json!({ "transfer_id": transfer_id }),
            Error::TransferTooLarge { requested, max } => {
                json!({ "requested_bytes": requested, "max_bytes": max })
            }
            Error::TransferChunkOutOfOrder { transfer_id, expected, got } => {
                json!({ "transfer_id": transfer_id, "expected_index": expected, "index": got })
            }
            Error::TransferOverflow { transfer_id, announced, received }
            | Error::TransferIncomplete { transfer_id, announced, received } => json!({
                "transfer_id": transfer_id, "total_bytes": announced, "received_bytes": received
            }),
            Error::TransferDigestMismatch { transfer_id, expected, actual } => json!({
                "transfer_id": transfer_id, "expected_sha256": expected, "actual_sha256": actual
            }),
            Error::InvalidBase64 { field } => json!({ "field": field }),
            Error::Io { path, .. } | Error::BadConfig { path, .. } => json!({ "path": path }),
            Error::BadCertificate { path, .. } => json!({ "source": path }),
            Error::NotFound { what, key } | Error::Ambiguous { what, key } => json!({ "what": what, "key": key }),
            Error::BadTime { value } => json!({ "value": value }),
            Error::WrongPassword { source } | Error::BadPkcs12 { source, .. } => json!({ "source": source }),
            Error::Store { path, .. } | Error::StoreCorrupt { path, .. } | Error::StoreBusy { path } => json!({ "path": path }),
            Error::StoreTooNew { path, version, supported } => json!({ "path": path, "version": version, "supported": supported }),
            Error::InvalidAddress { address } => json!({ "address": address }),
            Error::Pkcs12WithoutKey { source, subject }
            | Error::CertificateWithoutKey { source, subject }
            | Error::KeyMismatch { source, subject } => {
                json!({ "source": source, "subject": subject })
            }
            Error::Pkcs12SeveralKeys { source, count } => json!({ "source": source, "count": count }),
            Error::IdentityLocked { fingerprint } => json!({ "fingerprint": fingerprint }),
            Error::NoIdentity { address } => json!({ "address": address }),
            Error::RecipientsWithoutCertificate { recipients } => json!({
                "recipients": recipients.iter().map(|(a, r)| json!({ "address": a, "reason": r })).collect::<Vec<_>>()
            }),
            Error::BadMessage { reason } => json!({ "reason": reason }),
            Error::NoDirectory { problems } => json!({ "problems": problems }),
            Error::PassphraseRequired | Error::NoRecipients => json!({}),
            Error::HostNotExecutable { path, .. } | Error::BadPolicyFile { path, .. } => json!({ "path": path }),
            Error::Registry { key, .. } => json!({ "key": key }),
            Error::InvalidRequest { .. } | Error::MissingId | Error::Internal { .. } => json!({}),
        }
    }

    /// A duplicate key in a request; both parts come from the request, so they are bounded
    /// and neutralised here.
    pub fn duplicate_key(path: &str, key: &str) -> Error {
        Error::DuplicateKey { path: crate::logging::sanitize(path, 200), key: crate::logging::sanitize(key, 64) }
    }

    /// Shorthand for an I/O failure on a path.
    pub fn io(path: impl AsRef<std::path::Path>, err: std::io::Error) -> Error {
        Error::Io { path: path.as_ref().display().to_string(), reason: err.to_string() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidUtf8 { valid_up_to } => {
                write!(f, "request is not valid UTF-8 (valid up to byte {valid_up_to})")
            }
            // serde_json's reason already names the line and column.
            Error::InvalidJson { reason, .. } => write!(f, "request is not valid JSON: {reason}"),
            Error::InvalidRequest { reason } => write!(f, "not a request envelope: {reason}"),
            Error::MissingId => write!(f, "request has no \"id\""),
            Error::DuplicateKey { path, key } => write!(f, "key {key:?} appears twice in {path}"),
            Error::UnknownOp { op } => write!(f, "unknown op {op:?}; `hello` lists the ops"),
            Error::InvalidParams { op, reason } => write!(f, "invalid params for {op}: {reason}"),
            Error::RequestTooLarge { announced, max } => {
                write!(f, "frame announces {announced} bytes, more than the cap of {max}")
            }
            Error::TruncatedFrame { expected, received } => {
                write!(f, "input ended inside a frame ({received} of {expected} bytes)")
            }
            Error::CallerNotAllowed { caller } => {
                write!(f, "caller {caller:?} is not on this host's allow-list")
            }
            Error::Internal { reason } => write!(f, "internal error: {reason}"),
            Error::UnknownTransfer { transfer_id } => {
                write!(f, "no transfer {transfer_id:?} (unknown, discarded or already used)")
            }
            Error::TransferTooLarge { requested, max } => {
                write!(f, "transfer of {requested} bytes exceeds the limit of {max}")
            }
            Error::TransferChunkOutOfOrder { transfer_id, expected, got } => {
                write!(f, "transfer {transfer_id}: expected chunk {expected}, got {got}")
            }
            Error::TransferOverflow { transfer_id, announced, received } => write!(
                f,
                "transfer {transfer_id}: {received} bytes received, more than the {announced} announced"
            ),
            Error::TransferIncomplete { transfer_id, announced, received } => write!(
                f,
                "transfer {transfer_id}: only {received} of {announced} bytes received"
            ),
            Error::TransferDigestMismatch { transfer_id, .. } => {
                write!(f, "transfer {transfer_id}: SHA-256 of the data does not match")
            }
            Error::TransferNotComplete { transfer_id } => {
                write!(f, "transfer {transfer_id} has not been ended with transfer_end")
            }
            Error::InvalidBase64 { field } => write!(f, "field {field} is not valid base64"),
            Error::Io { path, reason } => write!(f, "{path}: {reason}"),
            Error::BadConfig { path, reason } => write!(f, "configuration {path}: {reason}"),
            Error::BadCertificate { path, reason } => write!(f, "{path}: {reason}"),
            Error::NotFound { what, key } => write!(f, "no {what} matches {key:?}"),
            Error::Ambiguous { what, key } => write!(f, "several {what}s match {key:?}; give more of it"),
            Error::BadTime { value } => write!(f, "{value:?} is not an RFC 3339 time such as 2026-11-27T10:00:00Z"),
            Error::WrongPassword { source } => write!(f, "{source}: wrong password"),
            Error::BadPkcs12 { source, reason } => write!(f, "{source}: not a usable PKCS#12 file ({reason})"),
            Error::Store { path, reason } => write!(f, "database {path}: {reason}"),
            Error::StoreCorrupt { path, reason } => {
                write!(f, "database {path} is damaged ({reason}); it was left untouched: move it aside to start afresh")
            }
            Error::StoreTooNew { path, version, supported } => write!(
                f,
                "database {path} has schema version {version}, newer than this program's {supported}; update the companion"
            ),
            Error::StoreBusy { path } => write!(f, "database {path} is busy; try again"),
            Error::InvalidAddress { address } => write!(f, "{address:?} is not an e-mail address"),
            Error::Pkcs12WithoutKey { source, subject } => write!(
                f,
                "{source} holds the certificate {subject} but not its private key. Export it again from the device \
                 where it was installed, with the private key (marked exportable), or have the certificate re-issued"
            ),
            Error::CertificateWithoutKey { source, subject } => write!(
                f,
                "{source} is a certificate file holding {subject} only, never a private key. Export the certificate \
                 with its private key as a .p12 file on the computer where it was requested or installed, or have it re-issued"
            ),
            Error::Pkcs12SeveralKeys { source, count } => {
                write!(f, "{source} holds {count} private keys; export each identity to its own file")
            }
            Error::KeyMismatch { source, subject } => {
                write!(f, "in {source}, the private key does not belong to the certificate {subject}")
            }
            Error::PassphraseRequired => write!(f, "a passphrase is needed to protect the private key"),
            Error::IdentityLocked { fingerprint } => write!(f, "identity {fingerprint} is locked; unlock it with its passphrase"),
            Error::NoIdentity { address } => write!(f, "you have no usable certificate with a private key for {address}"),
            Error::RecipientsWithoutCertificate { recipients } => write!(
                f,
                "no usable certificate for: {}",
                recipients.iter().map(|(a, r)| format!("{a} ({r})")).collect::<Vec<_>>().join(", ")
            ),
            Error::NoRecipients => write!(f, "the message has no recipients to encrypt to"),
            Error::BadMessage { reason } => write!(f, "not a message that can be signed or encrypted: {reason}"),
            Error::NoDirectory { problems } if problems.is_empty() => {
                write!(f, "no LDAP directory is configured (docs/DIRECTORY.md)")
            }
            Error::NoDirectory { problems } => write!(f, "no usable LDAP directory: {}", problems.join("; ")),
            Error::HostNotExecutable { path, reason } => write!(f, "cannot register {path}: {reason}"),
            Error::Registry { key, reason } => write!(f, "registry key {key}: {reason}"),
            Error::BadPolicyFile { path, reason } => {
                write!(f, "policy file {path} is broken ({reason}); it was left untouched: fix or remove it, then run this again")
            }
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in error_codes() {
            assert!(seen.insert(code), "duplicate code {code}");
            assert!(code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'), "{code}");
        }
    }
}
