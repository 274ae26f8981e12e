// The host's op names, mirrored from its op table (docs/PROTOCOL.md, `smime-companion ops`).
// Every call to the host names its op through this table, so a rename shows up in one place.

export const HOST_NAME = "smime_companion";

export const Op = Object.freeze({
  hello: "hello",
  ping: "ping",
  transferBegin: "transfer_begin",
  transferChunk: "transfer_chunk",
  transferEnd: "transfer_end",
  transferDiscard: "transfer_discard",
  inspectMessage: "inspect_message",
  contactsList: "contacts_list",
  contactsShow: "contacts_show",
  contactsDelete: "contacts_delete",
  contactsDeleteCertificate: "contacts_delete_certificate",
  contactsImport: "contacts_import",
  contactsExport: "contacts_export",
  recipientsCheck: "recipients_check",
  contactsStats: "contacts_stats",
  identitiesList: "identities_list",
  identitiesImport: "identities_import",
  identitiesShow: "identities_show",
  identitiesDelete: "identities_delete",
  identitiesUnlock: "identities_unlock",
  identitiesLock: "identities_lock",
  identitiesExport: "identities_export",
  identitiesBackupSaved: "identities_backup_saved",
  backupStatus: "backup_status",
  expiryRadar: "expiry_radar",
});

// The ops the add-on's own pages (contacts, my certificates) may ask the background to relay.
// Uploads and the session handshake stay with the port module; other add-ons get none.
export const PAGE_OPS = new Set([
  Op.contactsList, Op.contactsShow, Op.contactsDelete, Op.contactsDeleteCertificate, Op.contactsImport,
  Op.contactsExport, Op.contactsStats, Op.recipientsCheck,
  Op.identitiesList, Op.identitiesImport, Op.identitiesShow, Op.identitiesDelete, Op.identitiesUnlock,
  Op.identitiesLock, Op.identitiesExport, Op.identitiesBackupSaved, Op.backupStatus, Op.expiryRadar,
]);

// Failures the add-on detects itself, next to the host's own error codes. Each has a text in
// _locales (`error_<code>`), like the host's codes.
export const LocalError = Object.freeze({
  hostMissing: "host_missing",
  hostBroken: "host_broken",
  disconnected: "disconnected",
  timeout: "timeout",
  replyCorrupt: "reply_corrupt",
  messageUnreadable: "message_unreadable",
  opUnavailable: "op_unavailable",
});

/** An error reply from the host, or a failure the port detected; `code` is stable snake_case. */
export class HostError extends Error {
  constructor(code, message = code, details = null) {
    super(message);
    this.name = "HostError";
    this.code = code;
    this.details = details;
  }
}
