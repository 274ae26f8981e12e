// The compose check follows the recipients while they are typed (issue 14, item 4): each compose
// window is read on a timer, a change is checked once typing stops, and the host is asked once per
// change, for new addresses only.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ComposeWatch, RecipientCache, watchKey } from "../../extension/modules/compose-watch.mjs";

/** Lets every promise that can settle do so (reads and checks are async). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Timers the test moves by hand: `advance(ms)` runs what is due, in order. */
function fakeTimers() {
  let now = 0;
  let nextId = 1;
  const due = new Map(); // id -> {at, fn, every}
  const timers = {
    setTimeout: (fn, ms = 0) => { const id = nextId++; due.set(id, { at: now + ms, fn }); return id; },
    clearTimeout: (id) => due.delete(id),
    setInterval: (fn, ms) => { const id = nextId++; due.set(id, { at: now + ms, fn, every: ms }); return id; },
    clearInterval: (id) => due.delete(id),
    async advance(ms) {
      const until = now + ms;
      for (;;) {
        await settle();
        const next = [...due.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (!next) break;
        const [id, timer] = next;
        now = timer.at;
        if (timer.every) timer.at += timer.every;
        else due.delete(id);
        timer.fn();
      }
      now = until;
      await settle();
    },
    pending: () => due.size,
  };
  return timers;
}

function windowOf(to) {
  return { to, cc: [], bcc: [], identityId: "id1", selectedEncryptionTechnology: { name: "S/MIME", signMessage: false, encryptBody: false } };
}

function setup() {
  const timers = fakeTimers();
  const windows = new Map();
  const checked = [];
  const watch = new ComposeWatch({
    read: async (tabId) => {
      if (!windows.has(tabId)) throw new Error("gone");
      return windows.get(tabId);
    },
    check: async (tabId, details) => checked.push([tabId, details.to.join(",")]),
    timers,
    pollMs: 1000,
    debounceMs: 400,
  });
  return { timers, windows, checked, watch };
}

test("what decides the check: recipients as the host compares them, identity and S/MIME switches, not the text", () => {
  const a = windowOf(["Alice <alice@Example.org>"]);
  assert.equal(watchKey(a), watchKey({ ...a, to: ["alice@example.org"], subject: "other", body: "other" }));
  assert.notEqual(watchKey(a), watchKey({ ...a, to: ["ALICE@example.org"] }));
  assert.notEqual(watchKey(a), watchKey({ ...a, identityId: "id2" }));
  assert.notEqual(watchKey(a), watchKey({ ...a, selectedEncryptionTechnology: { name: "S/MIME", signMessage: true, encryptBody: false } }));
});

test("a new window is checked at once; typing is checked once it stops; nothing changes, nothing is checked", async () => {
  const { timers, windows, checked, watch } = setup();
  windows.set(7, windowOf(["alice@example.org"]));
  watch.track(7);
  await timers.advance(0);
  assert.deepEqual(checked, [[7, "alice@example.org"]]);
  // Recipients added one after another, each within the debounce: one check for the last state.
  windows.set(7, windowOf(["alice@example.org", "bob@example.org"]));
  await timers.advance(1000);
  windows.set(7, windowOf(["alice@example.org", "bob@example.org", "carol@example.org"]));
  await timers.advance(300);
  watch.nudge(7); // an event: read now
  await timers.advance(350);
  assert.equal(checked.length, 1, "still typing");
  await timers.advance(100);
  assert.deepEqual(checked.at(-1), [7, "alice@example.org,bob@example.org,carol@example.org"]);
  assert.equal(checked.length, 2);
  await timers.advance(5000);
  assert.equal(checked.length, 2, "no change, no check");
});

test("a closed window is forgotten and the timer stops with the last one", async () => {
  const { timers, windows, checked, watch } = setup();
  windows.set(1, windowOf(["a@x.org"]));
  watch.track(1);
  await timers.advance(0);
  windows.delete(1);
  await timers.advance(1000);
  assert.deepEqual(watch.tracked(), []);
  assert.equal(timers.pending(), 0);
  assert.equal(checked.length, 1);
});

test("a change during a check runs one more check afterwards, with the newest recipients", async () => {
  const timers = fakeTimers();
  let release;
  const checked = [];
  const details = { current: windowOf(["a@x.org"]) };
  const watch = new ComposeWatch({
    read: async () => details.current,
    check: (tabId, d) => new Promise((resolve) => { checked.push(d.to.join(",")); release = resolve; }),
    timers, pollMs: 1000, debounceMs: 400,
  });
  watch.track(1);
  await timers.advance(0);
  details.current = windowOf(["a@x.org", "b@x.org"]);
  await timers.advance(1400);
  details.current = windowOf(["a@x.org", "b@x.org", "c@x.org"]);
  await timers.advance(1400);
  assert.deepEqual(checked, ["a@x.org"], "one check at a time");
  release();
  await timers.advance(0);
  assert.deepEqual(checked, ["a@x.org", "a@x.org,b@x.org,c@x.org"]);
  release();
});

test("after the contacts changed, every window is checked again", async () => {
  const { timers, windows, checked, watch } = setup();
  windows.set(1, windowOf(["a@x.org"]));
  watch.track(1);
  await timers.advance(0);
  await watch.recheckAll();
  await timers.advance(400);
  assert.equal(checked.length, 2);
});

test("the host is asked once per change, only for addresses it was not asked about", async () => {
  let now = 0;
  const cache = new RecipientCache({ ttlMs: 60_000, now: () => now });
  const asked = [];
  const ask = async (addresses) => {
    asked.push(addresses);
    return addresses.map((address) => ({ address, can_encrypt: address.startsWith("a"), reason: null }));
  };
  assert.deepEqual((await cache.checks(["alice@x.org", "bob@x.org"], ask)).map((c) => c.address), ["alice@x.org", "bob@x.org"]);
  assert.deepEqual(await cache.checks(["alice@x.org", "bob@x.org", "carol@X.org"], ask).then((c) => c.map((x) => x.address)), ["alice@x.org", "bob@x.org", "carol@X.org"]);
  assert.deepEqual(asked, [["alice@x.org", "bob@x.org"], ["carol@X.org"]]);
  assert.deepEqual(cache.missing(["alice@x.org", "dave@x.org"]), ["dave@x.org"]);
  // The check on Send asks again for everything.
  await cache.checks(["alice@x.org"], ask, { fresh: true });
  assert.deepEqual(asked.at(-1), ["alice@x.org"]);
  // Answers grow old, and the contacts changing drops them.
  now = 61_000;
  assert.deepEqual(cache.missing(["alice@x.org", "carol@x.org"]), ["alice@x.org", "carol@x.org"]);
  await cache.checks(["bob@x.org"], ask);
  cache.invalidate();
  assert.deepEqual(cache.missing(["bob@x.org"]), ["bob@x.org"]);
});

test("callers asking at once share one request; a failed request is not kept and fails its callers", async () => {
  const cache = new RecipientCache();
  let calls = 0;
  let release;
  const ask = (addresses) => { calls += 1; return new Promise((resolve) => { release = () => resolve(addresses.map((address) => ({ address, can_encrypt: true }))); }); };
  const first = cache.checks(["a@x.org"], ask);
  const second = cache.checks(["a@x.org"], ask);
  await settle();
  release();
  assert.equal((await first).length, 1);
  assert.equal((await second).length, 1);
  assert.equal(calls, 1);
  const failing = new RecipientCache();
  await assert.rejects(failing.checks(["b@x.org"], async () => { throw Object.assign(new Error("down"), { code: "host_missing" }); }), /down/);
  assert.deepEqual(failing.missing(["b@x.org"]), ["b@x.org"]);
});

test("an answer that began before the contacts changed is used but not kept", async () => {
  const cache = new RecipientCache();
  let release;
  const pending = cache.checks(["a@x.org"], (addresses) => new Promise((resolve) => { release = () => resolve(addresses.map((address) => ({ address, can_encrypt: false }))); }));
  await settle();
  cache.invalidate();
  release();
  assert.equal((await pending)[0].can_encrypt, false);
  assert.deepEqual(cache.missing(["a@x.org"]), ["a@x.org"]);
});

test("only compose windows in front are read on the timer; one coming to the front is read at once", async () => {
  const timers = fakeTimers();
  const reads = [];
  let front = [10];
  const watch = new ComposeWatch({
    read: async (tabId) => { reads.push(tabId); return windowOf([`t${tabId}@x.org`]); },
    check: async () => {},
    focused: async () => front,
    timers, pollMs: 1000, debounceMs: 400,
  });
  watch.track(1, 10);
  watch.track(2, 20);
  await timers.advance(0);
  reads.length = 0;
  await timers.advance(3000);
  assert.deepEqual([...new Set(reads)], [1], "the window in the background is not read");
  reads.length = 0;
  front = [20];
  await watch.windowFocused(20);
  assert.deepEqual(reads, [2]);
  // Nobody says which window is in front (headless): every window is read.
  front = null;
  reads.length = 0;
  await timers.advance(1000);
  assert.deepEqual(reads.sort(), [1, 2]);
});
