// Reading a MIME entity for the reader page: header fields (RFC 5322 unfolding, RFC 2047 encoded
// words, RFC 2231 parameters), multipart bodies, transfer encodings (base64, quoted-printable)
// and charsets; then what a person reads: the text and HTML bodies in order, the attachments,
// and the inline images an HTML body names by Content-ID. Only what the host verified and
// decrypted reaches it (`content.mime_b64`), and nothing here decides anything about security:
// the HTML is sanitised by sanitize.mjs and shown in a sandboxed frame. Pure (TextDecoder only);
// bounded in depth and part count, so no input makes it recurse or loop without end.

const MAX_DEPTH = 32;
const MAX_PARTS = 2000;
/** Bytes → string, one char per byte (not TextDecoder("latin1"), which is windows-1252). */
function binaryString(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 0x8000) out += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return out;
}

/** Text in a named charset; unknown labels fall back to UTF-8 (replacement characters, no throw). */
export function decodeText(bytes, charset = "utf-8") {
  const label = String(charset || "utf-8").trim().toLowerCase();
  for (const candidate of [label === "us-ascii" ? "utf-8" : label, "utf-8"]) {
    try {
      return new TextDecoder(candidate, { fatal: false }).decode(bytes);
    } catch {
      // unknown label: try the next
    }
  }
  return binaryString(bytes);
}

function bytesOf(binary) {
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i) & 0xff;
  return out;
}

/** Decodes RFC 2047 encoded words (`=?charset?B|Q?…?=`) in a header field's value. */
export function decodeWords(value) {
  const words = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;
  // Whitespace between two adjacent encoded words is not part of the text (RFC 2047 §6.2).
  const joined = String(value).replace(/(=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)/g, "$1");
  return joined.replace(words, (whole, charset, encoding, text) => {
    try {
      const cs = charset.split("*")[0];
      if (encoding.toUpperCase() === "B") return decodeText(bytesOf(atob(text.replace(/[^A-Za-z0-9+/]/g, "").padEnd(Math.ceil(text.replace(/[^A-Za-z0-9+/]/g, "").length / 4) * 4, "="))), cs);
      const qp = text.replace(/_/g, " ").replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
      return decodeText(bytesOf(qp), cs);
    } catch {
      return whole;
    }
  });
}

/** The header block of an entity: [{name (lower case), value (unfolded, raw)}], and where the body starts. */
export function parseHeaders(bytes) {
  const text = binaryString(bytes.subarray(0, Math.min(bytes.length, 1 << 20)));
  const match = /\r?\n\r?\n/.exec(text);
  // No blank line: everything is headers (a body-less entity), unless the first line is not one.
  let end = match ? match.index : text.length;
  let bodyStart = match ? match.index + match[0].length : bytes.length;
  if (/^\r?\n/.test(text)) {
    end = 0;
    bodyStart = text.startsWith("\r\n") ? 2 : 1;
  }
  const fields = [];
  for (const line of text.slice(0, end).split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && fields.length) fields[fields.length - 1].value += ` ${line.trim()}`;
    else {
      const colon = line.indexOf(":");
      if (colon > 0) fields.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() });
    }
  }
  return { fields, bodyStart };
}

function field(fields, name) {
  return fields.find((f) => f.name === name)?.value ?? null;
}

/**
 * A structured field such as Content-Type: its value (lower case) and parameters, with quoted
 * strings, RFC 2231 continuations and charsets (`name*0*=utf-8''…`) put together.
 */
export function parseParams(value) {
  const text = String(value ?? "");
  const semicolon = splitOutsideQuotes(text);
  const main = (semicolon.shift() ?? "").trim().toLowerCase();
  const raw = new Map(); // name -> [{index, encoded, value}]
  for (const part of semicolon) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    let name = part.slice(0, eq).trim().toLowerCase();
    let v = part.slice(eq + 1).trim();
    if (v.startsWith('"')) v = v.slice(1, v.endsWith('"') && v.length > 1 ? -1 : undefined).replace(/\\(.)/g, "$1");
    const m = name.match(/^([^*]+)(?:\*(\d+))?(\*)?$/);
    if (!m) continue;
    name = m[1];
    const list = raw.get(name) ?? [];
    list.push({ index: m[2] === undefined ? -1 : Number(m[2]), encoded: Boolean(m[3]), value: v });
    raw.set(name, list);
  }
  const params = {};
  for (const [name, list] of raw) {
    const sections = list.some((s) => s.index >= 0) ? list.filter((s) => s.index >= 0).sort((a, b) => a.index - b.index) : [list[list.length - 1]];
    let charset = null;
    let bytes = "";
    let plain = "";
    sections.forEach((s, i) => {
      let v = s.value;
      if (s.encoded) {
        if (i === 0 || s.index <= 0) {
          const q = v.match(/^([^']*)'[^']*'(.*)$/);
          if (q) {
            charset = q[1] || charset;
            v = q[2];
          }
        }
        bytes += v.replace(/%([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
      } else {
        if (bytes) {
          plain += decodeText(bytesOf(bytes), charset ?? "utf-8");
          bytes = "";
        }
        plain += v;
      }
    });
    if (bytes) plain += decodeText(bytesOf(bytes), charset ?? "utf-8");
    params[name] = decodeWords(plain);
  }
  return { value: main, params };
}

function splitOutsideQuotes(text) {
  const parts = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\" && quoted && i + 1 < text.length) {
      current += c + text[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ";" && !quoted) {
      parts.push(current);
      current = "";
    } else current += c;
  }
  parts.push(current);
  return parts;
}

/** Quoted-printable → bytes (RFC 2045 §6.7; soft line breaks removed, bad escapes kept). */
export function decodeQuotedPrintable(bytes) {
  const text = binaryString(bytes);
  const out = text.replace(/[ \t]+(?=\r?\n)/g, "").replace(/=\r?\n/g, "").replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
  return bytesOf(out);
}

/** Base64 → bytes, ignoring line breaks and anything outside the alphabet. */
export function decodeBase64(bytes) {
  const clean = binaryString(bytes).replace(/[^A-Za-z0-9+/]/g, "");
  const usable = clean.slice(0, clean.length - (clean.length % 4 === 1 ? 1 : 0));
  try {
    return bytesOf(atob(usable.padEnd(Math.ceil(usable.length / 4) * 4, "=")));
  } catch {
    return new Uint8Array(0);
  }
}

function indexOfBytes(haystack, needle, from) {
  const first = needle[0];
  outer: for (let i = haystack.indexOf(first, from); i >= 0 && i <= haystack.length - needle.length; i = haystack.indexOf(first, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** The body parts of a multipart body between `--boundary` lines (preamble and epilogue dropped). */
export function splitMultipart(body, boundary) {
  const delimiter = bytesOf(`--${boundary}`);
  const parts = [];
  let start = null;
  let at = 0;
  while (parts.length < MAX_PARTS) {
    const found = indexOfBytes(body, delimiter, at);
    if (found < 0) break;
    const atLineStart = found === 0 || body[found - 1] === 0x0a;
    const after = found + delimiter.length;
    if (!atLineStart) {
      at = after;
      continue;
    }
    if (start !== null) {
      // The CRLF before the delimiter belongs to it, not to the part.
      let end = found;
      if (end > start && body[end - 1] === 0x0a) end--;
      if (end > start && body[end - 1] === 0x0d) end--;
      parts.push(body.subarray(start, Math.max(start, end)));
    }
    const closing = body[after] === 0x2d && body[after + 1] === 0x2d;
    if (closing) return parts;
    const lineEnd = body.indexOf(0x0a, after);
    if (lineEnd < 0) return parts;
    start = lineEnd + 1;
    at = start;
  }
  if (start !== null && start < body.length) parts.push(body.subarray(start)); // no closing delimiter
  return parts;
}

/**
 * Parses an entity: `{fields, type, params, disposition, filename, contentId, body (decoded
 * bytes, null for multiparts), parts}`.
 */
export function parseEntity(bytes, depth = 0, budget = { parts: MAX_PARTS }) {
  const { fields, bodyStart } = parseHeaders(bytes);
  const ct = parseParams(field(fields, "content-type") ?? "text/plain; charset=us-ascii");
  const cd = parseParams(field(fields, "content-disposition") ?? "");
  const type = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(ct.value) ? ct.value : "text/plain";
  const raw = bytes.subarray(bodyStart);
  const entity = {
    fields,
    type,
    params: ct.params,
    disposition: cd.value || null,
    filename: cd.params.filename ?? ct.params.name ?? null,
    contentId: (field(fields, "content-id") ?? "").replace(/^\s*<|>\s*$/g, "") || null,
    body: null,
    parts: [],
  };
  budget.parts--;
  if (type.startsWith("multipart/") && ct.params.boundary && depth < MAX_DEPTH) {
    for (const part of splitMultipart(raw, ct.params.boundary)) {
      if (budget.parts <= 0) break;
      entity.parts.push(parseEntity(part, depth + 1, budget));
    }
    return entity;
  }
  const cte = (field(fields, "content-transfer-encoding") ?? "").trim().toLowerCase();
  entity.body = cte === "base64" ? decodeBase64(raw) : cte === "quoted-printable" ? decodeQuotedPrintable(raw) : raw;
  return entity;
}

/** The decoded header fields a reader shows (subject, from, to, cc, date), as text. */
export function messageHeaders(bytes) {
  const { fields } = parseHeaders(bytes);
  const get = (name) => {
    const v = field(fields, name);
    return v === null ? null : decodeWords(v);
  };
  return { subject: get("subject"), from: get("from"), to: get("to"), cc: get("cc"), date: get("date") };
}

/**
 * What a person reads in an entity: `blocks` ({kind: "text"|"html", text}) in order,
 * `attachments` ({name, type, bytes}) and `inline` (Content-ID → {type, bytes}) for images an
 * HTML body shows. multipart/alternative shows its richest part; multipart/related its root.
 */
export function readable(entity) {
  const out = { blocks: [], attachments: [], inline: new Map() };
  walk(entity, out, 0);
  return out;
}

function isAttachment(e) {
  return e.disposition === "attachment" || (e.filename && e.disposition !== "inline");
}

function walk(e, out, depth) {
  if (depth > MAX_DEPTH) return;
  if (e.type === "multipart/alternative" && e.parts.length) {
    const shown = [...e.parts].reverse().find((p) => p.type === "text/html" || p.type.startsWith("multipart/"))
      ?? [...e.parts].reverse().find((p) => p.type === "text/plain") ?? e.parts[e.parts.length - 1];
    walk(shown, out, depth + 1);
    return;
  }
  if (e.type === "multipart/related" && e.parts.length) {
    const start = e.params.start?.replace(/^<|>$/g, "");
    const root = (start && e.parts.find((p) => p.contentId === start)) || e.parts[0];
    for (const p of e.parts) {
      if (p === root) continue;
      if (p.contentId && p.body && p.type.startsWith("image/")) out.inline.set(p.contentId, { type: p.type, bytes: p.body });
      else walk(p, out, depth + 1);
    }
    walk(root, out, depth + 1);
    return;
  }
  if (e.type.startsWith("multipart/")) {
    for (const p of e.parts) walk(p, out, depth + 1);
    return;
  }
  const body = e.body ?? new Uint8Array(0);
  if ((e.type === "text/plain" || e.type === "text/html") && !isAttachment(e)) {
    out.blocks.push({ kind: e.type === "text/html" ? "html" : "text", text: decodeText(body, e.params.charset) });
    return;
  }
  if (e.contentId && e.type.startsWith("image/")) out.inline.set(e.contentId, { type: e.type, bytes: body });
  const name = e.filename || (e.type === "message/rfc822" ? "message.eml" : `attachment-${out.attachments.length + 1}`);
  out.attachments.push({ name, type: e.type, bytes: body });
}
