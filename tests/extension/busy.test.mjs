// Long operations (import, backup, unlock, loading the module) show progress and cannot be
// started twice (issue 14, item 7).

import { test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "./html-parser.mjs";

test("while a long operation runs its controls are disabled and a progress line says what runs; afterwards, also after a failure, they are back", async () => {
  const doc = parse(`<form id="f"><input id="a"><button id="go">Import</button><button id="off" disabled>Other</button></form>`);
  globalThis.document = doc;
  const { whileBusy } = await import("../../extension/modules/busy.mjs");
  const form = doc.getElementById("f");
  let seen = null;
  const result = await whileBusy(form, "Checking the file …", async () => {
    seen = {
      disabled: ["a", "go", "off"].map((id) => doc.getElementById(id).disabled),
      line: form.querySelector("p.busy")?.textContent,
      progress: Boolean(form.querySelector("p.busy progress")),
      busy: form.getAttribute("aria-busy"),
      role: form.querySelector("p.busy")?.getAttribute("role"),
    };
    return 42;
  });
  assert.equal(result, 42);
  assert.deepEqual(seen, { disabled: [true, true, true], line: "Checking the file …", progress: true, busy: "true", role: "status" });
  assert.deepEqual(["a", "go", "off"].map((id) => doc.getElementById(id).disabled), [false, false, true], "what was disabled before stays so");
  assert.equal(form.querySelector("p.busy"), null);
  await assert.rejects(whileBusy(form, "x", async () => { throw new Error("wrong password"); }), /wrong password/);
  assert.equal(doc.getElementById("go").disabled, false);
  assert.equal(form.hasAttribute("aria-busy"), false);
});
