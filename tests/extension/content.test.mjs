// A message's content, decrypted or not, never reaches a place in the add-on where it could load
// anything or run anything. CBC ciphertext can be altered undetected (EFAIL's gadgets), so this
// must hold by construction: the add-on asks the host for verdicts only and drops any content,
// its pages may load nothing but their own files (content security policy), and no code builds
// markup, frames or plugin objects. docs/INSPECT.md ("Decrypted content") says the same.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, normalize } from "node:path";
import { inspect } from "../../extension/modules/inspector.mjs";
import { Op, PAGE_OPS } from "../../extension/modules/ops.mjs";
import { FRAME_CSP, FRAME_SANDBOX } from "../../extension/outlook-web/modules/sanitize.mjs";
import { read, readJson } from "./docs.mjs";
import { code, CONTENT_DOCUMENT, CONTENT_FRAME, EXT, OUTLOOK, sourceFiles, withoutComments } from "./sources.mjs";

/** A policy's directives: {name: [values]}. */
const directives = (csp) => Object.fromEntries(csp.split(";").map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([name, ...values]) => [name, values]));

test("the add-on's pages may load and run only the add-on's own files", () => {
  const csp = readJson("extension/manifest.json").content_security_policy?.extension_pages;
  assert.ok(csp, "manifest.json sets content_security_policy.extension_pages");
  const d = directives(csp);
  assert.deepEqual(d["default-src"], ["'none'"], "whatever is not named is refused");
  for (const name of ["script-src", "style-src", "img-src"]) assert.deepEqual(d[name], ["'self'"], name);
  for (const name of ["object-src", "frame-src", "child-src", "worker-src", "connect-src", "media-src", "font-src", "base-uri", "form-action"]) {
    assert.deepEqual(d[name], ["'none'"], name);
  }
  assert.doesNotMatch(csp, /unsafe|https?:|data:|blob:|\*/, "no inline code, eval, remote or generated sources");
});

test("the Outlook extension's pages run only its own code; only the worker reaches the web, only the content frame shows inline images and styles", () => {
  const csp = readJson("extension/outlook-web/manifest.json").content_security_policy?.extension_pages;
  assert.ok(csp, "outlook-web/manifest.json sets content_security_policy.extension_pages");
  assert.deepEqual(directives(csp), {
    "default-src": ["'none'"],
    "script-src": ["'self'"],
    // The reader's content frame (a srcdoc document, which inherits this policy) shows the
    // message's inline styles and its own inline images (data:); the pages themselves hold no
    // inline style (the HTML rule below) and no code builds markup.
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    // The service worker fetches messages from Graph, the sign-in service and EWS on premises:
    // https hosts the settings name (IT's on-premises servers and national clouds are any host).
    "connect-src": ["'self'", "https:"],
    "object-src": ["'none'"], "frame-src": ["'none'"], "child-src": ["'none'"], "worker-src": ["'none'"], "media-src": ["'none'"],
    "font-src": ["'none'"], "manifest-src": ["'none'"], "base-uri": ["'none'"], "form-action": ["'none'"],
  });
  assert.doesNotMatch(csp, /unsafe-eval|wasm|http:|blob:|\*/, "no eval, plain http, generated or wildcard sources");
  // The frame narrows it further by its own policy: nothing remote at all.
  assert.doesNotMatch(FRAME_CSP, /https?:|\*|blob:|script-src|unsafe-eval/);
});

test("the pages hold no inline code or styles, frames, plugin objects or base URLs, and load only the extension's own modules", () => {
  for (const path of sourceFiles(/\.html$/)) {
    const html = readFileSync(`${EXT}/${path}`, "utf8");
    assert.doesNotMatch(html, /<(iframe|frame|object|embed|base|meta\s+http-equiv)\b/i, path);
    assert.doesNotMatch(html, /<style\b|\sstyle=|\son[a-z]+=|javascript:/i, path);
    for (const script of html.matchAll(/<script\b[^>]*>/gi)) {
      // A module of its own folder, or a shared one from extension/modules/.
      const m = script[0].match(/^<script type="module" src="((?:\.\.\/modules\/)?[a-z-]+\.mjs)"><?/);
      assert.ok(m, `${path}: ${script[0]}`);
      assert.ok(existsSync(normalize(`${EXT}/${dirname(path)}/${m[1]}`)), `${path}: ${m[1]}`);
    }
    for (const link of html.matchAll(/\b(?:href|src)="([^"]+)"/g)) assert.doesNotMatch(link[1], /^[a-z]+:|^\/\//i, `${path}: ${link[1]}`);
  }
});

test("no code builds markup, frames or plugin objects, evaluates strings or points an element at a generated URL", () => {
  // The content frame's two files are allowed exactly what the exception needs, and nothing else.
  const allowed = {
    [CONTENT_DOCUMENT]: ["DOMParser", "outerHTML"],
    [CONTENT_FRAME]: ["srcdoc", "iframe"],
  };
  for (const path of Object.keys(allowed)) assert.ok(path.startsWith(OUTLOOK), "the exception is the Outlook extension's");
  for (const { path, text } of code()) {
    const may = allowed[path] ?? [];
    for (const m of text.matchAll(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment|srcdoc/g)) {
      assert.ok(may.includes(m[0]), `${path}: ${m[0]}`);
    }
    for (const m of text.matchAll(/(?:createElement|\bel)\(\s*["'`](iframe|frame|object|embed|script|link|base|a|img|video|audio)["'`]/g)) {
      assert.ok(may.includes(m[1]), `${path}: ${m[0]}`);
    }
    assert.doesNotMatch(text, /\beval\(|new Function\(|set(Timeout|Interval)\(\s*["'`]/, path);
    // Elements get a source only from the add-on's own icons.
    for (const m of text.matchAll(/\.(src|href)\s*=(?!=)([^;]*)/g)) assert.match(m[2], /iconPaths\(/, `${path}: ${m[0]}`);
  }
  // Generated URLs only hand the add-on's own exports (and the reader's attachments) to the downloads API (Save As).
  const blobs = code().filter(({ text }) => /createObjectURL/.test(text)).map(({ path }) => path);
  assert.deepEqual(blobs, ["modules/save-file.mjs"]);
  assert.match(read("extension/modules/save-file.mjs"), /downloads\.download\(\{ url, filename: name, saveAs: true/);
});

test("the one place that shows markup: the reader's sandboxed content frame, only with sanitize.mjs's documents", () => {
  const reader = withoutComments(read(`extension/${CONTENT_FRAME}`));
  // One frame, made in one function, which is handed nothing but what sanitize.mjs made.
  assert.equal([...reader.matchAll(/(?:createElement|\bel)\(\s*["'`]iframe/g)].length, 1);
  assert.equal([...reader.matchAll(/srcdoc/g)].length, 1);
  const frame = reader.slice(reader.indexOf("function contentFrame(doc, kind) {"));
  assert.ok(frame.length < reader.length, "contentFrame(doc, kind)");
  const body = frame.slice(0, frame.indexOf("\n}\n"));
  assert.match(body, /frame\.setAttribute\("sandbox", FRAME_SANDBOX\);/);
  assert.match(body, /frame\.setAttribute\("csp", FRAME_CSP\);/);
  assert.match(body, /frame\.srcdoc = doc\.html;/);
  const calls = [...reader.matchAll(/contentFrame\(([^)]*)\)/g)].map((m) => m[1]);
  assert.deepEqual(calls, ["doc, block.kind", "doc, kind"], "called once, and defined");
  assert.match(reader, /const doc = block\.kind === "html" \? sanitizeHtml\(block\.text, \{ inline \}\) : textDocument\(block\.text\);/);
  assert.match(reader, /import \{ FRAME_CSP, FRAME_SANDBOX, sanitizeHtml, textDocument \} from "\.\/modules\/sanitize\.mjs";/);
  // The sandbox: no scripts, no same origin (so no reaching into the reader), no forms, no navigating it.
  for (const token of FRAME_SANDBOX.split(" ")) assert.ok(["allow-popups", "allow-popups-to-escape-sandbox"].includes(token), token);
  // Only the reader imports the sanitiser.
  const importers = code().filter(({ text }) => /modules\/sanitize\.mjs/.test(text)).map(({ path }) => path);
  assert.deepEqual(importers, [CONTENT_FRAME]);
});

test("the Outlook extension asks for a message's content only for its reader page, which only the extension's own pages reach", () => {
  const worker = read("extension/outlook-web/service-worker.mjs");
  assert.equal([...worker.matchAll(/return_content: true/g)].length, 1);
  assert.match(worker.slice(worker.indexOf("async function readerContent(")).split("\n}\n")[0], /return_content: true, harvest: false/);
  const handle = worker.slice(worker.indexOf("function handle(request, sender) {"));
  const ownPagesOnly = handle.indexOf("if (!fromOwnPage(sender)) return undefined;");
  assert.ok(ownPagesOnly > 0 && handle.indexOf('case "readerContent"') > ownPagesOnly, "Outlook's page (the content script) cannot ask for it");
  assert.equal([...worker.matchAll(/readerContent\(/g)].length, 2, "defined once, called once");
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
