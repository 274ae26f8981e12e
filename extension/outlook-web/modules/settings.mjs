// The Outlook-on-the-web extension's settings: where Outlook on the web runs, how its messages
// are fetched (Microsoft Graph for Exchange Online, EWS for Exchange on premises), and the app
// registration that signs in to Graph. IT presets them through managed storage
// (managed-schema.json, the `3rdparty` policy); the options page stores the user's choices in
// storage.local. A value IT set wins and is shown locked; a value that is not valid is ignored
// (and reported on the options page), so a typo falls back instead of breaking every message.
// Pure apart from `loadSettings`, which is handed the storage areas.

export const CLOUD_ORIGINS = Object.freeze(["https://outlook.office.com", "https://outlook.office365.com", "https://outlook.cloud.microsoft"]);

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TENANT = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9](?:[a-z0-9-]{0,62}\.)*[a-z0-9-]{1,63})$/i;

/** `https://host[:port]` of a string that names only an origin; null otherwise. */
export function origin(value) {
  const url = httpsUrl(typeof value === "string" ? value.trim().replace(/\/$/, "") : null);
  if (!url || (url.pathname !== "/" && url.pathname !== "") || url.search || url.hash || url.username || url.password) return null;
  return url.origin;
}

/** An https URL without credentials, query or fragment, as a string without a trailing slash; null otherwise. */
export function baseUrl(value) {
  const url = httpsUrl(typeof value === "string" ? value.trim() : null);
  if (!url || url.search || url.hash || url.username || url.password) return null;
  return url.href.replace(/\/$/, "");
}

function httpsUrl(text) {
  if (!text) return null;
  try {
    const url = new URL(text);
    return url.protocol === "https:" && url.hostname ? url : null;
  } catch {
    return null;
  }
}

function onPremises(list) {
  if (!Array.isArray(list)) return null;
  const out = [];
  for (const entry of list) {
    const o = origin(typeof entry === "string" ? entry : entry?.origin);
    if (!o) return null;
    const given = typeof entry === "object" ? entry?.ewsUrl : undefined;
    const ewsUrl = given === undefined || given === "" ? `${o}/EWS/Exchange.asmx` : baseUrl(given);
    if (!ewsUrl) return null;
    out.push({ origin: o, ewsUrl });
  }
  return out;
}

function originList(list) {
  if (!Array.isArray(list)) return null;
  const out = list.map(origin);
  return out.every(Boolean) ? [...new Set(out)] : null;
}

// Each setting: its default and the function that turns a stored value into a valid one (or null).
export const SETTINGS = Object.freeze({
  tenantId: { default: "organizations", parse: (v) => (typeof v === "string" && TENANT.test(v.trim()) ? v.trim() : null) },
  clientId: { default: "", parse: (v) => (typeof v === "string" && (v.trim() === "" || GUID.test(v.trim())) ? v.trim().toLowerCase() : null) },
  authority: { default: "https://login.microsoftonline.com", parse: baseUrl },
  graphUrl: { default: "https://graph.microsoft.com/v1.0", parse: baseUrl },
  cloudOrigins: { default: CLOUD_ORIGINS, parse: originList },
  onPremises: { default: [], parse: onPremises },
});

export const SETTING_KEYS = Object.freeze(Object.keys(SETTINGS));

/**
 * The settings in effect: `values`, where each comes from (`source`: managed, local, default),
 * and `problems` ({key, source}) for values that were set but are not valid.
 */
export function resolveSettings({ managed = {}, local = {} } = {}) {
  const values = {};
  const source = {};
  const problems = [];
  for (const [key, spec] of Object.entries(SETTINGS)) {
    values[key] = spec.default;
    source[key] = "default";
    for (const [area, stored] of [["managed", managed?.[key]], ["local", local?.[key]]]) {
      if (stored === undefined || stored === null) continue;
      const parsed = spec.parse(stored);
      if (parsed === null) {
        problems.push({ key, source: area });
        continue;
      }
      values[key] = parsed;
      source[key] = area;
      break;
    }
  }
  return { values, source, problems };
}

/** What to write to storage.local for a user's change; null when IT set it or it is not valid. */
export function localChange(resolved, key, value) {
  const spec = SETTINGS[key];
  if (!spec || resolved.source[key] === "managed") return null;
  if (value === null || value === "" || (Array.isArray(value) && !value.length && key !== "cloudOrigins")) return { remove: key };
  return spec.parse(value) === null ? null : { set: { [key]: value } };
}

/**
 * How messages opened at `pageOrigin` are fetched: `{kind: "graph"}`, `{kind: "ews", ewsUrl}`, or
 * null when the origin is not one of the configured Outlook-on-the-web origins.
 */
export function routeFor(pageOrigin, values) {
  const onPrem = values.onPremises.find((e) => e.origin === pageOrigin);
  if (onPrem) return { kind: "ews", ewsUrl: onPrem.ewsUrl };
  return values.cloudOrigins.includes(pageOrigin) ? { kind: "graph" } : null;
}

/** The match patterns of every configured Outlook-on-the-web origin, for the content script. */
export function pageMatches(values) {
  const origins = [...values.cloudOrigins, ...values.onPremises.map((e) => e.origin)];
  return [...new Set(origins)].map((o) => `${o}/*`);
}

/** The Graph scope of the configured Graph service: delegated Mail.Read and nothing else. */
export function graphScope(values) {
  return `${new URL(values.graphUrl).origin}/Mail.Read`;
}

/**
 * Reads both storage areas. Chromium rejects storage.managed.get() in some builds when IT
 * configured nothing: that is an empty managed area, not an error.
 */
export async function loadSettings(storage) {
  const [managed, local] = await Promise.all([
    storage.managed.get(SETTING_KEYS).catch(() => ({})),
    storage.local.get(SETTING_KEYS),
  ]);
  return resolveSettings({ managed, local });
}
