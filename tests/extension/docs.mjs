// Reads the codes that docs/PROTOCOL.md and docs/INSPECT.md define, so tests can check that the
// add-on has a text for each. The docs are the contract with the host.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const read = (path) => readFileSync(ROOT + path, "utf8");
export const readJson = (path) => JSON.parse(read(path));

const IDENT = /`([a-z0-9_]+)`/g;

/** Every `snake_case` code in backticks in a piece of text, in order. */
export function backticked(text) {
  return [...text.matchAll(IDENT)].map((m) => m[1]);
}

/** The text from a heading line that starts with `start` up to the next heading of any level. */
export function section(doc, start) {
  const lines = doc.split("\n");
  const from = lines.findIndex((l) => l.startsWith(start));
  if (from < 0) throw new Error(`no section ${start}`);
  const to = lines.findIndex((l, i) => i > from && /^#{1,6} /.test(l));
  return lines.slice(from + 1, to < 0 ? undefined : to).join("\n");
}

/** Table rows of a piece of markdown as arrays of trimmed cells (header and rule rows skipped). */
export function rows(text) {
  return text
    .split("\n")
    .filter((l) => l.startsWith("|") && !/^\|[\s|:-]+\|$/.test(l))
    .map((l) => l.slice(1, -1).split("|").map((c) => c.trim()))
    .slice(1);
}

/** The first cell that is exactly one backticked code, per row. */
export function codeColumn(text) {
  return rows(text).map((cells) => cells.find((c) => /^`[a-z0-9_]+`$/.test(c))?.slice(1, -1)).filter(Boolean);
}

/** The host's error codes: the table between <!-- errors:begin --> and <!-- errors:end -->. */
export function protocolErrorCodes() {
  const doc = read("docs/PROTOCOL.md");
  const table = doc.split("<!-- errors:begin -->")[1].split("<!-- errors:end -->")[0];
  return codeColumn(table);
}

/** The codes docs/INSPECT.md defines, by kind. */
export function inspectCodes() {
  const doc = read("docs/INSPECT.md");
  const stateText = section(doc, "### `signature.state`");
  const signatureStates = codeColumn(stateText);
  const mismatchRow = rows(stateText).find((cells) => cells.includes("`sender_mismatch`"));
  const problemText = section(doc, "### Problem codes");
  const reasonRow = rows(problemText).find((cells) => cells[0] === "`reason`")[1];
  // "`malformed`: `a`, `b`; `untrusted`: …": the codes before a colon are states, not reasons.
  const labels = new Set([...reasonRow.matchAll(/`([a-z0-9_]+)`:/g)].map((m) => m[1]));
  const reasons = [
    ...backticked(reasonRow).filter((c) => !labels.has(c)),
    ...backticked(mismatchRow.at(-1)).filter((c) => c !== "reason"),
  ];
  const encText = section(doc, "### `encryption.state`");
  const [encStates, encWarningsText] = encText.split("`encryption.warnings`");
  const failuresOf = (state) => backticked(rows(encStates).find((cells) => cells[0] === `\`${state}\``)[1]).filter((c) => c !== "failure");
  const layersText = section(doc, "### `signature.layers[]`");
  const certText = section(doc, "### CertSummary");
  const revocationText = section(doc, "### Revocation");
  const sentence = (text, start) => text.slice(text.indexOf(start)).split(/\.\s/)[0];
  const validationText = certText.slice(certText.indexOf("`validation.type`"), certText.indexOf("`generation`"));
  return {
    signatureStates,
    signatureWarnings: codeColumn(section(doc, "### `signature.warnings`")),
    reasons: [...new Set(reasons)],
    encryptionStates: codeColumn(encStates),
    encryptionWarnings: codeColumn(encWarningsText),
    encryptionFailures: [...failuresOf("failed"), ...failuresOf("unsupported")],
    unsupportedFailures: failuresOf("unsupported"),
    positions: backticked(sentence(layersText, "`position` is")).filter((c) => c !== "position"),
    anchors: backticked(sentence(layersText, "`anchor` is")).filter((c) => c !== "anchor"),
    revocations: [...new Set(backticked(sentence(revocationText, "`status` is")).filter((c) => c !== "status"))],
    unknownRevocationReasons: codeColumn(revocationText.slice(revocationText.indexOf("| reason | meaning |"))),
    revocationMethods: backticked(rows(revocationText).find((cells) => cells[0] === "`method`")[1]),
    revocationSources: backticked(rows(revocationText).find((cells) => cells[0] === "`source`")[1]),
    crlReasons: backticked(rows(problemText).find((cells) => cells[0].includes("`revocation_reason`"))[1]).filter((c) => c !== "revoked"),
    validationTypes: backticked(validationText).filter((c) => c !== "validation"),
  };
}

/** en and de messages as {key: text}. */
export function locales() {
  const load = (lang) =>
    Object.fromEntries(Object.entries(readJson(`extension/_locales/${lang}/messages.json`)).map(([k, v]) => [k, v.message]));
  return { en: load("en"), de: load("de") };
}

/** A `t` like the add-on's, over the English messages, that fails on a missing key. */
export function strictT(messages = locales().en) {
  const t = (key, subs = []) => {
    if (!(key in messages)) throw new Error(`missing message ${key}`);
    return messages[key].replace(/\$(\d)/g, (_, n) => subs[n - 1] ?? "");
  };
  t.count = (key, n, subs = []) => t(`${key}_${n === 1 ? "one" : "other"}`, [n, ...subs]);
  t.phrase = ({ key, subs = [], count, extra = [] }) =>
    [count === undefined ? t(key, subs) : t.count(key, count, subs), ...extra.map((k) => t(k))].join(" ");
  return t;
}

/** The codes docs/CONTACTS.md defines: recipient reasons and history events. */
export function contactCodes() {
  const doc = read("docs/CONTACTS.md");
  const reasons = codeColumn(section(doc, "## Choosing the certificate to encrypt to"));
  const continuity = section(doc, "## Continuity");
  const history = continuity.slice(continuity.indexOf("The history (")).split(")")[0];
  return { reasons, historyEvents: backticked(history) };
}

/** The ops in docs/PROTOCOL.md's op table. */
export function protocolOps() {
  const doc = read("docs/PROTOCOL.md");
  const table = doc.split("<!-- ops:begin -->")[1].split("<!-- ops:end -->")[0];
  return codeColumn(table);
}
