import { test } from "node:test";
import assert from "node:assert/strict";
import { describe } from "../../extension/modules/describe.mjs";
import { dateFormatter } from "../../extension/modules/format.mjs";
import { buttonLook, checkingLook } from "../../extension/modules/look.mjs";
import { isHidden, neutralize } from "../../extension/modules/untrusted.mjs";
import { actionTitle, fileName, NOTICE_TEXTS, noticeFor, offersReader, popupActions } from "../../extension/outlook-web/modules/view.mjs";
import { actionsFor, OWA_ERROR_CODES, OwaError } from "../../extension/outlook-web/modules/fetch-errors.mjs";
import { locales, read, strictT } from "./docs.mjs";
import { cert, verdict } from "./fixtures.mjs";

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
  assert.equal(changed.headline, "Key changed");
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

// ---- attacker-controlled text: certificate names and addresses, file names -------------------------

const RLO = "\u202e";
const NAME = `Mallory ${RLO}gpj.exe\u200b\u2066x\u2069\u001b[31m`;
const ADDRESS = `mallory${RLO}gro.elpmaxe@example.org`;
const hostile = cert({ subject: `CN=${NAME}`, subject_fields: { ...cert().subject_fields, common_name: NAME }, emails: [ADDRESS] });

function assertShownSafely(what, text) {
  for (const ch of text) assert.ok(!isHidden(ch.codePointAt(0)), `${what}: U+${ch.codePointAt(0).toString(16)} reaches the user: ${JSON.stringify(text)}`);
  assert.ok(text.includes("⟨U+202E⟩"), `${what}: the override is not visible: ${text}`);
}

test("every text of the notice arrives neutralised: content.js in Outlook's page cannot import the helper", () => {
  const readings = [
    { verdict: verdict({ signature: "untrusted", signer: hostile }), decrypted: null },
    { verdict: verdict({ signature: "sender_mismatch", signer: hostile, from: [{ name: `Boss ${RLO}`, address: `boss${RLO}@example.org` }] }), decrypted: null },
    { verdict: verdict({ signer: hostile, warnings: [{ code: "key_changed" }] }), decrypted: null },
  ];
  for (const reading of readings) {
    const n = noticeFor(describe(reading, { t, date }), reading, t);
    assert.deepEqual(Object.keys(n).sort(), [...NOTICE_TEXTS, "severity"].sort());
    for (const key of NOTICE_TEXTS) assert.equal(n[key], neutralize(n[key]), key);
    assert.ok(["warning", "error"].includes(n.severity));
  }
  // The ones that name the certificate show its hidden characters as markers.
  assertShownSafely("wrong-sender notice", Object.values(noticeFor(describe(readings[1], { t, date }), readings[1], t)).join(" "));
  // A key whose own text holds a hidden character comes out neutralised too (not only the banner's).
  const sneaky = (key, subs) => (key === "label_key_changed" ? `Key changed${RLO}` : t(key, subs));
  sneaky.phrase = t.phrase;
  assert.equal(noticeFor(describe(readings[2], { t, date }), readings[2], sneaky).headline, "Key changed⟨U+202E⟩");
});

test("content.js shows only the notice's neutralised texts; the worker sends only what noticeFor made", () => {
  const script = read("extension/outlook-web/content.js");
  const shown = new Set([...script.matchAll(/\bshown\.(\w+)/g)].map((m) => m[1]));
  // severity only picks a class, key only goes back to the worker; every other field is text on screen.
  for (const field of shown) assert.ok(NOTICE_TEXTS.includes(field) || ["severity", "key"].includes(field), field);
  assert.doesNotMatch(script, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|srcdoc/);
  const worker = read("extension/outlook-web/service-worker.mjs");
  assert.equal([...worker.matchAll(/noticeFor\(/g)].length, 1, "one place makes notices");
  assert.match(worker, /const notice = noticeFor\(describe\(reading, \{ t, date \}\), reading, t\);\n\s*return \{ notice: notice \? \{ \.\.\.notice, key \} : null \};/);
  for (const m of worker.matchAll(/type: "owaNotice", notice([^}]*)\}/g)) assert.equal(m[1].trim(), "", "the notice goes as noticeForTab made it");
});

test("the toolbar button's title names the signer neutralised", () => {
  const look = buttonLook({ verdict: verdict({ signer: hostile }), decrypted: null });
  const title = actionTitle(look, t);
  assertShownSafely("action title", title);
  assert.ok(title.startsWith(`${t("banner_name")}: `));
  assert.equal(actionTitle(null, t), `${t("banner_name")}: ${t("owa_actionTitle")}`);
  assert.equal(actionTitle(checkingLook(), t), neutralize(actionTitle(checkingLook(), t)));
  assert.match(read("extension/outlook-web/service-worker.mjs"), /setTitle\(\{ tabId, title: actionTitle\(look, t\) \}\)/);
});

test("an attachment is saved under its own name with hidden characters shown, no folders, nothing file systems refuse", () => {
  assert.equal(fileName("../../etc/passwd"), "passwd");
  assert.equal(fileName("C:\\x\\report\u202Efdp.exe"), "report⟨U+202E⟩fdp.exe");
  assert.equal(fileName("a\u0000b\u200b.txt"), "a⟨U+0000⟩b⟨U+200B⟩.txt");
  assert.equal(fileName("..."), "attachment");
  assert.equal(fileName(".bashrc"), "bashrc");
  assert.equal(fileName(null, "attachment-2"), "attachment-2");
  assert.equal(fileName('a<b>:"c"|?*.txt'), "a_b___c____.txt");
  assert.equal(fileName("Grüße 😀.pdf"), "Grüße 😀.pdf");
  assert.equal([...fileName("x".repeat(500))].length, 180);
  for (const name of ["report\u202Efdp.exe", "\u2066a\u2069", "x\ud800"]) {
    for (const ch of fileName(name)) assert.ok(!isHidden(ch.codePointAt(0)), name);
  }
});
