import { test } from "node:test";
import assert from "node:assert/strict";
import { saveBytes } from "../../extension/modules/save-file.mjs";

// A stand-in for the downloads API; `search` answers as the test says.
function downloads({ search, download = async () => 1 }) {
  const listeners = new Set();
  return {
    download,
    search,
    onChanged: { addListener: (l) => listeners.add(l), removeListener: (l) => listeners.delete(l) },
    change: (delta) => { for (const l of [...listeners]) l(delta); },
    listeners,
  };
}

// saveBytes lets go of its object URL a minute later; the tests do not wait for that.
async function withoutRevokeTimer(run) {
  const real = globalThis.setTimeout;
  globalThis.setTimeout = (fn, ms, ...rest) => (ms === 60_000 ? 0 : real(fn, ms, ...rest));
  try {
    return await run();
  } finally {
    globalThis.setTimeout = real;
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

test("a search that fails leaves the answer to the change listener", () => withoutRevokeTimer(async () => {
  const api = downloads({ search: async () => { throw new Error("search failed"); } });
  const saved = saveBytes(new Uint8Array([1, 2, 3]), "a.pem", "application/x-pem-file", api);
  await tick();
  api.change({ id: 1, state: { current: "complete" } });
  assert.equal(await saved, true);
  assert.equal(api.listeners.size, 0, "the listener is removed");
}));

test("a file already finished when the listener was added is found by the search", () => withoutRevokeTimer(async () => {
  const api = downloads({ search: async () => [{ id: 1, state: "complete" }] });
  assert.equal(await saveBytes(new Uint8Array([1]), "a.pem", "application/x-pem-file", api), true);
  assert.equal(api.listeners.size, 0);
}));

test("an interrupted download rejects; a cancelled Save As resolves to false", () => withoutRevokeTimer(async () => {
  const broken = downloads({ search: async () => [] });
  const failing = saveBytes(new Uint8Array([1]), "a.pem", "application/x-pem-file", broken);
  await tick();
  broken.change({ id: 1, state: { current: "interrupted" }, error: { current: "FILE_FAILED" } });
  await assert.rejects(failing, /FILE_FAILED/);
  const cancelled = downloads({ search: async () => [], download: async () => { throw new Error("Download canceled by the user"); } });
  assert.equal(await saveBytes(new Uint8Array([1]), "a.pem", "application/x-pem-file", cancelled), false);
}));
