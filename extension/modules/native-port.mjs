// The one owner of the native-messaging port to the host `smime_companion`.
//
// It numbers requests, pipelines them (the host answers in request order, we match by id),
// bounds each with a timeout, reassembles chunked replies, uploads large payloads as chunked
// transfers, tells "host missing" and "host broken" from the connection error, and reconnects
// with backoff. Nothing else in the add-on calls runtime.connectNative.
//
// `browser` is only touched through the injected `connect` function, so node tests can drive this
// module with a fake port.

import { HostError, HOST_NAME, LocalError, Op } from "./ops.mjs";
import { ReplyAssembler } from "./chunks.mjs";
import { sha256Hex, toBase64 } from "./bytes.mjs";
import { withTimeout } from "./timeout.mjs";

export const PortState = Object.freeze({
  idle: "idle",
  connecting: "connecting", // port open, `hello` not answered yet
  ready: "ready",
  missing: "missing", // Thunderbird finds no host manifest (or the add-on is not allowed in it)
  broken: "broken", // manifest found, but the program cannot be started or refuses us
  disconnected: "disconnected", // the host went away after working; reconnecting
});

// Payloads up to this size travel inline as base64 in one request frame (64 MiB cap, and base64
// adds a third); larger ones are uploaded as a chunked transfer first.
export const INLINE_PAYLOAD_BYTES = 32 * 1024 * 1024;
const DEFAULT_UPLOAD_CHUNK_BYTES = 8 * 1024 * 1024;
const UPLOADS_IN_FLIGHT = 2; // bounds memory: each in-flight chunk is a base64 copy

export const DEFAULT_TIMEOUT_MS = 20_000;
const BACKOFF_INITIAL_MS = 1_000;
const BACKOFF_MAX_MS = 60_000;

/**
 * Classifies why a port closed, from the browser's deliberately generic error text: Thunderbird's
 * ("No such native application", "An unexpected error occurred") or Chromium's ("Specified native
 * messaging host not found.", "Access to the specified native messaging host is forbidden.").
 */
export function classifyDisconnect(errorMessage, { everAnswered }) {
  if (/no such native application|native messaging host not found/i.test(errorMessage ?? "")) return PortState.missing;
  if (/unexpected error|host is forbidden|invalid native messaging host name/i.test(errorMessage ?? "")) return PortState.broken;
  // A host that exits before answering anything crashed at start or refused us.
  return everAnswered ? PortState.disconnected : PortState.broken;
}

export class NativePort {
  #connect;
  #timers;
  #upload; // {inlineBytes, chunkBytes, inFlight}
  #backoffMs = BACKOFF_INITIAL_MS;
  #reconnectTimer = null;
  #port = null;
  #nextId = 1;
  #pending = new Map(); // id -> {resolve, reject, timer, sentAt}
  #assembler = new ReplyAssembler();
  #lastFrameAt = 0;
  #answered = false; // the current port delivered at least one frame
  #refused = false; // the current host said `caller_not_allowed`
  #listeners = new Set();
  #hello = null; // Promise of the current session's `hello` result

  state = PortState.idle;
  /** The last `hello` result ({version, ops, limits, …}), or null before the first one. */
  hostInfo = null;
  /** Why the port is not ready: an error code such as `host_missing`, or null. */
  lastError = null;

  /**
   * `upload` tunes how payloads travel: inline up to `inlineBytes`, else in chunks of `chunkBytes`
   * with `inFlight` of them on the way at once. Chromium moves several 1 MiB frames faster than
   * one large one, so the Outlook-on-the-web extension uploads anything over 2 MiB in chunks.
   */
  constructor({ connect = () => browser.runtime.connectNative(HOST_NAME), timers = globalThis, now = Date.now, upload = {} } = {}) {
    this.#upload = { inlineBytes: INLINE_PAYLOAD_BYTES, chunkBytes: DEFAULT_UPLOAD_CHUNK_BYTES, inFlight: UPLOADS_IN_FLIGHT, ...upload };
    this.#connect = connect;
    this.#timers = timers;
    this.now = now;
  }

  /** Calls `listener(state, lastError)` on every state change. */
  onStateChange(listener) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Opens the port unless it is open; resolves to the `hello` result or rejects with a HostError. */
  start() {
    if (!this.#port) this.#open();
    return this.#hello;
  }

  /** Reconnects now instead of waiting for the backoff (a message was displayed, the user asked). */
  retryNow() {
    if (this.#port) return this.#hello;
    this.#timers.clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    return this.start();
  }

  /** True when the connected host lists `op` (false before the first `hello`). */
  supports(op) {
    return Boolean(this.hostInfo?.ops?.some((o) => o.name === op));
  }

  /**
   * Starts the host unless it runs, and makes sure it has `op`: rejects with the start's HostError,
   * or with `op_unavailable` when the host is older than the op. With `timeoutMs`, waits for the
   * host's `hello` at most that long (rejecting with `timeout`); the `hello` itself goes on.
   */
  async ready(op, { timeoutMs } = {}) {
    const started = this.start();
    await (timeoutMs ? withTimeout(started, timeoutMs, `the host did not start within ${timeoutMs} ms`, this.#timers) : started);
    if (!this.supports(op)) throw new HostError(LocalError.opUnavailable, `the host has no ${op}`);
  }

  /**
   * Sends one request and resolves to its `result`. Rejects with a HostError carrying the host's
   * error code, or a local one (`timeout`, `host_missing`, `host_broken`, `disconnected`,
   * `reply_corrupt`).
   */
  request(op, params = {}, { timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
    if (!this.#port) this.#open();
    return this.#send(op, params, timeoutMs);
  }

  /**
   * Sends `op` with `bytes` as its payload: inline as `<field>_b64` when small, otherwise as a
   * chunked upload named by `transfer` (docs/PROTOCOL.md, "Chunked uploads").
   */
  async requestWithPayload(op, params, field, bytes, { timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
    if (bytes.length <= this.#upload.inlineBytes) {
      return this.request(op, { ...params, [`${field}_b64`]: toBase64(bytes) }, { timeoutMs });
    }
    const transfer = await this.upload(bytes, { timeoutMs });
    return this.request(op, { ...params, transfer }, { timeoutMs });
  }

  /** Uploads bytes as a transfer and resolves to its id, ready to be named by an op. */
  async upload(bytes, { timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
    const sha256 = await sha256Hex(bytes);
    let offset = 0;
    const read = (size) => {
      const chunk = bytes.subarray(offset, offset + size);
      offset += chunk.length;
      return chunk;
    };
    return this.#uploadChunks({ total_bytes: bytes.length, sha256 }, read, { timeoutMs });
  }

  /**
   * Uploads `totalBytes` while they arrive: `read(size)` resolves to the next bytes (at most
   * `size`; empty at the end). The first chunks are on their way to the host before the last have
   * arrived (a message still downloading, say). The host checks the total; a source that ends
   * early or runs over fails the upload, which is then discarded.
   */
  uploadStream(totalBytes, read, { timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
    return this.#uploadChunks({ total_bytes: totalBytes }, read, { timeoutMs });
  }

  async #uploadChunks(begin, read, { timeoutMs }) {
    const begun = await this.request(Op.transferBegin, begin, { timeoutMs });
    const id = begun.transfer_id;
    const size = Math.max(1, Math.min(begun.suggested_chunk_bytes || this.#upload.chunkBytes, this.#upload.chunkBytes));
    const inFlight = [];
    try {
      for (let index = 0; ; index++) {
        const chunk = await read(size);
        if (!chunk?.length) break;
        const data_b64 = toBase64(chunk);
        inFlight.push(this.request(Op.transferChunk, { transfer_id: id, index, data_b64 }, { timeoutMs }));
        if (inFlight.length >= this.#upload.inFlight) await inFlight.shift();
      }
      await Promise.all(inFlight.splice(0));
      await this.request(Op.transferEnd, { transfer_id: id }, { timeoutMs });
      return id;
    } catch (e) {
      for (const later of inFlight) later.catch(() => {}); // they fail too; the first error is the one

      if (this.#port) this.request(Op.transferDiscard, { transfer_id: id }).catch(() => {});
      throw e;
    }
  }

  #open() {
    this.#answered = false;
    this.#refused = false;
    this.#assembler.clear();
    this.#setState(PortState.connecting, this.lastError);
    let port;
    try {
      port = this.#connect();
    } catch (e) {
      this.#closed(e?.message ?? String(e));
      this.#hello = Promise.reject(new HostError(this.lastError, e?.message ?? String(e)));
      this.#hello.catch(() => {});
      return;
    }
    this.#port = port;
    port.onMessage.addListener((frame) => this.#receive(port, frame));
    port.onDisconnect.addListener((p) => {
      // Thunderbird puts the reason on the port; Chromium only in runtime.lastError, read here.
      const reason = (p ?? port).error?.message ?? globalThis.chrome?.runtime?.lastError?.message;
      if (this.#port === port) this.#closed(reason);
    });
    this.#hello = this.#send(Op.hello, {}, DEFAULT_TIMEOUT_MS).then((info) => {
      this.hostInfo = info;
      this.#backoffMs = BACKOFF_INITIAL_MS;
      this.#setState(PortState.ready, null);
      return info;
    });
    this.#hello.catch(() => {}); // failures reach callers through their own requests
  }

  #send(op, params, timeoutMs) {
    const id = this.#nextId++;
    const port = this.#port;
    if (!port) return Promise.reject(new HostError(this.lastError ?? LocalError.disconnected, "host not connected"));
    return new Promise((resolve, reject) => {
      const entry = { resolve, reject, sentAt: this.now(), timer: null };
      entry.timer = this.#timers.setTimeout(() => this.#timedOut(id, op, timeoutMs), timeoutMs);
      this.#pending.set(id, entry);
      try {
        port.postMessage({ id, op, params });
      } catch (e) {
        this.#settle(id, null, new HostError(LocalError.disconnected, e?.message ?? String(e)));
      }
    });
  }

  #receive(port, frame) {
    if (port !== this.#port) return;
    this.#answered = true;
    this.#lastFrameAt = this.now();
    if (frame && typeof frame === "object" && "chunk" in frame) {
      this.#assembler.accept(frame).then(
        (envelope) => envelope && this.#dispatch(envelope),
        (e) => this.#settle(e.id, null, new HostError(e.code, e.message)),
      );
    } else {
      this.#dispatch(frame); // at once: a refusal must be known before the exit that follows it
    }
  }

  #dispatch(envelope) {
    if (envelope?.id === null || envelope?.id === undefined) {
      // The host could not tell which request this answers; `caller_not_allowed` is followed by exit.
      if (envelope?.error?.code === "caller_not_allowed") this.#refused = true;
      return;
    }
    if (envelope.ok === true) this.#settle(envelope.id, envelope.result, null);
    else {
      const err = envelope.error ?? {};
      this.#settle(envelope.id, null, new HostError(err.code ?? "internal_error", err.message, err.details ?? null));
    }
  }

  #settle(id, result, error) {
    const entry = this.#pending.get(id);
    if (!entry) return; // timed out earlier, or not ours
    this.#pending.delete(id);
    this.#timers.clearTimeout(entry.timer);
    if (error) entry.reject(error);
    else entry.resolve(result);
  }

  #timedOut(id, op, timeoutMs) {
    const entry = this.#pending.get(id);
    if (!entry) return;
    this.#assembler.drop(id);
    this.#settle(id, null, new HostError(LocalError.timeout, `${op} took longer than ${timeoutMs} ms`));
    // Silence since the request went out means the host hangs: start a fresh one.
    if (this.#lastFrameAt < entry.sentAt && this.#port) {
      const port = this.#port;
      this.#teardown(LocalError.timeout, "host stopped answering");
      try {
        port.disconnect();
      } catch {
        // already gone
      }
      this.#setState(PortState.disconnected, LocalError.timeout);
      this.#scheduleReconnect();
    }
  }

  #closed(errorMessage) {
    const state = this.#refused ? PortState.broken : classifyDisconnect(errorMessage, { everAnswered: this.#answered });
    const code =
      this.#refused ? "caller_not_allowed"
      : state === PortState.missing ? LocalError.hostMissing
      : state === PortState.broken ? LocalError.hostBroken
      : LocalError.disconnected;
    this.#teardown(code, errorMessage ?? "host closed the connection");
    this.#setState(state, code);
    this.#scheduleReconnect();
  }

  // Forgets the port and fails everything still waiting on it.
  #teardown(code, message) {
    this.#port = null;
    this.#assembler.clear();
    const waiting = [...this.#pending.keys()];
    for (const id of waiting) this.#settle(id, null, new HostError(code, message));
  }

  #scheduleReconnect() {
    if (this.#reconnectTimer) return;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, BACKOFF_MAX_MS);
    this.#reconnectTimer = this.#timers.setTimeout(() => {
      this.#reconnectTimer = null;
      if (!this.#port) this.start();
    }, delay);
  }

  #setState(state, lastError) {
    const changed = state !== this.state || lastError !== this.lastError;
    this.state = state;
    this.lastError = lastError;
    if (changed) for (const listener of this.#listeners) listener(state, lastError);
  }
}
