import { test } from "node:test";
import assert from "node:assert/strict";
import { confirms, describe } from "../../extension/modules/describe.mjs";
import { dateFormatter, groupFingerprint } from "../../extension/modules/format.mjs";
import { inspectCodes, strictT } from "./docs.mjs";
import { cert, verdict } from "./fixtures.mjs";

const t = strictT();
const date = dateFormatter("en");
const view = (reading) => describe(reading, { t, date });
const sectionOf = (v, id) => [...v.sections, ...v.technical].find((s) => s.id === id);
const rowsOf = (v, id) => Object.fromEntries(sectionOf(v, id).rows.map((r) => [r.label, r.value]));

test("fingerprints are grouped in fours, upper case, for reading aloud", () => {
  assert.equal(groupFingerprint("0a1b2c3d4e5f"), "0A1B 2C3D 4E5F");
  assert.equal(groupFingerprint("0a:1b:2c"), "0A1B 2C");
  assert.equal(groupFingerprint("ab".repeat(32)), `${"ABAB ".repeat(7)}ABAB\n${"ABAB ".repeat(7)}ABAB`);
});

test("who signed comes from the certificate, never from the From header's display name", () => {
  const v = view({ verdict: verdict({ from: [{ name: "Your Bank", address: "alice@example.org" }] }) });
  const signer = rowsOf(v, "signer");
  assert.equal(signer.Name, "Alice Example");
  assert.equal(signer["E-mail address"], "alice@example.org");
  assert.equal(signer["Issued by"], "Example Issuing CA (Example Trust)");
  const details = rowsOf(v, "signer-details");
  assert.equal(details["Fingerprint (SHA-256)"], groupFingerprint("0123456789abcdef".repeat(4)));
  assert.equal(details["Signature method"], "RSA (PKCS #1 v1.5)");
  assert.equal(details["Digest method"], "SHA-256");
  assert.ok(!JSON.stringify(v.sections.find((s) => s.id === "signer")).includes("Your Bank"));
});

test("what the certificate confirms is said in plain words for every validation type", () => {
  const expect = {
    mailbox: /only checked that the signer controls the address alice@example\.org/,
    individual: /identity of the person Alice Example/,
    sponsor: /Alice Example as a member of Example Corp/,
    organization: /organisation Example Corp/,
    unknown: /does not say what/,
  };
  for (const type of inspectCodes().validationTypes) {
    assert.match(confirms(cert({ validation: { type } }), t), expect[type], type);
  }
  const unit = cert({ validation: { type: "organization" }, subject_fields: { ...cert().subject_fields, organizational_unit: "Accounts Payable" } });
  assert.match(confirms(unit, t), /department or function “Accounts Payable”/);
});

test("an untrusted CA is explained with the phone check of the fingerprint", () => {
  const v = view({ verdict: verdict({ signature: "untrusted", problems: [{ code: "untrusted", reason: "unknown_ca", depth: 1 }] }) });
  assert.equal(v.problems.length, 1);
  const [p] = v.problems;
  assert.equal(p.title, "Certificate not trusted");
  assert.match(p.reason, /unknown here/);
  assert.match(p.advice, /fingerprint/);
  assert.match(p.advice, /number you already know/);
  assert.match(p.facts.join(" "), /issuing certificate, 1 level/);
  assert.match(sectionOf(v, "chain").paragraphs[0], /does not end at any certification authority you trust/);
  // The advice is to compare the fingerprint: it is shown, not hidden in the technical details.
  assert.ok(rowsOf(v, "signer")["Fingerprint (SHA-256)"]);
});

test("every signature state yields a headline and an explanation, with what to do", () => {
  for (const state of inspectCodes().signatureStates) {
    const v = view({ verdict: verdict({ signature: state }) });
    assert.ok(v.headline && v.summary, state);
    if (["valid", "none"].includes(state)) {
      assert.ok(v.advice && v.problems.length === 0, state);
    } else {
      assert.equal(v.advice, "", `${state}: the problem card says what to do`);
      assert.ok(v.problems.length > 0 && v.problems.every((p) => p.explain && p.advice), state);
      // The first card is the state itself: the popup shows its name (and, where the sentence
      // under the headline is the same, its explanation) once.
      assert.equal(v.headline, v.problems[0].title, state);
      if (!["untrusted", "partially_signed", "sender_mismatch"].includes(state)) assert.equal(v.summary, v.problems[0].explain, state);
    }
  }
});

test("the popup shows the verdict, who and what to do; serial, methods, chain and header lines are technical details", () => {
  const v = view({ verdict: verdict({ signature: "valid", encryption: "decrypted" }) });
  const shown = JSON.stringify(v.sections);
  for (const label of ["Serial number", "Digest method", "Signature method", "Key", "Fingerprint (SHA-256)", "Method", "Integrity protection"]) {
    assert.ok(!shown.includes(`"label":"${label}"`), `${label} is not in the popup's first view`);
  }
  assert.deepEqual(v.sections.map((s) => s.id), ["signer", "encryption"]);
  assert.deepEqual(v.technical.map((s) => s.id), ["signer-details", "chain", "revocation", "encryption-details", "message"]);
  assert.equal(v.headline, "Encrypted and signed");
  assert.match(v.advice, /Check that the name and address below are the person you expect/);
});

test("a banner shows for problems only, with the headline and the first explanation", async () => {
  const { bannerFor } = await import("../../extension/modules/banner.mjs");
  for (const state of ["valid", "none"]) assert.equal(bannerFor(view({ verdict: verdict({ signature: state }) }), t), null, state);
  assert.equal(bannerFor(view({ verdict: verdict({ signature: "valid", encryption: "decrypted" }) }), t), null);
  const banner = bannerFor(view({ verdict: verdict({ signature: "content_altered" }) }), t);
  assert.equal(banner.severity, "error");
  assert.equal(banner.headline, "Altered after signing");
  assert.match(banner.summary, /changed after it was signed/);
  assert.equal(bannerFor(view({ verdict: verdict({ signature: "untrusted" }) }), t).severity, "warning");
});

test("a sender mismatch lists both addresses compared", () => {
  const v = view({ verdict: verdict({ signature: "sender_mismatch", problems: [{ code: "sender_mismatch", reason: "different_address", from: "boss@example.com", certificate_emails: ["alice@example.org"] }] }) });
  assert.deepEqual(v.problems[0].facts, ["Address in the From line: boss@example.com", "Addresses in the certificate: alice@example.org"]);
  assert.equal(v.problems[0].severity, "error");
});

test("encryption details name your certificate it was encrypted to and the cipher", () => {
  const v = view({ verdict: verdict({ signature: "valid", encryption: "decrypted" }) });
  assert.equal(rowsOf(v, "encryption")["Encrypted to your certificate"], "Bob · bob@example.org");
  // Named as people read it, not as a distinguished name.
  const named = verdict({ signature: "valid", encryption: "decrypted" });
  named.encryption.decrypted_with.subject = "C=DE,O=Example\\, Inc.,CN=Bob Reader";
  assert.equal(rowsOf(view({ verdict: named }), "encryption")["Encrypted to your certificate"], "Bob Reader · bob@example.org");
  const enc = rowsOf(v, "encryption-details");
  assert.equal(enc.Method, "AES-256-CBC");
  assert.equal(enc["Integrity protection"], "No (CBC)");
  assert.match(enc["Recipient (you)"], /bob@example\.org \(RSA \(PKCS #1 v1\.5\)\)/);
});

test("a message nobody here can decrypt says what to do", () => {
  const v = view({ verdict: verdict({ signature: "none", encryption: "no_key" }) });
  assert.equal(v.look.name, "undecryptable");
  assert.match(v.problems[0].advice, /import the certificate/);
  assert.match(rowsOf(v, "encryption-details").Recipient, /bob@example\.org/);
});

test("an AES-GCM integrity failure is a red problem with its reason", () => {
  const v = view({ verdict: verdict({ signature: "none", encryption: "failed" }) });
  assert.equal(v.problems[0].severity, "error");
  assert.match(v.problems[0].reason, /integrity check failed/);
});

test("Thunderbird's decryption is named and the inner signature judged", () => {
  const v = view({ verdict: verdict({ signature: "none", encryption: "no_key" }), decrypted: verdict({ signature: "valid" }) });
  assert.equal(v.look.name, "encryptedSigned");
  assert.deepEqual(v.problems, []);
  assert.match(v.notices[0], /Thunderbird decrypted/);
  assert.equal(rowsOf(v, "encryption").State, "Encrypted, decrypted by Thunderbird");
});

test("layers are listed when there is more than the root signature", () => {
  const signer = { certificate: cert(), chain: [], anchor: "system", state: "valid", problems: [] };
  const layers = [
    { part: "", form: "signed_data", position: "root", state: "valid", problems: [], signers: [signer] },
    { part: "1", form: "multipart_signed", position: "inner", state: "content_altered", problems: [], signers: [signer] },
  ];
  const v = view({ verdict: verdict({ signature: "valid", layers, warnings: [{ code: "inner_signature" }] }) });
  const rows = sectionOf(v, "layers").rows;
  assert.deepEqual(rows.map((r) => r.label), ["Signature · whole message", "Inner signature · part 1"]);
  assert.equal(rows[1].value, "Altered after signing · Alice Example");
  assert.match(v.notices.join(" "), /further signature inside/);
});

test("a partly signed message names the signed part in its layers", () => {
  const layers = [{ part: "2", form: "multipart_signed", position: "below_root", state: "valid", problems: [], signers: [] }];
  const v = view({ verdict: verdict({ signature: "partially_signed", layers }) });
  assert.equal(v.look.name, "partial");
  assert.equal(sectionOf(v, "layers").rows[0].label, "Signature of one part · part 2");
});

test("an unknown error code from a newer host still reads well", async () => {
  const { translator } = await import("../../extension/modules/texts.mjs");
  const messages = { error_unknown: "unknown ($1)" };
  const tr = translator((key, subs) => (messages[key] ?? "").replace("$1", subs[0] ?? ""));
  assert.equal(tr("error_brand_new_code"), "unknown (brand_new_code)");
});

test("a message encrypted to your locked key says so and what to do", () => {
  const v = view({ verdict: verdict({ signature: "none", encryption: "locked" }) });
  assert.equal(v.look.name, "undecryptable");
  assert.equal(v.headline, "Your key is locked");
  assert.equal(v.summary, "Encrypted to you, but your key is locked: unlock it to read this message.");
  assert.equal(v.problems.length, 1);
  const [p] = v.problems;
  assert.equal(p.title, "Your key is locked");
  assert.equal(p.severity, "warning");
  assert.match(p.explain, /private key is locked/);
  assert.match(p.advice, /passphrase/);
  assert.match(p.advice, /My certificates/);
  assert.equal(p.reason, null);
  assert.equal(rowsOf(v, "encryption").State, "Your key is locked");
  assert.match(rowsOf(v, "encryption-details")["Recipient (you)"], /bob@example\.org/);
});

test("each unsupported encryption the host names has its own reason and advice", () => {
  const expect = {
    compressed_data: [/compressed/, /without compression/],
    not_enveloped_data: [/neither a signature nor encrypted data/, /Do not treat it as signed or encrypted/],
    bad_encoding: [/damaged/, /send the message again/],
  };
  for (const failure of inspectCodes().unsupportedFailures) {
    const [p] = view({ verdict: verdict({ signature: "none", encryption: "unsupported", failure }) }).problems;
    assert.equal(p.title, "Unsupported encryption", failure);
    assert.match(p.reason, expect[failure][0], failure);
    assert.doesNotMatch(p.reason, /Not supported:/, failure);
    assert.match(p.advice, expect[failure][1], failure);
  }
  // A failure a newer host names is still shown, by its code, with the general advice.
  const [other] = view({ verdict: verdict({ signature: "none", encryption: "unsupported", failure: "rc2-40-cbc" }) }).problems;
  assert.equal(other.reason, "Not supported: rc2-40-cbc.");
  assert.match(other.advice, /AES/);
  // Decryption failures keep the advice of their state.
  const [failed] = view({ verdict: verdict({ signature: "none", encryption: "failed", failure: "decryption_failed" }) }).problems;
  assert.equal(failed.reason, "The decryption itself failed.");
  assert.match(failed.advice, /send the message again/);
});

test("a misplaced layer says where it is and what it means for its kind", () => {
  const warnings = [
    { code: "misplaced_layer", part: "1", kind: "signed" },
    { code: "misplaced_layer", part: "", kind: "encrypted" },
    { code: "misplaced_layer", part: "2.1", kind: "something_new" },
  ];
  const v = view({ verdict: verdict({ signature: "valid", warnings }) });
  assert.match(v.notices[0], /further signature sits where no mail program puts one \(part 1\)/);
  assert.match(v.notices[1], /encrypted part .* \(whole message\)\. It was not decrypted/);
  assert.match(v.notices[2], /S\/MIME layer sits where no mail program puts one \(part 2\.1\)/);
  const malformed = view({ verdict: verdict({ signature: "malformed", problems: [{ code: "malformed", reason: "misplaced_layer" }] }) });
  assert.match(malformed.problems[0].reason, /where no mail program puts one/);
});

test("a display name holding another address is a warning card naming both addresses, and a banner", async () => {
  const { bannerFor } = await import("../../extension/modules/banner.mjs");
  const warnings = [{ code: "display_name_is_other_address", name_address: "boss@corp.example", address: "alice@example.org" }];
  const v = view({ verdict: verdict({ signature: "valid", warnings }) });
  assert.equal(v.problems.length, 1);
  assert.equal(v.problems[0].severity, "warning");
  assert.match(v.problems[0].explain, /boss@corp\.example.*alice@example\.org/);
  assert.match(v.problems[0].advice, /boss@corp\.example/);
  assert.equal(v.headline, "Misleading sender name");
  assert.equal(v.problems[0].title, "Misleading sender name");
  assert.match(v.summary, /boss@corp\.example/);
  assert.deepEqual(v.notices, []);
  assert.equal(bannerFor(v, t).severity, "warning");
});

test("an ambiguous structure names the parameter, and a long From line says how many more", () => {
  const problems = [{ code: "malformed", reason: "ambiguous_parameter", parameter: "boundary" }];
  const v = view({ verdict: verdict({ signature: "malformed", problems }) });
  assert.match(v.problems[0].reason, /more than once/);
  assert.deepEqual(v.problems[0].facts, ["Parameter given more than once: boundary"]);
  const reading = verdict({ signature: "none" });
  reading.message.from = [{ name: null, address: "a@x.org" }];
  reading.message.from_count = 80_000;
  assert.equal(rowsOf(view({ verdict: reading }), "message").From, "a@x.org (and 79999 more)");
});

test("a signing time outside the certificate's validity gives the three dates", () => {
  const warnings = [{ code: "signing_time_outside_validity", signing_time: "2026-01-02T10:00:00Z", not_before: "2026-03-01T00:00:00Z", not_after: "2027-03-01T00:00:00Z" }];
  const [notice] = view({ verdict: verdict({ signature: "valid", warnings }) }).notices;
  assert.equal(notice, `The signing time the signer gives (${date("2026-01-02T10:00:00Z")}) lies outside the validity of their certificate (${date("2026-03-01T00:00:00Z")} to ${date("2027-03-01T00:00:00Z")}).`);
});

test("too many signers says how many were checked of how many", () => {
  const problems = [{ code: "malformed", reason: "too_many_signers", count: 10000, checked: 16 }];
  const [problem] = view({ verdict: verdict({ signature: "malformed", problems }) }).problems;
  assert.match(problem.reason, /more signers than are checked/);
  assert.deepEqual(problem.facts, ["Signers checked: 16 of 10000"]);
});

test("a chain longer than the host lists says how many issuers are left out", () => {
  const v = verdict({ signature: "untrusted" });
  v.signature.layers[0].signers[0].chain_omitted = 83;
  const chain = sectionOf(view({ verdict: v }), "chain");
  assert.match(chain.paragraphs.at(-1), /^83 further certificates of the chain are not listed\.$/);
});

test("revocation says how it is known and when: good from the certification authority's OCSP service", () => {
  const revocation = {
    status: "good", retry: false,
    certificates: [
      { depth: 0, subject: "CN=Alice Example", status: "good", method: "ocsp", source: "online", url: "http://ocsp.example/", checked_at: "2026-11-27T10:00:03Z" },
      { depth: 1, subject: "CN=Example Issuing CA", status: "unknown", reason: "no_source" },
    ],
  };
  const v = view({ verdict: verdict({ revocation }) });
  assert.match(rowsOf(v, "signer-details").Revocation, /^Not revoked · the certification authority's OCSP service, asked just now · checked /);
  const section = rowsOf(v, "revocation");
  assert.match(section["Signer's certificate"], /^Not revoked/);
  assert.match(section["Issuing certificate (CN=Example Issuing CA)"], /names no service/);
  assert.equal(v.recheckRevocation, false);
});

test("a revoked certificate says when, why and how it is known, and whether before the signing time", () => {
  const problem = {
    code: "revoked", reason: "revoked_after_signing_time", depth: 0, revoked_at: "2026-11-20T08:00:00Z",
    revocation_reason: "key_compromise", method: "crl", source: "cache",
  };
  const revocation = {
    status: "revoked", retry: false,
    certificates: [{ depth: 0, subject: "CN=Alice", status: "revoked", method: "crl", source: "cache", revoked_at: "2026-11-20T08:00:00Z", revocation_reason: "key_compromise" }],
  };
  const v = view({ verdict: verdict({ signature: "revoked", problems: [problem], revocation }) });
  const [card] = v.problems;
  assert.equal(card.severity, "error");
  assert.match(card.reason, /after the time the signature claims/);
  const facts = card.facts.join(" | ");
  assert.match(facts, /Revoked on: /);
  assert.match(facts, /Reason given by the certification authority: the private key was compromised/);
  assert.match(facts, /Known from: the certification authority's revocation list, fetched earlier/);
  assert.match(rowsOf(v, "signer-details").Revocation, /^Revoked · revoked on .* · reason given: the private key was compromised/);
});

test("an unknown revocation says why, and offers to check again only when that may help", () => {
  const unknown = (reason, retry) => ({ status: "unknown", reason, retry, certificates: [{ depth: 0, subject: "CN=Alice", status: "unknown", reason }] });
  const offline = view({ verdict: verdict({ revocation: unknown("offline", true) }) });
  assert.match(rowsOf(offline, "signer-details").Revocation, /^Not known whether revoked · .*could not be reached/);
  assert.equal(offline.recheckRevocation, true);
  assert.match(sectionOf(offline, "revocation").paragraphs.join(" "), /check again/);
  const off = view({ verdict: verdict({ revocation: unknown("off", false) }) });
  assert.match(rowsOf(off, "signer-details").Revocation, /switched off in the settings/);
  assert.equal(off.recheckRevocation, false);
  // Revocation required and unknown: the untrusted card says why.
  const required = view({ verdict: verdict({ signature: "untrusted", problems: [{ code: "untrusted", reason: "revocation_unknown", depth: 0 }], revocation: unknown("timeout", true) }) });
  assert.match(required.problems[0].reason, /require a check whether the certificate was revoked/);
  // Every reason the host names reads in both languages (locales.test.mjs), and an unknown one from a newer host still reads.
  const newer = view({ verdict: verdict({ revocation: unknown("something_new", false) }) });
  assert.match(rowsOf(newer, "signer-details").Revocation, /Not checked yet/);
});
