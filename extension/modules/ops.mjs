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
  transferFetch: "transfer_fetch",
  inspectMessage: "inspect_message",
  contactsList: "contacts_list",
  contactsShow: "contacts_show",
  contactsDelete: "contacts_delete",
  contactsDeleteCertificate: "contacts_delete_certificate",
  contactsConfirmCertificate: "contacts_confirm_certificate",
  contactsRefuseCertificate: "contacts_refuse_certificate",
  contactsImport: "contacts_import",
  contactsExport: "contacts_export",
  recipientsCheck: "recipients_check",
  contactsLookup: "contacts_lookup",
  contactsStats: "contacts_stats",
  directoriesList: "directories_list",
  directoriesSave: "directories_save",
  directoriesRemove: "directories_remove",
  directoriesSetPassword: "directories_set_password",
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
  Op.contactsList, Op.contactsShow, Op.contactsDelete, Op.contactsDeleteCertificate, Op.contactsConfirmCertificate,
  Op.contactsRefuseCertificate, Op.contactsImport,
  Op.contactsExport, Op.contactsStats, Op.recipientsCheck, Op.contactsLookup,
  Op.directoriesList, Op.directoriesSave, Op.directoriesRemove, Op.directoriesSetPassword,
  Op.identitiesList, Op.identitiesImport, Op.identitiesShow, Op.identitiesDelete, Op.identitiesUnlock,
  Op.identitiesLock, Op.identitiesExport, Op.identitiesBackupSaved, Op.backupStatus, Op.expiryRadar,
]);

// The ops that take IT's managed directories (`managed_directories`, docs/DIRECTORY.md): the
// background adds them from storage.managed.
export const MANAGED_DIRECTORY_OPS = new Set([Op.recipientsCheck, Op.contactsLookup, Op.directoriesList, Op.directoriesSetPassword]);

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

// The codes that mean there is no working host at all: not installed, not starting, or refusing
// this add-on (`caller_not_allowed`, the host's own code). For each the remedy is the same: the
// help page (installation, `smime-companion doctor`), not trying the same thing again.
const HOST_DOWN = new Set([LocalError.hostMissing, LocalError.hostBroken, "caller_not_allowed"]);

/** True when `code` says no working host is there (see HOST_DOWN). */
export function isHostDown(code) {
  return HOST_DOWN.has(code);
}

/** An error reply from the host, or a failure the port detected; `code` is stable snake_case. */
export class HostError extends Error {
  constructor(code, message = code, details = null) {
    super(message);
    this.name = "HostError";
    this.code = code;
    this.details = details;
  }
}
