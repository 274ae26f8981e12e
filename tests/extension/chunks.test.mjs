import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { ChunkError, ReplyAssembler } from "../../extension/modules/chunks.mjs";

// Cuts a reply into chunk frames the way the host does (docs/PROTOCOL.md, "Chunked replies").
function chunked(envelope, count) {
  const text = JSON.stringify(envelope);
  const chars = [...text];
  const size = Math.ceil(chars.length / count);
  const sha256 = createHash("sha256").update(text, "utf8").digest("hex");
  const total_bytes = Buffer.byteLength(text, "utf8");
  return Array.from({ length: count }, (_, index) => ({
    id: envelope.id,
    chunk: { count, index, sha256, total_bytes, text: chars.slice(index * size, (index + 1) * size).join("") },
  }));
}

const big = (id) => ({ id, ok: true, result: { echo: "äöü €".repeat(2000), pong: true } });

test("an ordinary frame passes through unchanged", async () => {
  const frame = { id: 1, ok: true, result: { pong: true } };
  assert.deepEqual(await new ReplyAssembler().accept(frame), frame);
});

test("chunks in order give back the reply, multi-byte characters included", async () => {
  const a = new ReplyAssembler();
  const frames = chunked(big(7), 3);
  assert.equal(await a.accept(frames[0]), null);
  assert.equal(await a.accept(frames[1]), null);
  assert.deepEqual(await a.accept(frames[2]), big(7));
  // The finished reply is forgotten: the same id may start a new chunked reply.
  assert.equal(await a.accept(frames[0]), null);
});

test("a single chunk is a complete reply", async () => {
  assert.deepEqual(await new ReplyAssembler().accept(chunked(big(3), 1)[0]), big(3));
});

test("chunks interleaved with other replies and other chunked replies are kept apart", async () => {
  const a = new ReplyAssembler();
  const x = chunked(big(1), 3);
  const y = chunked({ id: 2, ok: false, error: { code: "internal_error", message: "x".repeat(5000) } }, 2);
  const out = [];
  for (const frame of [x[0], y[0], { id: 9, ok: true, result: {} }, x[1], y[1], x[2]]) {
    const r = await a.accept(frame);
    if (r) out.push(r.id);
  }
  assert.deepEqual(out, [9, 2, 1]);
});

test("a digest that does not match rejects the reply", async () => {
  const a = new ReplyAssembler();
  const frames = chunked(big(4), 2);
  frames[1].chunk.text = frames[1].chunk.text.replace("ö", "ü"); // same size in bytes, other content
  await assert.rejects(a.accept(frames[0]).then(() => a.accept(frames[1])), (e) => e instanceof ChunkError && /SHA-256/.test(e.message) && e.code === "reply_corrupt");
});

test("a size that does not match total_bytes rejects the reply", async () => {
  const a = new ReplyAssembler();
  const frames = chunked(big(5), 2);
  for (const f of frames) f.chunk.total_bytes += 1;
  await a.accept(frames[0]);
  await assert.rejects(a.accept(frames[1]), /bytes, announced/);
});

test("a missing or repeated chunk rejects the reply and forgets it", async () => {
  const a = new ReplyAssembler();
  const frames = chunked(big(6), 3);
  await a.accept(frames[0]);
  await assert.rejects(a.accept(frames[2]), /out of order/);
  await assert.rejects(a.accept(frames[1]), /starts at index 1/, "the broken sequence is forgotten");
});

test("a chunk with a different count or digest than its first one is refused", async () => {
  const a = new ReplyAssembler();
  const frames = chunked(big(8), 3);
  await a.accept(frames[0]);
  frames[1].chunk.count = 2;
  await assert.rejects(a.accept(frames[1]), ChunkError);
});

test("a frame with a malformed chunk field is refused", async () => {
  await assert.rejects(new ReplyAssembler().accept({ id: 1, chunk: { index: 0 } }), ChunkError);
});

test("chunks that hold another id's reply are refused", async () => {
  const frames = chunked(big(10), 2).map((f) => ({ ...f, id: 11 }));
  const a = new ReplyAssembler();
  await a.accept(frames[0]);
  await assert.rejects(a.accept(frames[1]), /holds the reply for 10/);
});
