// Options of the Outlook-on-the-web extension: the app registration for Microsoft Graph (client
// and tenant), the addresses of Outlook on the web (Exchange Online), and the Exchange servers on
// premises with their EWS addresses. What IT set (managed storage) is shown locked; what is not
// valid is refused with the field marked, and never stored (settings.mjs).

import { localizePage } from "../modules/page-i18n.mjs";
import { t } from "../modules/i18n.mjs";
import { byId, el, setText, text } from "../modules/dom.mjs";
import { CLOUD_ORIGINS, loadSettings, localChange, SETTING_KEYS } from "./modules/settings.mjs";

localizePage();
text("redirect-uri", browser.identity.getRedirectURL());
byId("cloudOrigins").placeholder = CLOUD_ORIGINS.join("\n");
byId("open-contacts").addEventListener("click", () => browser.runtime.sendMessage({ type: "openContacts" }));
byId("open-identities").addEventListener("click", () => browser.runtime.sendMessage({ type: "openIdentities" }));
byId("settings").addEventListener("submit", (event) => {
  event.preventDefault();
  save().catch((e) => notice("error", String(e?.message ?? e)));
});
browser.storage.onChanged.addListener((changes, area) => {
  if ((area === "local" || area === "managed") && SETTING_KEYS.some((k) => k in changes)) render();
});
render().finally(() => {
  document.body.dataset.ready = "true"; // for the browser tests
});

/** The value a field holds, in the shape the setting has. */
function fieldValue(key) {
  const raw = byId(key).value.trim();
  if (key === "cloudOrigins") return raw ? raw.split(/\s+/) : null;
  if (key === "onPremises") {
    if (!raw) return [];
    return raw.split(/\r?\n/).map((line) => line.trim()).filter(Boolean).map((line) => {
      const [origin, ewsUrl] = line.split(/\s+/);
      return ewsUrl ? { origin, ewsUrl } : { origin };
    });
  }
  return raw;
}

function show(key, value) {
  if (key === "cloudOrigins") return value.join("\n");
  if (key === "onPremises") return value.map((e) => (e.ewsUrl === `${e.origin}/EWS/Exchange.asmx` ? e.origin : `${e.origin} ${e.ewsUrl}`)).join("\n");
  return value;
}

async function render() {
  const resolved = await loadSettings(browser.storage);
  for (const key of SETTING_KEYS) {
    const field = byId(key);
    const managed = resolved.source[key] === "managed";
    field.value = resolved.source[key] === "default" ? "" : show(key, resolved.values[key]);
    field.disabled = managed;
    field.dataset.source = resolved.source[key];
    field.classList.toggle("invalid", resolved.problems.some((p) => p.key === key));
    field.nextElementSibling?.classList?.contains("managed-note") && field.nextElementSibling.remove();
    if (managed) field.after(el("p", "managed-note", t("option_managed")));
  }
  return resolved;
}

async function save() {
  const resolved = await loadSettings(browser.storage);
  const set = {};
  const remove = [];
  const invalid = [];
  for (const key of SETTING_KEYS) {
    if (resolved.source[key] === "managed") continue;
    const change = localChange(resolved, key, fieldValue(key));
    if (!change) invalid.push(key);
    else if (change.remove) remove.push(change.remove);
    else Object.assign(set, change.set);
  }
  for (const key of SETTING_KEYS) byId(key).classList.toggle("invalid", invalid.includes(key));
  if (invalid.length) {
    notice("error", t("owa_options_invalid", [invalid.map((k) => t(`owa_option_${k}`)).join(", ")]));
    return;
  }
  if (remove.length) await browser.storage.local.remove(remove);
  if (Object.keys(set).length) await browser.storage.local.set(set);
  await render();
  notice("ok", t("owa_options_saved"));
}

function notice(severity, message) {
  const box = byId("notice");
  box.className = `status ${severity}`;
  setText(box, message);
  box.hidden = false;
}
