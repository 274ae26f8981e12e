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
  issued_by: (cert, t) => row(t("field_issued_by"), distinguishedName(cert.issuer_fields, cert.issuer)),
  valid_from: (cert, t, date) => row(t("field_valid_from"), date(cert.not_before)),
  valid_until: (cert, t, date) => row(t("field_valid_until"), date(cert.not_after)),
  fingerprint: (cert, t) => row(t("field_fingerprint"), groupFingerprint(cert.fingerprint_sha256), "fingerprint"),
  serial: (cert, t) => row(t("field_serial"), cert.serial, "mono"),
  key: (cert, t) => row(t("field_key"), keyName(cert.key)),
});

export const CERTIFICATE_FIELDS = Object.freeze(Object.keys(FIELDS));

/**
 * The rows of `cert` (the host's certificate summary) that `fields` names, in the order of
 * CERTIFICATE_FIELDS; facts the certificate does not have are left out.
 */
export function certificateRows(cert, fields, { t, date }) {
  const wanted = new Set(fields);
  for (const field of wanted) if (!Object.hasOwn(FIELDS, field)) throw new Error(`no certificate field ${field}`);
  return CERTIFICATE_FIELDS.filter((f) => wanted.has(f)).map((f) => FIELDS[f](cert, t, date)).filter(Boolean);
}
