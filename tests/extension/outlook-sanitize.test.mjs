import { test } from "node:test";
import assert from "node:assert/strict";
import { safeCss, safeHref, safeImageSource } from "../../extension/outlook-web/modules/sanitize.mjs";

// The DOM half of the sanitiser runs in the browser suite (tests/outlook-web, rich.eml); these are
// its string rules.

test("style sheets lose every remote reference and @import, and say how many", () => {
  const blocked = { count: 0 };
  const css = safeCss("@import url(https://x/a.css); body { background: url('https://x/bg.png') } p { color: red }", blocked);
  assert.ok(!css.includes("https://"), css);
  assert.match(css, /color: red/);
  assert.equal(blocked.count, 2);
  const inline = "p { background: url(data:image/png;base64,iVBORw0KGgo=) }";
  assert.equal(safeCss(inline), inline, "an inline image stays");
  assert.equal(safeCss("x { background: image-set('https://x/a.png' 1x) }").includes("image-set("), false);
});

test("CSS escapes or markup characters void the whole text (ways to hide a url() or leave <style>)", () => {
  const blocked = { count: 0 };
  assert.equal(safeCss("p { background: \\75 rl(https://x/y.png) }", blocked), "");
  assert.equal(safeCss("p{}</style><img src=https://x/y.png>", blocked), "");
  assert.equal(safeCss("p { /* url(https://x) */ color: red }", blocked), "");
  assert.ok(blocked.count >= 2);
});

test("links go only to the web or to mail; images only from the message itself", () => {
  assert.equal(safeHref("https://example.org/a?b"), "https://example.org/a?b");
  assert.equal(safeHref("mailto:alice@example.org"), "mailto:alice@example.org");
  for (const bad of ["javascript:alert(1)", " JAVASCRIPT:x", "data:text/html,<script>", "file:///etc/passwd", "chrome-extension://x/y", "", null]) {
    assert.equal(safeHref(bad), null, String(bad));
  }
  const blocked = { count: 0 };
  const inline = new Map([["logo@x", { url: "data:image/png;base64,AAAA" }]]);
  assert.equal(safeImageSource("cid:logo@x", inline, blocked), "data:image/png;base64,AAAA");
  assert.equal(safeImageSource("cid:%3Clogo@x%3E", inline, blocked), "data:image/png;base64,AAAA");
  assert.equal(safeImageSource("cid:other", inline, blocked), null);
  assert.equal(safeImageSource("https://x/pixel.png", inline, blocked), null);
  assert.equal(safeImageSource("data:image/svg+xml;base64,PHN2Zz4=", inline, blocked), null);
  assert.equal(blocked.count, 2);
});
