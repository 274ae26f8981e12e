import { test } from "node:test";
import assert from "node:assert/strict";
import {
  baseUrl, CLOUD_ORIGINS, graphScope, loadSettings, localChange, origin, pageMatches, resolveSettings, routeFor, SETTING_KEYS,
} from "../../extension/outlook-web/modules/settings.mjs";
import { readJson } from "./docs.mjs";

test("defaults: the Microsoft 365 addresses through Graph, no on-premises servers, no app registration", () => {
  const { values, source, problems } = resolveSettings();
  assert.deepEqual(values.cloudOrigins, CLOUD_ORIGINS);
  assert.deepEqual(values.onPremises, []);
  assert.equal(values.clientId, "");
  assert.equal(values.tenantId, "organizations");
  assert.equal(values.graphUrl, "https://graph.microsoft.com/v1.0");
  assert.ok(Object.values(source).every((s) => s === "default"));
  assert.deepEqual(problems, []);
});

test("IT wins over the user, the user over the default, and an invalid value is reported and ignored", () => {
  const id = "11111111-2222-3333-4444-555555555555";
  const r = resolveSettings({
    managed: { clientId: id.toUpperCase(), graphUrl: "http://graph.example" },
    local: { clientId: "22222222-2222-3333-4444-555555555555", tenantId: "contoso.com", graphUrl: "https://graph.microsoft.us/v1.0" },
  });
  assert.equal(r.values.clientId, id);
  assert.equal(r.source.clientId, "managed");
  assert.equal(r.values.tenantId, "contoso.com");
  assert.equal(r.source.tenantId, "local");
  assert.equal(r.values.graphUrl, "https://graph.microsoft.us/v1.0", "IT's http:// address is not used; the user's valid one is");
  assert.deepEqual(r.problems, [{ key: "graphUrl", source: "managed" }]);
});

test("origins are https origins only: no path, query, credentials or other scheme", () => {
  assert.equal(origin("https://mail.example.com/"), "https://mail.example.com");
  assert.equal(origin("https://mail.example.com:8443"), "https://mail.example.com:8443");
  for (const bad of ["http://mail.example.com", "https://mail.example.com/owa", "https://u:p@mail.example.com", "https://x?y", "mail.example.com", "", null, 7]) {
    assert.equal(origin(bad), null, String(bad));
  }
  assert.equal(baseUrl("https://graph.microsoft.com/v1.0/"), "https://graph.microsoft.com/v1.0");
  assert.equal(baseUrl("https://graph.microsoft.com/v1.0?x"), null);
});

test("on-premises servers get their EWS address by default, and one bad entry voids the list", () => {
  const r = resolveSettings({ local: { onPremises: ["https://mail.example.com", { origin: "https://owa.example.org/", ewsUrl: "https://ews.example.org/EWS/Exchange.asmx" }] } });
  assert.deepEqual(r.values.onPremises, [
    { origin: "https://mail.example.com", ewsUrl: "https://mail.example.com/EWS/Exchange.asmx" },
    { origin: "https://owa.example.org", ewsUrl: "https://ews.example.org/EWS/Exchange.asmx" },
  ]);
  const bad = resolveSettings({ local: { onPremises: ["https://mail.example.com", { origin: "https://x.example", ewsUrl: "http://x.example/EWS" }] } });
  assert.deepEqual(bad.values.onPremises, []);
  assert.deepEqual(bad.problems, [{ key: "onPremises", source: "local" }]);
});

test("each origin is routed to Graph or to its EWS server; others are not Outlook on the web", () => {
  const { values } = resolveSettings({ local: { onPremises: ["https://mail.example.com"] } });
  assert.deepEqual(routeFor("https://outlook.office.com", values), { kind: "graph" });
  assert.deepEqual(routeFor("https://mail.example.com", values), { kind: "ews", ewsUrl: "https://mail.example.com/EWS/Exchange.asmx" });
  assert.equal(routeFor("https://evil.example", values), null);
  assert.deepEqual(pageMatches(values), [...CLOUD_ORIGINS.map((o) => `${o}/*`), "https://mail.example.com/*"]);
  assert.equal(graphScope(values), "https://graph.microsoft.com/Mail.Read");
});

test("the user cannot change what IT set; empty fields go back to the default; invalid ones are refused", () => {
  const r = resolveSettings({ managed: { tenantId: "contoso.com" } });
  assert.equal(localChange(r, "tenantId", "fabrikam.com"), null);
  assert.deepEqual(localChange(r, "clientId", ""), { remove: "clientId" });
  assert.deepEqual(localChange(r, "onPremises", []), { remove: "onPremises" });
  assert.equal(localChange(r, "clientId", "not-a-guid"), null);
  assert.deepEqual(localChange(r, "authority", "https://login.microsoftonline.us"), { set: { authority: "https://login.microsoftonline.us" } });
});

test("storage.managed that cannot be read is an empty managed area", async () => {
  const storage = {
    managed: { get: () => Promise.reject(new Error("Managed storage manifest not found")) },
    local: { get: async () => ({ clientId: "11111111-2222-3333-4444-555555555555" }) },
  };
  const r = await loadSettings(storage);
  assert.equal(r.source.clientId, "local");
});

test("the managed-storage schema IT writes against names exactly these settings", () => {
  const schema = readJson("extension/outlook-web/managed-schema.json");
  assert.deepEqual(Object.keys(schema.properties).sort(), [...SETTING_KEYS].sort());
  assert.equal(schema.properties.cloudOrigins.type, "array");
  assert.equal(schema.properties.onPremises.items.type, "object");
});
