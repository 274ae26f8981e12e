//! The op table: every operation the add-on can ask for. Handlers live in one file per area; each
//! turns `params` into a typed struct, calls the domain layer, and returns a typed result.

mod contacts;
mod directory;
mod identities;
mod inspect;
mod session;
mod trust;

pub use directory::lookup as contacts_lookup;
pub use contacts::{parse_sort as parse_contacts_sort, MAX_PAGE as MAX_CONTACTS_PAGE};
pub use identities::{export as export_identity, unlock as unlock_identities};
pub use trust::listing as trust_listing;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::protocol::{Op, Params};
use serde::Deserialize;
use serde::Serialize;
use serde_json::Value;

/// All ops, in the order `hello` and docs/PROTOCOL.md list them.
pub static OPS: &[Op] = &[
    Op {
        name: "hello",
        params: "{}",
        help: "Product and protocol version, the ops with their help, limits and error codes.",
        handler: session::hello,
    },
    Op {
        name: "ping",
        params: "{echo?}",
        help: "Liveness check; returns `echo` unchanged, so it also exercises large replies.",
        handler: session::ping,
    },
    Op {
        name: "inspect_message",
        params: "{message_b64 or transfer, at?, return_content?, harvest?, decrypted_by_thunderbird?, recheck_revocation?}",
        help: "Verifies and decrypts a raw message and explains the result (docs/INSPECT.md); recheck_revocation asks CAs again where a revocation check failed.",
        handler: inspect::inspect_message,
    },
    Op {
        name: "contacts_list",
        params: "{search?, offset?, limit?, sort?}",
        help: "Lists contacts (address or name containing `search`), paged; sort by address, last_seen or expiry.",
        handler: contacts::contacts_list,
    },
    Op {
        name: "contacts_show",
        params: "{address}",
        help: "One contact: all certificates, which one encryption would use (or why none), and the history.",
        handler: contacts::contacts_show,
    },
    Op {
        name: "contacts_delete",
        params: "{address}",
        help: "Deletes a contact together with its certificates (the fix for a stale or wrong key).",
        handler: contacts::contacts_delete,
    },
    Op {
        name: "contacts_delete_certificate",
        params: "{fingerprint}",
        help: "Deletes one certificate by SHA-256 fingerprint (or a unique prefix).",
        handler: contacts::contacts_delete_certificate,
    },
    Op {
        name: "contacts_confirm_certificate",
        params: "{address, fingerprint, note?}",
        help: "Uses a certificate for a contact: a pending new key (or a refused one) becomes the one encryption uses; `note` says how it was checked.",
        handler: contacts::contacts_confirm_certificate,
    },
    Op {
        name: "contacts_refuse_certificate",
        params: "{address, fingerprint, note?}",
        help: "Refuses a certificate for a contact: encryption never chooses it; the history keeps the decision.",
        handler: contacts::contacts_refuse_certificate,
    },
    Op {
        name: "contacts_import",
        params: "{data_b64 or transfer}",
        help: "Imports certificates: PEM, DER, .cer/.crt, .p7c/.p7b bundles (also an attachment's bytes).",
        handler: contacts::contacts_import,
    },
    Op {
        name: "contacts_export",
        params: "{address, format?}",
        help: "Exports a contact's certificates as pem (default), der or p7c.",
        handler: contacts::contacts_export,
    },
    Op {
        name: "recipients_check",
        params: "{addresses, lookup?, managed_directories?}",
        help: "For each address: the certificate encryption would use, or the reason there is none, and how many new keys wait for the user's decision; with lookup, those without one are looked up in the directories first.",
        handler: contacts::recipients_check,
    },
    Op {
        name: "contacts_lookup",
        params: "{addresses, managed_directories?}",
        help: "Looks addresses up in every configured LDAP directory, stores what it finds (source directory) and checks each address (docs/DIRECTORY.md).",
        handler: directory::contacts_lookup,
    },
    Op {
        name: "contacts_stats",
        params: "{}",
        help: "Counts of contacts, certificates, intermediates, untrusted, expired and expiring ones; database size.",
        handler: contacts::contacts_stats,
    },
    Op {
        name: "directories_list",
        params: "{managed_directories?}",
        help: "The LDAP directories in effect (IT's and yours) without secrets, and entries left out with why.",
        handler: directory::directories_list,
    },
    Op {
        name: "directories_save",
        params: "{directory, password?}",
        help: "Adds or replaces one of your directories (by id) in your configuration; stores its bind password when given.",
        handler: directory::directories_save,
    },
    Op {
        name: "directories_remove",
        params: "{id}",
        help: "Removes one of your directories and its stored password.",
        handler: directory::directories_remove,
    },
    Op {
        name: "directories_set_password",
        params: "{id, password, managed_directories?}",
        help: "Stores your bind password for a directory (an empty one removes it); it is never sent back.",
        handler: directory::directories_set_password,
    },
    Op {
        name: "identities_list",
        params: "{}",
        help: "Your certificates with private keys: validity, renewal, backup and lock state.",
        handler: identities::identities_list,
    },
    Op {
        name: "identities_import",
        params: "{p12_b64, password, new_passphrase?}",
        help: "Imports a .p12/.pfx with every check (key present and matching, chain, e-mail use, expiry).",
        handler: identities::identities_import,
    },
    Op {
        name: "identities_show",
        params: "{identity}",
        help: "One identity, by fingerprint (or unique prefix) or address.",
        handler: identities::identities_show,
    },
    Op {
        name: "identities_delete",
        params: "{fingerprint}",
        help: "Deletes an identity and its private key.",
        handler: identities::identities_delete,
    },
    Op {
        name: "identities_unlock",
        params: "{passphrase, identity?}",
        help: "Unlocks one identity, or every identity this passphrase opens, for the configured time.",
        handler: identities::identities_unlock,
    },
    Op {
        name: "identities_lock",
        params: "{}",
        help: "Locks every unlocked key, here and in every other session.",
        handler: identities::identities_lock,
    },
    Op {
        name: "identities_export",
        params: "{identity, password, passphrase, legacy?, record_backup?}",
        help: "Backup as PKCS#12 with the chain (AES-256; 3DES when legacy) under the new password; needs the identity's passphrase even while unlocked; records the backup unless record_backup is false.",
        handler: identities::identities_export,
    },
    Op {
        name: "identities_backup_saved",
        params: "{identity}",
        help: "Records that a backup of the identity was saved (after an export with record_backup false).",
        handler: identities::identities_backup_saved,
    },
    Op {
        name: "backup_status",
        params: "{}",
        help: "Whether every current identity has a backup, and when each was made.",
        handler: identities::backup_status,
    },
    Op {
        name: "expiry_radar",
        params: "{days?}",
        help: "Identities that expire within `days` (default 30) and have not been renewed.",
        handler: identities::expiry_radar,
    },
    Op {
        name: "sign_message",
        params: "{message_b64 or transfer, from?, passphrase?}",
        help: "Signs a message (multipart/signed, SHA-256) with the From address's identity.",
        handler: identities::sign_message,
    },
    Op {
        name: "encrypt_message",
        params: "{message_b64 or transfer, to?, sign?, passphrase?}",
        help: "Encrypts to the recipients' certificates from the contact cache and to yourself; signs first when asked.",
        handler: identities::encrypt_message,
    },
    Op {
        name: "trust_list",
        params: "{}",
        help: "Lists the trust anchors IT and the user added, and how many CRLs are stored.",
        handler: trust::trust_list,
    },
    Op {
        name: "trust_add",
        params: "{data_b64}",
        help: "Trusts the CA certificate(s) in a PEM, DER or PKCS#7 file, or stores a CRL.",
        handler: trust::trust_add,
    },
    Op {
        name: "trust_remove",
        params: "{fingerprint}",
        help: "Removes a user-added anchor by its SHA-256 fingerprint (or a unique prefix).",
        handler: trust::trust_remove,
    },
    Op {
        name: "transfer_begin",
        params: "{total_bytes, sha256?}",
        help: "Opens a chunked upload of `total_bytes` (at most 512 MiB); returns its `transfer_id`.",
        handler: session::transfer_begin,
    },
    Op {
        name: "transfer_chunk",
        params: "{transfer_id, index, data_b64}",
        help: "Appends chunk `index` (0, 1, 2, … in order) to an open upload.",
        handler: session::transfer_chunk,
    },
    Op {
        name: "transfer_end",
        params: "{transfer_id}",
        help: "Closes an upload, checking its size and SHA-256; ops can then take `transfer: id`.",
        handler: session::transfer_end,
    },
    Op {
        name: "transfer_discard",
        params: "{transfer_id}",
        help: "Drops an upload, finished or not.",
        handler: session::transfer_discard,
    },
];

/// Parses `params` into the op's typed parameters (which may borrow from them).
pub(crate) fn parse<'a, T: Deserialize<'a>>(op: &str, params: &'a Params) -> Result<T> {
    serde_json::from_str(params.text()).map_err(|e| Error::InvalidParams { op: op.into(), reason: e.to_string() })
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
        (Some(Base64Text(b64)), None) => decode_b64(field, &b64),
        (None, Some(id)) => ctx.transfers.take(&id),
        _ => Err(Error::InvalidParams { op: op.into(), reason: format!("give exactly one of {field} and transfer") }),
    }
}

/// Decodes a `*_b64` field.
pub(crate) fn decode_b64(field: &str, text: &str) -> Result<Vec<u8>> {
    let invalid = |_| Error::InvalidBase64 { field: field.into() };
    let mut out = crate::bigbuf::zeroed(base64_simd::STANDARD.decoded_length(text.as_bytes()).map_err(invalid)?);
    let n = base64_simd::STANDARD.decode(text.as_bytes(), base64_simd::Out::from_slice(&mut out)).map_err(invalid)?.len();
    out.truncate(n);
    Ok(out)
}

/// Encodes bytes for a `*_b64` field.
pub(crate) fn encode_b64(bytes: &[u8]) -> String {
    base64_simd::STANDARD.encode_to_string(bytes)
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

    #[test]
    fn base64_fields_are_strict() {
        assert_eq!(decode_b64("f", "aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_b64("f", "").unwrap(), b"");
        for bad in ["aGVsbG8", "aGVs bG8=", "aGVsbG8=\n", "****"] {
            assert!(matches!(decode_b64("f", bad), Err(Error::InvalidBase64 { .. })), "{bad:?}");
        }
        assert_eq!(encode_b64(b"hello"), "aGVsbG8=");
    }
}
