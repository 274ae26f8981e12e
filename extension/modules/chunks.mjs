// Reassembly of chunked host replies (docs/PROTOCOL.md, "Chunked replies").
//
// The host sends a reply larger than one native-messaging frame as ordered chunk frames
// `{id, chunk: {count, index, sha256, text, total_bytes}}`. This module collects them per request
// id, checks order, size and SHA-256, and yields the reply envelope as if it had come in one frame.
// Pure: no `browser`, so node's test runner imports it directly.

import { LocalError } from "./ops.mjs";
import { sha256Hex, utf8 } from "./bytes.mjs";

/** A chunked reply that cannot be trusted; the request it belongs to fails with `reply_corrupt`. */
export class ChunkError extends Error {
  constructor(id, message) {
    super(message);
    this.name = "ChunkError";
    this.id = id;
    this.code = LocalError.replyCorrupt;
  }
}

export class ReplyAssembler {
  #open = new Map(); // request id -> {count, sha256, totalBytes, texts}

  /**
   * Feeds one frame from the host. Resolves to the complete envelope (`{id, ok, …}`) when the
   * frame is an ordinary reply or the last chunk of one, or to null while chunks are missing.
   * Rejects with a ChunkError for an inconsistent or tampered chunk sequence; that sequence is
   * dropped so later replies are unaffected.
   */
  async accept(frame) {
    if (!frame || typeof frame !== "object" || !("chunk" in frame)) return frame;
    const { id, chunk } = frame;
    const text = this.#append(id, chunk);
    if (text === null) return null;
    const { sha256, totalBytes } = this.#finish(id);
    const bytes = utf8(text);
    if (bytes.length !== totalBytes) {
      throw new ChunkError(id, `chunked reply ${id}: ${bytes.length} bytes, announced ${totalBytes}`);
    }
    if ((await sha256Hex(bytes)) !== sha256) {
      throw new ChunkError(id, `chunked reply ${id}: SHA-256 differs from the announced one`);
    }
    let envelope;
    try {
      envelope = JSON.parse(text);
    } catch (e) {
      throw new ChunkError(id, `chunked reply ${id} is not JSON: ${e.message}`);
    }
    if (envelope?.id !== id) throw new ChunkError(id, `chunked reply ${id} holds the reply for ${envelope?.id}`);
    return envelope;
  }

  /** Forgets a partial reply (its request timed out or the port closed). */
  drop(id) {
    this.#open.delete(id);
  }

  clear() {
    this.#open.clear();
  }

  // Adds one slice; returns the whole text once the last slice is in, else null.
  #append(id, chunk) {
    const valid =
      chunk && Number.isInteger(chunk.count) && chunk.count > 0 && Number.isInteger(chunk.index) &&
      typeof chunk.text === "string" && typeof chunk.sha256 === "string" && Number.isInteger(chunk.total_bytes);
    if (!valid) {
      this.#open.delete(id);
      throw new ChunkError(id, `chunk frame for ${id} lacks count, index, text, sha256 or total_bytes`);
    }
    let entry = this.#open.get(id);
    if (!entry) {
      if (chunk.index !== 0) throw new ChunkError(id, `chunked reply ${id} starts at index ${chunk.index}`);
      entry = { count: chunk.count, sha256: chunk.sha256, totalBytes: chunk.total_bytes, texts: [] };
      this.#open.set(id, entry);
    }
    const consistent =
      chunk.index === entry.texts.length && chunk.count === entry.count &&
      chunk.sha256 === entry.sha256 && chunk.total_bytes === entry.totalBytes;
    if (!consistent) {
      this.#open.delete(id);
      throw new ChunkError(id, `chunk ${chunk.index}/${chunk.count} of reply ${id} is out of order or inconsistent`);
    }
    entry.texts.push(chunk.text);
    return entry.texts.length === entry.count ? entry.texts.join("") : null;
  }

  #finish(id) {
    const entry = this.#open.get(id);
    this.#open.delete(id);
    return entry;
  }
}
