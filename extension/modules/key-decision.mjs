// A contact's new key is a decision for the user, not a footnote (docs/CONTACTS.md, "Choosing the
// certificate to encrypt to" and "Continuity"). When a message is signed with a new key while the
// contact's previous certificate still works, the host holds the new one back (`pending`) and the
// verdict carries `certificate_pending` (and `key_changed`). The details popup then shows a
// decision card: the certificate encryption uses now beside the new one (who issued each, until
// when, their fingerprints), how to check, and "use the new certificate" (with a note on how it
// was checked) or "refuse"; the banner says a decision waits; the contacts page says the contact
// waits for one instead of a plain "you can send encrypted mail".
//
// A renewal (same subject, same CA, the old one near its end) is no key change: the host accepts
// it without asking and says `renewed` (host rule), and nothing here turns that into a decision.
//
// Pure: the popup passes in the reading and, when the host answered, the contact (contacts_show);
// texts come from `t`, dates from `date`.

import { summarize, certName } from "./look.mjs";
import { distinguishedName, groupFingerprint } from "./format.mjs";

// The signature warnings (docs/INSPECT.md) that the decision card shows instead of plain notices.
export const DECISION_WARNINGS = new Set(["certificate_pending", "key_changed"]);

// What the card can say: the new key waits, the user used it, refused it, or (no decision on
// record) the host took it because the previous certificate no longer works.
export const DECISION_STATES = Object.freeze(["pending", "confirmed", "refused", "accepted"]);

const lower = (value) => String(value ?? "").toLowerCase();

/**
 * The key change a reading shows, or null: {address, fingerprint (the new certificate's),
 * previousFingerprint, pending, since, certificate (the new one, from the signature)}.
 * `certificate_pending` wins over `key_changed` (both name the same change; only the first says
 * that it still waits).
 */
export function keyChangeOf(reading) {
  if (!reading?.verdict) return null;
  const { signature } = summarize(reading);
  const warnings = signature.warnings ?? [];
  const pending = warnings.find((w) => w.code === "certificate_pending");
  const changed = warnings.find((w) => w.code === "key_changed");
  const warning = pending ?? changed;
  if (!warning) return null;
  const address = warning.address ?? null;
  const certificate = signerFor(signature, address);
  return {
    address: address ?? certificate?.emails?.[0] ?? null,
    fingerprint: certificate?.fingerprint_sha256 ?? null,
    previousFingerprint: (pending ? pending.working_fingerprint : changed.previous_fingerprint) || null,
    pending: Boolean(pending),
    since: warning.since ?? null,
    certificate,
  };
}

// The signer whose certificate names the address (several signers may sign one layer).
function signerFor(signature, address) {
  const all = [signature.signer, ...(signature.layers ?? []).flatMap((l) => (l.signers ?? []).map((s) => s.certificate))].filter(Boolean);
  return all.find((c) => (c.emails ?? []).some((e) => lower(e) === lower(address))) ?? signature.signer ?? all[0] ?? null;
}

/** The user's last recorded decision on a certificate (contacts_show's history), or null. */
export function lastDecision(contact, fingerprint) {
  const decisions = (contact?.history ?? []).filter((h) =>
    ["certificate_confirmed", "certificate_refused"].includes(h.event) && lower(h.fingerprint) === lower(fingerprint));
  const last = decisions.at(-1);
  return last ? { decision: last.event === "certificate_confirmed" ? "confirmed" : "refused", at: last.at, note: last.note ?? null } : null;
}

/**
 * Where the decision stands: from the contact's certificates when the host answered (their
 * `status`), else from the verdict alone (pending or not).
 */
export function decisionState(change, contact = null) {
  const stored = (contact?.certificates ?? []).find((c) => lower(c.fingerprint_sha256) === lower(change.fingerprint));
  if (stored?.status === "pending") return "pending";
  if (stored?.status === "refused") return "refused";
  if (stored?.status === "confirmed") return "confirmed";
  if (stored) return "accepted";
  return change.pending ? "pending" : "accepted";
}

/** One certificate of the card: its role, and the facts that tell the two apart. */
function certificateBlock(role, cert, fingerprint, { t, date }) {
  const rows = [];
  if (cert) {
    rows.push({ label: t("field_issued_by"), value: distinguishedName(cert.issuer_fields, cert.issuer) });
    rows.push({ label: t("field_valid_until"), value: date(cert.not_after) ?? "?" });
  }
  rows.push({ label: t("field_fingerprint"), value: groupFingerprint(fingerprint ?? cert?.fingerprint_sha256), kind: "fingerprint" });
  return { role, heading: t(`decision_${role}_heading`), rows: rows.filter((r) => r.value) };
}

/**
 * The decision card of the details popup: {state, severity, title, explain, blocks: [{role,
 * heading, rows}], check, thunderbird, decided, actions: [{id, text, primary}], note: {label,
 * placeholder} | null, address, fingerprint}. `contact` is contacts_show's answer for the address
 * (null when the host could not be asked); `thunderbird` says the add-on runs in Thunderbird,
 * whose own store may keep the new certificate from the signed mail.
 */
export function decisionCard(change, { contact = null, t, date, thunderbird = true }) {
  const state = decisionState(change, contact);
  const certificates = contact?.certificates ?? [];
  const stored = certificates.find((c) => lower(c.fingerprint_sha256) === lower(change.fingerprint)) ?? null;
  const previous = certificates.find((c) => lower(c.fingerprint_sha256) === lower(change.previousFingerprint)) ?? null;
  const newCert = stored ?? change.certificate;
  const name = certName(newCert) ?? change.address ?? "?";
  const address = change.address ?? "?";
  const decided = state === "confirmed" || state === "refused" ? lastDecision(contact, change.fingerprint) : null;
  const blocks = [
    certificateBlock(state === "pending" ? "in_use" : "previous", previous, change.previousFingerprint, { t, date }),
    certificateBlock("new", newCert, change.fingerprint, { t, date }),
  ];
  const actions = [];
  if (state === "pending") {
    actions.push({ id: "confirm", text: t("decision_confirm"), primary: true });
    actions.push({ id: "refuse", text: t("decision_refuse"), primary: false });
  } else if (state === "refused") {
    actions.push({ id: "confirm", text: t("decision_use_after_all"), primary: false });
  } else {
    actions.push({ id: "refuse", text: t("decision_refuse_now"), primary: false });
  }
  const when = decided ? date(decided.at) ?? decided.at : null;
  return {
    state,
    severity: state === "pending" || state === "refused" ? "warning" : "info",
    address: change.address,
    fingerprint: change.fingerprint,
    title: t(`decision_${state}_title`, [address]),
    explain: t(`decision_${state}_explain`, [name, address, date(previous?.not_after) ?? "?"]),
    blocks,
    check: state === "pending" ? t("decision_how_to_check", [name]) : null,
    decided: decided ? t(`decision_${decided.decision}_on`, [when ?? "?"]) + (decided.note ? ` ${t("history_note", [decided.note])}` : "") : null,
    // Refusing here cannot reach the copy Thunderbird may have kept from the signed mail.
    thunderbird: thunderbird && (state === "pending" || state === "refused") ? t("decision_thunderbird_copy", [address]) : null,
    note: state === "pending" ? { label: t("contact_pending_note_label"), placeholder: t("contact_pending_note_placeholder") } : null,
    actions,
  };
}

/** What the page says once the host took the decision (contacts_confirm/refuse_certificate's result). */
export function decisionDone(result, { t }) {
  return t(result?.status === "refused" ? "decision_done_refused" : "decision_done_confirmed", [String(result?.address ?? "?")]);
}

/**
 * The banner's words for a key change (bannerFor in banner.mjs), or null: a pending key asks the
 * user for a decision; a certificate the user refused (`state` from the contact, decisionState)
 * is said to be refused above every message signed with it, since the signature itself is intact
 * and the header button says so.
 */
export function decisionBanner(change, t, state = null) {
  if (!change) return null;
  if (change.pending) {
    return {
      headline: t("decision_banner_headline", [change.address ?? "?"]),
      summary: t("decision_banner_summary"),
      details: t("decision_banner_button"),
    };
  }
  if (state === "refused") {
    return {
      headline: t("decision_banner_refused_headline", [change.address ?? "?"]),
      summary: t("decision_banner_refused_summary"),
      details: t("banner_details"),
    };
  }
  return null;
}
