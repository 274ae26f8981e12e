// The HTML body of a decrypted message, made safe to show in the reader page: parsed by the
// browser's own parser into an inert document (nothing loads or runs there), then copied element
// by element into a new document, keeping only elements and attributes that format text. Scripts,
// form fields, frames, embedded objects, SVG and MathML go (a form's text stays, the form does
// not: elements not on the list are replaced by their content); links keep only http, https and mailto;
// images keep only data: URLs and the message's own inline parts (cid:); style sheets and style
// attributes lose every url() that is not such an image, @import, and anything written with CSS
// escapes. Remote content is never fetched: what would have loaded is counted, so the reader can
// say so. The result is shown in a sandboxed frame without scripts, under a CSP that allows
// nothing remote (defence in depth: the extension's own CSP forbids remote images as well).
// The DOM part needs a browser (DOMParser); the string rules are pure and tested in node.

const DROP = new Set([
  "script", "noscript", "template", "iframe", "frame", "frameset", "object", "embed", "applet", "param", "base", "link",
  "meta", "title", "head", "svg", "math", "input", "button", "select", "option", "optgroup", "textarea",
  "datalist", "output", "audio", "video", "source", "track", "picture", "canvas", "dialog", "portal", "slot", "xml",
]);

const KEEP = new Set([
  "a", "abbr", "address", "article", "aside", "b", "bdi", "bdo", "big", "blockquote", "br", "caption", "center", "cite",
  "code", "col", "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "font",
  "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "i", "img", "ins", "kbd", "label", "li", "main", "mark",
  "nav", "ol", "p", "pre", "q", "rp", "rt", "ruby", "s", "samp", "section", "small", "span", "strike", "strong", "sub",
  "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "tt", "u", "ul", "var", "wbr", "style",
]);

const ATTRIBUTES = new Set([
  "align", "alt", "bgcolor", "border", "cellpadding", "cellspacing", "class", "color", "cols", "colspan", "dir", "face",
  "height", "hspace", "lang", "nowrap", "rows", "rowspan", "size", "span", "start", "style", "summary", "title", "type",
  "valign", "vspace", "width", "datetime", "open", "reversed", "scope", "headers", "abbr", "cite",
]);

const IMAGE_DATA = /^data:image\/(?:png|gif|jpe?g|webp|bmp|avif);base64,[A-Za-z0-9+/=\s]*$/i;

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

/**
 * A style sheet or style attribute without remote references: every url() that is not an inline
 * image becomes `none`, @import rules go, and text that uses CSS escapes or markup characters (ways
 * to hide a url() or to leave the style element) is dropped entirely. `blocked.count` grows by
 * each reference removed.
 */
export function safeCss(css, blocked = { count: 0 }) {
  let text = String(css ?? "");
  if (/[\\<>]/.test(text) || /\/\*[\s\S]*?(?:url|import)/i.test(text)) {
    if (/url\s*\(|@import|image-set|image\(/i.test(text) || /\\/.test(text)) blocked.count++;
    return "";
  }
  text = text.replace(/@import[^;]*;?/gi, () => {
    blocked.count++;
    return "";
  });
  text = text.replace(/url\s*\(\s*(['"]?)(.*?)\1\s*\)/gi, (whole, _q, target) => {
    if (IMAGE_DATA.test(target.trim())) return whole;
    blocked.count++;
    return "none";
  });
  text = text.replace(/(?:-webkit-)?image-set\s*\(|expression\s*\(|-moz-binding|behavior\s*:/gi, () => {
    blocked.count++;
    return "x-removed(";
  });
  return text;
}

/** An image source the reader may show: an inline image, or a part of the message (cid:). */
export function safeImageSource(src, inline, blocked) {
  const value = String(src ?? "").trim();
  if (IMAGE_DATA.test(value)) return value;
  const cid = value.match(/^cid:(.+)$/i)?.[1];
  if (cid) {
    let id = cid;
    try {
      id = decodeURIComponent(cid);
    } catch {
      // keep it as written
    }
    const part = inline.get(id) ?? inline.get(id.replace(/^<|>$/g, ""));
    if (part) return part.url;
    return null;
  }
  if (value) blocked.count++;
  return null;
}

/**
 * The HTML of a message, sanitised, as a complete document for a sandboxed frame's `srcdoc`.
 * `inline` maps Content-IDs to {url} (data: URLs of the message's own images).
 * Returns {html, blocked}: `blocked` counts the remote references removed.
 */
export function sanitizeHtml(html, { inline = new Map(), parser = new DOMParser() } = {}) {
  const source = parser.parseFromString(String(html ?? ""), "text/html");
  const doc = source.implementation.createHTMLDocument("");
  const blocked = { count: 0 };
  const styles = [];
  const copy = (node, into) => {
    for (const child of node.childNodes) {
      if (child.nodeType === 3) {
        into.append(doc.createTextNode(child.data));
        continue;
      }
      if (child.nodeType !== 1) continue;
      const name = child.localName;
      if (child.namespaceURI !== "http://www.w3.org/1999/xhtml" || DROP.has(name)) {
        if (["img", "image", "iframe", "frame", "object", "embed", "link", "video", "audio", "source", "picture"].includes(name)) blocked.count++;
        continue;
      }
      if (name === "style") {
        const css = safeCss(child.textContent, blocked);
        if (css.trim()) styles.push(css);
        continue;
      }
      if (!KEEP.has(name)) {
        copy(child, into); // unknown element: keep its text
        continue;
      }
      const out = doc.createElement(name);
      for (const attr of child.attributes) {
        const a = attr.name.toLowerCase();
        if (a === "style") {
          const css = safeCss(attr.value, blocked);
          if (css.trim()) out.setAttribute("style", css);
        } else if (ATTRIBUTES.has(a)) {
          out.setAttribute(a, attr.value);
        } else if (a === "background" || a === "srcset" || a === "poster" || a === "dynsrc" || a === "lowsrc") {
          blocked.count++;
        }
      }
      if (name === "a") {
        const href = safeHref(child.getAttribute("href"));
        if (href) {
          out.setAttribute("href", href);
          out.setAttribute("target", "_blank");
          out.setAttribute("rel", "noopener noreferrer");
        }
      }
      if (name === "img") {
        const src = safeImageSource(child.getAttribute("src"), inline, blocked);
        if (src) out.setAttribute("src", src);
        else out.setAttribute("data-blocked", "");
      }
      copy(child, out);
      into.append(out);
    }
  };
  copy(source.body ?? source.documentElement, doc.body);
  // Style sheets of the head (mail programs put them there) count as well.
  for (const style of source.head?.querySelectorAll("style") ?? []) {
    const css = safeCss(style.textContent, blocked);
    if (css.trim()) styles.push(css);
  }
  const meta = doc.createElement("meta");
  meta.setAttribute("http-equiv", "Content-Security-Policy");
  meta.setAttribute("content", "default-src 'none'; img-src data: blob:; style-src 'unsafe-inline'; font-src data:");
  const charset = doc.createElement("meta");
  charset.setAttribute("charset", "utf-8");
  const base = doc.createElement("style");
  base.textContent = "body{margin:8px;font:14px/1.45 system-ui,sans-serif;overflow-wrap:anywhere}img[data-blocked]{outline:1px dashed #999;min-width:16px;min-height:16px}";
  doc.head.append(charset, meta, base);
  for (const css of styles) {
    const style = doc.createElement("style");
    style.textContent = css;
    doc.head.append(style);
  }
  return { html: `<!DOCTYPE html>${doc.documentElement.outerHTML}`, blocked: blocked.count };
}
