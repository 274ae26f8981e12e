import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  backupFailureKey, backupReminder, backupRequest, certLabel, dnName, IMPORT_CHECKS, identityAddress, identityBadges, identityName, identityRows, identityState, identityStatus, importCheck,
  importChecks, thunderbirdSetup, USAGES,
} from "../../extension/modules/identities-view.mjs";
import { dateFormatter, dayFormatter } from "../../extension/modules/format.mjs";
import { ROOT, strictT } from "./docs.mjs";
import { identity, tbIdentity } from "./fixtures.mjs";

const t = strictT();
const say = (phrase) => t.phrase(phrase);
const NOW = Date.parse("2026-11-27T00:00:00Z");

test("the add-on explains every check the host's import makes", () => {
  // The host's checks are named in its source (src/identities/checks.rs): a new one needs texts here.
  const source = readFileSync(`${ROOT}src/identities/checks.rs`, "utf8");
  const hostChecks = [...new Set([...source.matchAll(/check\("([a-z_]+)"/g)].map((m) => m[1]))];
  assert.ok(hostChecks.length >= 7, `found ${hostChecks}`);
  assert.deepEqual([...hostChecks].sort(), [...IMPORT_CHECKS].sort());
  for (const name of IMPORT_CHECKS) {
    for (const ok of [true, false]) {
      const shown = importCheck({ check: name, ok, missing: ["email_protection"], not_before: "2026-01-01T00:00:00Z", not_after: "2026-02-01T00:00:00Z" }, { t, now: NOW });
      assert.ok(say(shown.title), `${name} ${ok}`);
      assert.equal(Boolean(shown.advice), !ok);
      if (shown.advice) assert.ok(say(shown.advice));
    }
  }
});

test("a missing private key is said in exactly those words, with what to do", () => {
  const shown = importCheck({ check: "key_present", ok: false }, { t });
  assert.match(say(shown.title), /private key is missing/);
  assert.match(say(shown.advice), /Export the certificate again .* with the private key \(marked exportable\), or have it re-issued/);
});

test("an incomplete chain names the missing issuer; an untrusted root is a different failure", () => {
  const missing = importCheck({ check: "chain_complete", ok: false, missing: "O=Example Trust,CN=Example Issuing CA" }, { t });
  assert.equal(say(missing.title), "Certificates of the chain are missing: Example Issuing CA.");
  assert.match(say(missing.advice), /intermediate certificates/);
  const untrusted = importCheck({ check: "chain_complete", ok: false, chain: ["O=Nobody,CN=Unknown Root"], root_trusted: false }, { t });
  assert.equal(say(untrusted.title), "The chain ends at an authority that is not trusted here: Unknown Root.");
  assert.equal(untrusted.advice.key, "check_chain_complete_advice_untrusted");
  assert.equal(importCheck({ check: "chain_complete", ok: true, chain: [], root_trusted: true }, { t }).title.key, "check_chain_complete_ok");
});

test("missing e-mail usages are named in words; expiry says whether it is past or to come", () => {
  const usage = importCheck({ check: "email_usage", ok: false, missing: ["email_protection", "key_encipherment"] }, { t });
  assert.match(say(usage.title), /missing: e-mail protection, key encipherment \(encryption\)/);
  for (const u of USAGES) assert.ok(t(`usage_${u}`));
  const date = (iso) => iso.slice(0, 10);
  const expired = importCheck({ check: "not_expired", ok: false, not_before: "2024-01-01T00:00:00Z", not_after: "2025-01-01T00:00:00Z" }, { t, formatDate: date, now: NOW });
  assert.equal(say(expired.title), "The certificate expired on 2025-01-01.");
  const early = importCheck({ check: "not_expired", ok: false, not_before: "2027-01-01T00:00:00Z", not_after: "2029-01-01T00:00:00Z" }, { t, formatDate: date, now: NOW });
  assert.equal(say(early.title), "The certificate only becomes valid on 2027-01-01.");
  const fine = importCheck({ check: "not_expired", ok: true, not_before: "2026-01-01T00:00:00Z", not_after: "2028-01-01T00:00:00Z" }, { t, formatDate: date, now: NOW });
  assert.equal(say(fine.title), "The certificate is valid until 2028-01-01.");
});

test("checks from a newer host are still shown, and failures come first", () => {
  const unknown = importCheck({ check: "quantum_safe", ok: false }, { t });
  assert.equal(say(unknown.title), "Check “quantum_safe” failed.");
  const ordered = importChecks([
    { check: "not_expired", ok: true, not_after: "2028-01-01T00:00:00Z" }, { check: "key_present", ok: true },
    { check: "email_usage", ok: false, missing: [] }, { check: "chain_complete", ok: false, missing: "CN=X" },
  ], { t });
  assert.deepEqual(ordered.map((c) => c.check), ["chain_complete", "email_usage", "key_present", "not_expired"]);
});

test("distinguished names are shown by their common name", () => {
  assert.equal(dnName("O=S-MIME Companion Tests,CN=E2E Test CA"), "E2E Test CA");
  assert.equal(dnName("CN=Doe\\, Jane,O=X"), "Doe, Jane");
  assert.equal(dnName("O=No Common Name"), "O=No Common Name");
  assert.equal(certLabel(identity()), "Bob Reader (Example Issuing CA)");
});

test("a certificate's state: valid, expiring within 30 days, expired, replaced, not yet valid", () => {
  assert.equal(identityState(identity(), { now: NOW }), "valid");
  assert.equal(identityState(identity({ expires_in_days: 30 }), { now: NOW }), "expiring");
  assert.equal(identityState(identity({ expired: true, expires_in_days: -3 }), { now: NOW }), "expired");
  assert.equal(identityState(identity({ replaced_by: "bb".repeat(32), expired: true }), { now: NOW }), "replaced");
  assert.equal(identityState(identity({ not_before: "2027-01-01T00:00:00Z" }), { now: NOW }), "not_yet_valid");
  for (const overrides of [{}, { expires_in_days: 3 }, { expired: true }, { replaced_by: "x" }, { not_before: "2027-01-01T00:00:00Z" }]) {
    const status = identityStatus(identity(overrides), { now: NOW });
    assert.ok(say(status), status.key);
    assert.ok(identityBadges(identity(overrides), { now: NOW }).every((b) => t(b.key)));
  }
  assert.equal(say(identityStatus(identity({ expires_in_days: 9, not_after: "2026-12-07" }), { now: NOW })), "Expires in 9 days, on 2026-12-07: renew it now.");
  assert.equal(say(identityStatus(identity({ expires_in_days: 1, not_after: "2026-11-28" }), { now: NOW })), "Expires in 1 day, on 2026-11-28: renew it now.");
});

test("the backup reminder stays until every certificate in use has a backup", () => {
  const current = identity({ fingerprint: "02".repeat(32) });
  const replaced = identity({ fingerprint: "01".repeat(32), replaced_by: "02".repeat(32), emails: ["old@example.org"] });
  const status = { needs_backup: true, identities: [
    { fingerprint: current.fingerprint, emails: current.emails, backed_up_at: null },
    { fingerprint: replaced.fingerprint, emails: replaced.emails, backed_up_at: null },
  ] };
  assert.deepEqual(backupReminder(status, [current, replaced]), { emails: ["bob@example.org"], fingerprints: [current.fingerprint] });
  assert.equal(backupReminder({ needs_backup: false, identities: status.identities }, [current, replaced]), null);
  assert.equal(backupReminder(null, [{ ...current, backed_up_at: "2026-11-27T00:00:00Z" }]), null, "without backup_status, from the identities");
  assert.deepEqual(backupReminder(null, [current]).emails, ["bob@example.org"]);
});

test("Thunderbird's own setup: ready, partial or missing, with steps that fit the situation", () => {
  const mine = [identity()];
  const ready = thunderbirdSetup(tbIdentity("bob@example.org", { canSign: true, canEncrypt: true }), { identities: mine, module: "loaded" });
  assert.deepEqual([ready.state, ready.steps], ["ready", []]);
  const partial = thunderbirdSetup(tbIdentity("bob@example.org", { canSign: true }), { identities: mine, module: "loaded" });
  assert.equal(partial.state, "partial");

  const keys = (setup) => setup.steps.map((s) => s.key);
  const withModule = thunderbirdSetup(tbIdentity("Bob@Example.org"), { identities: mine, module: "not_loaded", accountName: "Work" });
  assert.equal(withModule.state, "missing");
  assert.deepEqual(keys(withModule), ["setup_step_module", "setup_step_open_settings", "setup_step_pick_signing_companion", "setup_step_pick_encryption", "setup_step_check_back"]);
  assert.equal(say(withModule.steps[1]), "Open the account settings (menu ≡ → Account Settings), choose the account “Work” and there “End-To-End Encryption”.");
  assert.match(say(withModule.steps[2]), /choose Bob Reader \(Example Issuing CA\), on the security device “S\/MIME Companion”/);
  const withoutModule = thunderbirdSetup(tbIdentity("bob@example.org"), { identities: mine, module: "unavailable" });
  assert.match(say(withoutModule.steps.find((s) => s.key.startsWith("setup_step_pick_signing"))), /on the “Software Security Device”/);
  const loaded = thunderbirdSetup(tbIdentity("bob@example.org"), { identities: mine, module: "loaded" });
  assert.equal(loaded.steps.find((s) => s.key.startsWith("setup_step_pick_signing")).key, "setup_step_pick_signing_companion");
  assert.ok(!keys(loaded).includes("setup_step_module") && !keys(loaded).includes("setup_step_import_into_thunderbird"));

  const noCertificate = thunderbirdSetup(tbIdentity("home@example.net"), { identities: mine, module: "unavailable" });
  assert.deepEqual(keys(noCertificate).slice(0, 2), ["setup_step_import", "setup_step_import_into_thunderbird"]);
  assert.ok(keys(noCertificate).includes("setup_step_pick_signing_any"));
  assert.equal(noCertificate.companionCertificate, null);

  const expiredOnly = thunderbirdSetup(tbIdentity("bob@example.org"), { identities: [identity({ expired: true })], module: "loaded" });
  assert.equal(expiredOnly.companionCertificate, null, "an expired certificate cannot be chosen for new mail");
  for (const setup of [withModule, noCertificate, expiredOnly]) for (const step of setup.steps) assert.ok(say(step));
  for (const state of ["ready", "partial", "missing"]) assert.ok(t(`tb_state_${state}`));
  for (const module of ["loaded", "not_loaded", "unavailable", "unsupported"]) assert.ok(t(`module_state_${module}`));
});

test("a certificate of yours is called by its common name, else its address, else its subject", () => {
  assert.equal(identityName(identity()), "Bob Reader");
  const nameless = identity({ certificate: { subject_fields: { common_name: null } } });
  assert.equal(identityName(nameless), "bob@example.org");
  assert.equal(identityName(identity({ emails: [], certificate: {} })), "CN=Bob Reader,C=DE");
  assert.equal(identityName(null), null);
});

test("where an address is meant, it is the first address, else the subject", () => {
  assert.equal(identityAddress(identity({ emails: ["bob@example.org", "b@example.org"] })), "bob@example.org");
  assert.equal(identityAddress(identity({ emails: [] })), "CN=Bob Reader,C=DE");
  assert.equal(identityAddress(undefined), null);
});

test("the facts of a certificate of yours, with uses, import, backup and replacement", () => {
  const date = dateFormatter("en");
  const day = dayFormatter("en");
  const renewed = identity({ fingerprint: "bb".repeat(32), not_after: "2029-06-01T00:00:00Z" });
  const old = identity({ replaced_by: renewed.fingerprint, can_encrypt: false, backed_up_at: "2026-11-02T10:00:00Z" });
  const rows = identityRows(old, { t, date, day, identities: [old, renewed] });
  assert.deepEqual(rows.map((r) => [r.label, r.value]), [
    ["E-mail address", "bob@example.org"],
    ["Issued by", "Example Issuing CA (Example Trust)"],
    ["Valid from", date("2026-01-01T00:00:00Z")],
    ["Valid until", date("2028-01-01T00:00:00Z")],
    ["Fingerprint (SHA-256)", `${"AAAA ".repeat(7)}AAAA\n${"AAAA ".repeat(7)}AAAA`],
    ["Key", "RSA 3072 bit"],
    ["Can be used to", "sign"],
    ["Imported", date("2026-11-01T10:00:00Z")],
    ["Last backup", date("2026-11-02T10:00:00Z")],
    ["Replaced", `by a certificate valid until ${day("2029-06-01T00:00:00Z")}`],
  ]);
  assert.equal(rows[4].kind, "fingerprint");
  const fresh = identityRows(identity({ can_sign: false, can_encrypt: false }), { t, date, day });
  assert.equal(Object.fromEntries(fresh.map((r) => [r.label, r.value]))["Can be used to"], "nothing (see the import checks)");
  assert.equal(Object.fromEntries(fresh.map((r) => [r.label, r.value]))["Last backup"], "never");
  assert.ok(!fresh.some((r) => r.label === "Replaced"));
});

test("a backup always sends the identity's passphrase, also for an unlocked key", () => {
  const mine = { ...identity(), unlocked: true };
  const good = { password: "long enough", repeat: "long enough", passphrase: "my passphrase" };
  assert.deepEqual(backupRequest(mine, good).params, {
    identity: mine.fingerprint, password: "long enough", passphrase: "my passphrase", legacy: false, record_backup: false,
  });
  assert.equal(backupRequest(mine, { ...good, legacy: true }).params.legacy, true);
  for (const passphrase of ["", undefined, null]) {
    assert.deepEqual(backupRequest(mine, { ...good, passphrase }), { error: "backup_passphrase_missing" }, String(passphrase));
  }
  assert.deepEqual(backupRequest(mine, { ...good, repeat: "other" }), { error: "backup_passwords_differ" });
  assert.deepEqual(backupRequest(mine, { ...good, password: "short", repeat: "short" }), { error: "backup_password_short" });
  for (const key of ["backup_passphrase_missing", "backup_passwords_differ", "backup_password_short", "backup_passphrase_wrong"]) assert.ok(t(key));
  assert.equal(backupFailureKey("wrong_password"), "backup_passphrase_wrong");
  assert.equal(backupFailureKey("store_error"), null, "other failures are the page's general error");
});

test("the backup dialog always shows a required passphrase field", () => {
  const html = readFileSync(`${ROOT}extension/pages/identities.html`, "utf8");
  const form = html.match(/<form class="backup-form[\s\S]*?<\/form>/)[0];
  const field = form.match(/<input[^>]*class="backup-passphrase"[^>]*>/)[0];
  assert.match(field, /\brequired\b/);
  assert.doesNotMatch(field, /\bhidden\b/);
  const page = readFileSync(`${ROOT}extension/pages/identities.mjs`, "utf8");
  assert.doesNotMatch(page, /backup-passphrase"\)\.hidden/, "never hidden for an unlocked key");
  assert.match(page, /backupRequest\(/);
});
