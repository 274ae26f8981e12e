import { test } from "node:test";
import assert from "node:assert/strict";
import { unlockFailure, unlockKeys, unlockLabel, unlockOutcome } from "../../extension/modules/unlock.mjs";
import { HostError } from "../../extension/modules/ops.mjs";
import { strictT } from "./docs.mjs";

const t = strictT();
const say = (phrase) => t.phrase(phrase);
const A = "ab".repeat(32);
const B = "cd".repeat(32);

test("an unlock that opens the key a message needs says how many and for how long", () => {
  const outcome = unlockOutcome({ unlocked: [A.toUpperCase(), B], seconds: 900 }, [A]);
  assert.equal(outcome.ok, true);
  assert.equal(outcome.opensNeeded, true);
  assert.equal(outcome.minutes, 15);
  assert.equal(say(outcome.notice), "2 keys unlocked for 15 min.");
  assert.equal(say(unlockOutcome({ unlocked: [A], seconds: 60 }, [A]).notice), "1 key unlocked for 1 min.");
});

test("an unlock that opens only other keys says so, so the user tries another passphrase", () => {
  const outcome = unlockOutcome({ unlocked: [B], seconds: 900 }, [A]);
  assert.equal(outcome.opensNeeded, false);
  assert.match(say(outcome.notice), /unlocked other keys of yours, but not the one this message is encrypted to/);
});

test("without a needed key any unlocked key will do, and the time is at least a minute", () => {
  const outcome = unlockOutcome({ unlocked: [B], seconds: 20 });
  assert.equal(outcome.opensNeeded, true);
  assert.equal(outcome.minutes, 1);
  assert.equal(unlockOutcome({ unlocked: [], seconds: 900 }).opensNeeded, false);
});

test("a wrong passphrase is the user's to retry; other failures name their error", () => {
  const wrong = unlockFailure(new HostError("wrong_password"));
  assert.equal(wrong.wrongPassword, true);
  assert.equal(say(wrong.notice), "That passphrase does not unlock any of your keys.");
  const missing = unlockFailure(new HostError("host_missing"));
  assert.equal(missing.wrongPassword, false);
  assert.equal(missing.notice.key, "error_host_missing");
  assert.ok(say(missing.notice));
  assert.equal(unlockFailure(new Error("boom")).notice.key, "error_internal_error");
});

test("the passphrase field names whose key it opens", () => {
  assert.equal(say(unlockLabel({ fingerprints: [A], emails: ["bob@example.org"] })), "Passphrase of your key for bob@example.org");
  assert.equal(say(unlockLabel({ fingerprints: [A], emails: [] })), "Passphrase of your key");
});

test("unlockKeys asks the host through the background, for every key the passphrase opens", async () => {
  const sent = [];
  globalThis.browser = { runtime: { sendMessage: async (message) => {
    sent.push(message);
    return message.params.passphrase === "right"
      ? { ok: true, result: { unlocked: [A], seconds: 900 } }
      : { ok: false, error: { code: "wrong_password", message: "identity …" } };
  } } };
  try {
    const ok = await unlockKeys("right", { needed: [A] });
    assert.equal(ok.ok && ok.opensNeeded, true);
    const wrong = await unlockKeys("wrong", { needed: [A] });
    assert.equal(wrong.ok, false);
    assert.equal(wrong.wrongPassword, true);
    assert.deepEqual(sent[0], { type: "host", op: "identities_unlock", params: { passphrase: "right" }, timeoutMs: undefined });
    // The outcome never carries the passphrase back.
    assert.ok(!JSON.stringify([ok, { ...wrong, error: null }]).includes("right"));
  } finally {
    delete globalThis.browser;
  }
});
