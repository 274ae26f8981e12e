// What the contacts page says about the contact cache (docs/CONTACTS.md): list rows, a contact's
// certificates (why each is or is not used, and the decisions on new keys) and history, import
// outcomes, the delete confirmation and export file names.
// Pure: `t` (texts.mjs translator) and `date` (format.mjs) are passed in.

import { confirms } from "./describe.mjs";
import { groupFingerprint } from "./format.mjs";
import { certificateRows, row } from "./cert-rows.mjs";
import { certName } from "./look.mjs";
import { reasonText } from "./recipients.mjs";

export const HISTORY_EVENTS = Object.freeze([
  "first_certificate", "new_certificate", "key_changed", "renewed", "certificate_pending", "certificate_confirmed",
  "certificate_refused", "certificate_deleted", "contact_deleted",
]);
export const CONTACT_FLAGS = Object.freeze(["key_changed", "renewed"]);
export const SOURCES = Object.freeze(["signed_mail", "import", "directory"]);
// A certificate's standing for the contact (docs/CONTACTS.md, "Choosing the certificate").
export const CERT_STATUSES = Object.freeze(["accepted", "pending", "confirmed", "refused"]);
// Why a certificate is not the one encryption uses (contacts_show's `not_used_because`); codes
// the add-on does not know yet are shown with their code.
export const UNUSED_REASONS = Object.freeze([
  "refused", "no_encryption_usage", "revoked", "only_expired", "not_yet_valid", "untrusted", "ca_not_for_email", "weak_algorithm",
  "pending_confirmation", "superseded",
]);
const FLAG_KINDS = Object.freeze({ certificate_pending: "warning", key_changed: "error", renewed: "muted" });

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
    flags: [...(item.pending > 0 ? ["certificate_pending"] : []), ...(item.warnings ?? []).filter((w) => CONTACT_FLAGS.includes(w))]
      .map((w) => ({ code: w, kind: FLAG_KINDS[w], text: t(`contact_flag_${w}`) })),
  };
}

/**
 * The new keys of a contact that wait for the user's decision and would be used once confirmed
 * (not used only because they wait: `not_used_because` "pending_confirmation"). An untrusted
 * lookalike held back is not one: confirming it would change nothing.
 */
export function decisionsWaiting(contact) {
  return (contact?.certificates ?? []).filter((c) => c.status === "pending" && c.not_used_because === "pending_confirmation");
}

/**
 * The encryption verdict of a contact (contacts_show's `encryption`): can encrypt, or why not.
 * `pending` are the contact's certificates that wait for the user's decision: while one does, the
 * contact is not shown as a plain "you can send encrypted mail" (it would use the previous
 * certificate without saying so), but as waiting for the decision (`state` "pending").
 */
export function encryptionSummary(encryption, { t, date, pending = [] }) {
  if (pending.length) {
    const cert = encryption?.can_encrypt ? encryption.certificate ?? {} : null;
    return {
      ok: false,
      state: "pending",
      title: t("contact_waiting_decision"),
      detail: cert
        ? t("contact_waiting_keeps", [date(cert.not_after) ?? "?", shortFingerprint(cert.fingerprint_sha256)])
        : t("contact_pending_nothing_used"),
      advice: t("contact_waiting_advice"),
    };
  }
  if (encryption?.can_encrypt) {
    const cert = encryption.certificate ?? {};
    return {
      ok: true,
      state: "can",
      title: t("contact_can_encrypt"),
      detail: t("contact_can_encrypt_with", [certName(cert) ?? "?", date(cert.not_after) ?? "?", shortFingerprint(cert.fingerprint_sha256)]),
      advice: null,
    };
  }
  const text = reasonText(encryption?.reason);
  const who = [String(encryption?.address ?? "")];
  return { ok: false, state: "cannot", title: t(text.status, who), detail: null, advice: t(text.advice, who), keyExchange: text.keyExchange };
}

/** Why a certificate is not the one used for encryption, in words; null for the one used. */
export function unusedText(code, { t }) {
  if (!code) return null;
  return UNUSED_REASONS.includes(code) ? t(`cert_unused_${code}`) : t("cert_unused_unknown", [String(code)]);
}

/**
 * A stored certificate as a card: headline, what it confirms, state badges, why encryption does
 * not use it, labelled rows and the decisions the user can take (`confirm`, `refuse`).
 */
export function certificateCard(cert, { t, date, chosen = cert.used_for_encryption === true, now = Date.now() }) {
  const badges = [];
  if (chosen) badges.push({ kind: "ok", text: t("cert_badge_chosen") });
  if (cert.status === "pending") badges.push({ kind: "warning", text: t("cert_badge_pending") });
  if (cert.status === "refused") badges.push({ kind: "error", text: t("cert_badge_refused") });
  if (cert.status === "confirmed") badges.push({ kind: "muted", text: t("cert_badge_confirmed") });
  if (cert.revoked) badges.push({ kind: "error", text: t("cert_badge_revoked") });
  if (Date.parse(cert.not_after) < now) badges.push({ kind: "warning", text: t("cert_badge_expired") });
  else if (Date.parse(cert.not_before) > now) badges.push({ kind: "warning", text: t("cert_badge_not_yet_valid") });
  if (!cert.can_encrypt) badges.push({ kind: "muted", text: t("cert_badge_signing_only") });
  // Harvested and imported certificates alike are judged when they arrive; a certificate chosen
  // for encryption chains to a trusted authority now, whatever it did then.
  if (cert.trusted_when_seen === false && !chosen) badges.push({ kind: "warning", text: t("cert_badge_untrusted") });
  const source = SOURCES.includes(cert.source) ? t(`source_${cert.source}`) : cert.source;
  const actions = [];
  // Confirming makes a held-back key the one used only when nothing else keeps it from use.
  if (cert.status === "pending" && cert.not_used_because === "pending_confirmation") actions.push({ id: "confirm", text: t("cert_action_use_new") });
  if (cert.status === "refused") actions.push({ id: "confirm", text: t("cert_action_use") });
  else actions.push({ id: "refuse", text: t("cert_action_refuse") });
  return {
    fingerprint: cert.fingerprint_sha256,
    title: certName(cert) ?? (cert.emails ?? [])[0] ?? cert.subject,
    // What a certificate from an authority nobody here trusts says about its holder is a claim.
    lead: cert.not_used_because === "untrusted" ? t("cert_lead_untrusted") : confirms(cert, t),
    badges,
    unused: chosen ? null : unusedText(cert.not_used_because, { t }),
    actions,
    rows: [
      ...certificateRows(cert, ["email", "ignored_emails", "issued_by", "valid_from", "valid_until", "fingerprint", "key"], { t, date }),
      row(t("field_source"), source),
      row(t("field_first_seen"), date(cert.first_seen)),
      row(t("field_last_seen"), date(cert.last_seen)),
    ].filter(Boolean),
  };
}

/**
 * The certificates of a contact that wait for the user's confirmation, each as a prominent
 * notice: what arrived, its whole fingerprint, which certificate encryption keeps using, and
 * the two decisions.
 */
export function pendingNotices(contact, { t, date }) {
  const used = (contact.certificates ?? []).find((c) => c.used_for_encryption) ?? null;
  // A held-back certificate that fails a check of its own (an untrusted lookalike) is no decision:
  // its card says why it is not used, and nothing here repeats what it claims.
  return decisionsWaiting(contact).map((cert) => ({
    fingerprint: cert.fingerprint_sha256,
    title: t("contact_pending_title", [contact.address]),
    what: t("contact_pending_what", [certName(cert) ?? contact.address, date(cert.first_seen) ?? cert.first_seen ?? "?"]),
    fingerprintText: groupFingerprint(cert.fingerprint_sha256),
    keeps: used ? t("contact_pending_keeps", [shortFingerprint(used.fingerprint_sha256)]) : t("contact_pending_nothing_used"),
    compare: t("contact_pending_compare"),
    noteLabel: t("contact_pending_note_label"),
    notePlaceholder: t("contact_pending_note_placeholder"),
    confirm: t("cert_action_use_new"),
    refuse: t("cert_action_refuse"),
  }));
}

/** What the page says after a confirmation or refusal (the op's result). */
export function decisionNotice(result, { t }) {
  const key = result.status === "refused" ? "notice_certificate_refused" : "notice_certificate_confirmed";
  return t(key, [result.address, shortFingerprint(result.fingerprint)]);
}

/** One history entry: when, what happened in words, and whether it deserves attention. */
export function historyLine(entry, { t, date }) {
  const event = HISTORY_EVENTS.includes(entry.event) ? entry.event : "unknown";
  const subs = [entry.fingerprint ? shortFingerprint(entry.fingerprint) : "—", entry.previous_fingerprint ? shortFingerprint(entry.previous_fingerprint) : "—"];
  const explain = {
    key_changed: "history_key_changed_explain",
    renewed: "history_renewed_explain",
    certificate_pending: "history_certificate_pending_explain",
  }[event];
  const notes = [
    explain ? t(explain) : null,
    entry.trusted === false && ["first_certificate", "new_certificate"].includes(event) ? t("history_untrusted_when_seen") : null,
    entry.note ? t("history_note", [entry.note]) : null,
  ].filter(Boolean);
  return {
    when: date(entry.at) ?? entry.at,
    text: event === "unknown" ? t("history_unknown", [String(entry.event)]) : t(`history_${event}`, subs),
    explain: notes.length ? notes.join(" ") : null,
    attention: event === "key_changed" || event === "certificate_pending",
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
  for (const p of result.pending ?? []) lines.push(t("import_result_pending", [p.address]));
  if (!lines.length) lines.push(t("import_result_nothing"));
  const warning = (result.continuity ?? []).some((c) => c.event === "key_changed") || (result.pending ?? []).length > 0;
  return { lines, warning, addresses: result.addresses ?? [] };
}

/**
 * The confirmation before a contact and its certificates are deleted: what will happen. In
 * Thunderbird (`thunderbird`), that Thunderbird may keep a copy of its own (below).
 */
export function deleteConfirmation(contact, { t, thunderbird = false }) {
  const count = (contact.certificates ?? []).length;
  return {
    title: t("contact_delete_title", [contact.address]),
    consequences: [
      t("contact_delete_certificates", [String(count), contact.address]),
      t("contact_delete_no_encryption", [contact.address]),
      t("contact_delete_recover"),
      t("contact_delete_history_kept"),
      thunderbird ? t("tbcopy_in_dialog") : null,
    ].filter(Boolean),
    confirm: t("contact_delete_confirm"),
    cancel: t("dialog_cancel"),
  };
}

/** The confirmation before one certificate is deleted. */
export function deleteCertificateConfirmation(cert, { t, thunderbird = false }) {
  return {
    title: t("certificate_delete_title", [shortFingerprint(cert.fingerprint_sha256)]),
    consequences: [
      t(cert.can_encrypt ? "certificate_delete_encryption" : "certificate_delete_signing_only"),
      thunderbird && cert.can_encrypt ? t("tbcopy_in_dialog") : null,
    ].filter(Boolean),
    confirm: t("certificate_delete_confirm"),
    cancel: t("dialog_cancel"),
  };
}

/**
 * Thunderbird keeps its own copies of the certificates it sees in signed mail (its Certificate
 * Manager, "People"), and encrypts with them whatever the companion holds: deleting a stale
 * certificate here (the FAQ's fix) cannot reach that copy, and no add-on API can see or remove
 * it. So after a deletion the page says exactly where it is and how to remove it: the lines of
 * that explanation, for `address` and the deleted certificates (`certificates`, to tell the
 * entry by its "Expires On" date; empty when they are not known).
 */
export function thunderbirdCopySteps(address, certificates, { t, date }) {
  const withKeys = (certificates ?? []).filter((c) => c.can_encrypt !== false);
  const expiries = [...new Set(withKeys.map((c) => date(c.not_after)).filter(Boolean))];
  return {
    text: t("tbcopy_heading", [address]),
    steps: [
      t("tbcopy_step_open"),
      expiries.length ? t("tbcopy_step_people", [address, expiries.join(", ")]) : t("tbcopy_step_any", [address]),
      t("tbcopy_step_next", [address]),
    ],
  };
}

/** The file name and media type of an export: "alice@example.org.pem". */
export function exportFile(address, format) {
  const spec = EXPORT_FORMATS[format] ?? EXPORT_FORMATS.pem;
  const safe = String(address).replace(/[^A-Za-z0-9@._+-]/g, "_");
  return { name: `${safe}.${spec.extension}`, type: spec.type };
}
