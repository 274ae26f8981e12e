// How the add-on's pages reach the host: through the background, which owns the one native port
// (native-port.mjs). A page asks with `callHost(op, params)`; failures arrive as HostError with
// the host's error code (or a local one such as `host_missing`), ready for `error_<code>` texts.

import { HostError } from "./ops.mjs";

export async function callHost(op, params = {}, { timeoutMs } = {}) {
  const reply = await browser.runtime.sendMessage({ type: "host", op, params, timeoutMs });
  if (reply?.ok) return reply.result;
  const error = reply?.error ?? {};
  throw new HostError(error.code ?? "internal_error", error.message ?? "no answer", error.details ?? null);
}

/** The background's relay side: turns a rejected request into a reply a page can rebuild. */
export function errorReply(e) {
  return { ok: false, error: { code: e?.code ?? "internal_error", message: e?.message ?? String(e), details: e?.details ?? null } };
}
