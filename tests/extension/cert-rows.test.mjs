import { test } from "node:test";
import assert from "node:assert/strict";
import { CERTIFICATE_FIELDS, certificateRows, row } from "../../extension/modules/cert-rows.mjs";
import { dateFormatter, groupFingerprint } from "../../extension/modules/format.mjs";
import { strictT } from "./docs.mjs";
import { cert } from "./fixtures.mjs";

const t = strictT();
const date = dateFormatter("en");

test("a row without a value is no row; other values become text", () => {
  for (const empty of [null, undefined, ""]) assert.equal(row("Label", empty), null);
  assert.deepEqual(row("Serial number", 0, "mono"), { label: "Serial number", value: "0", kind: "mono" });
  assert.deepEqual(row("Key", "RSA 3072 bit"), { label: "Key", value: "RSA 3072 bit", kind: undefined });
});

test("every fact of a certificate, labelled, in the one order", () => {
  const rows = certificateRows(cert(), CERTIFICATE_FIELDS, { t, date });
  assert.deepEqual(rows.map((r) => r.label), ["E-mail address", "Issued by", "Valid from", "Valid until", "Fingerprint (SHA-256)", "Serial number", "Key"]);
  const byLabel = Object.fromEntries(rows.map((r) => [r.label, r]));
  assert.equal(byLabel["E-mail address"].value, "alice@example.org");
  assert.equal(byLabel["Issued by"].value, "Example Issuing CA (Example Trust)");
  assert.equal(byLabel["Valid until"].value, date("2028-01-01T00:00:00Z"));
  assert.deepEqual(byLabel["Fingerprint (SHA-256)"], { label: "Fingerprint (SHA-256)", value: groupFingerprint(cert().fingerprint_sha256), kind: "fingerprint" });
  assert.equal(byLabel["Serial number"].kind, "mono");
  assert.equal(byLabel.Key.value, "RSA 3072 bit");
});

test("only the facts asked for, in the one order whatever order they are asked in", () => {
  const rows = certificateRows(cert(), ["key", "valid_from"], { t, date });
  assert.deepEqual(rows.map((r) => r.label), ["Valid from", "Key"]);
  assert.throws(() => certificateRows(cert(), ["colour"], { t, date }), /colour/);
});

test("facts a certificate does not have are left out", () => {
  const rows = certificateRows(cert({ emails: [], serial: null, key: null, issuer_fields: null, issuer: "" }), CERTIFICATE_FIELDS, { t, date });
  assert.deepEqual(rows.map((r) => r.label), ["Valid from", "Valid until", "Fingerprint (SHA-256)"]);
});
