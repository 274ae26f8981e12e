// "Mein Zertifikat ist abgelaufen": the compose check says so when every certificate the user
// holds for the sending address has expired, and leads to My certificates.
import { test } from "node:test";
import assert from "node:assert/strict";
import { expiredOwnCertificate } from "../../extension/modules/identities-view.mjs";
import { composeButton, composeRecipients, composeView, recipientRows, sendOutcome } from "../../extension/modules/recipients.mjs";
import { BADGE_COLORS } from "../../extension/modules/look.mjs";
import { locales, strictT } from "./docs.mjs";
import { cert, identity } from "./fixtures.mjs";

const t = strictT();
const BOTH = { canSign: true, canEncrypt: true };
const NONE = { canSign: false, canEncrypt: false };
const expired = (overrides = {}) => identity({ expired: true, expires_in_days: -30, not_after: "2026-10-01T00:00:00Z", ...overrides });
const rows = recipientRows(composeRecipients({ to: ["fiona@example.org"] }),
  [{ address: "fiona@example.org", can_encrypt: true, certificate: cert({ emails: ["fiona@example.org"] }), reason: null, known_certificates: 1 }]);

test("the expired certificate is found only when no current one serves the address", () => {
  assert.equal(expiredOwnCertificate("bob@example.org", []), null, "the companion holds none: nothing to say");
  assert.equal(expiredOwnCertificate("bob@example.org", [identity()]), null, "a valid one");
  const old = expired({ fingerprint: "01".repeat(32), not_after: "2025-10-01T00:00:00Z" });
  const newer = expired({ fingerprint: "02".repeat(32) });
  assert.equal(expiredOwnCertificate("bob@example.org", [old, newer]).fingerprint, newer.fingerprint, "the newest expired one");
  assert.equal(expiredOwnCertificate("Bob@Example.ORG", [old]).fingerprint, old.fingerprint, "addresses without case");
  // Renewed: the expired one is replaced by a current one.
  assert.equal(expiredOwnCertificate("bob@example.org", [expired({ replaced_by: "03".repeat(32) }), identity({ fingerprint: "03".repeat(32) })]), null);
  assert.equal(expiredOwnCertificate("bob@home.example", [expired()]), null, "another address's certificate");
  assert.equal(expiredOwnCertificate(null, [expired()]), null);
});

test("the compose check says the own certificate expired, first, and offers My certificates", () => {
  const view = composeView({ rows, caps: BOTH, switches: { sign: true, encrypt: false }, ownExpired: { email: "bob@example.org", until: "Oct 1, 2026" } });
  assert.deepEqual(view.notes[0], { key: "compose_note_own_expired", subs: ["bob@example.org", "Oct 1, 2026"] });
  assert.match(t(view.notes[0].key, view.notes[0].subs), /bob@example\.org expired on Oct 1, 2026/);
  assert.deepEqual(view.actions.filter((a) => a.id === "open_identities"), [{ id: "open_identities", key: "compose_action_renew" }]);
  const fine = composeView({ rows, caps: BOTH, switches: { sign: true, encrypt: false } });
  assert.ok(!fine.notes.some((n) => n.key === "compose_note_own_expired") && !fine.actions.some((a) => a.id === "open_identities"));
  // Without S/MIME in Thunderbird the setup action stays the one way to My certificates.
  const none = composeView({ rows, caps: NONE, switches: null, ownExpired: { email: "bob@example.org", until: "Oct 1, 2026" } });
  assert.equal(none.notes[0].key, "compose_note_own_expired");
  assert.deepEqual(none.actions.filter((a) => a.id === "open_identities").map((a) => a.key), ["compose_action_setup"]);
  // OpenPGP is Thunderbird's business.
  assert.ok(!composeView({ rows, caps: BOTH, switches: null, openpgp: true, ownExpired: { email: "x@y.z", until: "?" } }).notes
    .some((n) => n.key === "compose_note_own_expired"));
});

test("while Send would sign or encrypt with the expired certificate, the headline and the button say Send will fail", () => {
  const ownExpired = { email: "bob@example.org", until: "Oct 1, 2026" };
  const options = { alwaysSign: false, encryptWhenPossible: false };
  for (const switches of [{ sign: true, encrypt: false }, { sign: false, encrypt: true }, { sign: true, encrypt: true }]) {
    const view = composeView({ rows, caps: BOTH, switches, options, ownExpired });
    assert.deepEqual([view.outcome, view.headline.key, view.severity], ["own_expired", "compose_outcome_own_expired", "warning"], JSON.stringify(switches));
  }
  const view = composeView({ rows, caps: BOTH, switches: { sign: true, encrypt: true }, options, ownExpired });
  assert.equal(t.phrase(view.headline), "Send will fail: Thunderbird cannot sign or encrypt with your expired certificate");
  assert.ok(view.switches.some((s) => s.id === "encrypt_off") && view.switches.some((s) => s.id === "sign_off"), "the way to send anyway");
  const button = composeButton(sendOutcome({ rows, caps: BOTH, switches: { sign: true, encrypt: false }, options, ownExpired }));
  assert.deepEqual([button.icon, button.label.key, button.badge, button.color], ["problem", "compose_button_own_expired", "!", BADGE_COLORS.error]);
  // Always-sign would sign on Send: the same failure, said before Send.
  assert.equal(composeView({ rows, caps: BOTH, switches: { sign: false, encrypt: false }, options: { alwaysSign: true }, ownExpired }).outcome, "own_expired");
  // Neither signed nor encrypted, the message leaves: nothing fails.
  assert.equal(composeView({ rows, caps: BOTH, switches: { sign: false, encrypt: false }, options, ownExpired }).outcome, "plain");
  assert.equal(composeView({ rows, caps: BOTH, switches: { sign: true, encrypt: true }, options }).outcome, "encrypted_signed", "a current certificate");
});

test("the note names the address and the date in both languages", () => {
  for (const [lang, messages] of Object.entries(locales())) {
    for (const key of ["compose_note_own_expired", "compose_action_renew"]) assert.ok(messages[key], `${lang} ${key}`);
    assert.ok(messages.compose_note_own_expired.includes("$1") && messages.compose_note_own_expired.includes("$2"), lang);
  }
});
