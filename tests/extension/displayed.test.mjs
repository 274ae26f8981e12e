import { test } from "node:test";
import assert from "node:assert/strict";
import { displayedMessageId, DISPLAYED_TIMEOUT_MS, messagesOf } from "../../extension/modules/displayed.mjs";

// A stand-in for messageDisplay: `answers` maps a tab id to what getDisplayedMessages does.
const display = (answers) => ({ getDisplayedMessages: (tabId) => answers[tabId]() });
const timers = { setTimeout: (fn) => { queueMicrotask(fn); return 1; }, clearTimeout() {} }; // every bound expires at once

test("a MessageList and a plain array give the same messages; nothing gives none", () => {
  assert.deepEqual(messagesOf({ messages: [{ id: 1 }] }), [{ id: 1 }]);
  assert.deepEqual(messagesOf([{ id: 2 }]), [{ id: 2 }]);
  assert.deepEqual(messagesOf(null), []);
  assert.deepEqual(messagesOf({}), []);
});

test("a tab that shows one message gives its id", async () => {
  const messageDisplay = display({ 5: async () => ({ messages: [{ id: 42 }] }) });
  assert.equal(await displayedMessageId(5, { messageDisplay }), 42);
});

test("none or several messages give null: a summary has nothing to judge", async () => {
  const messageDisplay = display({ 1: async () => ({ messages: [] }), 2: async () => ({ messages: [{ id: 1 }, { id: 2 }] }), 3: async () => null });
  for (const tab of [1, 2, 3]) assert.equal(await displayedMessageId(tab, { messageDisplay }), null, `tab ${tab}`);
});

test("a tab that is no message tab gives null, whether the API rejects or throws", async () => {
  const messageDisplay = display({ 1: async () => { throw new Error("Invalid tab"); }, 2: () => { throw new Error("sync"); } });
  assert.equal(await displayedMessageId(1, { messageDisplay }), null);
  assert.equal(await displayedMessageId(2, { messageDisplay }), null);
});

test("a tab whose load never ends gives null once the bound has passed", async () => {
  const messageDisplay = display({ 7: () => new Promise(() => {}) });
  assert.equal(await displayedMessageId(7, { messageDisplay, timers }), null);
  assert.ok(DISPLAYED_TIMEOUT_MS > 0 && DISPLAYED_TIMEOUT_MS <= 5_000, "short enough for a menu click to wait");
});
