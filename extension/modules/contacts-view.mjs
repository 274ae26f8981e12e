// What the contacts page says about the contact cache (docs/CONTACTS.md): list rows, a contact's
// certificates and history, import outcomes, the delete confirmation and export file names.
// Pure: `t` (texts.mjs translator) and `date` (format.mjs) are passed in.

import { confirms } from "./describe.mjs";
import { groupFingerprint } from "./format.mjs";
import { certificateRows, row } from "./cert-rows.mjs";
import { certName } from "./look.mjs";
import { reasonText } from "./recipients.mjs";

export const HISTORY_EVENTS = Object.freeze([
  "first_certificate", "new_certificate", "key_changed", "renewed", "certificate_deleted", "contact_deleted",
]);
export const CONTACT_FLAGS = Object.freeze(["key_changed", "renewed"]);
export const SOURCES = Object.freeze(["signed_mail", "import", "directory"]);

// Export formats of contacts_export: file extension and media type of the saved file.
export const EXPORT_FORMATS = Object.freeze({
  pem: { extension: "pem", type: "application/x-pem-file" },
  der: { extension: "cer", type: "application/pkix-cert" },
  p7c: { extension: "p7c", type: "application/pkcs7-mime" },
});

/** "AB12 CD34 EF56 7890": the first four groups, enough to tell certificates apart in a list. */
export function shortFingerprint(hex) {
  return groupFingerprint(hex).split("\n")[0].split(" ").slice(0, 4).join(" ");
}

/** One line of the contact list. */
export function contactRow(item, { t, date }) {
  return {
    address: item.address,
    name: item.name ?? "",
    certificates: t("contacts_count_certificates", [String(item.certificates ?? 0)]),
    expiry: item.latest_expiry ? t("contacts_latest_expiry", [date(item.latest_expiry) ?? item.latest_expiry]) : "",
    expired: Boolean(item.latest_expiry && Date.parse(item.latest_expiry) < Date.now()),
    flags: (item.warnings ?? []).filter((w) => CONTACT_FLAGS.includes(w)).map((w) => ({ code: w, text: t(`contact_flag_${w}`) })),
  };
}

/** The encryption verdict of a contact (contacts_show's `encryption`): can encrypt, or why not. */
export function encryptionSummary(encryption, { t, date }) {
  if (encryption?.can_encrypt) {
    const cert = encryption.certificate ?? {};
    return {
      ok: true,
      title: t("contact_can_encrypt"),
      detail: t("contact_can_encrypt_with", [certName(cert) ?? "?", date(cert.not_after) ?? "?", shortFingerprint(cert.fingerprint_sha256)]),
      advice: null,
    };
  }
  const text = reasonText(encryption?.reason);
  return { ok: false, title: t(text.status), detail: null, advice: t(text.advice), keyExchange: text.keyExchange };
}

/** A stored certificate as a card: headline, what it confirms, state badges and labelled rows. */
export function certificateCard(cert, { t, date, chosen = false, now = Date.now() }) {
  const badges = [];
  if (chosen) badges.push({ kind: "ok", text: t("cert_badge_chosen") });
  if (cert.revoked) badges.push({ kind: "error", text: t("cert_badge_revoked") });
  if (Date.parse(cert.not_after) < now) badges.push({ kind: "warning", text: t("cert_badge_expired") });
  else if (Date.parse(cert.not_before) > now) badges.push({ kind: "warning", text: t("cert_badge_not_yet_valid") });
  if (!cert.can_encrypt) badges.push({ kind: "muted", text: t("cert_badge_signing_only") });
  // Imports are not judged when they arrive; for harvested certificates this says that the
  // signature's authority was unknown. A certificate chosen for encryption chains to a trusted one now.
  if (cert.source === "signed_mail" && cert.trusted_when_seen === false && !chosen) badges.push({ kind: "warning", text: t("cert_badge_untrusted") });
  const source = SOURCES.includes(cert.source) ? t(`source_${cert.source}`) : cert.source;
  return {
    fingerprint: cert.fingerprint_sha256,
    title: certName(cert) ?? (cert.emails ?? [])[0] ?? cert.subject,
    lead: confirms(cert, t),
    badges,
    rows: [
      ...certificateRows(cert, ["email", "issued_by", "valid_from", "valid_until", "fingerprint", "key"], { t, date }),
      row(t("field_source"), source),
      row(t("field_first_seen"), date(cert.first_seen)),
      row(t("field_last_seen"), date(cert.last_seen)),
    ].filter(Boolean),
  };
}

/** One history entry: when, what happened in words, and whether it deserves attention. */
export function historyLine(entry, { t, date }) {
  const event = HISTORY_EVENTS.includes(entry.event) ? entry.event : "unknown";
  const subs = [entry.fingerprint ? shortFingerprint(entry.fingerprint) : "—", entry.previous_fingerprint ? shortFingerprint(entry.previous_fingerprint) : "—"];
  return {
    when: date(entry.at) ?? entry.at,
    text: event === "unknown" ? t("history_unknown", [String(entry.event)]) : t(`history_${event}`, subs),
    explain: event === "key_changed" ? t("history_key_changed_explain") : event === "renewed" ? t("history_renewed_explain") : null,
    attention: event === "key_changed",
  };
}

/** The lines that tell what an import did (contacts_import's result). */
export function importOutcome(result, { t }) {
  const lines = [];
  const addresses = (result.addresses ?? []).join(", ");
  if (result.imported) lines.push(t("import_result_imported", [String(result.imported), addresses || "—"]));
  if (result.already_known) lines.push(t("import_result_already_known", [String(result.already_known)]));
  if (result.intermediates) lines.push(t("import_result_intermediates", [String(result.intermediates)]));
  if ((result.without_address ?? []).length) lines.push(t("import_result_without_address", [String(result.without_address.length)]));
  for (const c of result.continuity ?? []) {
    if (c.event === "key_changed") lines.push(t("import_result_key_changed", [c.address]));
    else if (c.event === "renewed") lines.push(t("import_result_renewed", [c.address]));
  }
  if (!lines.length) lines.push(t("import_result_nothing"));
  return { lines, warning: (result.continuity ?? []).some((c) => c.event === "key_changed"), addresses: result.addresses ?? [] };
}

/** The confirmation before a contact and its certificates are deleted: what will happen. */
export function deleteConfirmation(contact, { t }) {
  const count = (contact.certificates ?? []).length;
  return {
    title: t("contact_delete_title", [contact.address]),
    consequences: [
      t("contact_delete_certificates", [String(count), contact.address]),
      t("contact_delete_no_encryption", [contact.address]),
      t("contact_delete_recover"),
      t("contact_delete_history_kept"),
    ],
    confirm: t("contact_delete_confirm"),
    cancel: t("dialog_cancel"),
  };
}

/** The confirmation before one certificate is deleted. */
export function deleteCertificateConfirmation(cert, { t }) {
  return {
    title: t("certificate_delete_title", [shortFingerprint(cert.fingerprint_sha256)]),
    consequences: [t(cert.can_encrypt ? "certificate_delete_encryption" : "certificate_delete_signing_only")],
    confirm: t("certificate_delete_confirm"),
    cancel: t("dialog_cancel"),
  };
}

/** The file name and media type of an export: "alice@example.org.pem". */
export function exportFile(address, format) {
  const spec = EXPORT_FORMATS[format] ?? EXPORT_FORMATS.pem;
  const safe = String(address).replace(/[^A-Za-z0-9@._+-]/g, "_");
  return { name: `${safe}.${spec.extension}`, type: spec.type };
}
