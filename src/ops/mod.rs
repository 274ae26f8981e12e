//! The op table: every operation the add-on can ask for. Handlers live in one file per area; each
//! turns `params` into the typed struct its table entry names (`params_type`; a test holds the
//! entry's `params` text to that struct), calls the domain layer, and replies with the typed
//! result it returns. No domain logic lives here: the CLI calls the same domain functions and
//! never this module (tests/layering.rs).

mod contacts;
mod directory;
mod identities;
mod inspect;
mod session;
mod trust;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::protocol::shape::ParamsType;
use crate::protocol::{Op, Params, Split};
use serde::Deserialize;
use serde::Serialize;
use serde_json::Value;

/// All ops, in the order `hello` and docs/PROTOCOL.md list them.
pub static OPS: &[Op] = &[
    Op {
        name: "hello",
        params: "{}",
        help: "Product and protocol version, the ops with their help, limits and error codes.",
        params_type: ParamsType::of::<NoParams>(),
        handler: session::hello,
    },
    Op {
        name: "ping",
        params: "{echo?}",
        help: "Liveness check; returns `echo` unchanged, so it also exercises large replies.",
        params_type: ParamsType::of::<session::PingParams>(),
        handler: session::ping,
    },
    Op {
        name: "inspect_message",
        params: "{message_b64 or message_latin1 or transfer, at?, return_content?, harvest?, decrypted_by_thunderbird?, recheck_revocation?}",
        help: "Verifies and decrypts a raw message and explains the result (docs/INSPECT.md); recheck_revocation asks CAs again where a revocation check failed.",
        params_type: ParamsType::of::<inspect::InspectParams>(),
        handler: inspect::inspect_message,
    },
    Op {
        name: "contacts_list",
        params: "{search?, offset?, limit?, sort?}",
        help: "Lists contacts (address or name containing `search`), paged; sort by address, last_seen or expiry.",
        params_type: ParamsType::of::<contacts::ListParams>(),
        handler: contacts::contacts_list,
    },
    Op {
        name: "contacts_show",
        params: "{address}",
        help: "One contact: all certificates, which one encryption would use (or why none), and the history.",
        params_type: ParamsType::of::<contacts::AddressParams>(),
        handler: contacts::contacts_show,
    },
    Op {
        name: "contacts_delete",
        params: "{address}",
        help: "Deletes a contact together with its certificates (the fix for a stale or wrong key).",
        params_type: ParamsType::of::<contacts::AddressParams>(),
        handler: contacts::contacts_delete,
    },
    Op {
        name: "contacts_delete_certificate",
        params: "{fingerprint}",
        help: "Deletes one certificate by SHA-256 fingerprint (or a unique prefix).",
        params_type: ParamsType::of::<contacts::FingerprintParams>(),
        handler: contacts::contacts_delete_certificate,
    },
    Op {
        name: "contacts_confirm_certificate",
        params: "{address, fingerprint, note?}",
        help: "Uses a certificate for a contact: a pending new key (or a refused one) becomes the one encryption uses; `note` says how it was checked.",
        params_type: ParamsType::of::<contacts::DecisionParams>(),
        handler: contacts::contacts_confirm_certificate,
    },
    Op {
        name: "contacts_refuse_certificate",
        params: "{address, fingerprint, note?}",
        help: "Refuses a certificate for a contact: encryption never chooses it; the history keeps the decision.",
        params_type: ParamsType::of::<contacts::DecisionParams>(),
        handler: contacts::contacts_refuse_certificate,
    },
    Op {
        name: "contacts_import",
        params: "{data_b64 or transfer}",
        help: "Imports certificates: PEM, DER, .cer/.crt, .p7c/.p7b bundles (also an attachment's bytes).",
        params_type: ParamsType::of::<contacts::ImportParams>(),
        handler: contacts::contacts_import,
    },
    Op {
        name: "contacts_export",
        params: "{address, format?}",
        help: "Exports a contact's certificates as pem (default), der or p7c.",
        params_type: ParamsType::of::<contacts::ExportParams>(),
        handler: contacts::contacts_export,
    },
    Op {
        name: "recipients_check",
        params: "{addresses, lookup?, managed_directories?}",
        help: "For each address: the certificate encryption would use, or the reason there is none, and how many new keys wait for the user's decision; with lookup, those without one are looked up in the directories first.",
        params_type: ParamsType::of::<contacts::CheckParams>(),
        handler: contacts::recipients_check,
    },
    Op {
        name: "contacts_lookup",
        params: "{addresses, managed_directories?}",
        help: "Looks addresses up in every configured LDAP directory, stores what it finds (source directory) and checks each address (docs/DIRECTORY.md).",
        params_type: ParamsType::of::<directory::LookupParams>(),
        handler: directory::contacts_lookup,
    },
    Op {
        name: "contacts_stats",
        params: "{}",
        help: "Counts of contacts, certificates, intermediates, untrusted, expired and expiring ones; database size.",
        params_type: ParamsType::of::<NoParams>(),
        handler: contacts::contacts_stats,
    },
    Op {
        name: "directories_list",
        params: "{managed_directories?}",
        help: "The LDAP directories in effect (IT's and yours) without secrets, and entries left out with why.",
        params_type: ParamsType::of::<directory::ListParams>(),
        handler: directory::directories_list,
    },
    Op {
        name: "directories_save",
        params: "{directory, password?}",
        help: "Adds or replaces one of your directories (by id) in your configuration; stores its bind password when given.",
        params_type: ParamsType::of::<directory::SaveParams>(),
        handler: directory::directories_save,
    },
    Op {
        name: "directories_remove",
        params: "{id}",
        help: "Removes one of your directories and its stored password.",
        params_type: ParamsType::of::<directory::IdParams>(),
        handler: directory::directories_remove,
    },
    Op {
        name: "directories_set_password",
        params: "{id, password, managed_directories?}",
        help: "Stores your bind password for a directory (an empty one removes it); it is never sent back.",
        params_type: ParamsType::of::<directory::PasswordParams>(),
        handler: directory::directories_set_password,
    },
    Op {
        name: "identities_list",
        params: "{}",
        help: "Your certificates with private keys: validity, renewal, backup and lock state.",
        params_type: ParamsType::of::<NoParams>(),
        handler: identities::identities_list,
    },
    Op {
        name: "identities_import",
        params: "{p12_b64, password, new_passphrase?}",
        help: "Imports a .p12/.pfx with every check (key present and matching, chain, e-mail use, expiry).",
        params_type: ParamsType::of::<identities::ImportParams>(),
        handler: identities::identities_import,
    },
    Op {
        name: "identities_show",
        params: "{identity}",
        help: "One identity, by fingerprint (or unique prefix) or address.",
        params_type: ParamsType::of::<identities::IdentityParams>(),
        handler: identities::identities_show,
    },
    Op {
        name: "identities_delete",
        params: "{fingerprint}",
        help: "Deletes an identity and its private key.",
        params_type: ParamsType::of::<identities::FingerprintParams>(),
        handler: identities::identities_delete,
    },
    Op {
        name: "identities_unlock",
        params: "{passphrase, identity?}",
        help: "Unlocks one identity, or every identity this passphrase opens, for the configured time.",
        params_type: ParamsType::of::<identities::UnlockParams>(),
        handler: identities::identities_unlock,
    },
    Op {
        name: "identities_lock",
        params: "{}",
        help: "Locks every unlocked key, here and in every other session.",
        params_type: ParamsType::of::<NoParams>(),
        handler: identities::identities_lock,
    },
    Op {
        name: "identities_export",
        params: "{identity, password, passphrase, legacy?, record_backup?}",
        help: "Backup as PKCS#12 with the chain (AES-256; 3DES when legacy) under the new password; needs the identity's passphrase even while unlocked; records the backup unless record_backup is false.",
        params_type: ParamsType::of::<identities::ExportParams>(),
        handler: identities::identities_export,
    },
    Op {
        name: "identities_backup_saved",
        params: "{identity}",
        help: "Records that a backup of the identity was saved (after an export with record_backup false).",
        params_type: ParamsType::of::<identities::BackupSavedParams>(),
        handler: identities::identities_backup_saved,
    },
    Op {
        name: "backup_status",
        params: "{}",
        help: "Whether every current identity has a backup, and when each was made.",
        params_type: ParamsType::of::<NoParams>(),
        handler: identities::backup_status,
    },
    Op {
        name: "expiry_radar",
        params: "{days?}",
        help: "Identities that expire within `days` (default 30) and have not been renewed.",
        params_type: ParamsType::of::<identities::RadarParams>(),
        handler: identities::expiry_radar,
    },
    Op {
        name: "sign_message",
        params: "{message_b64 or transfer, from?, passphrase?}",
        help: "Signs a message (multipart/signed, SHA-256) with the From address's identity.",
        params_type: ParamsType::of::<identities::SignParams>(),
        handler: identities::sign_message,
    },
    Op {
        name: "encrypt_message",
        params: "{message_b64 or transfer, to?, sign?, passphrase?}",
        help: "Encrypts to the recipients' certificates from the contact cache and to yourself; signs first when asked.",
        params_type: ParamsType::of::<identities::EncryptParams>(),
        handler: identities::encrypt_message,
    },
    Op {
        name: "trust_list",
        params: "{}",
        help: "Lists the trust anchors IT and the user added, and how many CRLs are stored.",
        params_type: ParamsType::of::<NoParams>(),
        handler: trust::trust_list,
    },
    Op {
        name: "trust_add",
        params: "{data_b64}",
        help: "Trusts the CA certificate(s) in a PEM, DER or PKCS#7 file, or stores a CRL.",
        params_type: ParamsType::of::<trust::AddParams>(),
        handler: trust::trust_add,
    },
    Op {
        name: "trust_remove",
        params: "{fingerprint}",
        help: "Removes a user-added anchor by its SHA-256 fingerprint (or a unique prefix).",
        params_type: ParamsType::of::<trust::RemoveParams>(),
        handler: trust::trust_remove,
    },
    Op {
        name: "transfer_begin",
        params: "{total_bytes, sha256?, transfer_id?}",
        help: "Opens a chunked upload of `total_bytes` (at most 512 MiB); returns its `transfer_id` (the caller's, when it names one).",
        params_type: ParamsType::of::<session::BeginParams>(),
        handler: session::transfer_begin,
    },
    Op {
        name: "transfer_chunk",
        params: "{transfer_id, index, data_b64 or data_latin1}",
        help: "Appends chunk `index` (0, 1, 2, … in order) to an open upload.",
        params_type: ParamsType::of::<session::ChunkParams>(),
        handler: session::transfer_chunk,
    },
    Op {
        name: "transfer_end",
        params: "{transfer_id}",
        help: "Closes an upload, checking its size (and SHA-256, when given at the beginning); ops can then take `transfer: id`.",
        params_type: ParamsType::of::<session::TransferIdParams>(),
        handler: session::transfer_end,
    },
    Op {
        name: "transfer_fetch",
        params: "{url, authorization?, transfer_id?, timeout_ms?}",
        help: "Downloads a message (https://; at most 256 MiB) from the user's mail server into a finished transfer, sending `authorization` as that header: the Outlook extension's way to Microsoft Graph.",
        params_type: ParamsType::of::<session::FetchParams>(),
        handler: session::transfer_fetch,
    },
    Op {
        name: "transfer_discard",
        params: "{transfer_id}",
        help: "Drops an upload, finished or not.",
        params_type: ParamsType::of::<session::TransferIdParams>(),
        handler: session::transfer_discard,
    },
];

/// Parses `params` into the op's typed parameters (which may borrow from them): the type its
/// table entry names (`params_type`; checked in debug builds).
pub(crate) fn parse<'a, T: Deserialize<'a>>(op: &str, params: &'a Params) -> Result<T> {
    parse_text(op, params.text())
}

/// Parses params' JSON text (such as `Split::rest`) into the op's typed parameters: the type
/// its table entry names (`params_type`; checked in debug builds).
pub(crate) fn parse_text<'a, T: Deserialize<'a>>(op: &str, text: &'a str) -> Result<T> {
    debug_assert!(
        OPS.iter().find(|o| o.name == op).is_none_or(|o| (o.params_type.name)() == std::any::type_name::<T>()),
        "{op} parses {}, not the params_type of its table entry",
        std::any::type_name::<T>()
    );
    serde_json::from_str(text).map_err(|e| Error::InvalidParams { op: op.into(), reason: e.to_string() })
}

/// The fields a payload may come in, for an op whose payload is `<stem>_b64`, `<stem>_latin1`
/// or a transfer: pass to `Params::split`, so the payload's text is read only by its decoder.
pub(crate) fn payload_fields(stem: &str) -> [String; 2] {
    [format!("{stem}_b64"), format!("{stem}_latin1")]
}

/// Where the payload of an op is, found while its params are read: an op takes it as
/// `<stem>_b64` (base64), `<stem>_latin1` (a binary string: one character per byte, as
/// Thunderbird hands a raw message to an add-on) or a finished transfer, exactly one of them.
pub(crate) enum Payload {
    /// A string the scanner vouched for, at `start..end` of the params text (quotes excluded):
    /// decoded where it is, once the params are no longer needed (`decode_payload`).
    InFrame { field: String, latin1: bool, start: usize, end: usize },
    /// Decoded already (serde_json's path: params the scanner did not vouch for, or base64
    /// with an escaped slash).
    Bytes(Vec<u8>),
    /// A finished transfer.
    Transfer(String),
}

/// Finds an op's payload. `split` holds the members the scanner took out of the params
/// (`Params::split` with `payload_fields`); `b64` and `latin1` are those serde_json read, when
/// the scanner did not vouch for the params.
pub(crate) fn find_payload(
    op: &str,
    stem: &str,
    params: &Params,
    split: &Split<'_>,
    b64: Option<Base64Text<'_>>,
    latin1: Option<Base64Text<'_>>,
    transfer: Transfer,
) -> Result<Payload> {
    let [b64_field, latin1_field] = payload_fields(stem);
    let (b64_literal, latin1_literal) = (split.literal(&b64_field), split.literal(&latin1_field));
    let given = [b64_literal.is_some() || b64.is_some(), latin1_literal.is_some() || latin1.is_some(), matches!(transfer, Transfer::Named(_))];
    if given.iter().filter(|g| **g).count() != 1 {
        let reason = match transfer {
            Transfer::NotAccepted => format!("give exactly one of {b64_field} and {latin1_field}"),
            _ => format!("give exactly one of {b64_field}, {latin1_field} and transfer"),
        };
        return Err(Error::InvalidParams { op: op.into(), reason });
    }
    // Where a literal's content lies in the params text.
    let span = |literal: &str| {
        let start = literal.as_ptr() as usize - params.text().as_ptr() as usize + 1;
        (start, start + literal.len() - 2)
    };
    if let Some(member) = b64_literal {
        if member.escaped {
            // Some encoders escape the slash; the scanner vouched for the literal, serde unescapes it.
            let unescaped: String = serde_json::from_str(member.value).map_err(|_| Error::InvalidBase64 { field: b64_field.clone() })?;
            return crate::b64::decode(&b64_field, &unescaped).map(Payload::Bytes);
        }
        let (start, end) = span(member.value);
        return Ok(Payload::InFrame { field: b64_field, latin1: false, start, end });
    }
    if let Some(member) = latin1_literal {
        let (start, end) = span(member.value);
        return Ok(Payload::InFrame { field: latin1_field, latin1: true, start, end });
    }
    if let Some(Base64Text(text)) = b64 {
        return crate::b64::decode(&b64_field, &text).map(Payload::Bytes);
    }
    if let Some(Base64Text(text)) = latin1 {
        let bytes = text.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect::<Option<Vec<u8>>>();
        return bytes.map(Payload::Bytes).ok_or_else(|| not_a_binary_string(op, &latin1_field));
    }
    match transfer {
        Transfer::Named(id) => Ok(Payload::Transfer(id)),
        // Not reached: exactly one payload was given, and the others returned above.
        _ => Err(Error::Internal { reason: format!("{op}: no payload") }),
    }
}

fn not_a_binary_string(op: &str, field: &str) -> Error {
    Error::InvalidParams { op: op.into(), reason: format!("{field} is not a binary string: it holds a character above U+00FF") }
}

/// A payload's bytes: a buffer of their own, or the part of the request frame they were
/// decoded into (a 25 MiB message then takes no second buffer of its size).
pub(crate) struct PayloadBytes {
    buf: Vec<u8>,
    range: std::ops::Range<usize>,
}

impl std::ops::Deref for PayloadBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf[self.range.clone()]
    }
}

impl Drop for PayloadBytes {
    /// A message's buffer is kept for the next one (`bigbuf::recycle`).
    fn drop(&mut self) {
        crate::bigbuf::recycle(std::mem::take(&mut self.buf));
    }
}

impl From<Vec<u8>> for PayloadBytes {
    fn from(buf: Vec<u8>) -> PayloadBytes {
        let range = 0..buf.len();
        PayloadBytes { buf, range }
    }
}

/// The bytes of a payload `find_payload` found; takes the params, whose frame a payload in it
/// is decoded over (base64 and binary strings both decode to fewer bytes than their text, front
/// to back, so writing never overtakes reading).
pub(crate) fn decode_payload(ctx: &mut Context, op: &str, params: Params, payload: Payload) -> Result<PayloadBytes> {
    match payload {
        Payload::Bytes(bytes) => Ok(bytes.into()),
        Payload::Transfer(id) => ctx.transfers.take(&id).map(PayloadBytes::from),
        Payload::InFrame { field, latin1, start, end } => {
            let (mut buf, offset) = params.into_frame();
            let (start, end) = (offset + start, offset + end);
            let text = buf.get_mut(start..end).ok_or_else(|| Error::Internal { reason: format!("{op}: payload outside the frame") })?;
            let len = if latin1 {
                crate::protocol::latin1_in_place(text).ok_or_else(|| not_a_binary_string(op, &field))?
            } else {
                base64_simd::STANDARD.decode_inplace(text).map_err(|_| Error::InvalidBase64 { field })?.len()
            };
            Ok(PayloadBytes { buf, range: start..start + len })
        }
    }
}

/// Whether an op's payload may be a finished transfer instead, and which one the params name.
pub(crate) enum Transfer {
    NotAccepted,
    NotNamed,
    Named(String),
}

impl From<Option<String>> for Transfer {
    fn from(id: Option<String>) -> Transfer {
        id.map_or(Transfer::NotNamed, Transfer::Named)
    }
}

/// Serialises a typed result.
pub(crate) fn reply<T: Serialize>(result: T) -> Result<Value> {
    serde_json::to_value(result).map_err(|e| Error::Internal { reason: format!("serialising result: {e}") })
}

/// A `*_b64` field borrowed from the request frame when it has no JSON escapes (base64 never
/// needs one), so a large payload is not copied before it is decoded. serde borrows a `Cow`
/// only as a field of its own, not inside an `Option`, hence the newtype.
#[derive(Deserialize)]
pub(crate) struct Base64Text<'a>(#[serde(borrow)] pub std::borrow::Cow<'a, str>);

/// The params of an op that takes none.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoParams {}

/// `#[serde(default = "yes")]`: a flag that is on unless the caller says otherwise.
pub(crate) fn yes() -> bool {
    true
}

/// The payload of an op: inline base64 or a finished transfer, exactly one of them.
pub(crate) fn payload(ctx: &mut Context, op: &str, inline: Option<Base64Text<'_>>, field: &str, transfer: Option<String>) -> Result<Vec<u8>> {
    match (inline, transfer) {
        (Some(Base64Text(b64)), None) => crate::b64::decode(field, &b64),
        (None, Some(id)) => ctx.transfers.take(&id),
        _ => Err(Error::InvalidParams { op: op.into(), reason: format!("give exactly one of {field} and transfer") }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_names_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for op in OPS {
            assert!(seen.insert(op.name), "duplicate op {}", op.name);
            assert!(op.name.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{}", op.name);
            assert!(!op.help.is_empty() && !op.help.contains('\n'));
        }
    }

    /// Each op's `params` text (what `hello` and docs/PROTOCOL.md show) names exactly the
    /// fields of the struct its handler parses, and marks exactly the optional ones with `?`.
    #[test]
    fn the_params_text_of_every_op_matches_its_params_struct() {
        for op in OPS {
            let documented = crate::protocol::shape::documented_fields(op.params).unwrap();
            let mut actual = (op.params_type.shape)().unwrap_or_else(|e| panic!("{}: {e}", op.name)).fields;
            let mut documented: Vec<(&str, bool)> = documented.into_iter().collect();
            documented.sort();
            actual.sort();
            assert_eq!(documented, actual, "{}: params text {:?} against {} (name, required)", op.name, op.params, (op.params_type.name)());
        }
    }

    /// The `params_type` of every entry is the struct its handler parses: each handler, called
    /// with empty params, gets as far as `parse`, whose debug check panics on another type.
    #[test]
    fn every_handler_parses_the_params_type_its_entry_names() {
        let dir = tempfile::tempdir().unwrap();
        let mut ctx = Context::new(crate::home::Home::at(dir.path()), None);
        for op in OPS {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (op.handler)(&mut ctx, Params::empty())));
            assert!(outcome.is_ok(), "{} does not parse its params_type", op.name);
        }
    }

    #[derive(Deserialize)]
    struct Payload<'a> {
        #[serde(borrow)]
        data_b64: Option<Base64Text<'a>>,
    }

    #[test]
    fn base64_payloads_are_borrowed_unless_escaped() {
        let plain = Params::from_json_text(r#"{"data_b64":"aGVsbG8="}"#.into());
        let p: Payload = parse("test", &plain).unwrap();
        assert!(matches!(p.data_b64, Some(Base64Text(std::borrow::Cow::Borrowed(_)))), "no copy of a large payload");
        let escaped = Params::from_json_text(r#"{"data_b64":"aGVs\/bG8="}"#.into());
        let p: Payload = parse("test", &escaped).unwrap();
        assert_eq!(p.data_b64.unwrap().0, "aGVs/bG8=", "an escaped slash (some encoders write one) still decodes");
    }
}
