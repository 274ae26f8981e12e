// Byte helpers shared by the port, the message reader and the pages: base64 both ways, SHA-256 hex.
// Pure (Web Crypto only), so node's test runner can import them.

const BASE64_SLICE = 0x8000; // String.fromCharCode takes its arguments on the stack; keep calls small.

/**
 * Base64 of a Uint8Array; linear time even for messages of hundreds of MiB. The engine's own
 * Uint8Array.prototype.toBase64 (Firefox 133, Chromium 140 and later) is over ten times faster.
 */
export function toBase64(bytes) {
  if (typeof bytes.toBase64 === "function") return bytes.toBase64();
  const parts = [];
  for (let i = 0; i < bytes.length; i += BASE64_SLICE) {
    parts.push(String.fromCharCode.apply(null, bytes.subarray(i, i + BASE64_SLICE)));
  }
  return btoa(parts.join(""));
}

/** Bytes of a base64 string (the host's `*_b64` fields). */
export function fromBase64(b64) {
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(b64);
  const binary = atob(b64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Lower-case hex SHA-256 of bytes, as the protocol spells digests. */
export async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** UTF-8 bytes of a string. */
export function utf8(text) {
  return new TextEncoder().encode(text);
}
