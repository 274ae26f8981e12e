// Which add-on this code runs in. The Thunderbird add-on and the Outlook-on-the-web extension for
// Chromium, Chrome and Edge share their modules and pages; the few places that differ ask here.
//
// Chromium names the extension API `chrome`; Thunderbird names it `browser` (and `messenger`).
// Shared code uses `browser`, so importing this module (first, in every page and in the service
// worker) gives Chromium that name too. In Thunderbird it changes nothing.

globalThis.browser ??= globalThis.chrome;

/** True in Thunderbird, false in a Chromium browser. */
export function isThunderbird(global = globalThis) {
  return Boolean(global.messenger);
}
