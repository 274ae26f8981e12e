// Reminders that reach the user (issue 14, item 7): notifications for a certificate's expiry and
// a missing backup, once per period; the first-run guide's steps; My certificates' layout.

import { test } from "node:test";
import assert from "node:assert/strict";
import { BACKUP_EVERY_DAYS, dueReminders, EXPIRY_STAGES, expiryStage } from "../../extension/modules/reminders.mjs";
import { GUIDE_STEPS, guideProgress, guideSteps } from "../../extension/modules/guide.mjs";
import { identityCardLayout } from "../../extension/modules/identities-view.mjs";
import { strictT } from "./docs.mjs";

const t = strictT();
const DAY = 86_400_000;
const NOW = Date.parse("2026-11-27T12:00:00Z");
const iso = (ms) => new Date(ms).toISOString();
const identity = (overrides = {}) => ({
  fingerprint: "ab".repeat(32), emails: ["bob@example.org"], not_after: iso(NOW + 400 * DAY), imported_at: iso(NOW - 10 * DAY),
  backed_up_at: iso(NOW - 5 * DAY), expired: false, replaced_by: null, ...overrides,
});
const texts = (due) => due.notifications.map((n) => [t.phrase(n.title), t.phrase(n.message)]);

test("an expiry is notified once per stage: 60, 30, 7 and 1 days before, and once when it has passed", () => {
  assert.deepEqual(EXPIRY_STAGES, [60, 30, 7, 1, 0]);
  assert.equal(expiryStage(iso(NOW + 90 * DAY), NOW), null);
  assert.equal(expiryStage(iso(NOW + 45 * DAY), NOW), 60);
  assert.equal(expiryStage(iso(NOW + 10 * DAY), NOW), 30);
  assert.equal(expiryStage(iso(NOW + 3 * DAY), NOW), 7);
  assert.equal(expiryStage(iso(NOW + 5 * 3_600_000), NOW), 1);
  assert.equal(expiryStage(iso(NOW - DAY), NOW), 0);
  let state = {};
  const seen = [];
  // A certificate that runs out over 70 days, looked at twice a day.
  for (let at = NOW; at < NOW + 72 * DAY; at += DAY / 2) {
    const due = dueReminders({ identities: [identity({ not_after: iso(NOW + 70 * DAY), expired: at > NOW + 70 * DAY })], state, now: at });
    state = due.state;
    seen.push(...due.notifications.map((n) => [Math.round((at - NOW) / DAY), n.kind]));
  }
  assert.deepEqual(seen, [[10, "expiry"], [40, "expiry"], [63, "expiry"], [69, "expiry"], [70, "expired"]]);
});

test("the expiry notification says when, for which address, and what to do; tomorrow is tomorrow", () => {
  const due = dueReminders({ identities: [identity({ not_after: iso(NOW + 10 * DAY) })], now: NOW, formatDate: () => "Dec 7, 2026" });
  assert.deepEqual(texts(due), [["Your certificate expires in 10 days",
    "The certificate for bob@example.org ends on Dec 7, 2026. Request its renewal now, then import the new one on My certificates."]]);
  const tomorrow = dueReminders({ identities: [identity({ not_after: iso(NOW + 20 * 3_600_000) })], now: NOW });
  assert.equal(texts(tomorrow)[0][0], "Your certificate expires tomorrow");
  const expired = dueReminders({ identities: [identity({ not_after: iso(NOW - DAY), expired: true })], now: NOW, formatDate: () => "Nov 26, 2026" });
  assert.match(texts(expired)[0][1], /ended on Nov 26, 2026: you can no longer sign/);
});

test("a renewed certificate is not reminded of; a forgotten certificate leaves the state", () => {
  const old = identity({ fingerprint: "01".repeat(32), not_after: iso(NOW + 5 * DAY), replaced_by: "02".repeat(32) });
  const renewed = identity({ fingerprint: "02".repeat(32) });
  assert.deepEqual(dueReminders({ identities: [old, renewed], now: NOW }).notifications, []);
  const due = dueReminders({ identities: [renewed], state: { expiry: { ["03".repeat(32)]: 7 } }, now: NOW });
  assert.deepEqual(due.state.expiry, {});
});

test("a missing backup is notified weekly until one exists, the first a day after the import", () => {
  const fresh = identity({ backed_up_at: null, imported_at: iso(NOW - 3_600_000) });
  assert.deepEqual(dueReminders({ identities: [fresh], now: NOW }).notifications, [], "not right after the import");
  const missing = identity({ backed_up_at: null });
  let due = dueReminders({ identities: [missing], now: NOW });
  assert.deepEqual(texts(due), [["Your certificate has no backup yet",
    "If this computer fails, the key of bob@example.org is lost, and with it every encrypted message to it. Click here to save a backup."]]);
  assert.equal(due.notifications[0].id, "backup");
  const weekLater = NOW + BACKUP_EVERY_DAYS * DAY;
  assert.deepEqual(dueReminders({ identities: [missing], state: due.state, now: weekLater - 3_600_000 }).notifications, []);
  due = dueReminders({ identities: [missing], state: due.state, now: weekLater + 1 });
  assert.equal(due.notifications.length, 1);
  // Saved: no more reminders, and the state is cleared for the next key.
  const saved = dueReminders({ identities: [identity()], state: due.state, now: weekLater + DAY });
  assert.deepEqual([saved.notifications, saved.state.backup], [[], null]);
  // Keys no longer in use need none.
  assert.deepEqual(dueReminders({ identities: [identity({ backed_up_at: null, replaced_by: "cd".repeat(32) })], now: NOW }).notifications, []);
});

const tbIdentity = (canSign, canEncrypt) => ({ email: "bob@example.org", name: "Bob", accountName: "Bob's mail",
  encryptionCapabilities: { "S/MIME": { canSign, canEncrypt } } });

test("the first-run guide goes from 'installed' to 'in, backed up, Thunderbird uses it', each step with its one action", () => {
  const state = (args) => guideSteps({ host: "ready", identities: [], module: "not_loaded", tbIdentities: [tbIdentity(false, false)], ...args })
    .map((s) => [s.id, s.state, s.action?.id ?? null]);
  assert.deepEqual(GUIDE_STEPS, ["program", "certificate", "backup", "thunderbird", "exchange"]);
  assert.deepEqual(state({ host: "missing", identities: null }), [
    ["program", "todo", "open_help"], ["certificate", "waiting", null], ["backup", "waiting", null], ["thunderbird", "waiting", null], ["exchange", "info", null],
  ]);
  assert.deepEqual(state({}).slice(1, 3), [["certificate", "todo", "import"], ["backup", "waiting", null]]);
  assert.deepEqual(state({ identities: [identity({ backed_up_at: null })] }).slice(1, 4), [
    ["certificate", "done", null], ["backup", "todo", "backup"], ["thunderbird", "todo", "install_module"],
  ]);
  const all = guideSteps({ host: "ready", identities: [identity()], module: "loaded", tbIdentities: [tbIdentity(true, true)] });
  assert.deepEqual(all.map((s) => s.state), ["done", "done", "done", "done", "info"]);
  assert.deepEqual(guideProgress(all), { done: 4, total: 4 });
  // Loaded, but not chosen in the account settings: the steps say where.
  const choose = guideSteps({ host: "ready", identities: [identity()], module: "loaded", tbIdentities: [tbIdentity(false, false)] })[3];
  assert.equal(choose.state, "todo");
  assert.ok(choose.details.some((d) => d.key === "setup_step_open_settings"));
  const noAccount = guideSteps({ host: "ready", identities: [identity()], module: "loaded", tbIdentities: [] })[3];
  assert.equal(t(noAccount.key, noAccount.subs), "Thunderbird has no account for bob@example.org yet. Add it (Settings → Account Settings), then come back here.");
  for (const s of [...all, ...guideSteps({ host: "missing", identities: null, module: "unavailable" }), choose, noAccount]) {
    assert.ok(t(s.key, s.subs) && t(`guide_state_${s.state}`), s.id);
    if (s.action) assert.ok(t(s.action.key));
  }
});

test("My certificates: a key without a backup shows its warning first, backup as main button, delete behind 'More'", () => {
  assert.deepEqual(identityCardLayout(identity({ backed_up_at: null })),
    { warning: { key: "identity_warning_no_backup", subs: [] }, backupFirst: true, deleteBehindMore: true });
  assert.deepEqual(identityCardLayout(identity()), { warning: null, backupFirst: false, deleteBehindMore: false });
  // An old key without a backup: no nagging, but deleting it still loses old mail.
  assert.deepEqual(identityCardLayout(identity({ backed_up_at: null, replaced_by: "cd".repeat(32) })),
    { warning: null, backupFirst: true, deleteBehindMore: true });
  assert.match(t("identity_delete_no_backup_warning"), /loses it for good/);
});
