// The add-on's options: what the user set (storage.local), what IT set (storage.managed, filled
// by the enterprise policy `3rdparty` or a managed-storage manifest), and the defaults. IT wins
// over the user, the user over the default; a value IT set is shown locked on the options page.
// The schema IT writes against is managed-schema.json beside the manifest. Pure apart from
// `loadOptions`, which is handed the storage areas.

export const OPTIONS = Object.freeze({
  // Sign every message S/MIME can sign, so that every contact receives your certificate (the
  // other half of the key exchange). Applies only where Thunderbird has a signing certificate.
  alwaysSign: { type: "boolean", default: true },
  // Switch on encryption when every recipient can receive it. Off by default: a recipient who
  // reads mail on a device without their key could not read it.
  encryptWhenPossible: { type: "boolean", default: false },
});

export const OPTION_KEYS = Object.freeze(Object.keys(OPTIONS));

/**
 * The options in effect, and where each comes from: `managed` (IT; the user cannot change it),
 * `local` (the user's choice) or `default`. Values of the wrong type are ignored, so a typo in a
 * policy falls back to the user's choice instead of breaking sending.
 */
export function resolveOptions({ managed = {}, local = {} } = {}) {
  const values = {};
  const source = {};
  for (const [key, { type, default: fallback }] of Object.entries(OPTIONS)) {
    if (typeof managed?.[key] === type) {
      values[key] = managed[key];
      source[key] = "managed";
    } else if (typeof local?.[key] === type) {
      values[key] = local[key];
      source[key] = "local";
    } else {
      values[key] = fallback;
      source[key] = "default";
    }
  }
  return { values, source };
}

/** What to write to storage.local when the user changes an option; null when IT locked it. */
export function localChange(resolved, key, value) {
  const spec = OPTIONS[key];
  if (!spec || typeof value !== spec.type || resolved.source[key] === "managed") return null;
  return { [key]: value };
}

/**
 * Reads both storage areas. Thunderbird rejects storage.managed.get() when IT configured
 * nothing ("Managed storage manifest not found"): that is an empty managed area, not an error.
 */
export async function loadOptions(storage) {
  const [managed, local] = await Promise.all([
    storage.managed.get(OPTION_KEYS).catch(() => ({})),
    storage.local.get(OPTION_KEYS),
  ]);
  return resolveOptions({ managed, local });
}
