// A message's content, decrypted or not, never reaches a place in the add-on where it could load
// anything or run anything. CBC ciphertext can be altered undetected (EFAIL's gadgets), so this
// must hold by construction: the add-on asks the host for verdicts only and drops any content,
// its pages may load nothing but their own files (content security policy), and no code builds
// markup, frames or plugin objects. docs/INSPECT.md ("Decrypted content") says the same.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { inspect } from "../../extension/modules/inspector.mjs";
import { Op, PAGE_OPS } from "../../extension/modules/ops.mjs";
import { read, readJson, ROOT } from "./docs.mjs";

function files(dir, pattern) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path, pattern);
    return pattern.test(name) ? [path] : [];
  });
}
const EXT = `${ROOT}extension`;
const code = () => files(EXT, /\.m?js$/).map((path) => ({ path: path.slice(EXT.length + 1), text: readFileSync(path, "utf8") }));

test("the add-on's pages may load and run only the add-on's own files", () => {
  const csp = readJson("extension/manifest.json").content_security_policy?.extension_pages;
  assert.ok(csp, "manifest.json sets content_security_policy.extension_pages");
  const directives = Object.fromEntries(csp.split(";").map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([name, ...values]) => [name, values]));
  assert.deepEqual(directives["default-src"], ["'none'"], "whatever is not named is refused");
  for (const name of ["script-src", "style-src", "img-src"]) assert.deepEqual(directives[name], ["'self'"], name);
  for (const name of ["object-src", "frame-src", "child-src", "worker-src", "connect-src", "media-src", "font-src", "base-uri", "form-action"]) {
    assert.deepEqual(directives[name], ["'none'"], name);
  }
  assert.doesNotMatch(csp, /unsafe|https?:|data:|blob:|\*/, "no inline code, eval, remote or generated sources");
});

test("the pages hold no inline code or styles, frames, plugin objects or base URLs", () => {
  for (const path of files(EXT, /\.html$/)) {
    const html = readFileSync(path, "utf8");
    assert.doesNotMatch(html, /<(iframe|frame|object|embed|base|meta\s+http-equiv)\b/i, path);
    assert.doesNotMatch(html, /<style\b|\sstyle=|\son[a-z]+=|javascript:/i, path);
    for (const script of html.matchAll(/<script\b[^>]*>/gi)) assert.match(script[0], /type="module" src="[a-z-]+\.mjs"/, `${path}: ${script[0]}`);
    for (const link of html.matchAll(/\b(?:href|src)="([^"]+)"/g)) assert.doesNotMatch(link[1], /^[a-z]+:|^\/\//i, `${path}: ${link[1]}`);
  }
});

test("no code builds markup, frames or plugin objects, evaluates strings or points an element at a generated URL", () => {
  for (const { path, text } of code()) {
    assert.doesNotMatch(text, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment|srcdoc/, path);
    assert.doesNotMatch(text, /(?:createElement|\bel)\(\s*["'`](iframe|frame|object|embed|script|link|base|a|img|video|audio)["'`]/, path);
    assert.doesNotMatch(text, /\beval\(|new Function\(|set(Timeout|Interval)\(\s*["'`]/, path);
    // Elements get a source only from the add-on's own icons.
    for (const m of text.matchAll(/\.(src|href)\s*=([^;]*)/g)) assert.match(m[2], /iconPaths\(/, `${path}: ${m[0]}`);
  }
  // Generated URLs only hand the add-on's own exports to the downloads API (Save As).
  const blobs = code().filter(({ text }) => /createObjectURL/.test(text)).map(({ path }) => path);
  assert.deepEqual(blobs, ["modules/save-file.mjs"]);
  assert.match(read("extension/modules/save-file.mjs"), /downloads\.download\(\{ url, filename: name, saveAs: true/);
});

test("the add-on never asks for a message's content and drops any that comes back", async () => {
  const requests = [];
  const port = {
    ready: async () => {},
    // A host that (wrongly) sends content along, and has no key, so Thunderbird's decrypted copy is asked too.
    requestWithPayload: async (op, params) => {
      requests.push({ op, params });
      const state = params.decrypted_by_thunderbird ? "none" : "no_key";
      return { signature: { state: "none" }, encryption: { state }, message: {}, content: { mime_b64: "PGltZyBzcmM9aHR0cDovL2V2aWwvPg==" } };
    },
  };
  const raw = (text) => ({ arrayBuffer: async () => new TextEncoder().encode(text).buffer });
  globalThis.browser = { messages: { getRaw: async (_id, { decrypt }) => raw(decrypt ? "clear" : "cipher") } };
  const reading = await inspect(port, 7);
  assert.equal(requests.length, 2, "the raw message and Thunderbird's decrypted copy");
  for (const { op, params } of requests) {
    assert.equal(op, Op.inspectMessage);
    assert.equal(params.return_content, false);
  }
  assert.equal(reading.verdict.content, null);
  assert.equal(reading.decrypted.content, null);
  // Pages cannot ask for it through the background either.
  for (const op of [Op.inspectMessage, Op.transferBegin, Op.transferChunk]) assert.ok(!PAGE_OPS.has(op), op);
});
