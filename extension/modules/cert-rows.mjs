// The labelled facts of a certificate ({label, value, kind} rows for a <dl>), built one way for the
// details popup, the contacts page and My certificates. Pure: `t` (texts.mjs translator) and
// `date` (format.mjs) are passed in.

import { distinguishedName, groupFingerprint, keyName } from "./format.mjs";

/** One labelled row; null when there is no value to show (lists of rows drop the nulls). */
export function row(label, value, kind) {
  return value === null || value === undefined || value === "" ? null : { label, value: String(value), kind };
}

// Each fact a certificate page may show, in the one order they are shown in.
const FIELDS = Object.freeze({
  email: (cert, t) => row(t("field_email"), (cert.emails ?? []).join(", ")),
  // Addresses written in the certificate that do not count (docs/INSPECT.md, "Addresses in
  // certificates"): the host escapes anything but printable ASCII, so no lookalike passes.
  ignored_emails: (cert, t) => row(t("field_ignored_emails"), (cert.ignored_emails ?? []).map((a) => ignoredEmail(a, t)).join("; "), "warning"),
  issued_by: (cert, t) => row(t("field_issued_by"), distinguishedName(cert.issuer_fields, cert.issuer)),
  valid_from: (cert, t, date) => row(t("field_valid_from"), date(cert.not_before)),
  valid_until: (cert, t, date) => row(t("field_valid_until"), date(cert.not_after)),
  fingerprint: (cert, t) => row(t("field_fingerprint"), groupFingerprint(cert.fingerprint_sha256), "fingerprint"),
  serial: (cert, t) => row(t("field_serial"), cert.serial, "mono"),
  key: (cert, t) => row(t("field_key"), keyName(cert.key, t)),
});

export const CERTIFICATE_FIELDS = Object.freeze(Object.keys(FIELDS));
export const IGNORED_EMAIL_REASONS = Object.freeze(["not_an_address", "subject_with_san", "smtputf8", "duplicate"]);

/** An address the certificate holds but that is not used, as shown, with why. */
export function ignoredEmail(address, t) {
  const reason = IGNORED_EMAIL_REASONS.includes(address?.reason) ? address.reason : "not_an_address";
  return t(`ignored_email_${reason}`, [String(address?.shown ?? "")]);
}

/**
 * The rows of `cert` (the host's certificate summary) that `fields` names, in the order of
 * CERTIFICATE_FIELDS; facts the certificate does not have are left out.
 */
export function certificateRows(cert, fields, { t, date }) {
  const wanted = new Set(fields);
  for (const field of wanted) if (!Object.hasOwn(FIELDS, field)) throw new Error(`no certificate field ${field}`);
  return CERTIFICATE_FIELDS.filter((f) => wanted.has(f)).map((f) => FIELDS[f](cert, t, date)).filter(Boolean);
}
