import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CERT_STATUSES, certificateCard, contactRow, decisionNotice, deleteCertificateConfirmation, deleteConfirmation, encryptionSummary,
  exportFile, EXPORT_FORMATS, HISTORY_EVENTS, historyLine, importOutcome, pendingNotices, shortFingerprint, SOURCES, UNUSED_REASONS,
  unusedText,
} from "../../extension/modules/contacts-view.mjs";
import { dateFormatter } from "../../extension/modules/format.mjs";
import { contactCodes, strictT } from "./docs.mjs";
import { cert } from "./fixtures.mjs";

const t = strictT();
const date = dateFormatter("en");
const NOW = Date.parse("2026-11-27T00:00:00Z");
const stored = (overrides = {}) => ({ ...cert(), source: "signed_mail", trusted_when_seen: true, revoked: false, can_encrypt: true, capabilities: [],
  first_seen: "2026-11-01T00:00:00Z", last_seen: "2026-11-20T00:00:00Z", ...overrides });

test("every history event CONTACTS.md defines has a text; a key change is marked and explained", () => {
  const { historyEvents } = contactCodes();
  assert.deepEqual([...historyEvents].sort(), [...HISTORY_EVENTS].sort());
  for (const event of historyEvents) {
    const line = historyLine({ at: "2026-11-27T10:00:00Z", event, fingerprint: "ab".repeat(32), previous_fingerprint: "cd".repeat(32) }, { t, date });
    assert.ok(line.text && line.when, event);
  }
  const changed = historyLine({ at: "2026-11-27T10:00:00Z", event: "key_changed", fingerprint: "ab".repeat(32), previous_fingerprint: "cd".repeat(32) }, { t, date });
  assert.equal(changed.attention, true);
  assert.equal(changed.text, "Key changed: a new certificate (ABAB ABAB ABAB ABAB …) arrived while the previous one (CDCD CDCD CDCD CDCD …) was still valid");
  assert.match(changed.explain, /ask the contact by phone/);
  assert.match(historyLine({ at: "x", event: "renewed", fingerprint: "ab".repeat(32), previous_fingerprint: null }, { t, date }).explain, /ordinary renewal/);
  assert.equal(historyLine({ at: "x", event: "merged", fingerprint: null }, { t, date }).text, "Event “merged”");
});

test("the list flags key changes and renewals, and says how many certificates until when", () => {
  const row = contactRow({ address: "alice@example.org", name: "Alice", certificates: 2, latest_expiry: "2028-01-01T00:00:00Z", warnings: ["key_changed", "renewed", "other"] }, { t, date, now: NOW });
  assert.deepEqual(row.flags.map((f) => f.text), ["Key changed", "renewed"]);
  assert.equal(row.certificates, "2 certificates");
  assert.equal(contactRow({ address: "x@y.org", certificates: 1 }, { t, date }).certificates, "1 certificate");
  assert.match(row.expiry, /^valid until /);
  // An expired contact says so in words, not only in the warning colour.
  const expired = contactRow({ address: "x@y.org", certificates: 0, latest_expiry: "2020-01-01T00:00:00Z" }, { t, date, now: NOW });
  assert.equal(expired.expired, true);
  assert.match(expired.expiry, /^expired on /);
});

test("a contact's encryption: the certificate it would use, or why none with advice for every reason", () => {
  const yes = encryptionSummary({ can_encrypt: true, certificate: cert(), reason: null }, { t, date });
  assert.equal(yes.ok, true);
  assert.match(yes.detail, /certificate of Alice Example, valid until .*0123 4567 89AB CDEF/);
  for (const reason of contactCodes().reasons) {
    const no = encryptionSummary({ can_encrypt: false, certificate: null, reason }, { t, date });
    assert.ok(!no.ok && no.title && no.advice, reason);
  }
  assert.equal(encryptionSummary({ can_encrypt: false, reason: "never_seen" }, { t, date }).keyExchange, true);
});

test("a certificate card says what it confirms and flags what matters", () => {
  const chosen = certificateCard(stored(), { t, date, chosen: true, now: NOW });
  assert.deepEqual(chosen.badges.map((b) => b.text), ["used for encryption"]);
  assert.match(chosen.lead, /Alice Example as a member of Example Corp/);
  const rows = Object.fromEntries(chosen.rows.map((r) => [r.label, r.value]));
  assert.equal(rows["Came from"], "a signed message");
  assert.equal(rows["Issued by"], "Example Issuing CA (Example Trust)");
  // One badge for the certificate's state, under the state's one name; the worst state wins.
  const bad = certificateCard(stored({ revoked: true, can_encrypt: false, trusted_when_seen: false, not_after: "2026-01-01T00:00:00Z" }), { t, date, now: NOW });
  assert.deepEqual(bad.badges.map((b) => [b.kind, b.text]), [["error", "Certificate revoked"], ["muted", "signing only"]]);
  assert.match(bad.lead, /^The certificate says it belongs to Alice Example, a member of Example Corp.* not proven: the certification authority has revoked/);
  const old = certificateCard(stored({ not_after: "2026-01-01T00:00:00Z" }), { t, date, now: NOW });
  assert.deepEqual(old.badges.map((b) => b.text), ["Certificate expired"]);
  assert.match(old.lead, /no longer confirmed: the certificate has expired/);
  const imported = certificateCard(stored({ source: "import", trusted_when_seen: false }), { t, date, now: NOW });
  assert.deepEqual(imported.badges.map((b) => b.text), ["Certificate not trusted"], "imports are judged when they arrive too");
  assert.match(imported.lead, /^The certificate says .* not proven: the certificate comes from an authority you do not trust/);
  for (const source of SOURCES) assert.ok(t(`source_${source}`));
});

test("each certificate says whether encryption uses it, and why not, for every reason the host gives", () => {
  const used = certificateCard(stored({ status: "accepted", used_for_encryption: true, not_used_because: null }), { t, date, now: NOW });
  assert.equal(used.unused, null);
  assert.deepEqual(used.badges.map((b) => b.text), ["used for encryption"]);
  const { reasons } = contactCodes();
  for (const code of UNUSED_REASONS) {
    assert.ok(reasons.includes(code), `${code} is documented in CONTACTS.md`);
    const card = certificateCard(stored({ used_for_encryption: false, not_used_because: code }), { t, date, now: NOW });
    assert.match(card.unused, /^Not used for encryption/, code);
  }
  assert.equal(unusedText("pending_confirmation", { t }), "Not used for encryption yet: it is a new key and waits for your confirmation.");
  // A reason a newer host gives is still shown, with its code.
  assert.equal(unusedText("weak_algorithm_someday", { t }), "Not used for encryption (reason “weak_algorithm_someday”).");
  for (const status of CERT_STATUSES) assert.ok(certificateCard(stored({ status }), { t, date, now: NOW }).actions.length, status);
});

test("a pending certificate is flagged in the list, badged, and offers use and refuse; a refused one can be used again", () => {
  // A new key, changed or held back for the user, is flagged once under the state's one name.
  const row = contactRow({ address: "alice@example.org", certificates: 2, pending: 1, warnings: ["key_changed"] }, { t, date });
  assert.deepEqual(row.flags.map((f) => [f.code, f.kind, f.text]), [["key_changed", "warning", "Key changed"]]);
  assert.deepEqual(contactRow({ address: "a@x.org", certificates: 2, pending: 1 }, { t, date }).flags.map((f) => f.text), ["Key changed"]);
  const pending = certificateCard(stored({ status: "pending", used_for_encryption: false, not_used_because: "pending_confirmation" }), { t, date, now: NOW });
  assert.deepEqual(pending.badges.map((b) => [b.kind, b.text]), [["warning", "waiting for your confirmation"]]);
  assert.deepEqual(pending.actions.map((a) => [a.id, a.text]), [["confirm", "Use the new certificate"], ["refuse", "Refuse"]]);
  const refused = certificateCard(stored({ status: "refused", used_for_encryption: false, not_used_because: "refused" }), { t, date, now: NOW });
  assert.deepEqual(refused.badges.map((b) => b.text), ["refused by you"]);
  assert.deepEqual(refused.actions.map((a) => a.id), ["confirm"]);
  const confirmed = certificateCard(stored({ status: "confirmed", used_for_encryption: true }), { t, date, now: NOW });
  assert.deepEqual(confirmed.badges.map((b) => b.text), ["used for encryption", "confirmed by you"]);
  assert.deepEqual(confirmed.actions.map((a) => a.id), ["refuse"]);
});

test("the pending notice names the new certificate, its whole fingerprint and the one encryption keeps using", () => {
  const working = stored({ status: "accepted", used_for_encryption: true, fingerprint_sha256: "ab".repeat(32) });
  const waiting = stored({ status: "pending", used_for_encryption: false, not_used_because: "pending_confirmation", first_seen: "2026-11-25T08:00:00Z" });
  const [notice, ...rest] = pendingNotices({ address: "alice@example.org", certificates: [working, waiting] }, { t, date });
  assert.equal(rest.length, 0);
  assert.equal(notice.fingerprint, waiting.fingerprint_sha256);
  assert.equal(notice.title, "A new certificate for alice@example.org waits for your confirmation");
  assert.match(notice.what, /names Alice Example/);
  assert.equal(notice.fingerprintText.replace(/\s/g, ""), waiting.fingerprint_sha256.toUpperCase());
  assert.match(notice.keeps, /ABAB ABAB ABAB ABAB/);
  assert.match(notice.compare, /by phone/);
  assert.equal(notice.confirm, "Use the new certificate");
  assert.match(notice.notePlaceholder, /fingerprint compared by phone/);
  const alone = pendingNotices({ address: "a@x.org", certificates: [waiting] }, { t, date })[0];
  assert.equal(alone.keeps, "Until you decide, it is not used for encryption.");
  assert.deepEqual(pendingNotices({ address: "a@x.org", certificates: [working] }, { t, date }), []);
  assert.equal(decisionNotice({ address: "a@x.org", fingerprint: "ab".repeat(32), status: "confirmed" }, { t }),
    "From now on, encrypted mail to a@x.org uses the certificate ABAB ABAB ABAB ABAB …");
  assert.match(decisionNotice({ address: "a@x.org", fingerprint: "ab".repeat(32), status: "refused" }, { t }), /never used/);
});

test("history lines say which certificates were untrusted when they came, and keep the user's note", () => {
  const untrusted = historyLine({ at: "2026-11-27T10:00:00Z", event: "first_certificate", fingerprint: "ab".repeat(32), trusted: false }, { t, date });
  assert.equal(untrusted.explain, "Its authority was not trusted when it arrived.");
  const confirmed = historyLine({ at: "2026-11-27T10:00:00Z", event: "certificate_confirmed", fingerprint: "ab".repeat(32), note: "compared by phone" }, { t, date });
  assert.equal(confirmed.text, "You chose to use the certificate ABAB ABAB ABAB ABAB …");
  assert.equal(confirmed.explain, "Your note: compared by phone");
  const pending = historyLine({ at: "x", event: "certificate_pending", fingerprint: "ab".repeat(32), previous_fingerprint: "cd".repeat(32) }, { t, date });
  assert.equal(pending.attention, true);
  assert.match(pending.text, /CDCD CDCD CDCD CDCD/);
});

test("addresses a certificate holds but does not use are shown, escaped by the host, with why", () => {
  const card = certificateCard(stored({ ignored_emails: [
    { shown: "alice@example\\u{FF0E}org", source: "san", reason: "not_an_address" },
    { shown: "boss@example.org", source: "subject", reason: "subject_with_san" },
  ] }), { t, date, now: NOW });
  const row = card.rows.find((r) => r.label === "Also in the certificate, not used");
  assert.equal(row.kind, "warning");
  assert.match(row.value, /^alice@example\\u\{FF0E\}org \(not a plain address/);
  assert.match(row.value, /boss@example\.org \(in the subject/);
  assert.equal(certificateCard(stored(), { t, date, now: NOW }).rows.find((r) => r.label === "Also in the certificate, not used"), undefined);
});

test("an import says what it saved, what it skipped, and warns of a key change", () => {
  const out = importOutcome({ imported: 1, already_known: 2, intermediates: 1, without_address: ["ff"], addresses: ["alice@example.org"],
    continuity: [{ event: "key_changed", address: "alice@example.org" }, { event: "renewed", address: "bob@example.org" }] }, { t });
  assert.deepEqual(out.lines, [
    "1 certificate saved for alice@example.org.",
    "2 certificates were already known.",
    "1 certificate of a certification authority kept to check chains.",
    "1 certificate names no e-mail address and was not saved.",
    "Warning: alice@example.org had another certificate that is still valid. Check with them that the new one is theirs.",
    "bob@example.org renewed their certificate.",
  ]);
  const held = importOutcome({ imported: 1, addresses: ["alice@example.org"], pending: [{ address: "alice@example.org", fingerprint: "ab", working_fingerprint: "cd" }] }, { t });
  assert.equal(held.warning, true);
  assert.match(held.lines.at(-1), /waits for your confirmation/);
  assert.equal(out.warning, true);
  assert.deepEqual(importOutcome({ imported: 0, already_known: 0, intermediates: 0, without_address: [], addresses: [], continuity: [] }, { t }).lines,
    ["Nothing new was found in the file."]);
});

test("deleting a contact is confirmed with its consequence: no encrypted mail until the next key exchange", () => {
  const ask = deleteConfirmation({ address: "carol@example.org", certificates: [stored(), stored()] }, { t });
  assert.equal(ask.title, "Delete carol@example.org and its certificates?");
  assert.ok(ask.consequences.includes("You can no longer send encrypted mail to carol@example.org until they send you a signed message again or you import their certificate."));
  assert.ok(ask.consequences.some((c) => /2 certificate/.test(c)));
  assert.ok(ask.consequences.some((c) => /history of this contact is kept/.test(c)));
  assert.equal(ask.confirm, "Delete contact");
  assert.match(deleteCertificateConfirmation(stored({ can_encrypt: false }), { t }).consequences[0], /encryption is not affected/);
});

test("exports get a safe file name with the format's extension", () => {
  assert.deepEqual(exportFile("alice@example.org", "pem"), { name: "alice@example.org.pem", type: "application/x-pem-file" });
  assert.equal(exportFile("alice@example.org", "der").name, "alice@example.org.cer");
  assert.equal(exportFile("a/../b@x.org", "p7c").name, "a_.._b@x.org.p7c");
  assert.equal(exportFile("a@x.org", "zip").name, "a@x.org.pem");
  for (const format of Object.keys(EXPORT_FORMATS)) assert.ok(t(`export_format_${format}`));
  assert.equal(shortFingerprint("0123456789abcdef".repeat(4)), "0123 4567 89AB CDEF");
});

test("deleting a stale certificate in Thunderbird says where Thunderbird's own copy is and how to remove it", async () => {
  const { thunderbirdCopySteps } = await import("../../extension/modules/contacts-view.mjs");
  const stale = stored({ not_after: "2027-06-30T00:00:00Z" });
  const day = dateFormatter("en");
  const { text, steps } = thunderbirdCopySteps("alice@example.org", [stale], { t, date: (d) => day(d).split(",")[0] });
  assert.match(text, /its own copy of the certificate of alice@example\.org/);
  assert.equal(steps.length, 3);
  assert.equal(steps[0], "In Thunderbird: Settings → Privacy & Security → Certificates → Manage Certificates…");
  assert.match(steps[1], /“People”: select the entry with the e-mail address alice@example\.org that expires on Jun 30/);
  assert.match(thunderbirdCopySteps("a@x.org", [], { t, date }).steps[1], /the entries with the e-mail address a@x\.org/);
  // The dialogs say so in Thunderbird only; a certificate for signatures only needs nothing.
  assert.ok(deleteConfirmation({ address: "a@x.org", certificates: [stale] }, { t, thunderbird: true }).consequences.includes(t("tbcopy_in_dialog")));
  assert.ok(!deleteConfirmation({ address: "a@x.org", certificates: [stale] }, { t }).consequences.includes(t("tbcopy_in_dialog")));
  assert.ok(deleteCertificateConfirmation(stale, { t, thunderbird: true }).consequences.includes(t("tbcopy_in_dialog")));
  assert.ok(!deleteCertificateConfirmation(stored({ can_encrypt: false }), { t, thunderbird: true }).consequences.includes(t("tbcopy_in_dialog")));
});
