// What the details show about revocation (docs/INSPECT.md, "Revocation"): for the signer's
// certificate and each CA above it, whether it is revoked, how that is known and when, or why it
// is not known; and whether checking again may help. Pure: texts come from `t`, dates from `date`.

import { row } from "./cert-rows.mjs";

// The host's codes (docs/INSPECT.md), each with its text: `revocation_<status>`,
// `revreason_<reason>`, `revhow_<method>_<source>`, `crlreason_<code>`.
export const REVOCATION_STATUSES = Object.freeze(["good", "revoked", "unknown"]);
export const UNKNOWN_REASONS = Object.freeze([
  "off", "no_source", "untrusted_chain", "offline", "timeout", "responder_error", "invalid_response", "stale_response",
  "unknown_to_responder", "not_checked",
]);
export const HOW = Object.freeze(["ocsp_online", "ocsp_cache", "ocsp_message", "crl_online", "crl_cache", "crl_message", "crl_stored"]);
export const CRL_REASONS = Object.freeze([
  "unspecified", "key_compromise", "ca_compromise", "affiliation_changed", "superseded", "cessation_of_operation",
  "certificate_hold", "remove_from_crl", "privilege_withdrawn", "aa_compromise",
]);

/** The host's revocation report of the primary signer, or null (an older host sent a string). */
export function revocationOf(info) {
  const r = info?.revocation;
  return r && typeof r === "object" ? r : null;
}

/** True when the primary signer's revocation is unknown and checking again may help. */
export function canRecheck(signerInfo) {
  const r = revocationOf(signerInfo);
  return Boolean(r && r.status === "unknown" && r.retry);
}

/** How a certificate's status is known, in words; null when the host did not say. */
export function howKnown(entry, t) {
  const key = `${entry?.method}_${entry?.source}`;
  return HOW.includes(key) ? t(`revhow_${key}`) : null;
}

function crlReason(code, t) {
  if (!code) return null;
  return CRL_REASONS.includes(code) ? t(`crlreason_${code}`) : code;
}

function unknownReason(code, t) {
  return t(`revreason_${UNKNOWN_REASONS.includes(code) ? code : "not_checked"}`);
}

/** One certificate's status in one line: what, how, when (or why not known). */
export function statusLine(entry, t, date) {
  const status = REVOCATION_STATUSES.includes(entry?.status) ? entry.status : "unknown";
  const parts = [t(`revocation_${status}`)];
  if (status === "revoked") {
    if (entry.revoked_at) parts.push(t("revocation_revoked_on", [date(entry.revoked_at) ?? entry.revoked_at]));
    const reason = crlReason(entry.revocation_reason, t);
    if (reason) parts.push(t("revocation_reason_given", [reason]));
  }
  if (status === "unknown") {
    parts.push(unknownReason(entry?.reason, t));
    return parts.join(" · ");
  }
  const how = howKnown(entry, t);
  if (how) parts.push(how);
  if (entry.checked_at) parts.push(t("revocation_checked_at", [date(entry.checked_at) ?? entry.checked_at]));
  return parts.join(" · ");
}

/** The signer section's one-line summary of the whole report. */
export function summaryLine(report, t, date) {
  if (!report) return null;
  if (report.status === "revoked") {
    const revoked = (report.certificates ?? []).find((c) => c.status === "revoked") ?? { status: "revoked" };
    return statusLine(revoked, t, date);
  }
  const own = (report.certificates ?? []).find((c) => c.depth === 0) ?? { status: report.status, reason: report.reason };
  return statusLine({ ...own, status: report.status, reason: own.reason ?? report.reason }, t, date);
}

/** The "Revocation" section: each certificate checked, and what can be done about an unknown. */
export function revocationSection(report, t, date) {
  const certificates = report?.certificates ?? [];
  if (!certificates.length) return null;
  const rows = certificates.map((c) =>
    row(c.depth === 0 ? t("revocation_cert_signer") : t("revocation_cert_issuer", [c.subject || "?"]), statusLine(c, t, date)),
  );
  const paragraphs = [];
  if (report.status === "unknown" && report.retry) paragraphs.push(t("revocation_retry_note"));
  return { id: "revocation", heading: t("section_revocation"), rows: rows.filter(Boolean), paragraphs };
}

/** The facts of a `revoked` problem: when, why, and how it is known. */
export function revokedFacts(problem, t, date) {
  const facts = [];
  if (problem.revoked_at) facts.push(t("fact_revoked_at", [date(problem.revoked_at) ?? problem.revoked_at]));
  const reason = crlReason(problem.revocation_reason, t);
  if (reason) facts.push(t("fact_revocation_reason", [reason]));
  const how = howKnown(problem, t);
  if (how) facts.push(t("fact_revocation_source", [how]));
  return facts;
}
