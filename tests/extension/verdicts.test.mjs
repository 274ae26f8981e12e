import { test } from "node:test";
import assert from "node:assert/strict";
import { VerdictStore } from "../../extension/modules/verdicts.mjs";

test("concurrent callers share one check, and a known reading is not checked again", async () => {
  const store = new VerdictStore();
  let checks = 0;
  const check = async () => { checks++; return { verdict: {} }; };
  const [a, b] = await Promise.all([store.reading(1, check), store.reading(1, check)]);
  assert.equal(a, b);
  await store.reading(1, check);
  assert.equal(checks, 1);
});

test("a failed check is remembered for display but retried on the next call", async () => {
  const store = new VerdictStore();
  await assert.rejects(store.reading(2, async () => { throw Object.assign(new Error("x"), { code: "host_missing" }); }));
  assert.equal(store.entry(2).error.code, "host_missing");
  assert.deepEqual(await store.reading(2, async () => ({ verdict: { ok: 1 } })), { verdict: { ok: 1 } });
  assert.equal(store.entry(2).error, null);
});

test("forgetFailures drops failed entries only", async () => {
  const store = new VerdictStore();
  await store.reading(1, async () => ({ verdict: {} }));
  await store.reading(2, async () => { throw new Error("x"); }).catch(() => {});
  store.forgetFailures();
  assert.ok(store.entry(1).reading);
  assert.equal(store.entry(2).error, null);
});

test("tabs map to the one message they show", () => {
  const store = new VerdictStore();
  store.showInTab(7, 42);
  assert.equal(store.messageInTab(7), 42);
  store.showInTab(7, null); // several messages selected
  assert.equal(store.messageInTab(7), null);
  store.showInTab(8, 1);
  store.forgetTab(8);
  assert.deepEqual(store.tabs(), []);
});

test("the store keeps at most 500 messages, dropping the oldest", async () => {
  const store = new VerdictStore();
  for (let id = 0; id < 510; id++) await store.reading(id, async () => ({ verdict: { id } }));
  assert.equal(store.entry(0).reading, null);
  assert.equal(store.entry(509).reading.verdict.id, 509);
  assert.equal(store.entry(10).reading.verdict.id, 10);
});

test("forgetReadings drops the readings it is asked to, and nothing that is still being checked", async () => {
  const store = new VerdictStore();
  const locked = { verdict: { encryption: { state: "locked" } } };
  await store.reading(1, async () => locked);
  await store.reading(2, async () => ({ verdict: { encryption: { state: "decrypted" } } }));
  let finish;
  const running = store.reading(3, () => new Promise((resolve) => { finish = resolve; }));
  store.forgetReadings((r) => r.verdict.encryption.state === "locked");
  assert.equal(store.entry(1).reading, null);
  assert.ok(store.entry(2).reading);
  assert.ok(store.entry(3).running);
  finish(locked);
  await running;
  assert.equal(store.entry(3).reading, locked);
});

test("closed banners are remembered per message, the newest 500 of them", () => {
  const store = new VerdictStore();
  assert.equal(store.dismissed(1), false);
  for (let id = 0; id < 510; id++) store.dismiss(id);
  assert.equal(store.dismissed(509), true);
  assert.equal(store.dismissed(10), true);
  assert.equal(store.dismissed(9), false, "the oldest are forgotten");
  store.dismiss(10); // closed again: now the newest
  for (let id = 510; id < 1009; id++) store.dismiss(id);
  assert.equal(store.dismissed(10), true);
  assert.equal(store.dismissed(11), false);
});

test("closed banners outlive the readings that are forgotten", async () => {
  const store = new VerdictStore();
  await store.reading(1, async () => { throw new Error("x"); }).catch(() => {});
  store.dismiss(1);
  store.forgetFailures();
  store.forgetReadings(() => true);
  assert.equal(store.dismissed(1), true);
});
