// Options: always sign, encrypt whenever every recipient can. Stored in storage.local; a value
// IT set through storage.managed (policy `3rdparty`) wins and is shown locked (options.mjs).

import { localizePage } from "../modules/page-i18n.mjs";
import { loadOptions, localChange, OPTION_KEYS } from "../modules/options.mjs";

localizePage();
document.getElementById("open-contacts").addEventListener("click", () => browser.runtime.sendMessage({ type: "openContacts" }));
document.getElementById("open-identities").addEventListener("click", () => browser.runtime.sendMessage({ type: "openIdentities" }));
for (const box of document.querySelectorAll("input[data-option]")) {
  box.addEventListener("change", async () => {
    const resolved = await loadOptions(browser.storage);
    const change = localChange(resolved, box.dataset.option, box.checked);
    if (change) await browser.storage.local.set(change);
    await render();
  });
}
browser.storage.onChanged.addListener((changes) => {
  if (OPTION_KEYS.some((key) => key in changes)) render();
});
render().finally(() => {
  document.body.dataset.ready = "true"; // for the end-to-end test
});

async function render() {
  const { values, source } = await loadOptions(browser.storage);
  for (const key of OPTION_KEYS) {
    const section = document.getElementById(`option-${key}`);
    const box = section.querySelector("input[data-option]");
    const managed = source[key] === "managed";
    box.checked = values[key];
    box.disabled = managed;
    section.classList.toggle("locked", managed);
    section.dataset.source = source[key];
    section.querySelector(".managed").hidden = !managed;
  }
}
