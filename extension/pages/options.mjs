// Options: always sign, encrypt whenever every recipient can. Stored in storage.local; a value
// IT set through storage.managed (policy `3rdparty`) wins and is shown locked (options.mjs).
// Below them, the LDAP directories certificates are looked up in (docs/DIRECTORY.md): IT's are
// shown locked; the user's own are added and removed here; a bind password can be stored for
// any that needs one, and is never shown again.

import { localizePage } from "../modules/page-i18n.mjs";
import { loadOptions, localChange, OPTION_KEYS } from "../modules/options.mjs";
import { callHost } from "../modules/host-client.mjs";
import { Op } from "../modules/ops.mjs";
import { byId, confirmDialog, definitionList, el } from "../modules/dom.mjs";
import { notices } from "../modules/notice.mjs";
import { errorKey } from "../modules/texts.mjs";
import { t } from "../modules/i18n.mjs";
import { directoryRow, entryFromForm, MANAGED_KEY } from "../modules/directories.mjs";

const { showNotice, showError } = notices(t);

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
  if (MANAGED_KEY in changes) renderDirectories().catch(showError);
});
byId("directory-form").addEventListener("submit", (event) => {
  event.preventDefault();
  saveDirectory().catch(showError);
});
renderDirectories().catch(showError);
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

// ---- directories ----------------------------------------------------------------------------

async function renderDirectories() {
  const listing = await callHost(Op.directoriesList);
  const list = byId("directories");
  list.replaceChildren();
  for (const d of listing.directories) list.append(directoryCard(directoryRow(d, { t })));
  byId("directories-none").hidden = listing.directories.length > 0;
  const problems = byId("directory-problems");
  problems.replaceChildren();
  for (const p of listing.problems ?? []) problems.append(el("li", null, t("directory_left_out", [String(p)])));
}

function directoryCard(row) {
  const card = el("article", "card directory");
  card.dataset.id = row.id;
  const title = el("h3", null, row.title);
  const badges = el("span", "badges");
  for (const b of row.badges) badges.append(el("span", `badge ${b.kind}`, b.text));
  title.append(badges);
  card.append(title, definitionList(row.rows));
  if (row.needsPassword) {
    const box = el("div", "password");
    const input = el("input");
    input.type = "password";
    input.autocomplete = "off";
    input.placeholder = t(row.passwordSet ? "directory_password_stored" : "directory_password_not_set");
    const save = el("button", null, t("directory_password_save"));
    save.addEventListener("click", () => setPassword(row.id, input).catch(showError));
    box.append(el("span", null, t("directory_password")), input, save);
    card.append(box);
  }
  if (row.editable) {
    const actions = el("div", "actions");
    const remove = el("button", "danger", t("directory_remove"));
    remove.addEventListener("click", () => removeDirectory(row.id).catch(showError));
    actions.append(remove);
    card.append(actions);
  }
  return card;
}

async function saveDirectory() {
  const value = (id) => byId(id).value;
  const directory = entryFromForm({
    id: value("directory-id"), url: value("directory-url"), starttls: byId("directory-starttls").checked, baseDn: value("directory-base-dn"),
    filter: value("directory-filter"), bindDn: value("directory-bind-dn"),
  });
  const password = value("directory-password");
  try {
    const saved = await callHost(Op.directoriesSave, password ? { directory, password } : { directory });
    byId("directory-form").reset();
    byId("directory-add").open = false;
    showNotice("ok", t("directory_saved", [String(saved.id)]));
  } catch (e) {
    showNotice("error", t("directory_not_saved"), [e.code === "invalid_params" ? String(e.message) : t(errorKey(e.code))]);
  }
  await renderDirectories();
}

async function setPassword(id, input) {
  const password = input.value;
  input.value = "";
  await callHost(Op.directoriesSetPassword, { id, password });
  showNotice("ok", t(password ? "directory_password_saved" : "directory_password_removed", [id]));
  await renderDirectories();
}

async function removeDirectory(id) {
  const ok = await confirmDialog({
    title: t("directory_remove_title", [id]),
    consequences: [t("directory_remove_consequence")],
    confirm: t("directory_remove"),
    cancel: t("dialog_cancel"),
  });
  if (!ok) return;
  await callHost(Op.directoriesRemove, { id });
  showNotice("ok", t("directory_removed", [id]));
  await renderDirectories();
}
