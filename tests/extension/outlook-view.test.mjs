import { test } from "node:test";
import assert from "node:assert/strict";
import { describe } from "../../extension/modules/describe.mjs";
import { dateFormatter } from "../../extension/modules/format.mjs";
import { fileName, noticeFor, offersReader, popupActions, visible } from "../../extension/outlook-web/modules/view.mjs";
import { actionsFor, OWA_ERROR_CODES, OwaError } from "../../extension/outlook-web/modules/fetch-errors.mjs";
import { locales, strictT } from "./docs.mjs";
import { verdict } from "./fixtures.mjs";

const t = strictT();
const date = dateFormatter("en");
const notice = (v) => {
  const reading = { verdict: v, decrypted: null };
  return noticeFor(describe(reading, { t, date }), reading, t);
};

test("bad states get a notice in the page without a click: altered, revoked, wrong sender, untrusted", () => {
  for (const state of ["content_altered", "revoked", "sender_mismatch", "untrusted", "expired"]) {
    const n = notice(verdict({ signature: state }));
    assert.ok(n, state);
    assert.equal(n.headline, describe({ verdict: verdict({ signature: state }), decrypted: null }, { t, date }).headline);
  }
  assert.equal(notice(verdict({ signature: "content_altered" })).severity, "error");
});

test("a valid signature gets no notice, unless its certificate replaced another valid one", () => {
  assert.equal(notice(verdict()), null);
  assert.equal(notice(verdict({ encryption: "decrypted" })), null);
  const changed = notice(verdict({ warnings: [{ code: "key_changed" }] }));
  assert.equal(changed.headline, t("owa_notice_key_changed"));
  assert.equal(changed.summary, t("sigwarn_key_changed"));
  assert.equal(changed.severity, "warning");
});

test("the reader is offered where Outlook cannot show the content: decrypted, or opaque-signed", () => {
  assert.equal(offersReader({ verdict: verdict({ encryption: "decrypted" }) }), true);
  assert.equal(offersReader({ verdict: verdict() }), false);
  const opaque = verdict();
  opaque.message.structure = [{ kind: "signed", form: "signed_data", part: "" }];
  assert.equal(offersReader({ verdict: opaque }), true);
  assert.equal(offersReader({ verdict: verdict({ encryption: "no_key" }) }), false);
});

test("every failure of fetching a message has a text in both languages and something to do", () => {
  const { en, de } = locales();
  for (const code of OWA_ERROR_CODES) {
    assert.ok(en[`error_${code}`]?.message ?? en[`error_${code}`], `en error_${code}`);
    assert.ok(de[`error_${code}`]?.message ?? de[`error_${code}`], `de error_${code}`);
    for (const action of actionsFor(code)) assert.ok(en[action.key] && de[action.key], action.key);
  }
  for (const code of Object.values(OwaError).filter((c) => c !== OwaError.tooLarge)) assert.ok(actionsFor(code).length, code);
  const actions = popupActions({ error: OwaError.signedOut });
  assert.equal(actions[0].type, "signIn");
  assert.deepEqual(actions.slice(-2).map((a) => a.type), ["openContacts", "openIdentities"]);
  assert.equal(popupActions({ reading: { verdict: verdict({ encryption: "decrypted" }) } })[0].type, "openReader");
});

test("header text shows hidden and reordering characters instead of obeying them", () => {
  assert.equal(visible("Bank\u202Egpj.exe"), "Bank[U+202E]gpj.exe");
  assert.equal(visible("a\u200Bb\u0000c"), "a[U+200B]b[U+0000]c");
  assert.equal(visible("Grüße"), "Grüße");
  assert.equal(fileName("../../etc/passwd"), "passwd");
  assert.equal(fileName("C:\\x\\report\u202Efdp.exe"), "reportfdp.exe");
  assert.equal(fileName("..."), "attachment");
  assert.equal(fileName('a<b>:"c"|?*.txt'), "a_b___c____.txt");
});
