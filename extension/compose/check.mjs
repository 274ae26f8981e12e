// The compose check (compose_action popup): what Send will do with this message (encrypted,
// signed only, neither, or stop), for every recipient whether they can receive encrypted mail or
// why not, and the actions in the order they help: when Send would stop, "send signed, not
// encrypted" first, then per recipient "ask for a signed message" and "remove"; the switches of
// Thunderbird's S/MIME after that. The background also opens this popup when it stopped a send.
// While open it follows the recipients, as the button does.

import { localizePage } from "../modules/page-i18n.mjs";
import { errorKey } from "../modules/texts.mjs";
import { day as date, t } from "../modules/i18n.mjs";
import { certName } from "../modules/look.mjs";
import { iconPaths, currentTheme } from "../modules/header-button.mjs";
import { composeButton, composeView, sendOutcome, switchesAfter } from "../modules/recipients.mjs";
import { rowDirectoryLine } from "../modules/directories.mjs";
import { el, setDocumentTitle, setText, text } from "../modules/dom.mjs";
import { moduleState } from "../modules/pkcs11.mjs";
import { logError } from "../modules/log.mjs";

const FOLLOW_MS = 1_500;

let tabId = null;
let module = null;
let shown = null; // what is on screen, to render only changes
let busy = false; // an action is on its way

localizePage();
document.getElementById("open-contacts").addEventListener("click", () => openPage("openContacts"));
document.getElementById("open-identities").addEventListener("click", () => openPage("openIdentities"));
start().catch(logError);

async function start() {
  const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
  tabId = tab.id;
  // Whether Thunderbird has the companion's security module is the popup's own question: the
  // check on Send does not need it.
  module = await moduleState();
  await refresh();
  setInterval(() => refresh().catch(logError), FOLLOW_MS);
}

async function refresh() {
  if (busy) return;
  const check = await browser.runtime.sendMessage({ type: "composeCheck", tabId });
  if (!check) return;
  const key = JSON.stringify(check);
  if (key === shown) return;
  shown = key;
  render({ ...check, module });
}

function render(check) {
  const view = composeView(check);
  const button = composeButton(sendOutcome(check));
  document.body.className = view.severity;
  document.body.dataset.outcome = view.outcome;
  document.getElementById("icon").src = iconPaths(button.icon ?? "encrypted", currentTheme())[32];
  const headline = t.phrase(view.headline);
  text("headline", headline);
  setDocumentTitle(headline); // what assistive technology (and the end-to-end test) reads first

  const stopped = document.getElementById("stopped");
  stopped.hidden = !check.stopped;
  setText(stopped, check.stopped ? t(`compose_stopped_${check.stopped}`) : "");
  text("state", check.hostError ? t(errorKey(check.hostError)) : t.phrase(view.state));

  for (const [id, list] of [["actions", view.actions], ["switches", view.switches]]) {
    const box = document.getElementById(id);
    box.replaceChildren();
    for (const action of list) box.append(actionButton(action, check));
  }

  const list = document.getElementById("recipients");
  list.replaceChildren();
  for (const row of view.rows) list.append(recipientItem(row, check));

  document.getElementById("keyexchange").hidden = !view.keyExchange;
  const notes = document.getElementById("notes");
  notes.replaceChildren();
  for (const note of view.notes) notes.append(el("li", null, t(note.key, note.subs.map((s) => (typeof s === "object" ? t(s.key) : s)))));
}

function recipientItem(row, check) {
  const li = el("li", row.pending ? "pending" : row.can === true ? "can" : row.can === false ? "cannot" : "unchecked");
  if (row.address) li.dataset.address = row.address;
  li.dataset.reason = row.reason ?? (row.can ? "can" : "unchecked");
  const who = el("div", "who", row.address ?? row.name ?? "?");
  if (row.address && row.name) who.append(" ", el("span", "name", row.name));
  let status = t(row.status);
  if (row.can && row.certificate && !row.pending) status = t("recipient_can_until", [certName(row.certificate) ?? row.address, date(row.certificate.not_after) ?? "?"]);
  li.append(el("span", "mark", row.pending ? "!" : row.can === true ? "✓" : row.can === false ? "!" : "?"), who, el("div", "status", status));
  const directory = rowDirectoryLine(row);
  if (directory) li.append(el("p", "directory", directory.count === undefined ? t(directory.key, directory.subs) : t.count(directory.key, directory.count)));
  if (row.advice) li.append(el("p", "advice", t(row.advice, [row.address ?? row.name ?? ""])));
  if (row.actions.length) {
    const buttons = el("div", "row-actions");
    for (const action of row.actions) buttons.append(actionButton(action, check, row.address));
    li.append(buttons);
  }
  return li;
}

function actionButton(action, check, address = null) {
  const button = el("button", action.primary ? "primary" : action.id === "remove" ? "danger" : null, t(action.key));
  button.dataset.action = action.id;
  button.disabled = busy;
  button.addEventListener("click", () => act(action, check, address).catch(logError));
  return button;
}

async function act(action, check, address) {
  if (busy) return;
  busy = true;
  for (const button of document.querySelectorAll("button[data-action]")) button.disabled = true;
  try {
    const switches = switchesAfter(action.id, check.switches, check.caps);
    await browser.runtime.sendMessage({ type: "composeApply", tabId: check.tabId, action: action.id, switches, address });
  } finally {
    busy = false;
  }
  // Sending closes the compose window; the others change what the check shows.
  if (["send_signed", "send_plain", "ask_signed", "decide", "open_identities"].includes(action.id)) window.close();
  else {
    shown = null;
    await refresh();
  }
}

async function openPage(type) {
  await browser.runtime.sendMessage({ type });
  window.close();
}
