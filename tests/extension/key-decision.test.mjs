// A contact's new key is a decision (issue 14, item 3): the popup's decision card, the banner, the
// contacts page's summary, and what is not a key change (a renewal).

import { test } from "node:test";
import assert from "node:assert/strict";
import { describe } from "../../extension/modules/describe.mjs";
import { bannerFor } from "../../extension/modules/banner.mjs";
import { dateFormatter } from "../../extension/modules/format.mjs";
import {
  DECISION_STATES, decisionBanner, decisionCard, decisionDone, decisionState, keyChangeOf, lastDecision,
} from "../../extension/modules/key-decision.mjs";
import { encryptionSummary } from "../../extension/modules/contacts-view.mjs";
import { strictT } from "./docs.mjs";
import { cert, verdict } from "./fixtures.mjs";

const t = strictT();
const date = dateFormatter("en");
const NEW = "0123456789abcdef".repeat(4); // the fixture signer's fingerprint
const OLD = "ab".repeat(32);
const pendingWarning = { code: "certificate_pending", address: "alice@example.org", working_fingerprint: OLD, since: "2026-11-27T10:00:00Z" };
const changedWarning = { code: "key_changed", address: "alice@example.org", previous_fingerprint: OLD, since: "2026-11-27T10:00:00Z" };
const reading = (warnings) => ({ verdict: verdict({ warnings }), decrypted: null });
const stored = (overrides) => ({ ...cert(), source: "signed_mail", trusted_when_seen: true, can_encrypt: true, ...overrides });
const oldCert = stored({ fingerprint_sha256: OLD, status: "accepted", used_for_encryption: true, not_after: "2027-06-30T00:00:00Z",
  issuer_fields: { common_name: "Old Issuing CA", organization: "Example Trust" } });
const contactWith = (status, history = []) => ({
  address: "alice@example.org",
  certificates: [oldCert, stored({ fingerprint_sha256: NEW, status, used_for_encryption: status === "confirmed" })],
  history,
});

test("a pending new key is read from the verdict: address, both fingerprints, the signer's certificate", () => {
  const change = keyChangeOf(reading([changedWarning, pendingWarning]));
  assert.deepEqual({ ...change, certificate: change.certificate.fingerprint_sha256 },
    { address: "alice@example.org", fingerprint: NEW, previousFingerprint: OLD, pending: true, since: "2026-11-27T10:00:00Z", certificate: NEW });
  const changed = keyChangeOf(reading([changedWarning]));
  assert.equal(changed.pending, false);
  assert.equal(changed.previousFingerprint, OLD);
  assert.equal(keyChangeOf(reading([])), null);
  assert.equal(keyChangeOf(null), null);
});

test("a renewal is no key change: no decision card, no banner, just its notice", () => {
  const renewed = reading([{ code: "renewed", address: "alice@example.org", previous_fingerprint: OLD }]);
  assert.equal(keyChangeOf(renewed), null);
  const v = describe(renewed, { t, date });
  assert.equal(v.keyChange, null);
  assert.deepEqual(v.notices, [t("sigwarn_renewed")]);
  assert.equal(bannerFor(v, t), null);
});

test("the popup shows the key change as a decision card, not as grey notices", () => {
  const v = describe(reading([changedWarning, pendingWarning]), { t, date });
  assert.equal(v.keyChange.fingerprint, NEW);
  assert.ok(!v.notices.includes(t("sigwarn_certificate_pending")) && !v.notices.includes(t("sigwarn_key_changed")), v.notices.join("|"));
});

test("a pending key gets a banner on a valid signature; its button leads to the decision", () => {
  const v = describe(reading([pendingWarning]), { t, date });
  assert.equal(v.look.name, "valid");
  const banner = bannerFor(v, t);
  assert.equal(banner.severity, "warning");
  assert.equal(banner.headline, t("decision_banner_headline", ["alice@example.org"]));
  assert.equal(banner.details, t("decision_banner_button"));
  // Decided (or only changed, without waiting): nothing to decide, no banner.
  const changed = describe(reading([changedWarning]), { t, date });
  assert.equal(bannerFor(changed, t), null);
  assert.equal(bannerFor(changed, t, { decision: "confirmed" }), null);
  assert.equal(decisionBanner(null, t), null);
  // Refused by the user: every message signed with it says so, although the signature is intact.
  const refused = bannerFor(changed, t, { decision: "refused" });
  assert.equal(refused.severity, "warning");
  assert.equal(refused.headline, t("decision_banner_refused_headline", ["alice@example.org"]));
});

test("the pending card puts the certificate in use beside the new one, says how to check, and offers use (with a note) and refuse", () => {
  const change = keyChangeOf(reading([pendingWarning]));
  const card = decisionCard(change, { contact: contactWith("pending"), t, date });
  assert.equal(card.state, "pending");
  assert.equal(card.severity, "warning");
  assert.equal(card.title, "New certificate for alice@example.org: your decision");
  assert.match(card.explain, /Alice Example signed this message with a new certificate/);
  assert.match(card.explain, /Jun 30, 2027/, "the previous one's end");
  assert.deepEqual(card.blocks.map((b) => b.role), ["in_use", "new"]);
  const [inUse, fresh] = card.blocks.map((b) => Object.fromEntries(b.rows.map((r) => [r.label, r.value])));
  assert.match(inUse["Issued by"], /Old Issuing CA/);
  assert.match(fresh["Issued by"], /Example Issuing CA/);
  assert.equal(inUse["Fingerprint (SHA-256)"].replace(/\s/g, ""), OLD.toUpperCase());
  assert.equal(fresh["Fingerprint (SHA-256)"].replace(/\s/g, ""), NEW.toUpperCase());
  assert.match(card.check, /call Alice Example/);
  assert.deepEqual(card.actions.map((a) => [a.id, a.primary]), [["confirm", true], ["refuse", false]]);
  assert.equal(card.actions[0].text, t("decision_confirm"));
  assert.match(card.note.placeholder, /by phone/);
  assert.match(card.thunderbird, /Manage Certificates… → People/);
  assert.equal(decisionCard(change, { contact: contactWith("pending"), t, date, thunderbird: false }).thunderbird, null, "not in a browser");
});

test("without the contact (host unreachable) the card still works from the verdict alone", () => {
  const card = decisionCard(keyChangeOf(reading([pendingWarning])), { contact: null, t, date });
  assert.equal(card.state, "pending");
  assert.equal(card.blocks[0].rows.length, 1, "only the fingerprint of the certificate in use is known");
  assert.deepEqual(card.actions.map((a) => a.id), ["confirm", "refuse"]);
  assert.equal(card.address, "alice@example.org");
  assert.equal(card.fingerprint, NEW);
});

test("after the decision the card says which, when, and the note; refused can be undone, confirmed refused", () => {
  const change = keyChangeOf(reading([changedWarning]));
  const history = [
    { at: "2026-11-27T10:00:00Z", event: "certificate_pending", fingerprint: NEW, previous_fingerprint: OLD },
    { at: "2026-11-28T09:30:00Z", event: "certificate_confirmed", fingerprint: NEW, note: "compared by phone" },
  ];
  const confirmed = decisionCard(change, { contact: contactWith("confirmed", history), t, date });
  assert.equal(confirmed.state, "confirmed");
  assert.equal(confirmed.severity, "info");
  assert.match(confirmed.decided, /^You decided on Nov 28, 2026.* Your note: compared by phone$/);
  assert.deepEqual(confirmed.actions.map((a) => a.id), ["refuse"]);
  assert.equal(confirmed.note, null);
  assert.deepEqual(confirmed.blocks.map((b) => b.role), ["previous", "new"]);

  const refusedHistory = [...history, { at: "2026-11-29T09:30:00Z", event: "certificate_refused", fingerprint: NEW, note: null }];
  const refused = decisionCard(change, { contact: contactWith("refused", refusedHistory), t, date });
  assert.equal(refused.state, "refused");
  assert.equal(refused.severity, "warning");
  assert.match(refused.decided, /^You refused it on Nov 29, 2026/);
  assert.deepEqual(refused.actions.map((a) => a.id), ["confirm"]);
  assert.deepEqual(lastDecision({ history: refusedHistory }, NEW.toUpperCase()), { decision: "refused", at: "2026-11-29T09:30:00Z", note: null });
  assert.equal(decisionState(change, contactWith("accepted")), "accepted");
  assert.equal(decisionState(keyChangeOf(reading([pendingWarning])), null), "pending");
});

test("every decision state has its title, explanation and words", () => {
  const change = keyChangeOf(reading([pendingWarning]));
  for (const state of DECISION_STATES) {
    const card = decisionCard(change, { contact: contactWith(state), t, date });
    assert.equal(card.state, state);
    assert.ok(card.title && card.explain && card.actions.length && card.blocks.every((b) => b.heading), state);
  }
  assert.equal(decisionDone({ status: "confirmed", address: "a@x.org" }, { t }), t("decision_done_confirmed", ["a@x.org"]));
  assert.equal(decisionDone({ status: "refused", address: "a@x.org" }, { t }), t("decision_done_refused", ["a@x.org"]));
});

test("the contacts page shows a contact with a pending key as waiting for a decision, not as a green 'can encrypt'", () => {
  const encryption = { can_encrypt: true, certificate: oldCert, reason: null };
  const plain = encryptionSummary(encryption, { t, date });
  assert.equal(plain.ok, true);
  assert.equal(plain.state, "can");
  const waiting = encryptionSummary(encryption, { t, date, pending: [stored({ fingerprint_sha256: NEW, status: "pending" })] });
  assert.equal(waiting.ok, false);
  assert.equal(waiting.state, "pending");
  assert.equal(waiting.title, t("contact_waiting_decision"));
  assert.match(waiting.detail, /previous certificate .*ABAB ABAB ABAB ABAB/);
  assert.notEqual(waiting.title, t("contact_can_encrypt"));
});

test("only a new key that would be used once confirmed waits for a decision; a held-back lookalike does not", async () => {
  const { decisionsWaiting } = await import("../../extension/modules/contacts-view.mjs");
  const genuine = stored({ fingerprint_sha256: NEW, status: "pending", not_used_because: "pending_confirmation" });
  const lookalike = stored({ fingerprint_sha256: "cd".repeat(32), status: "pending", not_used_because: "untrusted" });
  assert.deepEqual(decisionsWaiting({ certificates: [oldCert, genuine, lookalike] }).map((c) => c.fingerprint_sha256), [NEW]);
  assert.deepEqual(decisionsWaiting({ certificates: [oldCert, lookalike] }), []);
  assert.equal(encryptionSummary({ can_encrypt: true, certificate: oldCert }, { t, date, pending: decisionsWaiting({ certificates: [oldCert, lookalike] }) }).state, "can");
});

test("the contacts page's prominent notice is for the decision that waits, never for a held-back lookalike's claims", async () => {
  const { pendingNotices } = await import("../../extension/modules/contacts-view.mjs");
  const lookalike = stored({ fingerprint_sha256: "cd".repeat(32), status: "pending", not_used_because: "untrusted",
    subject_fields: { common_name: "Alice Example (fake)" } });
  assert.deepEqual(pendingNotices({ address: "alice@example.org", certificates: [oldCert, lookalike] }, { t, date }), []);
  const genuine = stored({ fingerprint_sha256: NEW, status: "pending", not_used_because: "pending_confirmation" });
  assert.deepEqual(pendingNotices({ address: "alice@example.org", certificates: [oldCert, genuine, lookalike] }, { t, date }).map((n) => n.fingerprint), [NEW]);
  // Why a contact cannot receive encrypted mail names them.
  assert.match(encryptionSummary({ address: "carol@example.org", can_encrypt: false, reason: "never_seen" }, { t, date }).advice, /^Ask carol@example\.org /);
});

test("a held-back lookalike's card states no claim as fact and offers no 'use', only 'refuse'", async () => {
  const { certificateCard } = await import("../../extension/modules/contacts-view.mjs");
  const { claims, confirms } = await import("../../extension/modules/describe.mjs");
  // Held back as untrusted, whatever was recorded when it was seen.
  for (const trusted of [false, undefined]) {
    const lookalike = stored({ fingerprint_sha256: "cd".repeat(32), status: "pending", not_used_because: "untrusted", trusted_when_seen: trusted,
      subject_fields: { common_name: "Alice Example (fake)" } });
    const card = certificateCard(lookalike, { t, date });
    // What it says about its holder is a claim, with why it is not proven; never the fact.
    assert.equal(card.lead, `${claims(lookalike, t)} ${t("unproven_untrusted")}`);
    assert.ok(!card.lead.includes(confirms(lookalike, t)));
    assert.deepEqual(card.actions.map((a) => a.id), ["refuse"]);
  }
});
