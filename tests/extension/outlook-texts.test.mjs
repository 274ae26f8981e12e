import { test } from "node:test";
import assert from "node:assert/strict";
import { isThunderbird, withVariant } from "../../extension/modules/platform.mjs";
import { locales } from "./docs.mjs";

test("in the Outlook-on-the-web extension owa_<key> replaces <key>; everything else is shared", () => {
  const messages = { error_host_missing: "Thunderbird cannot find it", owa_error_host_missing: "the browser cannot find it", popup_title: "S/MIME Companion", owa_only: "x" };
  const get = withVariant((key) => messages[key] ?? "");
  assert.equal(get("error_host_missing"), "the browser cannot find it");
  assert.equal(get("popup_title"), "S/MIME Companion");
  assert.equal(get("owa_only"), "x", "a key of the extension's own is found as it is");
  assert.equal(get("unknown"), "");
  assert.equal(isThunderbird({ messenger: {} }), true);
  assert.equal(isThunderbird({ chrome: {} }), false);
});

test("a text that replaces a shared one keeps its substitutions, in both languages", () => {
  const subs = (text) => [...text.matchAll(/\$(\d)/g)].map((m) => m[1]).sort().join();
  for (const [lang, messages] of Object.entries(locales())) {
    const variants = Object.keys(messages).filter((k) => k.startsWith("owa_") && k.slice(4) in messages);
    assert.ok(variants.includes("owa_error_host_missing") && variants.includes("owa_popup_host_missing"), lang);
    for (const key of variants) assert.equal(subs(messages[key]), subs(messages[key.slice(4)]), `${lang} ${key}`);
    // (The install text names Thunderbird on purpose: the script registers the program for it too.)
    for (const key of variants.filter((k) => k !== "owa_help_install_text")) assert.doesNotMatch(messages[key], /Thunderbird/, `${lang} ${key} is for the browser`);
  }
});

test("no text the browser extension shows in place of a shared one still names Thunderbird where it means the browser", () => {
  const { en } = locales();
  for (const key of ["error_host_missing", "popup_host_missing", "help_intro_missing", "help_intro_broken", "help_doctor_text", "help_reconnect", "enc_no_key_explain"]) {
    assert.ok(en[`owa_${key}`], `owa_${key}`);
  }
});
