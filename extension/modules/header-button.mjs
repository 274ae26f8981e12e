// Shows a look (look.mjs) on the message header button of one tab: icon for the current theme,
// label, tooltip and badge. The button's popup is fixed in the manifest.

import { ICON_SIZES } from "./look.mjs";
import { neutralize } from "./untrusted.mjs";

const darkScheme = globalThis.matchMedia?.("(prefers-color-scheme: dark)");

/** "light" or "dark": the theme the icons must stand out against. */
export function currentTheme() {
  return darkScheme?.matches ? "dark" : "light";
}

/** Calls `listener` when Thunderbird switches between a light and a dark theme. */
export function onThemeChange(listener) {
  darkScheme?.addEventListener("change", listener);
}

/** The icon paths of a look, one per size, for a theme. */
export function iconPaths(icon, theme) {
  return Object.fromEntries(ICON_SIZES.map((size) => [size, `/icons/${theme}-theme/${icon}-${size}.png`]));
}

export async function showLook(tabId, look, t) {
  const action = browser.messageDisplayAction;
  await Promise.all([
    action.setIcon({ tabId, path: iconPaths(look.icon, currentTheme()) }),
    // The tooltip names the signer (the certificate's name and address).
    action.setTitle({ tabId, title: neutralize(t.phrase(look.title)) }),
    action.setLabel({ tabId, label: t(look.label.key) }),
    action.setBadgeText({ tabId, text: look.badge.text }),
    look.badge.color ? action.setBadgeBackgroundColor({ tabId, color: look.badge.color }) : null,
    look.badge.textColor ? action.setBadgeTextColor({ tabId, color: look.badge.textColor }) : null,
  ]);
}
