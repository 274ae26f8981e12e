// The content of a decrypted message, made into a document the reader shows in a sandboxed frame.
// The message is attacker-controlled, and CBC ciphertext can be altered undetected (EFAIL's
// gadgets can splice markup around the secret text), so nothing in it may load or run anything.
// The one place where the extensions put markup on screen, so three walls: the sanitiser removes
// whatever could load or run, the policy refuses any load, the sandbox refuses scripts:
//
//   1. This sanitiser. The HTML is parsed by the browser's own parser into an inert document
//      (nothing loads or runs there), then copied element by element into a new document, keeping
//      only elements and attributes that format text (ELEMENTS, ATTRIBUTES). Scripts, form fields,
//      frames, embedded objects, media, SVG and MathML go with their content; any other element
//      not on the list is replaced by its content (a form's text stays, the form does not). Links
//      keep only http, https and mailto and open outside the reader; images keep only inline
//      raster images (data:image/png…;base64) and the message's own parts named by cid:. Style
//      sheets and style attributes are read with a CSS tokenizer (CSS Syntax Level 3): only
//      rules, @media and declarations made of plain tokens stay, so nothing written with CSS
//      escapes, no url() but an inline image, no function but those in FUNCTIONS (so no
//      image-set(), src(), expression()…), no at-rule but @media (so no @import, @font-face…),
//      and never a `<` (which could close the <style> element). What would have been loaded is counted, so the reader can say so.
//      Plain text bodies become a <pre> of text nodes (textDocument).
//   2. FRAME_CSP, the document's own policy, first in its head: nothing but inline images and
//      inline styles, no base URL, no form target.
//   3. FRAME_SANDBOX, the frame's sandbox: no scripts, an opaque origin, no forms, no navigating
//      the reader; links open in a new tab of their own. A srcdoc frame also inherits the reader
//      page's policy (the extension's content_security_policy): no remote image, style or frame.
//
// The DOM part needs a DOMParser (the browser's; tests hand in another); the CSS and URL rules are
// pure. Bounded: deep nesting is flattened, style text over MAX_CSS is dropped, all in linear time.

/** The sandbox of the frame the reader shows a message's content in (no allow-scripts, no allow-same-origin). */
export const FRAME_SANDBOX = "allow-popups allow-popups-to-escape-sandbox";

/** The content security policy of every document made here. */
export const FRAME_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/** Elements dropped with everything inside them. */
export const DROPPED = Object.freeze(new Set([
  "script", "noscript", "template", "iframe", "frame", "frameset", "noframes", "object", "embed", "applet", "param",
  "base", "link", "meta", "title", "head", "svg", "math", "input", "button", "select", "option", "optgroup", "textarea",
  "datalist", "output", "audio", "video", "source", "track", "picture", "canvas", "dialog", "portal", "fencedframe",
  "slot", "xml", "xmp", "plaintext", "noembed", "style",
]));

/** Elements kept (with the attributes below); any other element is replaced by its content. */
export const ELEMENTS = Object.freeze(new Set([
  "a", "abbr", "address", "article", "aside", "b", "bdi", "bdo", "big", "blockquote", "br", "caption", "center", "cite",
  "code", "col", "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "font",
  "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "i", "img", "ins", "kbd", "label", "li", "main", "mark",
  "nav", "ol", "p", "pre", "q", "rp", "rt", "ruby", "s", "samp", "section", "small", "span", "strike", "strong", "sub",
  "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "tt", "u", "ul", "var", "wbr",
]));

/** Attributes kept as they are on every kept element: none of them loads, runs or targets anything. */
export const ATTRIBUTES = Object.freeze(new Set([
  "align", "alt", "bgcolor", "border", "cellpadding", "cellspacing", "class", "color", "cols", "colspan", "dir", "face",
  "height", "hspace", "lang", "nowrap", "rows", "rowspan", "size", "span", "start", "summary", "title", "type",
  "valign", "vspace", "width", "datetime", "open", "reversed", "scope", "headers", "abbr",
]));

// Attributes that name something to load (or to send to), counted as blocked when they go.
const LOADING_ATTRIBUTES = new Set(["src", "href", "background", "srcset", "poster", "dynsrc", "lowsrc", "longdesc", "data", "codebase", "formaction", "action", "ping", "xlink:href"]);
const XHTML = "http://www.w3.org/1999/xhtml";
const MAX_DEPTH = 200; // deeper elements are replaced by their content (Chromium's parser stops nesting at 512)
const BASE_STYLE = "body{margin:8px;font:14px/1.45 system-ui,sans-serif;overflow-wrap:anywhere}img[data-blocked]{outline:1px dashed #999;min-width:16px;min-height:16px}pre{margin:0;white-space:pre-wrap;font:13px/1.45 ui-monospace,monospace}";

const IMAGE_DATA = /^data:image\/(?:png|gif|jpe?g|webp|bmp|avif);base64,[A-Za-z0-9+/=\s]*$/i;
// In CSS, without white space (which would end an unquoted url()).
const CSS_IMAGE = /^data:image\/(?:png|gif|jpe?g|webp|bmp|avif);base64,[A-Za-z0-9+/=]*$/i;

/** A link target a person may follow from the reader (opened outside it), or null. */
export function safeHref(href) {
  const value = String(href ?? "").trim();
  if (/^mailto:/i.test(value)) return value;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

/** Whether a URL is an inline raster image (the only images a message's content may show). */
export function isInlineImage(url) {
  return IMAGE_DATA.test(String(url ?? "").trim());
}

/**
 * An image source the reader may show: an inline image, or a part of the message (cid:) whose
 * `url` (from `inline`, Content-ID → {url}) is itself an inline raster image; else null, and a
 * remote address counts as blocked.
 */
export function safeImageSource(src, inline, blocked = { count: 0 }) {
  const value = String(src ?? "").trim();
  if (isInlineImage(value)) return value;
  const cid = value.match(/^cid:(.+)$/i)?.[1];
  if (cid) {
    let id = cid;
    try {
      id = decodeURIComponent(cid);
    } catch {
      // keep it as written
    }
    const part = inline.get(id) ?? inline.get(id.replace(/^<|>$/g, ""));
    return part && isInlineImage(part.url) ? part.url.trim() : null;
  }
  if (value) blocked.count++;
  return null;
}

// ---- CSS ---------------------------------------------------------------------------------------

/** Style text longer than this (a style sheet or one style attribute) is dropped whole. */
export const MAX_CSS = 256 * 1024;

// Functions a kept declaration or selector may use: colours, maths, gradients, transforms,
// filters, shapes, grid, selectors. None of them loads anything; url() is handled on its own.
const FUNCTIONS = new Set([
  "rgb", "rgba", "hsl", "hsla", "hwb", "lab", "lch", "oklab", "oklch", "color", "color-mix", "light-dark",
  "calc", "min", "max", "clamp", "round", "mod", "rem", "abs", "sign", "var",
  "linear-gradient", "radial-gradient", "conic-gradient", "repeating-linear-gradient", "repeating-radial-gradient",
  "repeating-conic-gradient", "-webkit-linear-gradient", "-webkit-radial-gradient", "-webkit-repeating-linear-gradient",
  "-webkit-repeating-radial-gradient", "-webkit-gradient", "-moz-linear-gradient", "-moz-radial-gradient",
  "translate", "translatex", "translatey", "translatez", "translate3d", "scale", "scalex", "scaley", "scalez", "scale3d",
  "rotate", "rotatex", "rotatey", "rotatez", "rotate3d", "skew", "skewx", "skewy", "matrix", "matrix3d", "perspective",
  "cubic-bezier", "steps", "blur", "brightness", "contrast", "drop-shadow", "grayscale", "hue-rotate", "invert",
  "opacity", "saturate", "sepia", "rect", "inset", "circle", "ellipse", "polygon", "minmax", "repeat", "fit-content",
  "counter", "counters", "format", "local",
  "not", "is", "where", "has", "nth-child", "nth-last-child", "nth-of-type", "nth-last-of-type", "lang", "dir",
]);

// What a kept text may never contain, whatever the tokenizer thought (fail closed): escapes, a `<`,
// and every way CSS has to name something to load.
const FORBIDDEN_CSS = /[\\<]|url\s*\(|image-set\s*\(|image\s*\(|cross-fade\s*\(|element\s*\(|src\s*\(|paint\s*\(|expression\s*\(|@import|@font-face|-moz-binding|(?<![\w-])behavior\s*:/i;
const URLISH = /^\s*(?:[a-z][a-z0-9+.-]*:\/\/|\/\/|(?:data|javascript|vbscript|blob):)/i;
const ALLOWED_URL = /url\(\s*(["']?)data:image\/(?:png|gif|jpe?g|webp|bmp|avif);base64,[A-Za-z0-9+/=]*\1\s*\)/gi;

const isDigit = (c) => c >= "0" && c <= "9";
const isHex = (c) => /^[0-9a-fA-F]$/.test(c ?? "");
const isNameStart = (c) => c !== undefined && (/[A-Za-z_]/.test(c) || c >= "\u0080");
const isName = (c) => isNameStart(c) || isDigit(c) || c === "-";
const isSpace = (c) => c === " " || c === "\t" || c === "\n";
const validEscape = (a, b) => a === "\\" && b !== "\n" && b !== undefined;
const nonPrintable = (c) => /[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(c);

/**
 * The tokens of a CSS text (CSS Syntax Level 3, §4): {type, text, name?, value?, escaped?}.
 * Types: ws, comment, string, bad-string, url, bad-url, function, ident, at, hash, number, delim,
 * cdo, cdc and the single characters { } ( ) [ ] ; : ,. Linear in the length of the text.
 */
export function cssTokens(input) {
  const css = String(input ?? "").replace(/\r\n?|\f/g, "\n").replace(/\0/g, "\ufffd");
  const out = [];
  let i = 0;
  const startsIdent = (j) => {
    const [a, b, c] = [css[j], css[j + 1], css[j + 2]];
    if (a === "-") return isNameStart(b) || b === "-" || validEscape(b, c);
    return isNameStart(a) || validEscape(a, b);
  };
  const startsNumber = (j) => {
    const [a, b, c] = [css[j], css[j + 1], css[j + 2]];
    if (a === "+" || a === "-") return isDigit(b) || (b === "." && isDigit(c));
    return isDigit(a) || (a === "." && isDigit(b));
  };
  const escape = (token) => {
    // at a valid escape: consumes it, remembers that the token used one, returns what it stands for
    token.escaped = true;
    i++;
    if (!isHex(css[i])) return i < css.length ? css[i++] : "\ufffd";
    let hex = "";
    while (hex.length < 6 && isHex(css[i])) hex += css[i++];
    if (isSpace(css[i])) i++;
    const cp = parseInt(hex, 16);
    return cp === 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ? "\ufffd" : String.fromCodePoint(cp);
  };
  const name = (token) => {
    let value = "";
    for (;;) {
      if (isName(css[i])) value += css[i++];
      else if (validEscape(css[i], css[i + 1])) value += escape(token);
      else return value;
    }
  };
  while (i < css.length) {
    const start = i;
    const c = css[i];
    const token = { type: "delim" };
    if (c === "/" && css[i + 1] === "*") {
      const end = css.indexOf("*/", i + 2);
      i = end < 0 ? css.length : end + 2;
      token.type = "comment";
    } else if (isSpace(c)) {
      while (isSpace(css[i])) i++;
      token.type = "ws";
    } else if (c === '"' || c === "'") {
      i++;
      token.type = "string";
      token.value = "";
      for (;;) {
        const d = css[i];
        if (d === undefined) break;
        if (d === c) {
          i++;
          break;
        }
        if (d === "\n") {
          token.type = "bad-string";
          break;
        }
        if (d === "\\") {
          if (css[i + 1] === undefined) i++;
          else if (css[i + 1] === "\n") {
            token.escaped = true;
            i += 2;
          } else token.value += escape(token);
          continue;
        }
        token.value += d;
        i++;
      }
    } else if (c === "#" && (isName(css[i + 1]) || validEscape(css[i + 1], css[i + 2]))) {
      i++;
      token.type = "hash";
      token.value = name(token);
    } else if ("{}()[];:,".includes(c)) {
      i++;
      token.type = c;
    } else if (startsNumber(i)) {
      if (css[i] === "+" || css[i] === "-") i++;
      while (isDigit(css[i])) i++;
      if (css[i] === "." && isDigit(css[i + 1])) {
        i++;
        while (isDigit(css[i])) i++;
      }
      if ((css[i] === "e" || css[i] === "E") && (isDigit(css[i + 1]) || ((css[i + 1] === "+" || css[i + 1] === "-") && isDigit(css[i + 2])))) {
        i += 2;
        while (isDigit(css[i])) i++;
      }
      if (startsIdent(i)) name(token);
      else if (css[i] === "%") i++;
      token.type = "number";
    } else if (c === "<" && css.startsWith("<!--", i)) {
      i += 4;
      token.type = "cdo";
    } else if (c === "-" && css.startsWith("-->", i)) {
      i += 3;
      token.type = "cdc";
    } else if (c === "@" && startsIdent(i + 1)) {
      i++;
      token.type = "at";
      token.name = name(token).toLowerCase();
    } else if (startsIdent(i)) {
      const value = name(token);
      if (css[i] !== "(") {
        token.type = "ident";
        token.value = value;
      } else if (value.toLowerCase() !== "url") {
        i++;
        token.type = "function";
        token.name = value.toLowerCase();
      } else {
        i++;
        while (isSpace(css[i]) && isSpace(css[i + 1])) i++;
        const next = isSpace(css[i]) ? css[i + 1] : css[i];
        if (next === '"' || next === "'") {
          token.type = "function";
          token.name = "url";
        } else {
          url(token);
        }
      }
    } else {
      i++;
    }
    token.text = css.slice(start, i);
    out.push(token);
  }
  return out;

  function url(token) {
    token.type = "url";
    token.value = "";
    while (isSpace(css[i])) i++;
    for (;;) {
      const d = css[i];
      if (d === undefined) return;
      if (d === ")") {
        i++;
        return;
      }
      if (isSpace(d)) {
        while (isSpace(css[i])) i++;
        if (css[i] === ")" || css[i] === undefined) continue;
        return badUrl(token);
      }
      if (d === '"' || d === "'" || d === "(" || nonPrintable(d)) return badUrl(token);
      if (d === "\\") {
        if (!validEscape(d, css[i + 1])) return badUrl(token);
        token.value += escape(token);
        continue;
      }
      token.value += d;
      i++;
    }
  }

  function badUrl(token) {
    token.type = "bad-url";
    while (i < css.length && css[i] !== ")") {
      if (validEscape(css[i], css[i + 1])) i++;
      i++;
    }
    if (css[i] === ")") i++;
  }
}

const CLOSING = { "{": "}", "(": ")", "[": "]", function: ")" };

/** The index after the component value starting at `i` (a block or function ends at its closer); `closed` false at EOF. */
function component(tokens, i) {
  const opener = tokens[i].type;
  if (!(opener in CLOSING)) return { end: i + 1, closed: true };
  const stack = [CLOSING[opener]];
  let j = i + 1;
  while (j < tokens.length) {
    const type = tokens[j].type;
    if (type === stack.at(-1)) {
      stack.pop();
      if (!stack.length) return { end: j + 1, closed: true };
    } else if (type in CLOSING) {
      stack.push(CLOSING[type]);
    }
    j++;
  }
  return { end: j, closed: false };
}

/**
 * Checks the tokens [from, to) of a selector, a media query or a declaration: null when they may
 * not be kept (counting remote references in `blocked`), else their text without comments.
 */
function plainText(tokens, from, to, blocked) {
  let ok = true;
  let text = "";
  let imageArgument = -1; // the string of a kept url("data:image/…")
  for (let j = from; j < to; j++) {
    const t = tokens[j];
    if (t.type === "url") {
      if (!CSS_IMAGE.test(t.value) || t.escaped) {
        blocked.count++;
        ok = false;
      }
    } else if (t.type === "function" && t.name === "url") {
      // url("…"): one string, an inline image
      let k = j + 1;
      while (tokens[k]?.type === "ws" || tokens[k]?.type === "comment") k++;
      const arg = tokens[k];
      let close = k + 1;
      while (tokens[close]?.type === "ws" || tokens[close]?.type === "comment") close++;
      if (arg?.type !== "string" || arg.escaped || tokens[close]?.type !== ")" || !CSS_IMAGE.test(arg.value)) {
        blocked.count++;
        ok = false;
      } else {
        imageArgument = k;
      }
    } else if (t.type === "function" && (t.name.endsWith("image-set") || t.name === "image" || t.name === "src")) {
      blocked.count++;
      ok = false;
    } else if (t.type === "function" && !FUNCTIONS.has(t.name)) {
      ok = false;
    }
    if (t.escaped || ["bad-string", "bad-url", "cdo", "cdc", "at", "{", "}"].includes(t.type) || t.text.includes("<")) ok = false;
    if (t.type === "string" && j !== imageArgument && URLISH.test(t.value)) ok = false; // nothing may take it as an address later
    text += t.type === "comment" ? " " : t.text;
  }
  return ok ? text.trim() : null;
}

/** The declarations of a block or a style attribute (tokens [from, to)) that may be kept. */
function declarations(tokens, from, to, blocked) {
  const kept = [];
  let j = from;
  while (j < to) {
    const t = tokens[j];
    if (t.type === "ws" || t.type === "comment" || t.type === ";") {
      j++;
      continue;
    }
    // One declaration (or anything else, e.g. a nested rule or an at-rule, which goes): up to the
    // next `;` outside blocks, or a block's end.
    const start = j;
    let hasBlock = false;
    let closed = true;
    while (j < to && tokens[j].type !== ";") {
      const c = component(tokens, j);
      if (tokens[j].type === "{") hasBlock = true;
      closed &&= c.closed;
      j = Math.min(c.end, to);
      if (hasBlock) break;
    }
    if (t.type !== "ident" || hasBlock || !closed) {
      plainText(tokens, start, j, blocked); // only to count what it would have loaded
      continue;
    }
    const text = plainText(tokens, start, j, blocked);
    if (text && /^[^:]+:/.test(text)) kept.push(text);
  }
  return kept;
}

/** The rules of a style sheet (tokens [from, to)) that may be kept, as text. */
function rules(tokens, from, to, blocked, depth = 0) {
  const kept = [];
  let j = from;
  while (j < to) {
    const t = tokens[j];
    if (["ws", "comment", "cdo", "cdc", ";"].includes(t.type)) {
      j++;
      continue;
    }
    // A rule: its prelude up to `{` (or `;` for an at-rule) and its block.
    const start = j;
    let block = null;
    let closed = true;
    while (j < to) {
      if (tokens[j].type === ";" && t.type === "at") {
        j++;
        break;
      }
      const c = component(tokens, j);
      closed &&= c.closed;
      if (tokens[j].type === "{") {
        block = { from: j + 1, to: c.closed ? c.end - 1 : c.end };
        j = Math.min(c.end, to);
        break;
      }
      j = Math.min(c.end, to);
    }
    const preludeEnd = block ? block.from - 1 : j;
    if (t.type === "at") {
      if (t.name === "import") blocked.count += Math.max(1, countRemote(tokens, start, j));
      else if (t.name === "media" && block && closed && depth < 4 && !t.escaped) {
        const query = plainText(tokens, start + 1, preludeEnd, blocked);
        const inner = rules(tokens, block.from, block.to, blocked, depth + 1);
        if (query !== null && inner.length) kept.push(`@media ${query}{${inner.join("")}}`);
      } else {
        blocked.count += countRemote(tokens, start, j);
      }
      continue;
    }
    if (!block || !closed) {
      blocked.count += countRemote(tokens, start, j);
      continue;
    }
    const selector = plainText(tokens, start, preludeEnd, blocked);
    const body = declarations(tokens, block.from, block.to, blocked);
    if (selector && body.length) kept.push(`${selector}{${body.join("; ")}}`);
  }
  return kept;
}

/** How many remote references tokens [from, to) hold (url(), image-set's strings, @import's string). */
function countRemote(tokens, from, to) {
  let n = 0;
  for (let j = from; j < to; j++) {
    const t = tokens[j];
    if (t.type === "url" && !CSS_IMAGE.test(t.value)) n++;
    else if (t.type === "function" && (t.name === "url" || t.name.endsWith("image-set") || t.name === "image" || t.name === "src")) n++;
  }
  return n;
}

/** Fails closed: text the tokenizer kept that still names something to load, or could close <style>, is dropped. */
function failClosed(text, blocked) {
  if (!FORBIDDEN_CSS.test(text.replace(ALLOWED_URL, ""))) return text;
  blocked.count++;
  return "";
}

/**
 * A style sheet without remote references, as text for a <style> element: the rules, @media
 * blocks and declarations that hold nothing to load and no escapes; `blocked.count` grows by each
 * remote reference dropped. "" when nothing may stay.
 */
export function safeCss(css, blocked = { count: 0 }) {
  const text = String(css ?? "");
  if (text.length > MAX_CSS) return "";
  const tokens = cssTokens(text);
  return failClosed(rules(tokens, 0, tokens.length, blocked).join("\n"), blocked);
}

/** A style attribute's declarations that may stay (as safeCss), as text; "" when none. */
export function safeStyleAttribute(value, blocked = { count: 0 }) {
  const text = String(value ?? "");
  if (text.length > MAX_CSS) return "";
  const tokens = cssTokens(text);
  return failClosed(declarations(tokens, 0, tokens.length, blocked).join("; "), blocked);
}

// ---- documents -----------------------------------------------------------------------------------

/** A new document for the frame: its policy first, then the charset and the reader's base style. */
function frameDocument(parser) {
  const doc = parser.parseFromString("", "text/html").implementation.createHTMLDocument("");
  const csp = doc.createElement("meta");
  csp.setAttribute("http-equiv", "Content-Security-Policy");
  csp.setAttribute("content", FRAME_CSP);
  const charset = doc.createElement("meta");
  charset.setAttribute("charset", "utf-8");
  const base = doc.createElement("style");
  base.append(doc.createTextNode(BASE_STYLE));
  doc.head.replaceChildren(csp, charset, base);
  return doc;
}

function serialize(doc) {
  return `<!DOCTYPE html>${doc.documentElement.outerHTML}`;
}

/**
 * The HTML of a message, sanitised, as a complete document for a sandboxed frame's `srcdoc`.
 * `inline` maps Content-IDs to {url} (data: URLs of the message's own images).
 * Returns {html, blocked}: `blocked` counts the remote references removed.
 */
export function sanitizeHtml(html, { inline = new Map(), parser = new DOMParser() } = {}) {
  const source = parser.parseFromString(String(html ?? ""), "text/html");
  const doc = frameDocument(parser);
  const blocked = { count: 0 };
  const styles = [];
  // Depth first, in document order, without recursion: [source node, where its copy goes, depth].
  const root = source.body ?? source.documentElement;
  const stack = [...root.childNodes].reverse().map((node) => [node, doc.body, 0]);
  while (stack.length) {
    const [node, into, depth] = stack.pop();
    if (node.nodeType === 3) {
      into.append(doc.createTextNode(node.data));
      continue;
    }
    if (node.nodeType !== 1) continue; // comments, processing instructions
    const name = node.localName;
    if (node.namespaceURI !== XHTML || DROPPED.has(name)) {
      if (name === "style" && node.namespaceURI === XHTML) styles.push(safeCss(node.textContent, blocked));
      else if ([...node.attributes].some((a) => LOADING_ATTRIBUTES.has(a.name.toLowerCase()) && a.value.trim())) blocked.count++;
      continue;
    }
    let target = into;
    if (ELEMENTS.has(name) && depth < MAX_DEPTH) {
      target = copyElement(doc, node, inline, blocked);
      into.append(target);
    }
    for (const child of [...node.childNodes].reverse()) stack.push([child, target, target === into ? depth : depth + 1]);
  }
  // Style sheets of the head (mail programs put them there) count as well.
  for (const style of source.head?.querySelectorAll("style") ?? []) {
    if (style.namespaceURI === XHTML) styles.push(safeCss(style.textContent, blocked));
  }
  for (const css of styles.filter((s) => s.trim())) {
    const style = doc.createElement("style");
    style.append(doc.createTextNode(css));
    doc.head.append(style);
  }
  return { html: serialize(doc), blocked: blocked.count };
}

/** A kept element's copy in `doc`, with the attributes it may keep (not its children). */
function copyElement(doc, node, inline, blocked) {
  const name = node.localName;
  const out = doc.createElement(name);
  for (const attr of node.attributes) {
    const a = attr.name.toLowerCase();
    if (a === "style") {
      const css = safeStyleAttribute(attr.value, blocked);
      if (css) out.setAttribute("style", css);
    } else if (ATTRIBUTES.has(a)) {
      out.setAttribute(a, attr.value);
    } else if (a !== "src" && a !== "href" && LOADING_ATTRIBUTES.has(a) && attr.value.trim()) {
      blocked.count++;
    }
  }
  if (name === "a") {
    const href = safeHref(node.getAttribute("href"));
    if (href) {
      out.setAttribute("href", href);
      out.setAttribute("target", "_blank");
      out.setAttribute("rel", "noopener noreferrer");
    }
  }
  if (name === "img") {
    const src = safeImageSource(node.getAttribute("src"), inline, blocked);
    if (src) out.setAttribute("src", src);
    else out.setAttribute("data-blocked", "");
  }
  return out;
}

/** A plain text body as a complete document for a sandboxed frame: the text, as text. */
export function textDocument(text, { parser = new DOMParser() } = {}) {
  const doc = frameDocument(parser);
  const pre = doc.createElement("pre");
  pre.append(doc.createTextNode(String(text ?? "")));
  doc.body.append(pre);
  return { html: serialize(doc), blocked: 0 };
}
