import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { LocalError } from "../../extension/modules/ops.mjs";
import { Looks, STATES, UNREADABLE } from "../../extension/modules/look.mjs";
import { ENCRYPTION_FAILURES } from "../../extension/modules/describe.mjs";
import { CRL_REASONS, HOW, REVOCATION_STATUSES, UNKNOWN_REASONS as REVOCATION_UNKNOWN } from "../../extension/modules/revocation.mjs";
import { OWA_ERROR_CODES } from "../../extension/outlook-web/modules/fetch-errors.mjs";
import { inspectCodes, locales, protocolErrorCodes, read, ROOT } from "./docs.mjs";

const { en, de } = locales();
const codes = inspectCodes();

function hasText(key) {
  for (const [lang, messages] of Object.entries({ en, de })) {
    assert.ok(messages[key]?.trim(), `${lang} lacks ${key}`);
  }
}

test("German has exactly the English keys", () => {
  assert.deepEqual(Object.keys(de).sort(), Object.keys(en).sort());
});

test("no message is empty or untranslated where it has words", () => {
  for (const [lang, messages] of Object.entries({ en, de })) {
    for (const [key, text] of Object.entries(messages)) assert.ok(text.trim(), `${lang} ${key} is empty`);
  }
  const same = Object.keys(en).filter((k) => en[k] === de[k] && en[k].split(" ").length > 2);
  assert.deepEqual(same, [], "German copies of English sentences");
});

test("both languages use the same substitutions ($1, $2, …) in each message", () => {
  const subs = (text) => [...text.matchAll(/\$(\d)/g)].map((m) => m[1]).sort().join();
  for (const key of Object.keys(en)) assert.equal(subs(de[key]), subs(en[key]), key);
});

test("message keys are valid WebExtension message names", () => {
  for (const key of Object.keys(en)) assert.match(key, /^[A-Za-z0-9_@]+$/);
});

test("every host error code in PROTOCOL.md has a text", () => {
  const errors = protocolErrorCodes();
  assert.ok(errors.length >= 20, "the error table was found");
  for (const code of errors) hasText(`error_${code}`);
});

test("every error the add-on finds itself has a text, and unknown codes a fallback", () => {
  for (const code of Object.values(LocalError)) hasText(`error_${code}`);
  hasText("error_unknown");
});

// The host's codes come from one list (`error_codes!` in src/error.rs), which docs/PROTOCOL.md
// repeats (checked by tests/docs.rs): a text for a code nobody raises any more is a stale copy.
test("every error text belongs to a code the host, the add-on or the Outlook extension raises", () => {
  const raised = new Set([...protocolErrorCodes(), ...Object.values(LocalError), ...OWA_ERROR_CODES, "unknown"]);
  for (const [lang, messages] of Object.entries({ en, de })) {
    const stale = Object.keys(messages).filter((k) => k.startsWith("error_") && !raised.has(k.slice("error_".length)));
    assert.deepEqual(stale, [], `${lang} has texts for codes nobody raises`);
  }
});

test("the add-on's own error codes never take a code the host uses", () => {
  const host = new Set(protocolErrorCodes());
  const own = [...Object.values(LocalError), ...OWA_ERROR_CODES, "unknown"];
  assert.deepEqual(own.filter((c) => host.has(c)), []);
});

test("every signature state in INSPECT.md has a headline, an explanation and advice", () => {
  assert.ok(codes.signatureStates.length >= 16);
  for (const state of codes.signatureStates) {
    for (const suffix of ["", "_explain", "_advice"]) hasText(`state_${state}${suffix}`);
  }
});

test("every warning, reason, failure, position, anchor and revocation code has a text", () => {
  for (const c of codes.signatureWarnings) hasText(`sigwarn_${c}`);
  for (const c of codes.reasons) hasText(`reason_${c}`);
  for (const c of codes.encryptionWarnings) hasText(`encwarn_${c}`);
  for (const c of codes.encryptionFailures) hasText(`encfail_${c}`);
  for (const c of codes.positions) hasText(`position_${c}`);
  for (const c of codes.anchors) hasText(`anchor_${c}`);
  for (const c of codes.revocations) hasText(`revocation_${c}`);
  for (const c of codes.unknownRevocationReasons) hasText(`revreason_${c}`);
  for (const c of codes.crlReasons) hasText(`crlreason_${c}`);
  assert.ok(codes.reasons.includes("unknown_ca") && codes.reasons.includes("different_address"));
});

test("every encryption state has a text; the unreadable ones also say what to do", () => {
  for (const state of codes.encryptionStates) {
    hasText(`enc_${state}`);
    hasText(`enc_${state}_explain`);
  }
  const unreadable = codes.encryptionStates.filter((s) => !["none", "decrypted"].includes(s));
  assert.deepEqual([...UNREADABLE].sort(), unreadable.sort(), "every state without readable content is unreadable");
  for (const state of unreadable) {
    hasText(`enc_${state}_advice`);
    hasText(`look_undecryptable_title_${state}`);
  }
});

test("every encryption failure INSPECT.md names has its own text; the unsupported ones their own advice", () => {
  assert.deepEqual(codes.unsupportedFailures.sort(), ["bad_encoding", "compressed_data", "not_enveloped_data"]);
  assert.deepEqual(Object.keys(ENCRYPTION_FAILURES).sort(), [...codes.encryptionFailures].sort());
  for (const c of codes.unsupportedFailures) {
    assert.ok(ENCRYPTION_FAILURES[c].advice, c);
    hasText(`encfail_${c}_advice`);
  }
});

test("a misplaced layer has a text for each kind of layer", () => {
  for (const kind of ["signed", "encrypted"]) hasText(`sigwarn_misplaced_layer_${kind}`);
});

test("every validation type says what the certificate confirms", () => {
  for (const type of codes.validationTypes) hasText(`validation_${type}`);
});

test("every state has its one label, and every look a state", () => {
  for (const [state, { label, look }] of Object.entries(STATES)) {
    hasText(label);
    assert.ok(Looks[look], `${state}: look ${look}`);
  }
  for (const look of Object.keys(Looks)) assert.ok(Object.values(STATES).some((s) => s.look === look), look);
});

test("no text counts with a pseudo-plural: singular and plural are texts of their own", () => {
  for (const [lang, messages] of Object.entries({ en, de })) {
    for (const [key, text] of Object.entries(messages)) {
      assert.doesNotMatch(text, /\p{L}\((s|e|en|n|er|es)\)/u, `${lang} ${key}: ${text}`);
    }
  }
  // Each counted text comes in both forms.
  for (const key of Object.keys(en).filter((k) => k.endsWith("_one"))) hasText(`${key.slice(0, -"_one".length)}_other`);
});

test("revoked and locked have one word each in German: revoked is never „gesperrt“, and no third word", () => {
  for (const [key, text] of Object.entries(de)) {
    assert.doesNotMatch(text, /zurückgezogen/, key);
    if (/widerruf/i.test(text)) assert.doesNotMatch(text, /sperr/i, `${key} says revoked and locked: ${text}`);
  }
  for (const key of ["state_revoked", "revocation_revoked", "recipient_revoked", "cert_unused_revoked", "unproven_revoked"]) {
    assert.match(de[key], /widerruf/i, key);
  }
  for (const key of ["enc_locked", "identity_badge_locked", "lock_state_locked"]) assert.match(de[key], /gesperrt/, key);
});

// Keys named literally in the add-on's code and pages must exist; dynamic ones are covered above.
test("every message key the code and pages name exists", () => {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(mjs|js|html|json)$/.test(entry.name) && !path.includes("_locales")) files.push(path);
    }
  };
  walk(`${ROOT}extension`);
  const keys = new Set();
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/\bt\("([A-Za-z0-9_]+)"/g)) keys.add(m[1]);
    for (const m of text.matchAll(/\bt\.count\("([A-Za-z0-9_]+)"/g)) keys.add(m[1]);
    for (const m of text.matchAll(/data-i18n(?:-[a-z]+)?="([A-Za-z0-9_]+)"/g)) keys.add(m[1]);
    for (const m of text.matchAll(/__MSG_([A-Za-z0-9_]+)__/g)) keys.add(m[1]);
    for (const m of text.matchAll(/key: "([a-z][A-Za-z0-9_]+)"/g)) keys.add(m[1]);
  }
  assert.ok(keys.size > 40, `found ${keys.size} keys`);
  // A counted text (`t.count`, or `count` beside the key) exists as `<key>_one` and `<key>_other`.
  for (const key of keys) {
    if (key in en || !(`${key}_one` in en)) hasText(key);
    else for (const form of ["one", "other"]) hasText(`${key}_${form}`);
  }
});

test("the help page names the install script and doctor command that exist", () => {
  const page = read("extension/pages/host-missing.html");
  assert.match(page, /\.\/installer\/install-user\.sh/);
  assert.match(page, /smime-companion doctor/);
  assert.ok(readdirSync(`${ROOT}installer`).includes("install-user.sh"));
});

test("every revocation code INSPECT.md names is known to the add-on, with a text", () => {
  assert.deepEqual([...REVOCATION_STATUSES].sort(), [...codes.revocations].sort());
  assert.deepEqual([...REVOCATION_UNKNOWN].sort(), [...codes.unknownRevocationReasons].sort());
  assert.deepEqual([...CRL_REASONS].sort(), [...codes.crlReasons].sort());
  assert.deepEqual(codes.revocationMethods.sort(), ["crl", "ocsp"]);
  assert.deepEqual(codes.revocationSources.sort(), ["cache", "message", "online", "stored"]);
  for (const how of HOW) {
    const [method, source] = how.split("_");
    assert.ok(codes.revocationMethods.includes(method) && codes.revocationSources.includes(source), how);
    hasText(`revhow_${how}`);
  }
  for (const key of ["section_revocation", "popup_recheck_revocation", "popup_rechecking_revocation", "revocation_retry_note"]) hasText(key);
});
