import { test } from "node:test";
import assert from "node:assert/strict";
import { bodySource, ewsGetItemBody, fetchEwsMime, fetchGraphMime, graphMimeUrl, MAX_MESSAGE_BYTES, parseEwsGetItem } from "../../extension/outlook-web/modules/mail-source.mjs";
import { OwaError } from "../../extension/outlook-web/modules/fetch-errors.mjs";

const MIME = "From: a@example.org\r\nSubject: x\r\n\r\nhello\r\n";

function response(status, body = "", headers = {}) {
  return {
    status,
    headers: { get: (name) => headers[name.toLowerCase()] ?? null },
    arrayBuffer: async () => new TextEncoder().encode(body).buffer,
    text: async () => body,
    json: async () => JSON.parse(body),
  };
}

test("Graph: the MIME of the message the address names, with the token, and each failure as a code", async () => {
  const seen = [];
  const fetch = async (url, init) => {
    seen.push({ url, auth: init.headers.authorization, credentials: init.credentials });
    return response(200, MIME);
  };
  const bytes = await fetchGraphMime({ graphUrl: "https://graph.example/v1.0", itemId: "AB/c+d==", token: "tok", fetch });
  assert.equal(new TextDecoder().decode(bytes), MIME);
  assert.deepEqual(seen, [{ url: "https://graph.example/v1.0/me/messages/AB-c_d%3D%3D/$value", auth: "Bearer tok", credentials: "omit" }]);
  assert.equal(graphMimeUrl("https://g/v1.0", "x"), "https://g/v1.0/me/messages/x/$value");
  for (const [status, code] of [[401, OwaError.signedOut], [403, OwaError.consentMissing], [404, OwaError.itemGone], [429, OwaError.serverError], [503, OwaError.serverError]]) {
    const failing = async () => response(status, JSON.stringify({ error: { code: "x" } }));
    await assert.rejects(fetchGraphMime({ graphUrl: "https://g", itemId: "x", token: "t", fetch: failing }), (e) => e.code === code, String(status));
  }
  await assert.rejects(fetchGraphMime({ graphUrl: "https://g", itemId: "x", token: "t", fetch: async () => { throw new TypeError("Failed to fetch"); } }), (e) => e.code === OwaError.network);
  const huge = async () => response(200, "", { "content-length": String(MAX_MESSAGE_BYTES + 1) });
  await assert.rejects(fetchGraphMime({ graphUrl: "https://g", itemId: "x", token: "t", fetch: huge }), (e) => e.code === OwaError.tooLarge);
});

test("a token never appears in an error message", async () => {
  const failing = async () => response(401, "{}");
  await assert.rejects(fetchGraphMime({ graphUrl: "https://g", itemId: "x", token: "SECRET-TOKEN", fetch: failing }), (e) => !e.message.includes("SECRET-TOKEN"));
});

const answer = (code, mime = "") => `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
<m:GetItemResponse xmlns:m="m" xmlns:t="t"><m:ResponseMessages><m:GetItemResponseMessage ResponseClass="${code === "NoError" ? "Success" : "Error"}">
<m:ResponseCode>${code}</m:ResponseCode><m:Items><t:Message><t:MimeContent CharacterSet="UTF-8">${mime}</t:MimeContent></t:Message></m:Items>
</m:GetItemResponseMessage></m:ResponseMessages></m:GetItemResponse></s:Body></s:Envelope>`;

test("EWS: GetItem with MIME content for the EWS form of the id, sent with the browser's sign-in", async () => {
  const body = ewsGetItemBody("AB-c_d==");
  assert.match(body, /<t:ItemId Id="AB\/c\+d==" \/>/);
  assert.match(body, /<t:IncludeMimeContent>true<\/t:IncludeMimeContent>/);
  assert.ok(!ewsGetItemBody('x"><y').includes('x"><y'), "the id is escaped");
  let init;
  const fetch = async (url, i) => {
    init = i;
    return response(200, answer("NoError", Buffer.from(MIME).toString("base64").replace(/(.{20})/g, "$1\n")));
  };
  const bytes = await fetchEwsMime({ ewsUrl: "https://mail.example.com/EWS/Exchange.asmx", itemId: "AB-c_d==", fetch });
  assert.equal(new TextDecoder().decode(bytes), MIME);
  assert.equal(init.method, "POST");
  assert.equal(init.credentials, "include");
});

test("EWS failures: item gone, access denied, faults, HTTP errors, no MIME content", async () => {
  assert.throws(() => parseEwsGetItem(answer("ErrorItemNotFound")), (e) => e.code === OwaError.itemGone);
  assert.throws(() => parseEwsGetItem(answer("ErrorInvalidIdMalformed")), (e) => e.code === OwaError.itemGone);
  assert.throws(() => parseEwsGetItem(answer("ErrorAccessDenied")), (e) => e.code === OwaError.accessDenied);
  assert.throws(() => parseEwsGetItem(answer("ErrorServerBusy")), (e) => e.code === OwaError.serverError);
  assert.throws(() => parseEwsGetItem("<s:Envelope><s:Body><s:Fault>x</s:Fault></s:Body></s:Envelope>"), (e) => e.code === OwaError.serverError);
  assert.throws(() => parseEwsGetItem("<html>login</html>"), (e) => e.code === OwaError.serverError);
  for (const [status, code] of [[401, OwaError.accessDenied], [403, OwaError.accessDenied], [404, OwaError.serverError], [502, OwaError.serverError]]) {
    await assert.rejects(fetchEwsMime({ ewsUrl: "https://x/EWS/Exchange.asmx", itemId: "a", fetch: async () => response(status) }), (e) => e.code === code, String(status));
  }
  // A SOAP answer comes with 500: its ResponseCode decides.
  await assert.rejects(fetchEwsMime({ ewsUrl: "https://x/EWS", itemId: "a", fetch: async () => response(500, answer("ErrorItemNotFound")) }), (e) => e.code === OwaError.itemGone);
});

function streamed(parts, total) {
  let i = 0;
  return {
    headers: { get: (name) => (name === "content-length" ? String(total) : null) },
    body: { getReader: () => ({ read: async () => (i < parts.length ? { done: false, value: parts[i++] } : { done: true }) }) },
  };
}

test("a large answer is read as it arrives, in the sizes asked for, and kept whole", async () => {
  const parts = [new Uint8Array([1, 2, 3]), new Uint8Array([4]), new Uint8Array([5, 6, 7, 8, 9])];
  const source = bodySource(streamed(parts, 9));
  const chunks = [];
  for (let c; (c = await source.read(4)).length;) chunks.push([...c]);
  assert.deepEqual(chunks, [[1, 2, 3, 4], [5, 6, 7, 8], [9]]);
  assert.deepEqual([...source.bytes()], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(bodySource({ headers: { get: () => null }, body: {} }), null, "no announced size: read whole instead");
});

test("an answer shorter or longer than announced fails, it does not pass as a message", async () => {
  const short = bodySource(streamed([new Uint8Array(3)], 5));
  await assert.rejects(async () => { while ((await short.read(2)).length); }, (e) => e.code === OwaError.network);
  const long = bodySource(streamed([new Uint8Array(6)], 5));
  await assert.rejects(long.read(2), (e) => e.code === OwaError.serverError);
  assert.throws(() => bodySource(streamed([], MAX_MESSAGE_BYTES + 1)), (e) => e.code === OwaError.tooLarge);
});
