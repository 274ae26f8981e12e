// The compose check (compose_action popup): for every recipient, whether they can receive
// encrypted mail, or why not and what to do (the key exchange); what Thunderbird will do with
// this message (sign, encrypt); and buttons that flip Thunderbird's S/MIME switches where the
// identity can. The background also opens this popup when it stopped a send.

import { localizePage } from "../modules/page-i18n.mjs";
import { errorKey } from "../modules/texts.mjs";
import { day as date, t } from "../modules/i18n.mjs";
import { certName } from "../modules/look.mjs";
import { iconPaths, currentTheme } from "../modules/header-button.mjs";
import { composeView, switchesAfter } from "../modules/recipients.mjs";
import { rowDirectoryLine } from "../modules/directories.mjs";
import { el, setDocumentTitle, setText, text } from "../modules/dom.mjs";
import { moduleState } from "../modules/pkcs11.mjs";

const ICONS = { ok: "encrypted-signed", warning: "problem", none: "encrypted" };

localizePage();
document.getElementById("open-contacts").addEventListener("click", () => openPage("openContacts"));
document.getElementById("open-identities").addEventListener("click", () => openPage("openIdentities"));
refresh();

async function refresh() {
  const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
  // Whether Thunderbird has the companion's security module is the popup's own question: the
  // check on Send does not need it.
  const [check, module] = await Promise.all([browser.runtime.sendMessage({ type: "composeCheck", tabId: tab.id }), moduleState()]);
  render({ ...check, module });
}

function render(check) {
  const view = composeView(check);
  document.body.className = view.severity;
  document.getElementById("icon").src = iconPaths(ICONS[view.severity] ?? "encrypted", currentTheme())[32];
  const headline = t.phrase(view.headline);
  text("headline", headline);
  setDocumentTitle(headline); // what assistive technology (and the end-to-end test) reads first

  const stopped = document.getElementById("stopped");
  stopped.hidden = !check.stopped;
  setText(stopped, check.stopped ? t(`compose_stopped_${check.stopped}`) : "");
  text("state", check.hostError ? t(errorKey(check.hostError)) : t(view.state.key, view.state.subs));

  const list = document.getElementById("recipients");
  list.replaceChildren();
  for (const row of view.rows) list.append(recipientItem(row));

  document.getElementById("keyexchange").hidden = !view.keyExchange;
  const notes = document.getElementById("notes");
  notes.replaceChildren();
  for (const note of view.notes) notes.append(el("li", null, t(note.key, note.subs.map((s) => (typeof s === "object" ? t(s.key) : s)))));

  const actions = document.getElementById("actions");
  actions.replaceChildren();
  for (const action of view.actions) actions.append(actionButton(action, check));
}

function recipientItem(row) {
  const li = el("li", row.can === true ? "can" : row.can === false ? "cannot" : "unchecked");
  if (row.address) li.dataset.address = row.address;
  li.dataset.reason = row.reason ?? (row.can ? "can" : "unchecked");
  const who = el("div", "who", row.address ?? row.name ?? "?");
  if (row.address && row.name) who.append(" ", el("span", "name", row.name));
  let status = t(row.status);
  if (row.can && row.certificate) status = t("recipient_can_until", [certName(row.certificate) ?? row.address, date(row.certificate.not_after) ?? "?"]);
  li.append(el("span", "mark", row.can === true ? "✓" : row.can === false ? "!" : "?"), who, el("div", "status", status));
  const directory = rowDirectoryLine(row);
  if (directory) li.append(el("p", "directory", directory.count === undefined ? t(directory.key, directory.subs) : t.count(directory.key, directory.count)));
  if (row.advice) li.append(el("p", "advice", t(row.advice, [row.address ?? row.name ?? ""])));
  return li;
}

function actionButton(action, check) {
  const button = el("button", action.id.endsWith("_on") ? "primary" : null, t(action.key));
  button.dataset.action = action.id;
  button.addEventListener("click", async () => {
    if (action.id === "open_identities") return openPage("openIdentities");
    const switches = switchesAfter(action.id, check.switches);
    await browser.runtime.sendMessage({ type: "composeApply", tabId: check.tabId, action: action.id, switches });
    await refresh();
  });
  return button;
}

async function openPage(type) {
  await browser.runtime.sendMessage({ type });
  window.close();
}
