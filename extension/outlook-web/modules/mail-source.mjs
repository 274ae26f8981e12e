// Getting an opened message's raw MIME from Exchange, by the documented routes only:
// Microsoft Graph `GET /me/messages/{id}/$value` (Exchange Online; a delegated Mail.Read token)
// and EWS `GetItem` with `IncludeMimeContent` (Exchange on premises; the browser's own sign-in to
// the server: Kerberos/NTLM, or the session of a reverse proxy). Every failure is an OwaError
// code (fetch-errors.mjs). `fetch` is injected, so node tests drive both routes.

import { HostError } from "../../modules/ops.mjs";
import { ewsResponseError, ewsStatusError, graphStatusError, OwaError } from "./fetch-errors.mjs";
import { ewsId, restId } from "./owa-url.mjs";

/** The host takes messages up to 256 MiB (docs/PROTOCOL.md); larger ones are refused here. */
export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

async function request(fetch, url, init) {
  try {
    return await fetch(url, { cache: "no-store", ...init });
  } catch (e) {
    throw new HostError(OwaError.network, `${new URL(url).host} unreachable: ${e?.message ?? e}`);
  }
}

/** A whole answer's body, refused when larger than the host takes. */
export async function bytesOf(response) {
  const announced = Number(response.headers?.get?.("content-length") ?? NaN);
  if (announced > MAX_MESSAGE_BYTES) throw new HostError(OwaError.tooLarge, `the message has ${announced} bytes`);
  let buffer;
  try {
    buffer = await response.arrayBuffer();
  } catch (e) {
    throw new HostError(OwaError.network, `the answer broke off: ${e?.message ?? e}`);
  }
  if (buffer.byteLength > MAX_MESSAGE_BYTES) throw new HostError(OwaError.tooLarge, `the message has ${buffer.byteLength} bytes`);
  return new Uint8Array(buffer);
}

/** The Graph address of a message's MIME. */
export function graphMimeUrl(graphUrl, itemId) {
  return `${graphUrl}/me/messages/${encodeURIComponent(restId(itemId))}/$value`;
}

/** Graph's answer for a message's MIME, its status checked; the body is still to be read. */
export async function openGraphMime({ graphUrl, itemId, token, fetch = globalThis.fetch }) {
  const response = await request(fetch, graphMimeUrl(graphUrl, itemId), {
    headers: { authorization: `Bearer ${token}`, accept: "message/rfc822, */*" },
    credentials: "omit",
  });
  const code = graphStatusError(response.status);
  if (code) {
    const detail = await response.json().then((j) => j?.error?.code ?? "", () => "");
    throw new HostError(code, `Graph answered ${response.status} ${detail}`.trim(), { status: response.status });
  }
  return response;
}

/** The raw message from Graph, with an access token. */
export async function fetchGraphMime(options) {
  return bytesOf(await openGraphMime(options));
}

/**
 * The body of an answer whose size is announced, read as it arrives: `read(size)` gives the next
 * bytes (for NativePort.uploadStream), `bytes()` everything read (kept for the reader). A body
 * longer or shorter than announced is an error. Null when the size is not announced or too large
 * to say: then the body is read whole instead.
 */
export function bodySource(response) {
  const total = Number(response.headers?.get?.("content-length") ?? NaN);
  if (!Number.isSafeInteger(total) || total <= 0 || !response.body?.getReader) return null;
  if (total > MAX_MESSAGE_BYTES) throw new HostError(OwaError.tooLarge, `the message has ${total} bytes`);
  const reader = response.body.getReader();
  const all = new Uint8Array(total);
  let filled = 0;
  let sent = 0;
  let done = false;
  return {
    total,
    async read(size) {
      while (!done && filled - sent < size) {
        let next;
        try {
          next = await reader.read();
        } catch (e) {
          throw new HostError(OwaError.network, `the answer broke off: ${e?.message ?? e}`);
        }
        if (next.done) {
          done = true;
          if (filled !== total) throw new HostError(OwaError.network, `the answer broke off after ${filled} of ${total} bytes`);
          break;
        }
        if (filled + next.value.length > total) throw new HostError(OwaError.serverError, "the answer is longer than announced");
        all.set(next.value, filled);
        filled += next.value.length;
      }
      const chunk = all.subarray(sent, Math.min(filled, sent + size));
      sent += chunk.length;
      return chunk;
    },
    bytes: () => all.subarray(0, filled),
  };
}

function xmlEscape(s) {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The SOAP body of an EWS GetItem for one item's MIME content. */
export function ewsGetItemBody(itemId) {
  return `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
  <soap:Header><t:RequestServerVersion Version="Exchange2013" /></soap:Header>
  <soap:Body>
    <m:GetItem>
      <m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:IncludeMimeContent>true</t:IncludeMimeContent></m:ItemShape>
      <m:ItemIds><t:ItemId Id="${xmlEscape(ewsId(itemId))}" /></m:ItemIds>
    </m:GetItem>
  </soap:Body>
</soap:Envelope>`;
}

// Element names with any namespace prefix (EWS answers use t:, m:, or none).
const tag = (name) => `(?:[A-Za-z_][\\w.-]*:)?${name}`;

/**
 * The MIME content of a GetItem answer, or the failure. Read with patterns, not an XML parser
 * (a service worker has none): only the ResponseCode and the base64 text of MimeContent are
 * taken, and anything else in the answer is ignored.
 */
export function parseEwsGetItem(text) {
  const fault = text.match(new RegExp(`<${tag("Fault")}[\\s>]`));
  const code = text.match(new RegExp(`<${tag("ResponseCode")}>\\s*([A-Za-z]+)\\s*</${tag("ResponseCode")}>`))?.[1] ?? null;
  const failure = ewsResponseError(code);
  if (failure) throw new HostError(failure, `EWS answered ${code}`);
  if (fault && !code) throw new HostError(OwaError.serverError, "EWS answered with a SOAP fault");
  const mime = text.match(new RegExp(`<${tag("MimeContent")}(?:\\s[^>]*)?>([A-Za-z0-9+/=\\s]*)</${tag("MimeContent")}>`));
  if (!mime) throw new HostError(OwaError.serverError, "the EWS answer holds no MimeContent");
  const b64 = mime[1].replace(/\s+/g, "");
  if (b64.length * 0.75 > MAX_MESSAGE_BYTES) throw new HostError(OwaError.tooLarge, "the message is too large");
  let binary;
  try {
    binary = atob(b64);
  } catch {
    throw new HostError(OwaError.serverError, "MimeContent is not base64");
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The raw message from EWS, signed in as the browser is to the server. */
export async function fetchEwsMime({ ewsUrl, itemId, fetch = globalThis.fetch }) {
  const response = await request(fetch, ewsUrl, {
    method: "POST",
    headers: { "content-type": "text/xml; charset=utf-8", accept: "text/xml" },
    body: ewsGetItemBody(itemId),
    credentials: "include",
  });
  const code = ewsStatusError(response.status);
  if (code) throw new HostError(code, `EWS answered ${response.status}`, { status: response.status });
  let text;
  try {
    text = await response.text();
  } catch (e) {
    throw new HostError(OwaError.network, `the answer broke off: ${e?.message ?? e}`);
  }
  return parseEwsGetItem(text);
}
