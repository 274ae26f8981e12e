// The reader's sanitiser (extension/outlook-web/modules/sanitize.mjs) against hostile HTML and
// CSS, with a WHATWG HTML parser in node (html-parser.mjs). The browser suite runs the same cases
// (tests/outlook-web/hostile-html.mjs) through Chromium's parser and shows each in the reader's
// sandboxed frame while every request is logged.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ATTRIBUTES, cssTokens, ELEMENTS, FRAME_CSP, FRAME_SANDBOX, MAX_CSS, safeCss, safeHref, safeImageSource, safeStyleAttribute,
  sanitizeHtml, textDocument,
} from "../../extension/outlook-web/modules/sanitize.mjs";
import { FRIENDLY_HTML, HOSTILE_HTML, violations } from "../outlook-web/hostile-html.mjs";
import { parse, parser } from "./html-parser.mjs";

const RULES = { frameCsp: FRAME_CSP, elements: [...ELEMENTS], attributes: [...ATTRIBUTES] };
const LOGO = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
const inline = new Map([["logo@x", { url: LOGO }], ["page@x", { url: "data:text/html;base64,PHNjcmlwdD4=" }]]);
const sanitized = (html) => sanitizeHtml(html, { inline, parser });

// ---- the HTML --------------------------------------------------------------------------------------

for (const [name, html] of HOSTILE_HTML) {
  test(`hostile HTML leaves nothing that loads, runs, submits or navigates: ${name}`, () => {
    const { html: out } = sanitized(html);
    assert.deepEqual(violations(parse(out), RULES), [], out.slice(0, 2000));
  });
}

test("the hostile cases are hostile: unsanitised, each one breaks the rules", () => {
  // Without this, a case the parser reads differently than meant would test nothing.
  for (const [name, html] of HOSTILE_HTML) {
    assert.notDeepEqual(violations(parse(html), RULES), [], name);
  }
});

test("what would have been loaded is counted, so the reader can say so", () => {
  const count = (html) => sanitized(html).blocked;
  assert.equal(count(`<img src="https://remote.test/a.png"><img src="${LOGO}">`), 1);
  assert.equal(count(`<p style="background: url(https://remote.test/b.png)">x</p>`), 1);
  assert.equal(count(`<style>@import "https://remote.test/c.css"; p { background: url(https://remote.test/d.png) }</style>`), 2);
  assert.equal(count(`<iframe src="https://remote.test/f"></iframe><video poster="https://remote.test/p.png"></video><img srcset="https://remote.test/s.png 2x" src="${LOGO}">`), 3);
  assert.equal(count("<p>nothing remote</p><a href=\"https://example.org/\">a link is not loaded</a>"), 0);
});

test("a legitimate message keeps its text, formatting, links and its own inline images", () => {
  const { html, blocked } = sanitized(FRIENDLY_HTML);
  assert.equal(blocked, 0);
  const doc = parse(html);
  assert.deepEqual(violations(doc, RULES), []);
  assert.equal(doc.querySelector("h1").textContent, "Grüße, Bob");
  assert.equal(doc.querySelector("p.note").getAttribute("style"), "color: green; font-weight: bold");
  assert.equal(doc.querySelector("td").getAttribute("bgcolor"), "#eeeeee");
  assert.equal(doc.querySelector("a").getAttribute("href"), "https://example.org/info");
  assert.equal(doc.querySelector("img").getAttribute("src"), LOGO);
  // The message's own style sheet, child combinators and @media included.
  const sheet = [...doc.head.querySelectorAll("style")].map((s) => s.textContent).join("\n");
  assert.match(sheet, /div > p\{margin: 0\}/);
  assert.match(sheet, /\.note\{color: #555\}/);
  assert.match(sheet, /@media \(max-width: 600px\)\{p\{font-size: 12px\}\}/);
  // Content is content: bidirectional marks, joiners and non-joiners of real scripts stay as they are.
  assert.ok(doc.body.textContent.includes("שלום\u200f עולם"));
  assert.ok(doc.body.textContent.includes("فارسی\u200cنویسی 👨\u200d👩\u200d👧"));
});

test("an inline image named by cid: is shown only when the part is a raster image", () => {
  const doc = parse(sanitized(`<img src="cid:logo@x"><img src="cid:page@x"><img src="cid:%3Clogo@x%3E"><img src="cid:unknown@x">`).html);
  assert.deepEqual([...doc.querySelectorAll("img")].map((i) => i.getAttribute("src")), [LOGO, null, LOGO, null]);
});

test("nesting deeper than the parser's own limit is flattened, not recursed into, and takes linear time", () => {
  // A tree deeper than any parser builds (Chromium's stops nesting at 512; jsdom's own parser
  // would recurse), made by hand: 100,000 <div>s around a <b>.
  const element = (localName, childNodes = []) => ({ nodeType: 1, localName, namespaceURI: "http://www.w3.org/1999/xhtml", attributes: [], childNodes, getAttribute: () => null });
  let tree = element("b", [{ nodeType: 3, data: "deep" }]);
  for (let i = 0; i < 100_000; i++) tree = element("div", [tree]);
  const deep = { parseFromString: (html) => (html === "" ? parser.parseFromString("", "text/html") : { body: element("body", [tree]) }) };
  const started = performance.now();
  const doc = parse(sanitizeHtml("deep", { parser: deep }).html);
  assert.ok(performance.now() - started < 30_000, "a generous bound: a blow-up must fail");
  assert.equal(doc.body.textContent, "deep", "the text stays");
  assert.equal(doc.querySelectorAll("div").length, 200, "elements past 200 levels are replaced by their content");
  assert.equal(doc.querySelector("b"), null);
});

test("every document begins with its policy: nothing remote, no scripts, no base URL, no form target", () => {
  const directives = Object.fromEntries(FRAME_CSP.split(";").map((d) => d.trim().split(/\s+/)).map(([n, ...v]) => [n, v]));
  assert.deepEqual(directives, {
    "default-src": ["'none'"],
    "img-src": ["data:"],
    "style-src": ["'unsafe-inline'"],
    "base-uri": ["'none'"],
    "form-action": ["'none'"],
  });
  for (const { html } of [sanitized("<p>x</p>"), textDocument("x", { parser })]) {
    const first = parse(html).head.firstElementChild;
    assert.equal(first.getAttribute("http-equiv"), "Content-Security-Policy");
    assert.equal(first.getAttribute("content"), FRAME_CSP);
  }
});

test("the frame's sandbox runs no scripts and gives no origin; only links may open, outside it", () => {
  assert.deepEqual(FRAME_SANDBOX.split(" ").sort(), ["allow-popups", "allow-popups-to-escape-sandbox"]);
});

test("a plain text body is shown as text in a document of its own, markup and all", () => {
  const text = "Hello <img src=https://remote.test/x.png> & <script>fetch('https://remote.test/')</script>\n\u202eline two\u200d";
  const doc = parse(textDocument(text, { parser }).html);
  assert.equal(doc.querySelector("pre").textContent, text);
  assert.equal(doc.body.querySelectorAll("*").length, 1);
  assert.equal(doc.querySelectorAll("img, script").length, 0);
});

// ---- the CSS ---------------------------------------------------------------------------------------

test("style sheets keep rules, @media and declarations without anything to load", () => {
  const blocked = { count: 0 };
  const css = safeCss("@import url(https://x/a.css); body { background: url('https://x/bg.png'); color: red } div > p { margin: 0 !important } @media print { p { color: blue } }", blocked);
  assert.equal(css, "body{color: red}\ndiv > p{margin: 0 !important}\n@media print{p{color: blue}}");
  assert.equal(blocked.count, 2);
  const inlineImage = "p{background: url(data:image/png;base64,iVBORw0KGgo=)}";
  assert.equal(safeCss(inlineImage), inlineImage, "an inline image stays");
  assert.equal(safeCss(`p{background: url("data:image/png;base64,iVBORw0KGgo=")}`), `p{background: url("data:image/png;base64,iVBORw0KGgo=")}`);
  assert.equal(safeCss("p{scroll-behavior: smooth; color: rgb(1 2 3)}"), "p{scroll-behavior: smooth; color: rgb(1 2 3)}");
});

test("CSS written with escapes, or naming anything to load however spelled, does not stay", () => {
  const cases = [
    "p { background: \\75 rl(https://x/y.png) }", "p { background: u\\rl(https://x/y.png) }", "p { background: \\000075rl(https://x) }",
    "p { background: URL(https://x/y.png) }", "p { background: url(  https://x/y.png  ) }", "p { background: url( 'https://x/y.png' ) }",
    "p { background: image-set('https://x/y.png' 1x) }", "p { background: -webkit-image-set(url(https://x) 1x) }",
    "p { background: image('https://x/y.png') }", "p { background: src('https://x/y.png') }", "p { width: expression(alert(1)) }",
    "p { background: -webkit-cross-fade(url(https://x/a), url(https://x/b), 50%) }", "p { background: paint(x) }",
    "p { behavior: url(https://x/b.htc) }", "p { -moz-binding: url(https://x/x.xml#x) }",
    "@font-face { font-family: x; src: url(https://x/f.woff) }", "@namespace url(https://x)", "@import 'https://x/a.css';",
    "p { --x: url(https://x/v.png); background: var(--x) }", "p { background: url(data:text/html,x) }",
    "p { background: url(data:image/svg+xml;base64,PHN2Zz4=) }", "p { content: '</style><img src=https://x/y.png>' }",
    "p { color: red } </style><img src=https://x/y.png>", "<!-- p { color: red } -->",
    "p { background: url(https://x/a b) }", "p { background: url('https://x/\n') }",
    "p { color: red; background: url(https://x/y.png", "p { color: red; } q { background: url(https://x/y.png)",
  ];
  for (const css of cases) {
    const out = safeCss(css);
    assert.doesNotMatch(out, /https?:|\\|<|expression|binding|behavior|image|src\(|paint|@/i, `${JSON.stringify(css)} -> ${JSON.stringify(out)}`);
  }
  const attr = safeStyleAttribute("color: red; background: url(https://x/y.png); width: expression(1); font-family: \\5FAE\\8F6F");
  assert.equal(attr, "color: red");
});

test("comments separate tokens and are dropped: they cannot hide or make a url()", () => {
  assert.equal(safeCss("p { color: /* url(https://x) */ red }"), "p{color:   red}");
  assert.equal(safeCss("p { background: url(/**/https://x/y.png) }"), "");
  assert.equal(safeCss("p { background:/**/url(https://x/y.png) }"), "");
  assert.equal(safeCss("p { background: u/**/rl(https://x/y.png) }"), "");
});

test("the tokenizer reads strings, urls, escapes and comments as CSS Syntax Level 3 does", () => {
  const types = (css) => cssTokens(css).map((t) => t.type + (t.name ? `:${t.name}` : ""));
  assert.deepEqual(types("url(x)"), ["url"]);
  assert.deepEqual(types("url( 'x' )"), ["function:url", "ws", "string", "ws", ")"]);
  assert.deepEqual(types("url(x y)"), ["bad-url"]);
  assert.deepEqual(types("url(x\"y)"), ["bad-url"]);
  assert.equal(cssTokens("'a\nb'")[0].type, "bad-string");
  assert.ok(cssTokens("\\75 rl(x)")[0].escaped);
  assert.equal(cssTokens("\\75 rl(x)")[0].type, "url", "an escaped url( is still a url");
  assert.deepEqual(types("/* a */b"), ["comment", "ident"]);
  assert.deepEqual(types("@media"), ["at:media"]);
  assert.deepEqual(types("<!-- -->"), ["cdo", "ws", "cdc"]);
  assert.deepEqual(types("-webkit-image-set("), ["function:-webkit-image-set"]);
  assert.deepEqual(types("12.5e3px 50%"), ["number", "ws", "number"]);
});

test("style text is read in linear time and dropped whole past MAX_CSS", () => {
  const started = performance.now();
  for (const css of ["url(".repeat(50_000), "/*".repeat(50_000), "(".repeat(50_000), "p{".repeat(50_000), `${"a".repeat(200_000)}{b:c}`, "'".repeat(100_000)]) {
    safeCss(css);
    safeStyleAttribute(css);
  }
  assert.ok(performance.now() - started < 20_000, "a generous bound: a blow-up must fail");
  assert.equal(safeCss(`p{color:red}${" ".repeat(MAX_CSS)}`), "");
});

// ---- links and images -----------------------------------------------------------------------------

test("links go only to the web or to mail; images only from the message itself", () => {
  assert.equal(safeHref("https://example.org/a?b"), "https://example.org/a?b");
  assert.equal(safeHref("mailto:alice@example.org"), "mailto:alice@example.org");
  for (const bad of ["javascript:alert(1)", " JAVASCRIPT:x", "java\tscript:x", "data:text/html,<script>", "file:///etc/passwd", "chrome-extension://x/y", "//example.org/", "relative", "", null]) {
    assert.equal(safeHref(bad), null, String(bad));
  }
  const blocked = { count: 0 };
  assert.equal(safeImageSource("cid:logo@x", inline, blocked), LOGO);
  assert.equal(safeImageSource("cid:%3Clogo@x%3E", inline, blocked), LOGO);
  assert.equal(safeImageSource("cid:page@x", inline, blocked), null, "a part that is not a raster image");
  assert.equal(safeImageSource("cid:other", inline, blocked), null);
  assert.equal(safeImageSource("https://x/pixel.png", inline, blocked), null);
  assert.equal(safeImageSource("data:image/svg+xml;base64,PHN2Zz4=", inline, blocked), null);
  assert.equal(blocked.count, 2);
});
