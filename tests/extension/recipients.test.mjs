import { test } from "node:test";
import assert from "node:assert/strict";
import {
  addressKey, addressesToCheck, choiceOf, composeButton, composeRecipients, composeView, decideOnSend,
  parseRecipient, reasonText,
  RECIPIENT_REASONS, recipientRows, SEND_OUTCOMES, sendKey, sendOutcome, smimeCapabilities, smimeSwitches, switchesAfter, technology,
  withoutRecipient,
} from "../../extension/modules/recipients.mjs";
import { lookupOf, withLookup } from "../../extension/modules/directories.mjs";
import { BADGE_COLORS } from "../../extension/modules/look.mjs";
import { contactCodes, strictT } from "./docs.mjs";
import { cert } from "./fixtures.mjs";

const t = strictT();
const can = (address) => ({ address, can_encrypt: true, certificate: cert({ emails: [address] }), reason: null, known_certificates: 1 });
const cannot = (address, reason = "never_seen") => ({ address, can_encrypt: false, certificate: null, reason, known_certificates: 0 });
const rowsFor = (addresses, checks) => recipientRows(composeRecipients({ to: addresses }), checks);
const BOTH = { canSign: true, canEncrypt: true };
const NONE = { canSign: false, canEncrypt: false };
const OFF = { sign: false, encrypt: false };

test("a recipient string gives its address; display names, quotes and lists are told apart", () => {
  assert.deepEqual(parseRecipient("Alice Example <alice@example.org>"), { address: "alice@example.org", name: "Alice Example", kind: "address" });
  assert.deepEqual(parseRecipient('"Example, Alice" <alice@example.org>'), { address: "alice@example.org", name: "Example, Alice", kind: "address" });
  assert.deepEqual(parseRecipient(" bob@example.org "), { address: "bob@example.org", name: null, kind: "address" });
  assert.deepEqual(parseRecipient("Team <Team>"), { address: null, name: "Team", kind: "list" });
  assert.equal(parseRecipient({ nodeId: "x", type: "contact" }).kind, "unresolved");
  assert.equal(parseRecipient("  "), null);
});

test("To, Cc and Bcc are checked together, each address once, compared as the host compares them", () => {
  const list = composeRecipients({ to: ["Alice <alice@example.org>"], cc: ["alice@EXAMPLE.org", "ALICE@example.org"], bcc: ["carol@example.org", "Team <Team>"] });
  // The domain without case, the local part as written (docs/CONTACTS.md, "Addresses").
  assert.deepEqual(list.map((r) => [r.field, r.address ?? r.name]),
    [["to", "alice@example.org"], ["cc", "ALICE@example.org"], ["bcc", "carol@example.org"], ["bcc", "Team"]]);
  assert.deepEqual(addressesToCheck(list), ["alice@example.org", "ALICE@example.org", "carol@example.org"]);
  assert.equal(addressKey(" Alice@Example.ORG "), "Alice@example.org");
});

test("every reason CONTACTS.md names has a status and advice, and the key exchange fixes the right ones", () => {
  const { reasons } = contactCodes();
  assert.ok(reasons.length >= 7 && reasons.includes("never_seen"));
  for (const reason of [...reasons, ...RECIPIENT_REASONS, "something_new"]) {
    const text = reasonText(reason);
    assert.ok(t(text.status, ["a@b"]) && t(text.advice, ["a@b"]), reason);
  }
  for (const reason of reasons) assert.ok(RECIPIENT_REASONS.includes(reason), `${reason} is known to the add-on`);
  assert.equal(reasonText("never_seen").keyExchange, true);
  assert.equal(reasonText("only_expired").keyExchange, true);
  assert.equal(reasonText("not_yet_valid").keyExchange, false);
  assert.equal(reasonText("invalid_address").keyExchange, false);
  assert.match(t(reasonText("never_seen").advice, ["nobody@example.net"]), /signed message/);
  assert.equal(reasonText("something_new").status, "recipient_unknown");
});

test("rows join the host's answers by address as the host compares them, and keep the unchecked apart", () => {
  const rows = rowsFor(["Alice <alice@Example.org>", "nobody@example.net", "later@example.net", "List <List>", "ALICE@example.org"],
    [can("alice@example.org"), cannot("nobody@example.net"), cannot("ALICE@example.org")]);
  assert.deepEqual(rows.map((r) => [r.can, r.reason, r.status]), [
    [true, null, "recipient_can"],
    [false, "never_seen", "recipient_never_seen"],
    [null, null, "recipient_unchecked"],
    [false, "list", "recipient_list"],
    [false, "never_seen", "recipient_never_seen"],
  ]);
  assert.equal(rows[0].certificate.emails[0], "alice@example.org");
});

test("Thunderbird's capabilities and switches are read from the identity and the compose details", () => {
  assert.deepEqual(smimeCapabilities({ encryptionCapabilities: { "S/MIME": { canSign: true, canEncrypt: false } } }), { canSign: true, canEncrypt: false });
  assert.deepEqual(smimeCapabilities(null), NONE);
  assert.deepEqual(smimeSwitches({ selectedEncryptionTechnology: { name: "S/MIME", signMessage: true, encryptBody: false } }), { sign: true, encrypt: false });
  assert.equal(smimeSwitches({ selectedEncryptionTechnology: { name: "OpenPGP", signMessage: true, encryptBody: true } }), null);
  assert.equal(smimeSwitches({}), null);
  assert.deepEqual(technology({ sign: true, encrypt: false }), { name: "S/MIME", signMessage: true, encryptBody: false });
  assert.deepEqual(switchesAfter("encrypt_on", { sign: true, encrypt: false }), { sign: true, encrypt: true });
  assert.deepEqual(switchesAfter("sign_off", null), { sign: false, encrypt: false });
  assert.equal(switchesAfter("open_identities", OFF), null);
});

test("the check's second line counts who cannot receive encrypted mail", () => {
  const some = composeView({ rows: rowsFor(["alice@example.org", "nobody@example.net"], [can("alice@example.org"), cannot("nobody@example.net")]), caps: BOTH, switches: OFF });
  assert.deepEqual(some.state, { key: "compose_headline_some_cannot", count: 1, subs: [2] });
  assert.equal(t.phrase(some.state), "1 of 2 recipients cannot receive encrypted mail yet");
  assert.equal(some.keyExchange, true);
  const all = composeView({ rows: rowsFor(["a@x.org", "b@x.org"], [can("a@x.org"), can("b@x.org")]), caps: BOTH, switches: OFF });
  assert.deepEqual([all.state.key, all.keyExchange], ["compose_headline_all_can", false]);
  assert.equal(composeView({ rows: rowsFor(["a@x.org"], [can("a@x.org")]), caps: BOTH, switches: OFF }).state.key, "compose_headline_one_can");
  assert.equal(composeView({ rows: [], caps: BOTH, switches: OFF }).state.key, "compose_headline_no_recipients");
  assert.equal(composeView({ rows: rowsFor(["a@x.org"], null), caps: BOTH, switches: OFF, hostError: "host_missing" }).state.key, "compose_headline_unchecked");
});

test("the headline says what Send will do: encrypted, signed only, neither, or stop", () => {
  const options = { alwaysSign: true, encryptWhenPossible: false };
  const everyone = rowsFor(["a@x.org"], [can("a@x.org")]);
  const someone = rowsFor(["a@x.org", "b@x.org"], [can("a@x.org"), cannot("b@x.org")]);
  const headline = (args) => composeView({ caps: BOTH, options, ...args }).headline.key;
  assert.equal(headline({ rows: everyone, switches: OFF }), "compose_outcome_signed", "always sign signs on Send");
  assert.equal(headline({ rows: everyone, switches: OFF, options: { alwaysSign: false, encryptWhenPossible: false } }), "compose_outcome_plain");
  assert.equal(headline({ rows: everyone, switches: OFF, options: { alwaysSign: true, encryptWhenPossible: true } }), "compose_outcome_encrypted_signed");
  assert.equal(headline({ rows: someone, switches: OFF, options: { alwaysSign: true, encryptWhenPossible: true } }), "compose_outcome_signed", "not everyone: not encrypted");
  assert.equal(headline({ rows: someone, switches: { sign: true, encrypt: true } }), "compose_outcome_blocked");
  assert.equal(headline({ rows: everyone, switches: { sign: false, encrypt: true }, options: { alwaysSign: false } }), "compose_outcome_encrypted");
  assert.equal(headline({ rows: everyone, switches: OFF, userChoice: { sign: false } }), "compose_outcome_plain", "the user's choice wins over the option");
  assert.equal(headline({ rows: everyone, switches: null, caps: NONE }), "compose_outcome_no_smime");
  assert.equal(headline({ rows: [], switches: OFF }), "compose_outcome_empty");
  const blocked = composeView({ rows: someone, caps: BOTH, options, switches: { sign: true, encrypt: true } });
  assert.equal(t.phrase(blocked.headline), "Send will stop: 1 of 2 recipients cannot receive encrypted mail");
  // The colour goes with what Send will do: a stop needs the user, signed only is a plain fact.
  assert.deepEqual([blocked.severity, composeView({ rows: someone, caps: BOTH, options, switches: OFF }).severity,
    composeView({ rows: everyone, caps: BOTH, options, switches: { sign: true, encrypt: true } }).severity], ["warning", "none", "ok"]);
});

test("when Send would stop, the actions that help come first: send signed, then per recipient ask and remove", () => {
  const someone = rowsFor(["a@x.org", "b@x.org"], [can("a@x.org"), cannot("b@x.org")]);
  const view = composeView({ rows: someone, caps: BOTH, switches: { sign: true, encrypt: true }, options: { alwaysSign: true } });
  assert.deepEqual(view.actions.map((a) => [a.id, Boolean(a.primary)]), [["send_signed", true], ["encrypt_off", false]]);
  assert.ok(!view.actions.some((a) => a.id === "sign_off"), "not an unrelated action");
  const [able, unable] = view.rows;
  assert.deepEqual(able.actions, []);
  assert.deepEqual(unable.actions.map((a) => a.id), ["ask_signed", "remove"]);
  assert.ok(view.notes.some((n) => n.key === "compose_note_encrypt_will_fail"));
  const stopped = composeView({ rows: someone, caps: BOTH, switches: { sign: true, encrypt: true }, stopped: "encrypt_impossible" });
  assert.ok(!stopped.notes.some((n) => n.key === "compose_note_encrypt_will_fail"), "the stop notice says it already");
  const cannotSign = composeView({ rows: someone, caps: { canSign: false, canEncrypt: true }, switches: { sign: false, encrypt: true } });
  assert.equal(cannotSign.actions[0].id, "send_plain");
  // Stopped once and not changed since: Thunderbird tries with its own certificates on the next Send.
  const again = composeView({ rows: someone, caps: BOTH, switches: { sign: true, encrypt: true }, confirmedKey: sendKey(someone, { sign: true, encrypt: true }) });
  assert.equal(again.outcome, "encrypt_uncertain");
  assert.equal(again.actions[0].id, "send_signed");
});

test("encryption is offered only when everyone can receive it and the identity can encrypt", () => {
  const everyone = rowsFor(["a@x.org"], [can("a@x.org")]);
  const someone = rowsFor(["a@x.org", "b@x.org"], [can("a@x.org"), cannot("b@x.org")]);
  const ids = (view) => [...view.actions, ...view.switches].map((a) => a.id);
  assert.deepEqual(ids(composeView({ rows: everyone, caps: BOTH, switches: OFF })), ["encrypt_on", "sign_on"]);
  const offered = composeView({ rows: everyone, caps: BOTH, switches: OFF });
  assert.deepEqual([offered.actions.map((a) => a.id), offered.switches.map((a) => a.id)], [["encrypt_on"], ["sign_on"]], "the switches apart, at the end");
  const notYet = composeView({ rows: someone, caps: BOTH, switches: OFF });
  assert.deepEqual(ids(notYet), ["sign_on"]);
  assert.ok(notYet.notes.some((n) => n.key === "compose_note_encrypt_needs_all"));
  assert.deepEqual(notYet.rows[1].actions.map((a) => a.id), ["ask_signed"], "no 'remove' while Send goes through");
  assert.deepEqual(ids(composeView({ rows: everyone, caps: BOTH, switches: { sign: true, encrypt: true } })), ["encrypt_off", "sign_off"]);
  // Always sign: the switch shown is what Send will do, and a note says why.
  const always = composeView({ rows: everyone, caps: BOTH, switches: OFF, options: { alwaysSign: true }, optionSources: { alwaysSign: "managed" } });
  assert.deepEqual(ids(always), ["encrypt_on", "sign_off"]);
  assert.ok(always.notes.some((n) => n.key === "compose_note_always_sign_it"));
  const signOnly = composeView({ rows: everyone, caps: { canSign: true, canEncrypt: false }, switches: OFF, identityEmail: "me@x.org" });
  assert.deepEqual(ids(signOnly), ["sign_on"]);
  assert.ok(signOnly.notes.some((n) => n.key === "compose_note_cannot_encrypt" && n.subs[0] === "me@x.org"));
});

test("without S/MIME in Thunderbird, the check says so and leads to the setup; OpenPGP is left alone", () => {
  const none = composeView({ rows: rowsFor(["a@x.org"], [can("a@x.org")]), caps: NONE, switches: null, identityEmail: "me@x.org" });
  assert.deepEqual(none.actions.map((a) => a.id), ["open_identities"]);
  assert.deepEqual(none.switches, []);
  assert.equal(none.notes[0].key, "compose_note_no_smime");
  assert.equal(none.outcome, "no_smime");
  const pgp = composeView({ rows: rowsFor(["a@x.org"], [can("a@x.org")]), caps: BOTH, switches: null, openpgp: true });
  assert.deepEqual([pgp.actions, pgp.switches], [[], []]);
  assert.equal(pgp.outcome, "openpgp");
});

test("a recipient whose new key waits can receive encrypted mail with the previous one, and is marked with a way to decide", () => {
  const rows = rowsFor(["a@x.org", "b@x.org"], [{ ...can("a@x.org"), pending_certificates: 1 }, cannot("b@x.org", "refused")]);
  assert.deepEqual(rows.map((r) => [r.can, r.pending ?? false, r.status]), [[true, true, "recipient_can_pending"], [false, false, "recipient_refused"]]);
  const view = composeView({ rows, caps: BOTH, switches: OFF });
  assert.deepEqual(view.rows.map((r) => r.actions.map((a) => a.id)), [["decide"], ["decide"]]);
  assert.match(t(rows[0].advice, ["a@x.org"]), /uses the previous one/);
  assert.equal(sendOutcome({ options: {}, caps: BOTH, switches: { sign: false, encrypt: true }, rows: [rows[0]] }).pending, 1);
});

test("the compose button shows the outcome with icon, label, tooltip and a badge that counts who cannot receive encryption", () => {
  const rows = rowsFor(["a@x.org", "b@x.org"], [can("a@x.org"), cannot("b@x.org")]);
  const everyone = rowsFor(["a@x.org"], [can("a@x.org")]);
  const button = (args) => composeButton(sendOutcome({ options: { alwaysSign: true }, caps: BOTH, switches: OFF, ...args }));
  const signed = button({ rows });
  assert.deepEqual([signed.icon, signed.label.key, signed.badge, signed.color], ["valid", "compose_button_signed", "1", BADGE_COLORS.warning]);
  assert.equal(t.phrase(signed.title), "Send: signed, not encrypted");
  const blocked = button({ rows, switches: { sign: true, encrypt: true } });
  assert.deepEqual([blocked.icon, blocked.label.key, blocked.badge, blocked.color], ["problem", "compose_button_blocked", "!", BADGE_COLORS.error]);
  assert.equal(t.phrase(blocked.title), "Send will stop: 1 of 2 recipients cannot receive encrypted mail");
  const encrypted = button({ rows: everyone, switches: { sign: true, encrypt: true } });
  assert.deepEqual([encrypted.icon, encrypted.badge, encrypted.color], ["encrypted-signed", "", null]);
  assert.equal(button({ rows: everyone, options: { alwaysSign: false }, switches: OFF }).icon, "unsigned");
  assert.equal(button({ rows: rowsFor(["a@x.org"], null), hostError: "timeout" }).label.key, "compose_button_unchecked");
  assert.equal(button({ rows: rowsFor(["a@x.org"], []) }).label.key, "compose_button_checking", "asked, no answer yet");
  assert.deepEqual(button({ rows: [] }), { icon: null, label: { key: "composeActionLabel", subs: [] }, title: { key: "composeActionTitle", subs: [] }, badge: "", color: null });
  for (const outcome of SEND_OUTCOMES) {
    const b = composeButton({ outcome, total: 2, missing: 1 });
    assert.ok(t.phrase(b.label) && t.phrase(b.title), outcome);
    // Every colour on the button is one of the badges' (with the one text colour on it).
    if (b.color) assert.ok(Object.values(BADGE_COLORS).includes(b.color), outcome);
  }
});

test("remove recipient drops the address from To, Cc and Bcc as the host compares it, and keeps the rest", () => {
  const details = { to: ["Alice <alice@Example.org>", "bob@example.org"], cc: "alice@example.org", bcc: [{ id: "x", type: "contact" }, "List <List>"] };
  assert.deepEqual(withoutRecipient(details, "alice@example.org"), { to: ["bob@example.org"], cc: [], bcc: [{ id: "x", type: "contact" }, "List <List>"] });
  assert.deepEqual(withoutRecipient(details, "ALICE@example.org").to.length, 2, "local parts keep their case");
  assert.deepEqual(switchesAfter("send_signed", { sign: false, encrypt: true }), { sign: true, encrypt: false });
  assert.deepEqual(switchesAfter("send_plain", { sign: true, encrypt: true }, { canSign: false }), { sign: false, encrypt: false });
  assert.deepEqual(choiceOf("send_signed"), { sign: true, encrypt: false });
});

test("the security module note shows while Thunderbird cannot use the companion's certificates", () => {
  const rows = rowsFor(["a@x.org"], [can("a@x.org")]);
  const has = (view) => view.notes.some((n) => n.key === "compose_note_module");
  assert.ok(has(composeView({ rows, caps: BOTH, switches: OFF, module: "not_loaded" })));
  assert.ok(!has(composeView({ rows, caps: BOTH, switches: OFF, module: "loaded" })));
  assert.ok(!has(composeView({ rows: rowsFor(["a@x.org"], [cannot("a@x.org")]), caps: BOTH, switches: OFF, module: "not_loaded" })));
});

test("every text the compose check can show exists in both languages", () => {
  const cases = [];
  for (const caps of [BOTH, NONE, { canSign: true, canEncrypt: false }, { canSign: false, canEncrypt: true }]) {
    for (const switches of [null, OFF, { sign: true, encrypt: true }, { sign: false, encrypt: true }, { sign: true, encrypt: false }]) {
      for (const checks of [[can("a@x.org")], [cannot("a@x.org", "revoked")], null]) {
        for (const [options, sources] of [[{ alwaysSign: true, encryptWhenPossible: true }, { alwaysSign: "managed", encryptWhenPossible: "managed" }], [{ alwaysSign: true, encryptWhenPossible: true }, {}], [{}, {}]]) {
          cases.push(composeView({ rows: rowsFor(["a@x.org", "L <L>"], checks), caps, switches, module: "unavailable", identityEmail: "me@x.org",
            hostError: checks ? null : "timeout", options, optionSources: sources }));
          cases.push(composeView({ rows: rowsFor(["a@x.org"], checks && [{ ...checks[0], pending_certificates: 1 }]), caps, switches, options, optionSources: sources }));
        }
      }
    }
  }
  for (const view of cases) {
    for (const phrase of [view.headline, view.state, ...view.notes]) assert.ok(t.phrase(phrase));
    for (const action of [...view.actions, ...view.switches]) assert.ok(t(action.key));
    for (const row of view.rows) {
      assert.ok(t(row.status));
      if (row.advice) assert.ok(t(row.advice, ["a@x.org"]));
      for (const action of row.actions) assert.ok(t(action.key));
    }
  }
  assert.ok(t("compose_stopped_encrypt_impossible"));
});

test("on Send: always sign switches signing on, but only where Thunderbird can sign", () => {
  const rows = rowsFor(["a@x.org"], [cannot("a@x.org")]);
  const on = decideOnSend({ options: { alwaysSign: true, encryptWhenPossible: false }, caps: BOTH, switches: OFF, rows });
  assert.deepEqual([on.switches, on.stop], [{ sign: true, encrypt: false }, null]);
  const cannotSign = decideOnSend({ options: { alwaysSign: true, encryptWhenPossible: false }, caps: { canSign: false, canEncrypt: true }, switches: OFF, rows });
  assert.equal(cannotSign.switches, null, "switching on what the identity cannot do would make the send fail");
  const off = decideOnSend({ options: { alwaysSign: false, encryptWhenPossible: false }, caps: BOTH, switches: OFF, rows });
  assert.equal(off.switches, null);
});

test("on Send: encrypt whenever possible needs every recipient and the identity's encryption", () => {
  const options = { alwaysSign: false, encryptWhenPossible: true };
  const everyone = rowsFor(["a@x.org", "b@x.org"], [can("a@x.org"), can("b@x.org")]);
  assert.deepEqual(decideOnSend({ options, caps: BOTH, switches: OFF, rows: everyone }).switches, { sign: false, encrypt: true });
  const someone = rowsFor(["a@x.org", "b@x.org"], [can("a@x.org"), cannot("b@x.org")]);
  assert.equal(decideOnSend({ options, caps: BOTH, switches: OFF, rows: someone }).switches, null);
  assert.equal(decideOnSend({ options, caps: { canSign: true, canEncrypt: false }, switches: OFF, rows: everyone }).switches, null);
  const unchecked = rowsFor(["a@x.org"], null);
  assert.equal(decideOnSend({ options, caps: BOTH, switches: OFF, rows: unchecked }).switches, null);
});

test("on Send: encryption on with a recipient lacking a certificate stops once, then lets the user send", () => {
  const options = { alwaysSign: true, encryptWhenPossible: false };
  const rows = rowsFor(["a@x.org", "b@x.org"], [can("a@x.org"), cannot("b@x.org")]);
  const first = decideOnSend({ options, caps: BOTH, switches: { sign: false, encrypt: true }, rows });
  assert.equal(first.stop, "encrypt_impossible");
  assert.deepEqual(first.switches, { sign: true, encrypt: true }, "signing is still switched on for the next try");
  const again = decideOnSend({ options, caps: BOTH, switches: { sign: true, encrypt: true }, rows, confirmedKey: first.key });
  assert.deepEqual([again.stop, again.switches], [null, null]);
  const otherRecipients = rowsFor(["a@x.org", "c@x.org"], [can("a@x.org"), cannot("c@x.org")]);
  assert.equal(decideOnSend({ options, caps: BOTH, switches: { sign: true, encrypt: true }, rows: otherRecipients, confirmedKey: first.key }).stop, "encrypt_impossible");
});

test("on Send: nothing is changed or stopped without the host's answer, or with OpenPGP", () => {
  const options = { alwaysSign: true, encryptWhenPossible: true };
  const rows = rowsFor(["a@x.org"], null);
  assert.deepEqual(decideOnSend({ options, caps: BOTH, switches: { sign: false, encrypt: true }, rows, hostError: "host_missing" }), { switches: null, stop: null, key: null });
  assert.deepEqual(decideOnSend({ options, caps: BOTH, switches: null, rows }), { switches: null, stop: null, key: null });
});

test("the send key does not depend on the recipients' order or case", () => {
  const a = rowsFor(["A@x.org", "b@x.org"], null);
  const b = rowsFor(["b@x.org", "a@x.org"], null);
  assert.equal(sendKey(a, { sign: true, encrypt: true }), sendKey(b, { sign: true, encrypt: true }));
  assert.notEqual(sendKey(a, { sign: true, encrypt: true }), sendKey(a, { sign: true, encrypt: false }));
});

test("what the user chose in the check for this message wins over the options", () => {
  const options = { alwaysSign: true, encryptWhenPossible: true };
  const everyone = rowsFor(["a@x.org"], [can("a@x.org")]);
  const chose = { ...choiceOf("sign_off"), ...choiceOf("encrypt_off") };
  assert.deepEqual(chose, { sign: false, encrypt: false });
  assert.equal(decideOnSend({ options, caps: BOTH, switches: OFF, rows: everyone, userChoice: chose }).switches, null);
  assert.deepEqual(decideOnSend({ options, caps: BOTH, switches: OFF, rows: everyone, userChoice: choiceOf("sign_off") }).switches, { sign: false, encrypt: true });
  assert.deepEqual(choiceOf("open_identities"), {});
});

test("answers kept for the live check still say what the directory lookup found and which directory failed", () => {
  const lookup = {
    addresses: [{ address: "b@x.org", found: 0 }],
    directories: [{ id: "corp", state: "directory_timeout" }],
  };
  const kept = withLookup([can("a@x.org"), cannot("b@x.org")], lookup, addressKey);
  // Later, one more recipient is asked about alone, with a lookup of its own.
  const more = withLookup([cannot("c@x.org")], { addresses: [{ address: "c@x.org", found: 1 }], directories: [{ id: "corp", state: "ok" }] }, addressKey);
  const joined = lookupOf([...kept, ...more]);
  assert.deepEqual(joined.addresses.map((a) => a.address), ["b@x.org", "c@x.org"]);
  const rows = recipientRows(composeRecipients({ to: ["a@x.org", "b@X.org", "c@x.org"] }), [...kept, ...more], lookupOf(kept));
  assert.deepEqual(rows.map((r) => r.directory), [null, { found: 0, answered: false }, null]);
  const view = composeView({ rows, caps: BOTH, switches: OFF, lookup: lookupOf(kept) });
  assert.ok(view.notes.some((n) => n.key === "compose_note_directory_failed"));
  assert.equal(lookupOf([can("a@x.org")]), null, "no lookup, nothing to say");
  assert.deepEqual(withLookup([can("a@x.org")], null), [can("a@x.org")]);
});
