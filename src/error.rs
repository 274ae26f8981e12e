//! The one error type of the host. Every variant has a stable snake_case `code()` that travels on
//! the wire and that the add-on maps to a localised text; `Display` is the developer message;
//! `details()` carries the structured context.
//!
//! Where a failure comes from another library (the OS's I/O error, SQLite's, OpenSSL's error
//! stack) the variant keeps that error as its `cause`, and `source()` hands it out: the reply's
//! message stays short and the same, while the log (at debug level) and the CLI's `--verbose`
//! show the whole chain ([`causes`], [`Chain`]). OpenSSL's error stack never goes into a reply.

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
    /// A file or folder could not be read or written; `cause` says why (the OS's error, or
    /// one of ours such as "no home folder").
    Io { path: String, cause: std::io::Error },
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
    /// The password does not open the PKCS#12 file (or key); `source` names the file.
    WrongPassword { source: String, cause: Option<openssl::error::ErrorStack> },
    /// The file is not a PKCS#12 file, or it is truncated or corrupt; `source` names the file.
    BadPkcs12 { source: String, reason: String, cause: Option<openssl::error::ErrorStack> },

    // --- stores ---------------------------------------------------------------------------
    /// A store (database) failed; `cause` is SQLite's error when it reported one.
    Store { path: String, reason: String, cause: Option<rusqlite::Error> },
    /// A store is not a database, or damaged; it is left as it is.
    StoreCorrupt { path: String, reason: String, cause: Option<rusqlite::Error> },
    /// A store was written by a newer version; it is left as it is.
    StoreTooNew { path: String, version: i64, supported: i64 },
    /// Another process held the store for too long.
    StoreBusy { path: String, cause: Option<rusqlite::Error> },
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

    // --- fetching a message ---------------------------------------------------------------
    /// `transfer_fetch` got no message from the server: what went wrong, and the HTTP status
    /// when the server answered with an error.
    FetchFailed { host: String, problem: FetchProblem, status: Option<u16> },
}

/// Why `transfer_fetch` got no message (`details.problem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchProblem {
    /// The server (or the proxy) could not be reached.
    Offline,
    /// No complete answer within the time allowed.
    Timeout,
    /// The TLS connection failed: most often a certificate this computer does not trust.
    Tls,
    /// The server answered with an error status (`details.status`).
    Status,
    /// The answer is larger than the host takes.
    TooLarge,
    /// The answer broke off, or is not what HTTP allows.
    Broken,
}

impl FetchProblem {
    pub fn name(self) -> &'static str {
        match self {
            FetchProblem::Offline => "offline",
            FetchProblem::Timeout => "timeout",
            FetchProblem::Tls => "tls",
            FetchProblem::Status => "status",
            FetchProblem::TooLarge => "too_large",
            FetchProblem::Broken => "broken",
        }
    }
}

/// Each variant's wire code and its meaning, declared once: [`Error::code`] and [`ERROR_CODES`]
/// are both made from this list. The `match` in `code()` is exhaustive, so a variant without a
/// code does not compile, and a code cannot be listed without its variant.
macro_rules! error_codes {
    ($($variant:ident => $code:literal: $meaning:literal,)+) => {
        /// Every code [`Error::code`] can return, with its meaning, in a stable order. The add-on
        /// must have a text for each (checked by its tests), `docs/PROTOCOL.md` lists them (checked
        /// by ours) and `hello` names them.
        pub const ERROR_CODES: &[(&str, &str)] = &[$(($code, $meaning),)+];

        impl Error {
            /// The stable wire code.
            pub fn code(&self) -> &'static str {
                match self {
                    $(Error::$variant { .. } => $code,)+
                }
            }
        }
    };
}

error_codes! {
    InvalidUtf8 => "invalid_utf8":
        "The frame's body is not UTF-8.",
    InvalidJson => "invalid_json":
        "The frame's body is not JSON.",
    InvalidRequest => "invalid_request":
        "JSON, but not a request envelope (not an object, `op` or `id` of the wrong type, unknown field).",
    MissingId => "missing_id":
        "The request has no `id`.",
    DuplicateKey => "duplicate_key":
        "A key appears twice in one object of the request (the envelope, `params` or any object inside); `details.path` names the object (`$` the envelope, `$.params.to[0]` …), `details.key` the key.",
    UnknownOp => "unknown_op":
        "`op` names no operation; `hello` lists them.",
    InvalidParams => "invalid_params":
        "`params` do not have the shape the op expects.",
    RequestTooLarge => "request_too_large":
        "A frame header announced more than 64 MiB; the session ends.",
    TruncatedFrame => "truncated_frame":
        "The input ended inside a frame; the session ends.",
    CallerNotAllowed => "caller_not_allowed":
        "The add-on or origin that started the host is not on its allow-list; the host exits.",
    Internal => "internal_error":
        "A bug in the host; the session goes on.",
    UnknownTransfer => "unknown_transfer":
        "No such upload (unknown, discarded or already used).",
    TransferTooLarge => "transfer_too_large":
        "The upload, or all open uploads together, would exceed 512 MiB.",
    TransferChunkOutOfOrder => "transfer_chunk_out_of_order":
        "A chunk arrived with another index than the next one expected.",
    TransferOverflow => "transfer_overflow":
        "More bytes arrived than the upload announced; it is discarded.",
    TransferIncomplete => "transfer_incomplete":
        "`transfer_end` came before all announced bytes.",
    TransferDigestMismatch => "transfer_digest_mismatch":
        "The upload's SHA-256 differs from the announced one; it is discarded.",
    TransferNotComplete => "transfer_not_complete":
        "An op named an upload that was not ended with `transfer_end`.",
    InvalidBase64 => "invalid_base64":
        "A `*_b64` field is not valid base64.",
    Io => "io_error":
        "A file or folder of the companion could not be read or written.",
    BadConfig => "bad_config":
        "A configuration file is broken.",
    BadCertificate => "bad_certificate":
        "The file or data holds no readable certificate (or CRL): not PEM, DER or PKCS#7, or corrupt.",
    NotFound => "not_found":
        "Nothing matches the given address, fingerprint or name.",
    Ambiguous => "ambiguous":
        "Several entries match; give more of the fingerprint.",
    BadTime => "bad_time":
        "A time is not in RFC 3339 form (2026-11-27T10:00:00Z).",
    WrongPassword => "wrong_password":
        "The password does not open this PKCS#12 file or key; nothing was changed.",
    BadPkcs12 => "bad_pkcs12":
        "Not a PKCS#12 (.p12/.pfx) file, or truncated or corrupt.",
    Store => "store_error":
        "The companion's database could not be read or written.",
    StoreCorrupt => "store_corrupt":
        "The companion's database is damaged or not a database; it was left untouched (move it aside to start afresh).",
    StoreTooNew => "store_too_new":
        "The database was written by a newer version of the companion; it was left untouched.",
    StoreBusy => "store_busy":
        "Another program held the database for too long; try again.",
    InvalidAddress => "invalid_address":
        "Not an e-mail address.",
    HostNotExecutable => "host_not_executable":
        "The program to register for Thunderbird does not exist or is not executable; nothing was written.",
    Registry => "registry_error":
        "A Windows registry key could not be read or written (administrator rights are needed for the machine-wide keys).",
    BadPolicyFile => "bad_policy_file":
        "A Thunderbird policies.json is not valid JSON or not shaped as policies; it was left untouched.",
    Pkcs12WithoutKey => "pkcs12_without_key":
        "The file holds the certificate but not its private key: export it again from the original device with the private key (marked exportable), or have the certificate re-issued.",
    CertificateWithoutKey => "certificate_without_key":
        "The file is a certificate file (.cer, .crt, .pem, .p7c): it holds the certificate only, never its private key. Export the certificate with its private key as a .p12 file where it was requested or installed, or have it re-issued.",
    Pkcs12SeveralKeys => "pkcs12_several_keys":
        "The file holds several private keys; export each identity on its own.",
    KeyMismatch => "key_mismatch":
        "The private key in the file does not belong to its certificate.",
    PassphraseRequired => "passphrase_required":
        "A passphrase is needed to protect the private key (the file had none).",
    IdentityLocked => "identity_locked":
        "The private key is locked; unlock it with its passphrase.",
    NoIdentity => "no_identity":
        "You have no certificate with a private key for this address.",
    RecipientsWithoutCertificate => "recipients_without_certificate":
        "Some recipients have no usable certificate; `details.recipients` gives each with the reason.",
    NoRecipients => "no_recipients":
        "The message has no recipients (To, Cc, Bcc) to encrypt to.",
    BadMessage => "bad_message":
        "The input is not a message that can be signed or encrypted.",
    NoDirectory => "no_directory":
        "No LDAP directory is configured (or every entry has a mistake; `details.problems` says which): nothing to look up in (docs/DIRECTORY.md).",
    FetchFailed => "fetch_failed":
        "`transfer_fetch` got no message from the server: `details.problem` says why (offline, timeout, tls, status, too_large, broken), `details.status` the HTTP status of an error answer.",
}

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
            Error::WrongPassword { source, .. } | Error::BadPkcs12 { source, .. } => json!({ "source": source }),
            Error::Store { path, .. } | Error::StoreCorrupt { path, .. } | Error::StoreBusy { path, .. } => json!({ "path": path }),
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
            Error::FetchFailed { host, problem, status } => json!({ "host": host, "problem": problem.name(), "status": status }),
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

    /// An I/O failure on a path, keeping the OS's error.
    pub fn io(path: impl AsRef<std::path::Path>, err: std::io::Error) -> Error {
        Error::Io { path: path.as_ref().display().to_string(), cause: err }
    }

    /// An I/O failure on a path for a reason of ours (no OS error behind it).
    pub fn io_reason(path: impl AsRef<std::path::Path>, kind: std::io::ErrorKind, reason: &str) -> Error {
        Error::io(path, std::io::Error::new(kind, reason))
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
            Error::Io { path, cause } => write!(f, "{path}: {cause}"),
            Error::BadConfig { path, reason } => write!(f, "configuration {path}: {reason}"),
            Error::BadCertificate { path, reason } => write!(f, "{path}: {reason}"),
            Error::NotFound { what, key } => write!(f, "no {what} matches {key:?}"),
            Error::Ambiguous { what, key } => write!(f, "several {what}s match {key:?}; give more of it"),
            Error::BadTime { value } => write!(f, "{value:?} is not an RFC 3339 time such as 2026-11-27T10:00:00Z"),
            Error::WrongPassword { source, .. } => write!(f, "{source}: wrong password"),
            Error::BadPkcs12 { source, reason, .. } => write!(f, "{source}: not a usable PKCS#12 file ({reason})"),
            Error::Store { path, reason, .. } => write!(f, "database {path}: {reason}"),
            Error::StoreCorrupt { path, reason, .. } => {
                write!(f, "database {path} is damaged ({reason}); it was left untouched: move it aside to start afresh")
            }
            Error::StoreTooNew { path, version, supported } => write!(
                f,
                "database {path} has schema version {version}, newer than this program's {supported}; update the companion"
            ),
            Error::StoreBusy { path, .. } => write!(f, "database {path} is busy; try again"),
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
            Error::FetchFailed { host, problem, status } => match (problem, status) {
                (_, Some(status)) => write!(f, "{host} answered with HTTP status {status}"),
                (FetchProblem::Offline, _) => write!(f, "{host} could not be reached"),
                (FetchProblem::Timeout, _) => write!(f, "{host} did not answer in time"),
                (FetchProblem::Tls, _) => write!(f, "no secure connection to {host} (is its certificate trusted on this computer?)"),
                (FetchProblem::TooLarge, _) => write!(f, "the message from {host} is larger than the host takes"),
                (FetchProblem::Status | FetchProblem::Broken, _) => write!(f, "the answer from {host} broke off or is not HTTP"),
            },
            Error::HostNotExecutable { path, reason } => write!(f, "cannot register {path}: {reason}"),
            Error::Registry { key, reason } => write!(f, "registry key {key}: {reason}"),
            Error::BadPolicyFile { path, reason } => {
                write!(f, "policy file {path} is broken ({reason}); it was left untouched: fix or remove it, then run this again")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { cause, .. } => Some(cause),
            Error::Store { cause, .. } | Error::StoreCorrupt { cause, .. } | Error::StoreBusy { cause, .. } => {
                cause.as_ref().map(|e| e as _)
            }
            Error::WrongPassword { cause, .. } | Error::BadPkcs12 { cause, .. } => cause.as_ref().map(|e| e as _),
            _ => None,
        }
    }
}

/// At most this many causes are followed (a chain is short; this only bounds a cycle).
const MAX_CAUSES: usize = 16;

/// The errors behind `error` (its `source()` chain), outermost first, as text; a cause whose
/// text the message or an earlier cause already says is left out (an `Io` error's message
/// already ends in the OS's reason).
pub fn causes(error: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut said = error.to_string();
    let mut out = Vec::new();
    let mut next = error.source();
    for _ in 0..MAX_CAUSES {
        let Some(cause) = next else { break };
        let text = cause.to_string();
        if !text.trim().is_empty() && !said.contains(&text) {
            said.push('\n');
            said.push_str(&text);
            out.push(text);
        }
        next = cause.source();
    }
    out
}

/// An error with its causes on one line, for the log: `message: cause: cause`.
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        for cause in causes(self.0) {
            write!(f, ": {cause}")?;
        }
        Ok(())
    }
}

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

    #[test]
    fn an_io_error_keeps_the_os_error_and_says_the_same_as_before() {
        use std::error::Error as _;
        let os = || std::io::Error::from_raw_os_error(libc::ENOENT);
        let e = Error::io("/data/contacts.sqlite", os());
        assert_eq!(e.to_string(), format!("/data/contacts.sqlite: {}", os()));
        let cause = e.source().and_then(|c| c.downcast_ref::<std::io::Error>()).expect("the io::Error is kept");
        assert_eq!(cause.kind(), std::io::ErrorKind::NotFound);
        assert!(causes(&e).is_empty(), "the OS's reason is in the message already");
        let ours = Error::io_reason("$HOME", std::io::ErrorKind::NotFound, "no home folder");
        assert_eq!((ours.code(), ours.to_string()), ("io_error", "$HOME: no home folder".to_string()));
    }

    #[derive(Debug)]
    struct Words(&'static str, Option<Box<Words>>);

    impl fmt::Display for Words {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Words {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|w| w as _)
        }
    }

    #[test]
    fn the_chain_adds_only_what_was_not_said_and_fits_one_line() {
        // io::Error hands out the source of the error it wraps.
        let inner = Words("outer words", Some(Box::new(Words("the detail", Some(Box::new(Words("outer words", None)))))));
        let e = Error::io("/p", std::io::Error::new(std::io::ErrorKind::Other, inner));
        assert_eq!(e.to_string(), "/p: outer words", "the reply's message is unchanged");
        assert_eq!(causes(&e), vec!["the detail"], "each cause once, none the message says");
        assert_eq!(Chain(&e).to_string(), "/p: outer words: the detail");
        let plain = Error::NotFound { what: "contact".into(), key: "a@b".into() };
        assert!(causes(&plain).is_empty());
        assert_eq!(Chain(&plain).to_string(), plain.to_string());
    }

    #[test]
    fn a_cycle_of_causes_ends() {
        #[derive(Debug)]
        struct Loop(u8);
        impl fmt::Display for Loop {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "loop {}", self.0)
            }
        }
        static A: Loop = Loop(1);
        static B: Loop = Loop(2);
        impl std::error::Error for Loop {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(if self.0 == 1 { &B } else { &A })
            }
        }
        assert_eq!(causes(&A), vec!["loop 2"]);
    }
}
