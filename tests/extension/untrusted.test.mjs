// Text someone else chose reaches the user only through neutralize (untrusted.mjs): the helper
// itself, that it follows the host's rules, that dom.mjs (the only way views put text on screen)
// applies it, that every view's certificate and header strings come out neutralised when
// rendered, and that no view writes text any other way.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { HIDDEN_RANGES, VARIATION_SELECTORS, isHidden, neutralize } from "../../extension/modules/untrusted.mjs";
import { definitionList, el, setDocumentTitle, setText, text, valueNode } from "../../extension/modules/dom.mjs";
import { describe } from "../../extension/modules/describe.mjs";
import { bannerFor } from "../../extension/modules/banner.mjs";
import { showLook } from "../../extension/modules/header-button.mjs";
import { certificateCard, contactRow, encryptionSummary, importOutcome } from "../../extension/modules/contacts-view.mjs";
import { certLabel, identityName, identityRows, thunderbirdSetup } from "../../extension/modules/identities-view.mjs";
import { composeRecipients, composeView, recipientRows } from "../../extension/modules/recipients.mjs";
import { certName } from "../../extension/modules/look.mjs";
import { dateFormatter } from "../../extension/modules/format.mjs";
import { locales, read, ROOT, strictT } from "./docs.mjs";
import { cert, identity, tbIdentity, verdict } from "./fixtures.mjs";
import { code, CONTENT_DOCUMENT, CONTENT_FRAME, OUTLOOK } from "./sources.mjs";

const t = strictT();
const date = dateFormatter("en");

// ---- a document just big enough for dom.mjs ------------------------------------------------------

class FakeNode {
  constructor(tag) {
    this.tagName = tag;
    this.children = [];
    this.own = "";
    this.className = "";
    this.dataset = {};
  }
  set textContent(value) {
    this.children = [];
    this.own = String(value);
  }
  get textContent() {
    return this.own + this.children.map((c) => (typeof c === "string" ? c : c.textContent)).join("");
  }
  append(...nodes) {
    this.children.push(...nodes);
  }
}
const byIdNodes = new Map();
globalThis.document = {
  title: "",
  createElement: (tag) => new FakeNode(tag),
  getElementById: (id) => byIdNodes.get(id) ?? byIdNodes.set(id, new FakeNode("div")).get(id),
};

// ---- hostile fixtures ----------------------------------------------------------------------------

const RLO = "\u202e";
const HIDDEN_SAMPLES = ["\u202e", "\u2066", "\u200b", "\u200f", "\u00ad", "\u2028", "\ufeff", "\u001b", "\u0085", "\u{e0041}", "\u061c", "\ud800"];
const NAME = `Mallory ${RLO}gpj.exe\u200b\u2066x\u2069\u001b[31m`;
const ADDRESS = `mallory${RLO}gro.elpmaxe@example.org`;
const DISPLAY = `Alice Example ${RLO}\u2028<boss@example.org>`;
const hostileCert = (overrides = {}) => cert({
  subject: `CN=${NAME},O=Evil\u200b Corp`,
  subject_fields: {
    ...cert().subject_fields, common_name: NAME, organization: `Evil\u200b Corp${RLO}`, organizational_unit: `\u2067Sales`,
    title: `Chef\u00ad`, locality: "\ufeffBerlin",
  },
  emails: [ADDRESS],
  issuer: `CN=CA ${RLO}`,
  issuer_fields: { common_name: `Issuing CA ${RLO}`, organization: "\u200bTrust" },
  ...overrides,
});

/** Asserts that `text` shows nothing hidden, and shows the right-to-left override as a marker. */
function assertShownSafely(what, text) {
  for (const ch of text) assert.ok(!isHidden(ch.codePointAt(0)), `${what}: U+${ch.codePointAt(0).toString(16)} reaches the user: ${JSON.stringify(text)}`);
  assert.ok(text.includes("⟨U+202E⟩"), `${what}: the override is not visible: ${text}`);
}

// ---- the helper ----------------------------------------------------------------------------------

test("every class of hidden character becomes a visible marker naming its code point", () => {
  const cases = {
    "\u0000": "⟨U+0000⟩", "\u001b": "⟨U+001B⟩", "\n": "⟨U+000A⟩", "\u007f": "⟨U+007F⟩", "\u0085": "⟨U+0085⟩", "\u009b": "⟨U+009B⟩",
    "\u00ad": "⟨U+00AD⟩", "\u034f": "⟨U+034F⟩", "\u061c": "⟨U+061C⟩", "\u115f": "⟨U+115F⟩", "\u180e": "⟨U+180E⟩",
    "\u200b": "⟨U+200B⟩", "\u200d": "⟨U+200D⟩", "\u200e": "⟨U+200E⟩", "\u200f": "⟨U+200F⟩", "\u2028": "⟨U+2028⟩", "\u2029": "⟨U+2029⟩",
    "\u202a": "⟨U+202A⟩", "\u202e": "⟨U+202E⟩", "\u2060": "⟨U+2060⟩", "\u2064": "⟨U+2064⟩", "\u2066": "⟨U+2066⟩", "\u2069": "⟨U+2069⟩",
    "\u3164": "⟨U+3164⟩", "\ufeff": "⟨U+FEFF⟩", "\ufff9": "⟨U+FFF9⟩", "\u{1d173}": "⟨U+1D173⟩", "\u{e0001}": "⟨U+E0001⟩",
    "\u{e0041}": "⟨U+E0041⟩", "\u{e007f}": "⟨U+E007F⟩", "\ud800": "⟨U+D800⟩", "\udfff": "⟨U+DFFF⟩",
  };
  for (const [ch, marker] of Object.entries(cases)) assert.equal(neutralize(`a${ch}b`), `a${marker}b`, marker);
  assert.equal(neutralize(`evil${RLO}moc.elpmaxe@ecila`), "evil⟨U+202E⟩moc.elpmaxe@ecila", "shown in the order it is stored");
});

test("ordinary text in any script, emoji included, comes back unchanged", () => {
  for (const s of ["Alice Example", "Jürgen Weiß", "محمد", "אבי", "张伟", "Ελένη", "O'Brien, \"Bob\" <b@x.org> ✓", "❤️ ok", "😀", "葛\u{e0100}", ""]) {
    assert.equal(neutralize(s), s);
  }
  assert.equal(neutralize(null), "");
  assert.equal(neutralize(undefined), "");
  assert.equal(neutralize(42), "42");
});

test("a variation selector is kept only right after a visible character", () => {
  assert.equal(neutralize("\u2764\ufe0f"), "\u2764\ufe0f");
  assert.equal(neutralize("\ufe0fa"), "⟨U+FE0F⟩a");
  assert.equal(neutralize("a\ufe00\ufe01"), "a\ufe00⟨U+FE01⟩");
  assert.equal(neutralize("a\u200b\ufe00"), "a⟨U+200B⟩⟨U+FE00⟩");
  assert.equal(neutralize("a\u{e0100}\u{e0101}"), "a\u{e0100}⟨U+E0101⟩");
});

test("the add-on and the host hide exactly the same characters", () => {
  const source = readFileSync(`${ROOT}src/untrusted.rs`, "utf8");
  const body = (fn) => source.slice(source.indexOf(`pub fn ${fn}`)).split("\n}\n")[0];
  const ranges = (text) => [...text.matchAll(/0x([0-9A-Fa-f]+)(?:\.\.=0x([0-9A-Fa-f]+))?/g)]
    .map((m) => [parseInt(m[1], 16), parseInt(m[2] ?? m[1], 16)])
    .sort((a, b) => a[0] - b[0]);
  const merge = (list) => list.reduce((out, [a, b]) => {
    const last = out.at(-1);
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
    return out;
  }, []);
  const hidden = ranges(body("is_hidden"));
  assert.ok(hidden.length >= 15, `found ${hidden.length} ranges in src/untrusted.rs`);
  assert.deepEqual(merge(hidden.map((r) => [...r])), merge(HIDDEN_RANGES.map((r) => [...r])));
  assert.deepEqual(ranges(body("is_variation_selector")), VARIATION_SELECTORS.map((r) => [...r]));
});

test("the add-on's own texts hold nothing the helper would mark, so they pass unchanged", () => {
  for (const [lang, messages] of Object.entries(locales())) {
    for (const [key, { message }] of Object.entries(readJsonLocale(lang))) {
      assert.equal(neutralize(message), message, `${lang} ${key}`);
    }
    assert.ok(Object.keys(messages).length > 100);
  }
});

function readJsonLocale(lang) {
  return JSON.parse(read(`extension/_locales/${lang}/messages.json`));
}

// ---- dom.mjs applies it ------------------------------------------------------------------------

test("every way dom.mjs puts text on screen neutralises it", () => {
  assert.equal(el("span", null, NAME).textContent, neutralize(NAME));
  const node = new FakeNode("p");
  setText(node, ADDRESS);
  assertShownSafely("setText", node.textContent);
  text("some-id", DISPLAY);
  assertShownSafely("text", document.getElementById("some-id").textContent);
  setDocumentTitle(`Signed by ${NAME}`);
  assertShownSafely("document.title", document.title);
  const dl = definitionList([{ label: "Name", value: NAME }, { label: "Fingerprint", value: "AB12 CD34\nEF56 7890", kind: "fingerprint" }]);
  assertShownSafely("definitionList", dl.textContent);
  // A fingerprint keeps its two lines as two elements, not as a line break in the text.
  const fp = valueNode({ value: "AB12 CD34\nEF56 7890", kind: "fingerprint" });
  assert.deepEqual(fp.children.map((c) => c.tagName), ["span", "br", "span"]);
  assert.equal(fp.textContent, "AB12 CD34EF56 7890");
});

// ---- every view, rendered ------------------------------------------------------------------------

/** Renders every string of a view model the way the pages do (el/definitionList), as DOM text. */
function rendered(value) {
  const root = el("div");
  const walk = (v) => {
    if (v === null || v === undefined || typeof v === "boolean" || typeof v === "number") return;
    if (typeof v === "string") root.append(el("span", null, v));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (Array.isArray(v.rows)) {
      root.append(definitionList(v.rows));
      walk({ ...v, rows: null });
    } else Object.values(v).forEach(walk);
  };
  walk(value);
  return root.textContent;
}

test("the details popup shows the certificate's name and address and the From display name neutralised", () => {
  const signer = hostileCert();
  const reading = { verdict: verdict({ signature: "sender_mismatch", signer, from: [{ name: DISPLAY, address: `boss${RLO}@example.org` }],
    problems: [{ code: "sender_mismatch", from: [`boss${RLO}@example.org`], certificate_emails: [ADDRESS] }] }) };
  const view = describe(reading, { t, date });
  const dom = rendered(view);
  assertShownSafely("popup", dom);
  for (const shown of [NAME, ADDRESS, DISPLAY]) assert.ok(dom.includes(neutralize(shown)), `the popup shows ${JSON.stringify(shown)}`);
  const encrypted = describe({ verdict: verdict({ signature: "valid", signer, encryption: "decrypted" }) }, { t, date });
  assertShownSafely("popup, encrypted", rendered(encrypted));
});

test("the header button's tooltip and the banner name the signer neutralised", async () => {
  const reading = { verdict: verdict({ signature: "valid", signer: hostileCert() }) };
  const view = describe(reading, { t, date });
  const titles = [];
  globalThis.browser = { messageDisplayAction: {
    setIcon: async () => {}, setLabel: async () => {}, setBadgeText: async () => {}, setBadgeBackgroundColor: async () => {}, setBadgeTextColor: async () => {},
    setTitle: async ({ title }) => titles.push(title),
  } };
  await showLook(1, view.look, t);
  assert.equal(titles.length, 1);
  assertShownSafely("tooltip", titles[0]);
  // The banner (shown for problems) repeats the headline and the sentence under it: a mismatch
  // names both addresses.
  const mismatch = describe({ verdict: verdict({ signature: "sender_mismatch", signer: hostileCert(), from: [{ name: DISPLAY, address: `boss${RLO}@x.org` }] }) }, { t, date });
  const banner = bannerFor(mismatch, t);
  for (const [key, value] of Object.entries(banner)) for (const ch of typeof value === "string" ? value : "") assert.ok(!isHidden(ch.codePointAt(0)), `banner ${key}: ${value}`);
  assertShownSafely("banner", banner.summary);
  // The banner script sets these with textContent in the message's page, as they are.
  const script = read("extension/banner/banner.js");
  assert.doesNotMatch(script, /innerHTML|insertAdjacentHTML|outerHTML/);
});

test("the compose check shows recipients' names, addresses and certificate names neutralised", () => {
  const display = `Alice ${RLO}\u200b Example`;
  const recipients = composeRecipients({ to: [`"${display}" <${ADDRESS}>`, `List ${RLO} <List>`], cc: [`other${RLO}@example.org`] });
  const rows = recipientRows(recipients, [
    { address: ADDRESS, can_encrypt: true, certificate: hostileCert() },
    { address: `other${RLO}@example.org`, can_encrypt: false, reason: "never_seen" },
  ]);
  const view = composeView({ rows, caps: { canSign: true, canEncrypt: true }, switches: { sign: true, encrypt: false } });
  // As compose/check.mjs builds each row.
  const dom = rendered(view.rows.map((r) => [r.address ?? r.name, r.name, r.certificate ? t("recipient_can_until", [certName(r.certificate) ?? r.address, "?"]) : t(r.status)]));
  assertShownSafely("compose check", dom);
  assert.ok(dom.includes(neutralize(NAME)) && dom.includes(neutralize(display)));
});

test("the contacts page shows names, addresses and certificate fields neutralised", () => {
  const c = { ...hostileCert(), source: "signed_mail", can_encrypt: true, revoked: false, first_seen: "2026-01-01T00:00:00Z", last_seen: "2026-02-01T00:00:00Z" };
  const dom = rendered([
    contactRow({ address: ADDRESS, name: DISPLAY, certificates: 1, latest_expiry: "2028-01-01T00:00:00Z", warnings: [] }, { t, date }),
    certificateCard(c, { t, date }),
    encryptionSummary({ can_encrypt: true, certificate: c }, { t, date }),
    importOutcome({ imported: 1, addresses: [ADDRESS], continuity: [{ event: "key_changed", address: ADDRESS }] }, { t }),
  ]);
  assertShownSafely("contacts page", dom);
  assert.ok(dom.includes(neutralize(NAME)) && dom.includes(neutralize(ADDRESS)) && dom.includes(neutralize(DISPLAY)));
});

test("My certificates shows your certificates' names and addresses neutralised", () => {
  const mine = identity({ emails: [ADDRESS], subject: `CN=${NAME}`, issuer: `CN=CA ${RLO}`,
    certificate: hostileCert({ subject_fields: { ...hostileCert().subject_fields, common_name: NAME } }) });
  const dom = rendered([
    identityName(mine), certLabel(mine),
    identityRows(mine, { t, date, day: date, identities: [mine] }),
    thunderbirdSetup(tbIdentity(ADDRESS), { identities: [mine], module: "loaded" }).steps.map((s) => t(s.key, s.subs)),
  ]);
  assertShownSafely("My certificates", dom);
  assert.ok(dom.includes(neutralize(NAME)) && dom.includes(neutralize(ADDRESS)));
});

// ---- and no view writes text another way ---------------------------------------------------------

test("no view puts text or markup on screen except through dom.mjs", () => {
  // dom.mjs is the sink that neutralises; page-i18n.mjs sets only the add-on's own texts; the
  // banner script (in the message's page, no modules) gets texts bannerFor has neutralised.
  // The Outlook extension's: its content script (in Outlook's page, no modules) gets texts
  // noticeFor has neutralised (outlook-view.test.mjs), and the reader's content frame shows a
  // message's content as a document sanitize.mjs made (sources.mjs, content.test.mjs).
  const allowed = new Set(["modules/dom.mjs", "modules/page-i18n.mjs", "banner/banner.js", "outlook-web/content.js", CONTENT_DOCUMENT]);
  const allowedLines = new Map([[CONTENT_FRAME, ["frame.srcdoc = doc.html;"]]]);
  for (const path of [...allowed, ...allowedLines.keys()].filter((p) => !["modules/dom.mjs", "modules/page-i18n.mjs", "banner/banner.js"].includes(p))) {
    assert.ok(path.startsWith(OUTLOOK), `${path}: the Thunderbird add-on's files have no exception`);
  }
  const sinks = /\.(textContent|innerText|outerText|nodeValue|title)\s*=[^=]|innerHTML|outerHTML|insertAdjacentHTML|insertAdjacentText|document\.write|createTextNode|srcdoc|\.data\s*=[^=]/;
  const found = [];
  for (const { path: name, text } of code()) {
    text.split("\n").forEach((line, i) => {
      if (line.trim().startsWith("*")) return;
      if (sinks.test(line) && !allowed.has(name) && !(allowedLines.get(name) ?? []).includes(line.trim())) found.push(`${name}:${i + 1}: ${line.trim()}`);
      // A toolbar button's title names the signer: neutralised where it is made (actionTitle is tested to).
      if (/setTitle\(/.test(line) && !/neutralize\(|actionTitle\(/.test(line)) found.push(`${name}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(found, []);
  // Nothing anywhere builds markup from strings; the reader's document maker parses (DOMParser)
  // and serialises its own document (outerHTML), nothing else.
  for (const { path, text } of code()) {
    const pattern = path === CONTENT_DOCUMENT ? /innerHTML|insertAdjacentHTML|document\.write|createContextualFragment/ : /innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment/;
    assert.doesNotMatch(text, pattern, path);
  }
});
