import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DIRECTORY_STATES, directoryRow, entryFromForm, lookupNotes, lookupOutcome, managedDirectories, MANAGED_KEY, rowDirectoryLine, stateKey, withManaged,
} from "../../extension/modules/directories.mjs";
import { composeRecipients, composeView, recipientRows } from "../../extension/modules/recipients.mjs";
import { codeColumn, locales, read, readJson, rows, section, strictT } from "./docs.mjs";
import { cert } from "./fixtures.mjs";

const t = strictT();
const { en, de } = locales();
const doc = read("docs/DIRECTORY.md");

test("the add-on knows exactly the directory states DIRECTORY.md defines, each with a text in both languages", () => {
  const documented = codeColumn(section(doc, "## States"));
  assert.ok(documented.length >= 8, "the states table was found");
  assert.deepEqual([...DIRECTORY_STATES].sort(), ["ok", ...documented].sort());
  for (const state of [...DIRECTORY_STATES, "unknown"]) {
    assert.ok(en[stateKey(state)]?.trim() && de[stateKey(state)]?.trim(), state);
  }
  assert.equal(stateKey("something_new"), "dirstate_unknown");
});

test("IT's managed directories have a schema with exactly the settings DIRECTORY.md documents", () => {
  const schema = readJson("extension/managed-schema.json").properties[MANAGED_KEY];
  assert.equal(schema.type, "array");
  const keys = rows(section(doc, "## Settings")).map((cells) => cells[0].replace(/`/g, ""));
  assert.deepEqual(Object.keys(schema.items.properties).sort(), keys.sort());
  assert.ok(!Object.keys(schema.items.properties).some((k) => k.includes("password") && !k.endsWith("_file")), "no password in policies");
});

test("managed directories travel with the request only when IT set some", async () => {
  const storage = (value) => ({ managed: { get: async () => value } });
  const list = [{ url: "ldaps://ldap.example.org", base_dn: "dc=example,dc=org" }];
  assert.deepEqual(await managedDirectories(storage({ directories: list })), list);
  assert.equal(await managedDirectories(storage({ directories: "nonsense" })), undefined);
  assert.equal(await managedDirectories({ managed: { get: async () => { throw new Error("Managed storage manifest not found"); } } }), undefined);
  assert.deepEqual(withManaged({ addresses: ["a@b.org"] }, undefined), { addresses: ["a@b.org"] });
  assert.deepEqual(withManaged({ addresses: ["a@b.org"] }, list), { addresses: ["a@b.org"], managed_directories: list });
});

const lookup = {
  directories: [
    { id: "corp", state: "ok", other_address: 0 },
    { id: "ca", state: "directory_timeout", other_address: 0 },
  ],
  addresses: [
    { address: "alice@example.org", found: 1, new: 1 },
    { address: "carol@example.org", found: 2, new: 2 },
    { address: "dave@example.org", found: 0, new: 0 },
  ],
};

test("the compose check says per recipient what the directory had, and names each directory that failed", () => {
  const recipients = composeRecipients({ to: ["alice@Example.ORG", "carol@example.org", "dave@example.org", "erin@example.org"] });
  const checks = [
    { address: "alice@example.org", can_encrypt: true, certificate: { ...cert({ emails: ["alice@example.org"] }), source: "directory" }, reason: null },
    { address: "carol@example.org", can_encrypt: false, certificate: null, reason: "only_expired" },
    { address: "dave@example.org", can_encrypt: false, certificate: null, reason: "never_seen" },
    { address: "erin@example.org", can_encrypt: false, certificate: null, reason: "never_seen" },
  ];
  const rowsOf = recipientRows(recipients, checks, lookup);
  const line = (r) => {
    const l = rowDirectoryLine(r);
    if (!l) return null;
    return l.count === undefined ? t(l.key, l.subs) : t.count(l.key, l.count);
  };
  assert.deepEqual(rowsOf.map(line), [
    "Certificate found in the directory",
    "The directory has 2 certificates for this address, none of them usable.",
    "Not found in the directory either.",
    null, // not looked up
  ]);
  const view = composeView({ rows: rowsOf, caps: { canSign: true, canEncrypt: true }, switches: { sign: true, encrypt: false }, lookup });
  const notes = view.notes.filter((n) => n.key === "compose_note_directory_failed");
  assert.equal(notes.length, 1);
  const text = t(notes[0].key, notes[0].subs.map((s) => (typeof s === "object" ? t(s.key) : s)));
  assert.equal(text, "Directory ca: did not answer in time. Recipients without a certificate may have one there.");
  // Everyone can: nothing to say about a directory that did not answer.
  const all = recipientRows(composeRecipients({ to: ["alice@example.org"] }), checks.slice(0, 1), lookup);
  assert.ok(!composeView({ rows: all, caps: { canSign: true, canEncrypt: true }, switches: null, lookup }).notes.some((n) => n.key === "compose_note_directory_failed"));
  assert.deepEqual(lookupNotes(null), []);
});

test("the contacts page's search says what each directory and address came to", () => {
  const result = {
    ...lookup,
    directories: [{ id: "corp", state: "ok", other_address: 2 }, { id: "ca", state: "directory_certificate_untrusted", other_address: 0 }],
    recipients: [
      { address: "alice@example.org", can_encrypt: true },
      { address: "carol@example.org", can_encrypt: false, reason: "only_expired" },
      { address: "dave@example.org", can_encrypt: false, reason: "never_seen" },
    ],
  };
  const o = lookupOutcome(result, { t });
  assert.equal(o.severity, "warning");
  assert.equal(o.headline, "Found 3 certificates in the directory");
  assert.equal(o.firstFound, "alice@example.org");
  assert.deepEqual(o.lines, [
    "Directory corp also returned 2 certificates for other addresses; they were not kept.",
    `Directory ca: ${en.dirstate_directory_certificate_untrusted}.`,
    "alice@example.org: 1 certificate found; can receive encrypted mail now.",
    `carol@example.org: 2 certificates found, but none can be used: ${en.recipient_only_expired}.`,
    "dave@example.org: no certificate in the directory.",
  ]);
  const failed = lookupOutcome({ directories: [{ id: "corp", state: "directory_unreachable" }], addresses: [{ address: "a@b.org", found: 0 }], recipients: [] }, { t });
  assert.equal(failed.severity, "error");
  assert.equal(failed.headline, en.lookup_headline_failed);
});

test("the options page shows IT's directories locked, warns about clear text and asks for a missing password", () => {
  const it = directoryRow({ id: "corp", origin: "system", url: "ldap://dc1:389", starttls: false, base_dn: "dc=corp", filter: "(mail=%s)", bind: "simple", bind_dn: "cn=r", password: "missing", editable: false }, { t });
  assert.equal(it.editable, false);
  assert.equal(it.needsPassword, true);
  assert.deepEqual(it.badges.map((b) => b.text), ["set by IT", "not encrypted", "password missing"]);
  const mine = directoryRow({ id: "x", origin: "user", url: "ldaps://x:636", base_dn: "o=x", filter: "(mail=%s)", bind: "anonymous", editable: true }, { t });
  assert.equal(mine.needsPassword, false);
  assert.deepEqual(mine.badges.map((b) => b.text), ["yours"]);
  const filed = directoryRow({ id: "y", origin: "managed", url: "ldaps://y:636", bind: "simple", bind_dn: "cn=r", password: "file" }, { t });
  assert.equal(filed.needsPassword, false, "IT's password file is not the user's business");
});

test("the form leaves empty settings to the host's defaults", () => {
  assert.deepEqual(entryFromForm({ url: " ldaps://ldap.example.org ", baseDn: "dc=example,dc=org", starttls: true }), { url: "ldaps://ldap.example.org", base_dn: "dc=example,dc=org" });
  assert.deepEqual(entryFromForm({ id: "corp", url: "ldap://dc1", baseDn: "dc=corp", starttls: true, filter: "(mail=%s)", bindDn: "cn=r" }), {
    id: "corp", url: "ldap://dc1", base_dn: "dc=corp", starttls: true, filter: "(mail=%s)", bind_dn: "cn=r",
  });
});
