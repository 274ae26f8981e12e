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

// Binary strings (a raw message as Thunderbird hands it over: one character per byte) travel as
// they are, in `*_latin1` fields: nothing to encode, and a quarter fewer bytes than base64. Up
// to INLINE_TEXT_BYTES in the request frame itself; larger ones as a chunked upload of frames of
// that size. Measured in Thunderbird (tests/e2e/bench.sh), what costs is the number of frames
// and of answers waited for: Thunderbird writes one frame at a time, each after its main thread
// (busy showing the very message) has heard that the one before is written; and a frame of many
// MiB costs time that grows with its square (Thunderbird copies whatever a write to the pipe
// leaves over; the host widens its pipe to 1 MiB). So the upload is posted all at once, up to
// TEXT_UPLOADS_IN_FLIGHT unanswered frames (which bounds the memory it holds).
export const INLINE_TEXT_BYTES = 4 * 1024 * 1024;
const TEXT_CHUNK_BYTES = INLINE_TEXT_BYTES;
const TEXT_UPLOADS_IN_FLIGHT = 8;

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
  #nextTransfer = 1;
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
    this.#upload = {
      inlineBytes: INLINE_PAYLOAD_BYTES, chunkBytes: DEFAULT_UPLOAD_CHUNK_BYTES, inFlight: UPLOADS_IN_FLIGHT,
      inlineText: INLINE_TEXT_BYTES, textChunkBytes: TEXT_CHUNK_BYTES, textInFlight: TEXT_UPLOADS_IN_FLIGHT, ...upload,
    };
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

  /** True when the host times its work and wants the add-on to (`hello` says `timing: true`). */
  get timing() {
    return this.hostInfo?.timing === true;
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
  request(op, params = {}, { timeoutMs = DEFAULT_TIMEOUT_MS, trace = null } = {}) {
    if (!this.#port) this.#open();
    return this.#send(op, params, timeoutMs, trace);
  }

  /**
   * Sends `op` with `payload` as its payload: bytes (a Uint8Array) inline as `<field>_b64`, or
   * a binary string inline as `<field>_latin1`, when small; otherwise as a chunked upload named
   * by `transfer` (docs/PROTOCOL.md, "Chunked uploads"). A `trace` (trace.mjs) notes when the
   * payload was encoded or uploaded, sent and answered.
   */
  async requestWithPayload(op, params, field, payload, { timeoutMs = DEFAULT_TIMEOUT_MS, trace = null } = {}) {
    const text = typeof payload === "string";
    if (payload.length <= (text ? this.#upload.inlineText : this.#upload.inlineBytes)) {
      // A host older than binary strings gets base64 (btoa reads a binary string as bytes).
      const latin1 = text && this.accepts(op, `${field}_latin1`);
      const value = latin1 ? payload : text ? btoa(payload) : toBase64(payload);
      trace?.mark("encode");
      return this.request(op, { ...params, [`${field}${latin1 ? "_latin1" : "_b64"}`]: value }, { timeoutMs, trace });
    }
    if (!text) {
      const transfer = await this.upload(payload, { timeoutMs });
      trace?.mark("upload");
      return this.request(op, { ...params, transfer }, { timeoutMs, trace });
    }
    // The op follows the chunks at once: the host answers in order, so it finds the transfer
    // complete, and the answers to the chunks need not come back first (each way through
    // Thunderbird waits for its busy main thread while it shows the message).
    const { id, answered } = await this.#postText(payload, { timeoutMs, trace });
    const reply = this.request(op, { ...params, transfer: id }, { timeoutMs, trace });
    try {
      await answered;
    } catch (e) {
      reply.catch(() => {}); // it fails too (the transfer is incomplete); the first error is the one
      throw e;
    }
    return reply;
  }

  /** True when the host's op table lists `param` among the params of `op` (its `hello`). */
  accepts(op, param) {
    const params = this.hostInfo?.ops?.find((o) => o.name === op)?.params ?? "";
    return new RegExp(`(^|[^a-z0-9_])${param}([^a-z0-9_]|$)`).test(params);
  }

  /**
   * Uploads a binary string (one character per byte) as a transfer of `data_latin1` chunks and
   * resolves to its id once the host has taken it all (see INLINE_TEXT_BYTES and `#postText`).
   */
  async uploadText(text, { timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
    const { id, answered } = await this.#postText(text, { timeoutMs });
    await answered;
    return id;
  }

  /**
   * Posts a binary string as a transfer: `transfer_begin`, the `data_latin1` chunks and
   * `transfer_end`, without waiting for their answers beyond TEXT_UPLOADS_IN_FLIGHT unanswered
   * ones. The add-on names the transfer itself where the host lets it (docs/PROTOCOL.md, "Chunked
   * uploads"); an older host's `transfer_begin` is waited for, as it names the transfer. Resolves
   * to the transfer's id once all are posted, with `answered`, which settles when the host has
   * answered every one of them (rejecting with the first error in order, the transfer then
   * discarded).
   */
  async #postText(text, { timeoutMs, trace = null }) {
    const field = this.accepts(Op.transferChunk, "data_latin1") ? "data_latin1" : "data_b64";
    const { textChunkBytes, textInFlight: most } = this.#upload;
    const unanswered = [];
    const posted = [];
    // With a trace, the host's times for the chunks: when they arrived and what they cost it.
    const times = [];
    const chunkTrace = trace && { mark() {}, set: (key, value) => key === "host" && times.push(value) };
    let id = null;
    let size = textChunkBytes;
    const fail = (e) => {
      if (id !== null && this.#port) this.request(Op.transferDiscard, { transfer_id: id }).catch(() => {});
      throw e;
    };
    try {
      if (this.accepts(Op.transferBegin, "transfer_id")) {
        id = `a${this.#nextTransfer++}`;
        const begin = this.request(Op.transferBegin, { total_bytes: text.length, transfer_id: id }, { timeoutMs });
        posted.push(handled(begin));
        unanswered.push(begin);
      } else {
        const begun = await this.request(Op.transferBegin, { total_bytes: text.length }, { timeoutMs });
        id = begun.transfer_id;
        size = Math.max(1, Math.min(begun.suggested_chunk_bytes || textChunkBytes, textChunkBytes));
      }
      trace?.mark("begun");
      for (let index = 0, offset = 0; offset < text.length; index++, offset += size) {
        const chunk = text.slice(offset, offset + size);
        const data = field === "data_latin1" ? chunk : btoa(chunk);
        const request = this.request(Op.transferChunk, { transfer_id: id, index, [field]: data }, { timeoutMs, trace: chunkTrace });
        posted.push(handled(request));
        unanswered.push(request);
        // In order, so that a failed transfer_begin is the error, not the chunk after it.
        if (unanswered.length >= most) await unanswered.shift();
      }
    } catch (e) {
      fail(e);
    }
    posted.push(handled(this.request(Op.transferEnd, { transfer_id: id }, { timeoutMs })));
    trace?.mark("chunks_posted");
    const answered = inOrder(posted).then(() => {
      if (times.length) trace.set("chunks", chunkTimes(times));
    }, fail);
    return { id, answered };
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

  #send(op, params, timeoutMs, trace = null) {
    const id = this.#nextId++;
    const port = this.#port;
    if (!port) return Promise.reject(new HostError(this.lastError ?? LocalError.disconnected, "host not connected"));
    return new Promise((resolve, reject) => {
      const entry = { resolve, reject, sentAt: this.now(), timer: null, trace };
      entry.timer = this.#timers.setTimeout(() => this.#timedOut(id, op, timeoutMs), timeoutMs);
      this.#pending.set(id, entry);
      try {
        port.postMessage({ id, op, params });
        trace?.mark("post");
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
    if (envelope.ok === true) this.#settle(envelope.id, envelope.result, null, envelope.timing);
    else {
      const err = envelope.error ?? {};
      this.#settle(envelope.id, null, new HostError(err.code ?? "internal_error", err.message, err.details ?? null), envelope.timing);
    }
  }

  #settle(id, result, error, timing = null) {
    const entry = this.#pending.get(id);
    if (!entry) return; // timed out earlier, or not ours
    this.#pending.delete(id);
    this.#timers.clearTimeout(entry.timer);
    if (entry.trace) {
      entry.trace.mark("reply");
      if (timing) entry.trace.set("host", timing);
    }
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

/**
 * What the host's times for an upload's chunks say (trace.mjs): how many, from the first one's
 * arrival to the last one handled, and of that the host's time reading them off the pipe and
 * handling them; the rest it waited for the next.
 */
function chunkTimes(times) {
  const first = Math.min(...times.map((t) => t.received_at_ms));
  const last = Math.max(...times.map((t) => t.received_at_ms + t.read_ms + t.handle_ms));
  const sum = (key) => Math.round(times.reduce((total, t) => total + (t[key] ?? 0), 0) * 1000) / 1000;
  return { count: times.length, span_ms: Math.round((last - first) * 1000) / 1000, read_ms: sum("read_ms"), handle_ms: sum("handle_ms") };
}

/**
 * A promise whose failure is not reported as unhandled while earlier ones are still awaited
 * (`inOrder` awaits it, and so sees the failure).
 */
function handled(promise) {
  promise.catch(() => {});
  return promise;
}

/** Waits for each promise in turn: resolves when all have, or rejects with the first (in order) that fails. */
async function inOrder(promises) {
  for (const p of promises) await p;
}
