import { test } from "node:test";
import assert from "node:assert/strict";
import { withTimeout } from "../../extension/modules/timeout.mjs";

// Timers run only when the test says so.
class FakeTimers {
  constructor() { this.queue = []; this.nextId = 1; }
  setTimeout(fn, ms) { const id = this.nextId++; this.queue.push({ id, fn, ms }); return id; }
  clearTimeout(id) { this.queue = this.queue.filter((t) => t.id !== id); }
  fireAll() { const due = this.queue; this.queue = []; for (const t of due) t.fn(); }
}

const deferred = () => {
  let resolve, reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
};

test("an answer in time passes through, and the timer is cleared", async () => {
  const timers = new FakeTimers();
  assert.equal(await withTimeout(Promise.resolve(7), 1000, "x", timers), 7);
  assert.equal(timers.queue.length, 0);
});

test("a failure in time passes through unchanged", async () => {
  const timers = new FakeTimers();
  const failure = Object.assign(new Error("gone"), { code: "host_missing" });
  await assert.rejects(withTimeout(Promise.reject(failure), 1000, "x", timers), (e) => e === failure);
  assert.equal(timers.queue.length, 0);
});

test("no answer within the time rejects with timeout and the given message", async () => {
  const timers = new FakeTimers();
  const never = deferred();
  const bounded = withTimeout(never.promise, 2000, "the host did not start", timers);
  assert.deepEqual(timers.queue.map((t) => t.ms), [2000]);
  timers.fireAll();
  await assert.rejects(bounded, (e) => e.code === "timeout" && e.message === "the host did not start");
});

test("a late failure after the timeout is ignored, not left unhandled", async () => {
  const timers = new FakeTimers();
  const late = deferred();
  const bounded = withTimeout(late.promise, 10, undefined, timers);
  timers.fireAll();
  await assert.rejects(bounded, (e) => e.code === "timeout" && /10 ms/.test(e.message));
  late.reject(new Error("too late")); // node's runner fails the file on an unhandled rejection
  await new Promise((r) => setTimeout(r, 0));
});

test("a budget already spent times out at once", async () => {
  const bounded = withTimeout(new Promise(() => {}), -5);
  await assert.rejects(bounded, (e) => e.code === "timeout");
});
