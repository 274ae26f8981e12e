import { test } from "node:test";
import assert from "node:assert/strict";
import { MANAGED_KEY } from "../../extension/modules/directories.mjs";
import { loadOptions, localChange, OPTION_KEYS, OPTIONS, resolveOptions } from "../../extension/modules/options.mjs";
import { readJson } from "./docs.mjs";

test("IT's managed value wins over the user's, the user's over the default", () => {
  const r = resolveOptions({ managed: { alwaysSign: false }, local: { alwaysSign: true, encryptWhenPossible: true } });
  assert.deepEqual(r.values, { alwaysSign: false, encryptWhenPossible: true });
  assert.deepEqual(r.source, { alwaysSign: "managed", encryptWhenPossible: "local" });
  const defaults = resolveOptions();
  assert.deepEqual(defaults.values, { alwaysSign: true, encryptWhenPossible: false });
  assert.deepEqual(defaults.source, { alwaysSign: "default", encryptWhenPossible: "default" });
});

test("a value of the wrong type is ignored, so a typo in a policy cannot break sending", () => {
  const r = resolveOptions({ managed: { alwaysSign: "yes", encryptWhenPossible: null }, local: { alwaysSign: 1 } });
  assert.deepEqual(r.values, { alwaysSign: true, encryptWhenPossible: false });
  assert.deepEqual(r.source, { alwaysSign: "default", encryptWhenPossible: "default" });
});

test("the user cannot change what IT set; other changes are stored as given", () => {
  const r = resolveOptions({ managed: { encryptWhenPossible: true } });
  assert.equal(localChange(r, "encryptWhenPossible", false), null);
  assert.deepEqual(localChange(r, "alwaysSign", false), { alwaysSign: false });
  assert.equal(localChange(r, "alwaysSign", "no"), null);
  assert.equal(localChange(r, "noSuchOption", true), null);
});

test("no managed storage (Thunderbird rejects the read) means nothing was set by IT", async () => {
  const storage = {
    managed: { get: async () => { throw new Error("Managed storage manifest not found"); } },
    local: { get: async (keys) => ({ ...Object.fromEntries(keys.map((k) => [k, undefined])), encryptWhenPossible: true }) },
  };
  const r = await loadOptions(storage);
  assert.deepEqual(r.values, { alwaysSign: true, encryptWhenPossible: true });
  assert.equal(r.source.encryptWhenPossible, "local");
  const managed = { ...storage, managed: { get: async () => ({ alwaysSign: false }) } };
  assert.equal((await loadOptions(managed)).source.alwaysSign, "managed");
});

test("the managed-storage schema IT writes against has exactly the options, with their types", () => {
  const schema = readJson("extension/managed-schema.json");
  // Besides the options: IT's directories (directories.test.mjs checks their schema).
  assert.deepEqual(Object.keys(schema.properties).sort(), [...OPTION_KEYS, MANAGED_KEY].sort());
  for (const [key, spec] of Object.entries(OPTIONS)) {
    assert.equal(schema.properties[key].type, spec.type, key);
    assert.match(schema.properties[key].description, new RegExp(`Default: ${spec.default}`), key);
  }
});
