// Which add-on this code runs in. The Thunderbird add-on and the Outlook-on-the-web extension for
// Chromium, Chrome and Edge share their modules, pages and locale files; the few places that
// differ ask here.
//
// Chromium names the extension API `chrome` (newer versions also `browser`, as a separate object);
// Thunderbird names it `browser` (and `messenger`). Shared code uses `browser`, so importing this
// module (first, in every page and in the service worker) makes `browser` Chromium's `chrome`,
// with the texts below. In Thunderbird it changes nothing.
//
// Texts: the locale files are shared, and a few messages name Thunderbird. In the Chromium
// extension a message `owa_<key>` replaces `<key>` wherever the shared code shows `<key>`
// (`owa_error_host_missing` says "the browser" where `error_host_missing` says "Thunderbird").

export const VARIANT_PREFIX = "owa_";

/** True in Thunderbird, false in a Chromium browser. */
export function isThunderbird(global = globalThis) {
  return Boolean(global.messenger);
}

/** `getMessage` that prefers the variant `owa_<key>` of each key, falling back to `<key>`. */
export function withVariant(getMessage, prefix = VARIANT_PREFIX) {
  return (key, subs) => (key.startsWith(prefix) ? "" : getMessage(`${prefix}${key}`, subs)) || getMessage(key, subs);
}

if (!isThunderbird() && globalThis.chrome?.i18n) {
  const chrome = globalThis.chrome;
  const i18n = {
    getMessage: withVariant((key, subs) => chrome.i18n.getMessage(key, subs)),
    getUILanguage: () => chrome.i18n.getUILanguage(),
  };
  globalThis.browser = new Proxy(chrome, { get: (api, name) => (name === "i18n" ? i18n : api[name]) });
}

