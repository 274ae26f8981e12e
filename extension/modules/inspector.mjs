// Reads a displayed message and asks the host for its verdict (`inspect_message`,
// docs/INSPECT.md). When the host cannot open the message but Thunderbird can decrypt it with its
// own key, the decrypted message is inspected as well and marked as decrypted by Thunderbird, so
// the add-on never says "cannot decrypt" about a message Thunderbird shows decrypted: it says
// that Thunderbird opened it with its own key and what the companion found inside. That holds for
// `no_key` (the host holds no key for it) and for `locked` (the host's key is locked, but
// Thunderbird has a key of its own, or the companion's security module is logged in). Only when
// Thunderbird cannot decrypt it either does `locked` stay: the details popup offers to unlock the
// key, and the host then decrypts and judges the message itself.
//
// The add-on never holds a message's content, decrypted or not: it asks for the verdict only
// (`return_content` is always false, whatever else is passed) and drops any content a reply
// might still carry. Thunderbird alone shows the message (docs/INSPECT.md, "Decrypted content").

import { HostError, LocalError, Op } from "./ops.mjs";

// The host's encryption states (docs/INSPECT.md) in which Thunderbird may still have opened the
// message with a key of its own.
export const THUNDERBIRD_MAY_OPEN = new Set(["no_key", "locked"]);

const BASE_TIMEOUT_MS = 30_000;
const TIMEOUT_MS_PER_MIB = 1_000; // large messages take longer to upload and verify

/** Raw bytes of a message as Thunderbird stores it, or decrypted by Thunderbird. */
export async function readRaw(messageId, { decrypt = false } = {}) {
  const raw = await browser.messages.getRaw(messageId, { decrypt, data_format: "File" });
  return new Uint8Array(await raw.arrayBuffer());
}

/**
 * Resolves to a reading `{verdict, decrypted}` (see look.mjs) or rejects with a HostError. With
 * `recheckRevocation`, the host asks the certification authorities again where a revocation
 * check failed recently ("Check revocation again").
 */
export async function inspect(port, messageId, { recheckRevocation = false } = {}) {
  await port.ready(Op.inspectMessage);
  let bytes;
  try {
    bytes = await readRaw(messageId);
  } catch (e) {
    throw new HostError(LocalError.messageUnreadable, e?.message ?? String(e));
  }
  const extra = recheckRevocation ? { recheck_revocation: true } : {};
  const verdict = await inspectBytes(port, bytes, extra);
  if (!THUNDERBIRD_MAY_OPEN.has(verdict.encryption?.state)) return { verdict, decrypted: null };

  let clear;
  try {
    clear = await readRaw(messageId, { decrypt: true });
  } catch {
    return { verdict, decrypted: null }; // Thunderbird has no key either
  }
  if (sameBytes(clear, bytes)) return { verdict, decrypted: null };
  const decrypted = await inspectBytes(port, clear, { ...extra, decrypted_by_thunderbird: true });
  return { verdict, decrypted };
}

/**
 * Asks the host for the verdict on a raw message (inline or as a chunked upload), waiting longer
 * for larger messages. Shared with the Outlook-on-the-web extension, whose messages come from
 * Microsoft Graph or EWS instead of Thunderbird.
 */
export async function inspectBytes(port, bytes, params = {}) {
  const timeoutMs = BASE_TIMEOUT_MS + Math.ceil(bytes.length / (1024 * 1024)) * TIMEOUT_MS_PER_MIB;
  const verdict = await port.requestWithPayload(Op.inspectMessage, { ...params, return_content: false }, "message", bytes, { timeoutMs });
  return { ...verdict, content: null };
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
