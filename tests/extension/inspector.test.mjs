// Thunderbird and the add-on agree (issue 14, item 5): when Thunderbird opened a message with its
// own key, no view says "cannot decrypt"; they say what happened instead.

import { test } from "node:test";
import assert from "node:assert/strict";
import { inspect, THUNDERBIRD_MAY_OPEN } from "../../extension/modules/inspector.mjs";
import { describe } from "../../extension/modules/describe.mjs";
import { bannerFor } from "../../extension/modules/banner.mjs";
import { buttonLook, lockedKeys, stateLabel, UNREADABLE } from "../../extension/modules/look.mjs";
import { dateFormatter } from "../../extension/modules/format.mjs";
import { strictT } from "./docs.mjs";
import { verdict } from "./fixtures.mjs";

const t = strictT();
const date = dateFormatter("en");
const raw = (text) => ({ arrayBuffer: async () => new TextEncoder().encode(text).buffer });

/** A host whose key is in `state` for the raw message, and that judges Thunderbird's copy valid. */
function hostWith(state) {
  const requests = [];
  return {
    requests,
    ready: async () => {},
    requestWithPayload: async (op, params) => {
      requests.push(params);
      return params.decrypted_by_thunderbird
        ? verdict({ signature: "valid" })
        : { ...verdict({ signature: "none", encryption: state }), encryption: { ...verdict({ encryption: state }).encryption, locked_identities: state === "locked" ? ["cd".repeat(32)] : [] } };
    },
  };
}

const thunderbirdOpens = (opens) => {
  globalThis.browser = {
    messages: {
      getRaw: async (_id, { decrypt }) => {
        if (decrypt && !opens) throw new Error("could not be decrypted");
        return raw(decrypt ? "clear" : "cipher");
      },
    },
  };
};

// Every text of a view, to look for "cannot decrypt" in any of them.
function allTexts(view) {
  return [view.headline, view.summary, ...view.notices, ...view.problems.flatMap((p) => [p.title, p.explain, p.advice]),
    ...view.sections.flatMap((s) => [s.heading, ...s.rows.map((r) => r.value), ...s.paragraphs])].join("\n");
}

test("Thunderbird is asked to decrypt what the host could not open, locked keys included", () => {
  assert.deepEqual([...THUNDERBIRD_MAY_OPEN].sort(), ["locked", "no_key"]);
  for (const state of THUNDERBIRD_MAY_OPEN) assert.ok(UNREADABLE.has(state), state);
});

for (const state of ["no_key", "locked"]) {
  test(`${state}: when Thunderbird opened the message with its own key, no view says it cannot be decrypted`, async () => {
    thunderbirdOpens(true);
    const host = hostWith(state);
    const reading = await inspect(host, 7);
    assert.equal(host.requests.length, 2, "the raw message, then Thunderbird's decrypted copy");
    assert.equal(host.requests[1].decrypted_by_thunderbird, true);
    assert.ok(reading.decrypted, "the verdict on what Thunderbird decrypted");
    const look = buttonLook(reading);
    assert.equal(look.name, "encryptedSigned");
    assert.deepEqual(look.title.extra, ["look_suffix_thunderbird_decrypted"]);
    assert.equal(lockedKeys(reading), null, "nothing to unlock: the message is open");
    const view = describe(reading, { t, date });
    assert.deepEqual(view.problems, []);
    assert.equal(bannerFor(view, t), null);
    assert.ok(view.notices.includes(t("notice_thunderbird_decrypted")));
    const words = allTexts(view);
    for (const key of [stateLabel(`enc_${state}`), `enc_${state}`, `enc_${state}_explain`, `look_undecryptable_title_${state}`]) {
      assert.ok(!words.includes(t(key)), `${key} is not shown`);
    }
    assert.ok(words.includes(t("enc_thunderbird")));
  });
}

test("locked, and Thunderbird cannot open it either: the unlock offer stays", async () => {
  thunderbirdOpens(false);
  const reading = await inspect(hostWith("locked"), 7);
  assert.equal(reading.decrypted, null);
  assert.equal(buttonLook(reading).name, "undecryptable");
  assert.deepEqual(lockedKeys(reading).fingerprints, ["cd".repeat(32)]);
});

test("a message the host opened itself is not sent to Thunderbird's decryption", async () => {
  thunderbirdOpens(true);
  const host = hostWith("decrypted");
  const reading = await inspect(host, 7);
  assert.equal(host.requests.length, 1);
  assert.equal(reading.decrypted, null);
});
