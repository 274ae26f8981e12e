// What the contacts page says about the contact cache (docs/CONTACTS.md): list rows, a contact's
// certificates (why each is or is not used, and the decisions on new keys) and history, import
// outcomes, the delete confirmation and export file names.
// Pure: `t` (texts.mjs translator) and `date` (format.mjs) are passed in.

import { certificateLead } from "./describe.mjs";
import { groupFingerprint } from "./format.mjs";
import { certificateRows, row } from "./cert-rows.mjs";
import { certName, stateLabel } from "./look.mjs";
import { reasonText } from "./recipients.mjs";

export const HISTORY_EVENTS = Object.freeze([
  "first_certificate", "new_certificate", "key_changed", "renewed", "certificate_pending", "certificate_confirmed",
  "certificate_refused", "certificate_deleted", "contact_deleted",
]);
export const CONTACT_FLAGS = Object.freeze(["key_changed", "renewed"]);
// A contact's flags in the list: a new key (changed, or waiting for the user's confirmation) is
// the state `key_changed` under its one name (look.mjs STATES); a renewal is routine.
export const SOURCES = Object.freeze(["signed_mail", "import", "directory"]);
// A certificate's standing for the contact (docs/CONTACTS.md, "Choosing the certificate").
export const CERT_STATUSES = Object.freeze(["accepted", "pending", "confirmed", "refused"]);
// Why a certificate is not the one encryption uses (contacts_show's `not_used_because`); codes
// the add-on does not know yet are shown with their code.
export const UNUSED_REASONS = Object.freeze([
  "refused", "no_encryption_usage", "revoked", "only_expired", "not_yet_valid", "untrusted", "ca_not_for_email", "weak_algorithm",
  "pending_confirmation", "superseded",
]);


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
export function contactRow(item, { t, date, now = Date.now() }) {
  const warnings = item.warnings ?? [];
  const flags = [];
  if (item.pending > 0 || warnings.includes("key_changed")) flags.push({ code: "key_changed", kind: "warning", text: t(stateLabel("key_changed")) });
  if (warnings.includes("renewed")) flags.push({ code: "renewed", kind: "muted", text: t("contact_flag_renewed") });
  const expired = Boolean(item.latest_expiry && Date.parse(item.latest_expiry) < now);
  const when = item.latest_expiry ? date(item.latest_expiry) ?? item.latest_expiry : null;
  return {
    address: item.address,
    name: item.name ?? "",
    certificates: t.count("contacts_count_certificates", item.certificates ?? 0),
    // Said in words, not only in the warning colour.
    expiry: when ? t(expired ? "contacts_expired_on" : "contacts_latest_expiry", [when]) : "",
    expired,
    flags,
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
 * The state of a stored certificate, as the verdict names it (look.mjs STATES): `revoked`,
 * `expired`, `not_yet_valid`, `untrusted`, or `valid`. Harvested and imported certificates alike
 * are judged when they arrive; a certificate chosen for encryption chains to a trusted authority
 * now, whatever it did then.
 */
export function certificateState(cert, { chosen = cert.used_for_encryption === true, now = Date.now() } = {}) {
  if (cert.revoked) return "revoked";
  if (Date.parse(cert.not_after) < now) return "expired";
  if (Date.parse(cert.not_before) > now) return "not_yet_valid";
  if (cert.trusted_when_seen === false && !chosen) return "untrusted";
  return "valid";
}

const STATE_BADGES = Object.freeze({ revoked: "error", expired: "warning", not_yet_valid: "warning", untrusted: "warning" });

/**
 * A stored certificate as a card: headline, what it confirms (as a claim, with why it is not
 * proven, unless the certificate is valid), state badges under the states' one names, why
 * encryption does not use it, labelled rows and the decisions the user can take (`confirm`,
 * `refuse`).
 */
export function certificateCard(cert, { t, date, chosen = cert.used_for_encryption === true, now = Date.now() }) {
  const state = certificateState(cert, { chosen, now });
  const badges = [];
  if (chosen) badges.push({ kind: "ok", text: t("cert_badge_chosen") });
  if (cert.status === "pending") badges.push({ kind: "warning", text: t("cert_badge_pending") });
  if (cert.status === "refused") badges.push({ kind: "error", text: t("cert_badge_refused") });
  if (cert.status === "confirmed") badges.push({ kind: "muted", text: t("cert_badge_confirmed") });
  if (STATE_BADGES[state]) badges.push({ kind: STATE_BADGES[state], text: t(stateLabel(state)) });
  if (!cert.can_encrypt) badges.push({ kind: "muted", text: t("cert_badge_signing_only") });
  const source = SOURCES.includes(cert.source) ? t(`source_${cert.source}`) : cert.source;
  const actions = [];
  // Confirming makes a held-back key the one used only when nothing else keeps it from use.
  if (cert.status === "pending" && cert.not_used_because === "pending_confirmation") actions.push({ id: "confirm", text: t("cert_action_use_new") });
  if (cert.status === "refused") actions.push({ id: "confirm", text: t("cert_action_use") });
  else actions.push({ id: "refuse", text: t("cert_action_refuse") });
  return {
    fingerprint: cert.fingerprint_sha256,
    title: certName(cert) ?? (cert.emails ?? [])[0] ?? cert.subject,
    // A certificate held back as coming from an authority nobody here trusts: its claims about its
    // holder are claims, with why they are not proven.
    lead: certificateLead(cert, cert.not_used_because === "untrusted" ? "untrusted" : state, t),
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
  if (result.imported) lines.push(t.count("import_result_imported", result.imported, [addresses || "—"]));
  if (result.already_known) lines.push(t.count("import_result_already_known", result.already_known));
  if (result.intermediates) lines.push(t.count("import_result_intermediates", result.intermediates));
  if ((result.without_address ?? []).length) lines.push(t.count("import_result_without_address", result.without_address.length));
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
      t.count("contact_delete_certificates", count, [contact.address]),
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
