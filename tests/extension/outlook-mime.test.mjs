import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeQuotedPrintable, decodeWords, messageHeaders, parseEntity, parseParams, readable, splitMultipart } from "../../extension/outlook-web/modules/mime.mjs";

const enc = (s) => new TextEncoder().encode(s);
const latin = (s) => Uint8Array.from(s, (c) => c.charCodeAt(0));

test("encoded words (RFC 2047) in any charset, adjacent ones joined", () => {
  assert.equal(decodeWords("=?utf-8?B?R3LDvMOfZQ==?= aus =?iso-8859-1?Q?K=F6ln?="), "Grüße aus Köln");
  assert.equal(decodeWords("=?utf-8?Q?a?= =?utf-8?Q?b?="), "ab");
  assert.equal(decodeWords("=?x-unknown?Q?abc?="), "abc");
  assert.equal(decodeWords("=?utf-8?B?***?="), "");
});

test("parameters: quoted, continued and charset-encoded (RFC 2231)", () => {
  assert.deepEqual(parseParams('multipart/mixed; boundary="a;b"').params, { boundary: "a;b" });
  assert.equal(parseParams("attachment; filename*=utf-8''Gr%C3%BC%C3%9Fe.txt").params.filename, "Grüße.txt");
  assert.equal(parseParams("attachment; filename*0*=utf-8''Gr%C3%BC; filename*1=sse.txt").params.filename, "Grüsse.txt");
  assert.equal(parseParams("TEXT/Plain").value, "text/plain");
});

test("transfer encodings and charsets", () => {
  assert.equal(new TextDecoder("latin1").decode(decodeQuotedPrintable(enc("K=F6ln=\r\n ist   \r\nsch=F6n"))), "Köln ist\r\nschön");
  const e = parseEntity(latin("Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nK=F6ln\r\n"));
  assert.deepEqual(readable(e).blocks, [{ kind: "text", text: "Köln\r\n" }]);
  const b = parseEntity(enc(`Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from("Grüße ✓").toString("base64")}\r\n`));
  assert.equal(readable(b).blocks[0].text, "Grüße ✓");
});

test("alternative shows the HTML; related keeps its images for cid:; attachments are listed", () => {
  const msg = [
    'Content-Type: multipart/mixed; boundary="outer"', "", "preamble", "--outer",
    'Content-Type: multipart/alternative; boundary="alt"', "", "--alt", "Content-Type: text/plain", "", "plain text", "--alt",
    'Content-Type: multipart/related; boundary="rel"', "", "--rel", "Content-Type: text/html", "", '<p>hi <img src="cid:logo@x"></p>', "--rel",
    "Content-Type: image/png", "Content-ID: <logo@x>", "Content-Transfer-Encoding: base64", "", "iVBORw0KGgo=", "--rel--", "--alt--",
    "--outer", 'Content-Type: application/pdf; name="report.pdf"', "Content-Disposition: attachment", "Content-Transfer-Encoding: base64", "",
    Buffer.from("%PDF-1.4").toString("base64"), "--outer--", "epilogue",
  ].join("\r\n");
  const r = readable(parseEntity(enc(msg)));
  assert.deepEqual(r.blocks, [{ kind: "html", text: '<p>hi <img src="cid:logo@x"></p>' }]);
  assert.deepEqual([...r.inline.keys()], ["logo@x"]);
  assert.equal(r.attachments.length, 1);
  assert.equal(r.attachments[0].name, "report.pdf");
  assert.equal(new TextDecoder().decode(r.attachments[0].bytes), "%PDF-1.4");
});

test("boundaries only count at the start of a line; a missing closing boundary keeps the last part", () => {
  const parts = splitMultipart(enc("x--b\r\n--b\r\nA: 1\r\n\r\none --b two\r\n--b\r\n\r\nlast"), "b");
  assert.deepEqual(parts.map((p) => new TextDecoder().decode(p)), ["A: 1\r\n\r\none --b two", "\r\nlast"]);
});

test("deep nesting is bounded, not a stack overflow", () => {
  let msg = "Content-Type: text/plain\r\n\r\ncore";
  for (let i = 0; i < 200; i++) msg = `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${msg}\r\n--b${i}--`;
  const r = readable(parseEntity(enc(msg)));
  assert.ok(Array.isArray(r.blocks));
});

test("the outer header fields a reader shows, decoded", () => {
  const h = messageHeaders(enc("Subject: =?utf-8?Q?Gr=C3=BC=C3=9Fe?=\r\nFrom: Alice <alice@example.org>\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\n\r\nbody"));
  assert.deepEqual(h, { subject: "Grüße", from: "Alice <alice@example.org>", to: null, cc: null, date: "Tue, 1 Dec 2026 10:00:00 +0000" });
});
