// The host's op names, mirrored from its op table (docs/PROTOCOL.md, `smime-companion ops`).
// Every call to the host names its op through this table, so a rename shows up in one place.

export const HOST_NAME = "smime_companion";

export const Op = Object.freeze({
  hello: "hello",
  ping: "ping",
  transferBegin: "transfer_begin",
  transferChunk: "transfer_chunk",
  transferEnd: "transfer_end",
  transferDiscard: "transfer_discard",
  inspectMessage: "inspect_message",
});

// Failures the add-on detects itself, next to the host's own error codes. Each has a text in
// _locales (`error_<code>`), like the host's codes.
export const LocalError = Object.freeze({
  hostMissing: "host_missing",
  hostBroken: "host_broken",
  disconnected: "disconnected",
  timeout: "timeout",
  replyCorrupt: "reply_corrupt",
  messageUnreadable: "message_unreadable",
  opUnavailable: "op_unavailable",
});

/** An error reply from the host, or a failure the port detected; `code` is stable snake_case. */
export class HostError extends Error {
  constructor(code, message = code, details = null) {
    super(message);
    this.name = "HostError";
    this.code = code;
    this.details = details;
  }
}
