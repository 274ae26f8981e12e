import { test } from "node:test";
import assert from "node:assert/strict";
import { fromBase64, sha256Hex, toBase64, utf8 } from "../../extension/modules/bytes.mjs";

test("base64 goes both ways, for every byte value", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.equal(toBase64(all), Buffer.from(all).toString("base64"));
  assert.deepEqual(fromBase64(toBase64(all)), all);
  assert.deepEqual(fromBase64(""), new Uint8Array(0));
  assert.deepEqual(fromBase64("YWJj"), utf8("abc"));
});

test("large files survive the round trip (more than one slice of toBase64)", () => {
  const big = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 31) & 0xff);
  assert.deepEqual(fromBase64(toBase64(big)), big);
});

test("SHA-256 is lower-case hex", async () => {
  assert.equal(await sha256Hex(utf8("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

test("the engine's own base64 is used where there is one (Chromium 140, Firefox 133 and later)", () => {
  const bytes = Uint8Array.from([1, 2, 3]);
  bytes.toBase64 = () => "from the engine";
  assert.equal(toBase64(bytes), "from the engine");
  const saved = Uint8Array.fromBase64;
  Uint8Array.fromBase64 = (b64) => Uint8Array.of(b64.length);
  try {
    assert.deepEqual(fromBase64("abcd"), Uint8Array.of(4));
  } finally {
    if (saved) Uint8Array.fromBase64 = saved;
    else delete Uint8Array.fromBase64;
  }
});
