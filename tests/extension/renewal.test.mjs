import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checklists, expiryChecklist, needsContacts, reachedSince, recordSignedMail, renewalChecklist, replacedBy, signedRecipients,
} from "../../extension/modules/renewal.mjs";
import { strictT } from "./docs.mjs";
import { identity, tbIdentity } from "./fixtures.mjs";

const t = strictT();
const OLD = identity({ fingerprint: "01".repeat(32), not_after: "2026-12-07T00:00:00Z", expires_in_days: 9, imported_at: "2025-01-01T00:00:00Z", replaced_by: "02".repeat(32), backed_up_at: "2025-01-02T00:00:00Z" });
const NEW = identity({ fingerprint: "02".repeat(32), imported_at: "2026-11-20T00:00:00Z" });
const CONTACTS = ["alice@example.org", "Carol@Example.org", "dave@example.org", "bob@example.org"];

test("a signed mail is noted per recipient, in lower case, with its sender; the log stays bounded", () => {
  let log = recordSignedMail({}, { addresses: ["Alice@Example.org", "carol@example.org"], from: "Bob@Example.org", at: "2026-11-21T00:00:00Z" });
  assert.deepEqual(log["alice@example.org"], { at: "2026-11-21T00:00:00Z", from: "bob@example.org" });
  log = recordSignedMail(log, { addresses: ["alice@example.org"], from: "bob@example.org", at: "2026-11-22T00:00:00Z" });
  assert.equal(log["alice@example.org"].at, "2026-11-22T00:00:00Z");
  assert.deepEqual(Object.keys(log), ["carol@example.org", "alice@example.org"], "the newest entry is last");
  const full = recordSignedMail(log, { addresses: ["x@example.org"], from: null, at: "2026-11-23T00:00:00Z" }, { max: 2 });
  assert.deepEqual(Object.keys(full), ["alice@example.org", "x@example.org"], "the oldest entry goes first");
});

test("a contact counts as reached only by a signed mail after the renewal, from one of its addresses", () => {
  const log = {
    "alice@example.org": { at: "2026-11-21T00:00:00Z", from: "bob@example.org" },
    "carol@example.org": { at: "2026-11-19T00:00:00Z", from: "bob@example.org" }, // before the renewal
    "dave@example.org": { at: "2026-11-22T00:00:00Z", from: "bob@private.example" }, // from another identity
    "erin@example.org": { at: "2026-11-22T00:00:00Z", from: null }, // sender unknown: counts
  };
  const reached = reachedSince(log, { since: "2026-11-20T00:00:00Z", emails: ["bob@example.org"] });
  assert.deepEqual([...reached].sort(), ["alice@example.org", "erin@example.org"]);
});

test("after a renewal the checklist lists who still needs a signed mail with the new certificate", () => {
  const log = { "alice@example.org": { at: "2026-11-21T00:00:00Z", from: "bob@example.org" } };
  const list = renewalChecklist({ identity: NEW, previous: [OLD], contacts: CONTACTS, log, tbIdentities: [] });
  assert.equal(list.kind, "renewed");
  assert.deepEqual(list.reached, ["alice@example.org"]);
  assert.deepEqual(list.waiting, ["carol@example.org", "dave@example.org"], "own address left out, case folded");
  const contacts = list.steps.find((s) => s.id === "contacts");
  assert.deepEqual([contacts.done, contacts.subs], [false, ["1", "3"]]);
  assert.match(t(contacts.key, contacts.subs), /1 of 3 done/);
  assert.equal(list.steps.find((s) => s.id === "backup").done, false);
  assert.equal(list.steps.find((s) => s.id === "keep_old").done, null, "advice, nothing to tick");
  assert.equal(list.complete, false);
});

test("the checklist is complete once every contact got a signed mail and a backup exists", () => {
  const log = Object.fromEntries(CONTACTS.map((c) => [c.toLowerCase(), { at: "2026-11-21T00:00:00Z", from: "bob@example.org" }]));
  const done = renewalChecklist({ identity: { ...NEW, backed_up_at: "2026-11-21T00:00:00Z" }, previous: [OLD], contacts: CONTACTS, log, tbIdentities: [] });
  assert.deepEqual(done.waiting, []);
  assert.equal(done.complete, true);
  const none = renewalChecklist({ identity: NEW, previous: [OLD], contacts: [], log: {}, tbIdentities: [] });
  assert.equal(none.steps.find((s) => s.id === "contacts").key, "renewal_step_no_contacts");
});

test("the checklist asks that Thunderbird's identities for the address sign and encrypt", () => {
  const ready = renewalChecklist({ identity: NEW, previous: [OLD], contacts: [], log: {}, tbIdentities: [tbIdentity("BOB@example.org", { canSign: true, canEncrypt: true }), tbIdentity("other@example.org")] });
  const step = ready.steps.find((s) => s.id === "thunderbird");
  assert.deepEqual([step.done, step.subs], [true, ["BOB@example.org"]]);
  const missing = renewalChecklist({ identity: NEW, previous: [OLD], contacts: [], log: {}, tbIdentities: [tbIdentity("bob@example.org", { canSign: true })] });
  assert.equal(missing.steps.find((s) => s.id === "thunderbird").done, false);
  const unrelated = renewalChecklist({ identity: NEW, previous: [OLD], contacts: [], log: {}, tbIdentities: [tbIdentity("other@example.org")] });
  assert.equal(unrelated.steps.find((s) => s.id === "thunderbird"), undefined);
});

test("before a renewal, an expiring certificate gets the steps to renew it", () => {
  const soon = expiryChecklist({ identity: identity({ expires_in_days: 9 }) });
  assert.equal(soon.kind, "expiring");
  assert.deepEqual(soon.steps.map((s) => s.id), ["request", "import", "backup_new", "announce"]);
  assert.equal(expiryChecklist({ identity: identity({ expired: true }) }).steps[0].key, "expiry_step_request_expired");
});

test("the page shows the radar's unrenewed certificates and renewals that are recent or unfinished", () => {
  const now = Date.parse("2026-11-27T00:00:00Z");
  const expiring = identity({ fingerprint: "03".repeat(32), emails: ["me@work.example"], expires_in_days: 5 });
  const lists = checklists({ identities: [NEW, OLD, expiring], radar: [OLD, expiring], contacts: CONTACTS, log: {}, tbIdentities: [], now });
  assert.deepEqual(lists.map((l) => [l.kind, l.identity.fingerprint.slice(0, 2)]), [["expiring", "03"], ["renewed", "02"]],
    "the replaced certificate is on the radar but renewed already");
  assert.deepEqual(replacedBy(NEW, [NEW, OLD]), [OLD]);
  const log = Object.fromEntries(CONTACTS.map((c) => [c.toLowerCase(), { at: "2026-11-21T00:00:00Z", from: null }]));
  const finished = { ...NEW, backed_up_at: "2026-11-21T00:00:00Z" };
  const later = Date.parse("2027-03-01T00:00:00Z");
  assert.deepEqual(checklists({ identities: [finished, OLD], radar: [], contacts: CONTACTS, log, tbIdentities: [], now: later }), [], "done and old: no longer shown");
  assert.equal(checklists({ identities: [finished, OLD], radar: [], contacts: CONTACTS, log, tbIdentities: [], now }).length, 1, "done but recent: still shown");
});

test("contacts are needed only once a certificate was renewed; without one the checklists do not use them", () => {
  const now = Date.parse("2026-11-27T00:00:00Z");
  const expiring = identity({ fingerprint: "03".repeat(32), emails: ["me@work.example"], expires_in_days: 5 });
  assert.equal(needsContacts([NEW, OLD, expiring]), true);
  assert.equal(needsContacts([NEW, expiring]), false);
  assert.equal(needsContacts([]), false);
  const args = { identities: [NEW, expiring], radar: [expiring], log: {}, tbIdentities: [], now };
  assert.deepEqual(checklists({ ...args, contacts: [] }), checklists({ ...args, contacts: CONTACTS }));
});

test("every step of every checklist has a text", () => {
  const lists = [
    renewalChecklist({ identity: NEW, previous: [OLD], contacts: CONTACTS, log: {}, tbIdentities: [tbIdentity("bob@example.org")] }),
    renewalChecklist({ identity: NEW, previous: [OLD], contacts: [], log: {}, tbIdentities: [] }),
    expiryChecklist({ identity: identity() }),
    expiryChecklist({ identity: identity({ expired: true }) }),
  ];
  for (const list of lists) for (const step of list.steps) assert.ok(t.phrase(step), step.key);
  for (const key of ["renewal_heading", "expiry_heading_expired", "renewal_write", "renewal_write_note"]) assert.ok(t(key, ["a", "b", "c"]));
  for (const key of ["expiry_heading", "renewal_waiting"]) for (const n of [1, 2]) assert.ok(t.count(key, n, ["b", "c"]));
});

test("only a message that left, signed, counts for its recipients", () => {
  const pending = { addresses: ["alice@example.org"], signed: true, from: "bob@example.org" };
  const smime = (signMessage) => ({ selectedEncryptionTechnology: { name: "S/MIME", signMessage, encryptBody: false } });
  assert.deepEqual(signedRecipients({ mode: "sendNow", headerMessageId: "<x@y>", messages: [], details: smime(true) }, pending), ["alice@example.org"]);
  assert.deepEqual(signedRecipients({ mode: "sendLater", messages: [{ id: 1 }] }, pending), ["alice@example.org"], "older Thunderbirds: as it was let go");
  assert.deepEqual(signedRecipients({ mode: "sendLater", messages: [], details: smime(true) }, pending), [], "a send later that failed while saving");
  assert.deepEqual(signedRecipients({ mode: "sendNow", error: "SMTP failed", messages: [] }, pending), []);
  assert.deepEqual(signedRecipients({ mode: "sendNow", headerMessageId: "<x@y>", details: smime(false) }, pending), [], "switched off after the check");
  assert.deepEqual(signedRecipients({ mode: "sendNow", headerMessageId: "<x@y>", details: { selectedEncryptionTechnology: { name: "OpenPGP", signMessage: true } } }, pending), []);
  assert.deepEqual(signedRecipients({ mode: "sendNow", headerMessageId: "<x@y>" }, null), [], "a send the check did not see");
});
