// Details popup of the header button: everything S/MIME Companion found about the displayed
// message, built from the reading the background holds. All text goes through dom.mjs (as
// textContent, neutralised): certificate fields are chosen by whoever made the certificate.
//
// A message encrypted to one of the user's locked keys gets an unlock form: the passphrase goes
// to the host through the background (unlock.mjs), which checks the message again; the popup
// then shows the new verdict. The passphrase is not kept: the field is emptied as it is sent.

import { describe } from "../modules/describe.mjs";
import { byId, el, setDocumentTitle, setText, text, valueNode } from "../modules/dom.mjs";
import { dateFormatter } from "../modules/format.mjs";
import { iconPaths, currentTheme } from "../modules/header-button.mjs";
import { checkingLook, failureLook, lockedKeys } from "../modules/look.mjs";
import { localizePage } from "../modules/page-i18n.mjs";
import { logError } from "../modules/log.mjs";
import { errorKey, translator } from "../modules/texts.mjs";
import { unlockKeys, unlockLabel } from "../modules/unlock.mjs";

const t = translator((key, subs) => browser.i18n.getMessage(key, subs));
const date = dateFormatter(browser.i18n.getUILanguage());
const POLL_MS = 400;

let locked = null; // the locked keys of the message shown (lockedKeys), while it has some
let unlockNotice = null; // {key, subs, severity} of the last unlock attempt, shown with the form
let unlocking = false;
let pollTimer = null; // the one refresh scheduled while a check runs

localizePage();
byId("open-help").addEventListener("click", () => {
  browser.runtime.sendMessage({ type: "openHelp" });
  window.close();
});
byId("retry").addEventListener("click", async () => {
  await browser.runtime.sendMessage({ type: "retry" });
  refresh();
});
byId("recheck-revocation").addEventListener("click", () => {
  recheckRevocation().catch(logError);
});
byId("unlock-form").addEventListener("submit", (event) => {
  event.preventDefault();
  unlock().catch(logError);
});
byId("open-identities").addEventListener("click", () => {
  browser.runtime.sendMessage({ type: "openIdentities" });
  window.close();
});
refresh();

// Retry and unlock refresh too, also while polling: whoever refreshes replaces the scheduled
// refresh, so there is never more than one polling loop.
async function refresh() {
  clearTimeout(pollTimer);
  pollTimer = null;
  const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
  const status = await browser.runtime.sendMessage({ type: "status", tabId: tab?.id ?? null });
  render(status);
  if (!status.reading && (status.checking || status.host.state === "connecting")) {
    clearTimeout(pollTimer); // another refresh may have scheduled one meanwhile
    pollTimer = setTimeout(refresh, POLL_MS);
  }
}

function render(status) {
  clear();
  if (status.messageId === null) return renderNote(t("popup_no_message"));
  if (status.reading) return renderReading(status.reading);
  if (status.error && !status.checking) return renderFailure(status.error.code);
  setHeadline(checkingLook(), t("popup_checking"));
}

function renderReading(reading) {
  const view = describe(reading, { t, date });
  setHeadline(view.look, view.headline);
  text("summary", view.summary);
  const notices = document.getElementById("notices");
  for (const notice of view.notices) notices.append(el("li", null, notice));
  if (view.problems.length) {
    document.getElementById("problems").hidden = false;
    const list = document.getElementById("problem-list");
    for (const problem of view.problems) list.append(problemCard(problem));
  }
  const sections = document.getElementById("sections");
  for (const section of view.sections) sections.append(sectionBlock(section));
  byId("revocation-actions").hidden = !view.recheckRevocation;
  showUnlockForm(lockedKeys(reading));
}

// ---- checking revocation again -----------------------------------------------------------------

// The host asks the certification authorities anew (a few seconds at most); the popup then shows
// the new verdict.
async function recheckRevocation() {
  const button = byId("recheck-revocation");
  button.disabled = true;
  setText(button, t("popup_rechecking_revocation"));
  try {
    const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
    await browser.runtime.sendMessage({ type: "recheckRevocation", tabId: tab?.id ?? null });
  } finally {
    button.disabled = false;
    setText(button, t("popup_recheck_revocation"));
  }
  await refresh();
}

// ---- unlocking a locked key ------------------------------------------------------------------

function showUnlockForm(keys) {
  locked = keys;
  const form = byId("unlock-form");
  form.hidden = !keys;
  if (!keys) return;
  const label = unlockLabel(keys);
  text("unlock-label", t(label.key, label.subs));
  const status = byId("unlock-status");
  status.hidden = !unlockNotice;
  status.className = unlockNotice?.severity ?? "";
  setText(status, unlockNotice ? t(unlockNotice.key, unlockNotice.subs) : "");
  setUnlocking(unlocking);
  if (!unlocking) byId("unlock-passphrase").focus();
}

async function unlock() {
  const input = byId("unlock-passphrase");
  const passphrase = input.value;
  input.value = ""; // sent once, then gone from the page
  if (unlocking || !locked) return;
  if (!passphrase) {
    input.focus();
    return;
  }
  unlocking = true;
  unlockNotice = { key: "popup_unlocking", subs: [], severity: "" };
  showUnlockForm(locked);
  // On success the background has checked the message again before it answers.
  const outcome = await unlockKeys(passphrase, { needed: locked.fingerprints });
  unlocking = false;
  unlockNotice = outcome.ok && outcome.opensNeeded ? null : { ...outcome.notice, severity: "error" };
  await refresh();
}

function setUnlocking(busy) {
  for (const id of ["unlock-passphrase", "unlock"]) byId(id).disabled = busy;
}

function renderFailure(code) {
  const look = failureLook(code);
  const hostDown = look.name === "unavailable";
  setHeadline(look, hostDown ? t("popup_host_missing") : t("popup_failed"));
  text("summary", t(errorKey(code)));
  document.getElementById("host-actions").hidden = false;
  document.getElementById("open-help").hidden = !hostDown;
}

function renderNote(note) {
  setHeadline(null, t("popup_title"));
  text("summary", note);
}

function setHeadline(look, headline) {
  document.body.className = look?.severity ?? "";
  const icon = document.getElementById("icon");
  icon.hidden = !look;
  if (look) icon.src = iconPaths(look.icon, currentTheme())[32];
  text("headline", headline);
  setDocumentTitle(headline); // what assistive technology (and the end-to-end test) reads first
}

function problemCard(problem) {
  const card = document.getElementById("problem-template").content.firstElementChild.cloneNode(true);
  localizePage(card);
  card.classList.add(problem.severity);
  setText(card.querySelector(".title"), problem.title);
  setText(card.querySelector(".explain"), problem.explain);
  const reason = card.querySelector(".reason");
  reason.hidden = !problem.reason;
  setText(reason.querySelector("span"), problem.reason ?? "");
  const facts = card.querySelector(".facts");
  for (const fact of problem.facts) facts.append(el("li", null, fact));
  setText(card.querySelector(".advice span"), problem.advice);
  return card;
}

function sectionBlock(section) {
  const block = el("section");
  block.id = `section-${section.id}`;
  block.append(el("h2", null, section.heading));
  if (section.lead) block.append(el("p", "lead", section.lead));
  const dl = el("dl");
  for (const row of section.rows) {
    const value = valueNode(row);
    if (row.kind === "fingerprint") value.append(copyButton(row.value));
    dl.append(el("dt", null, row.label), value);
  }
  block.append(dl);
  for (const paragraph of section.paragraphs) block.append(el("p", "note", paragraph));
  return block;
}

function copyButton(fingerprint) {
  const button = el("button", "copy", t("popup_copy_fingerprint"));
  button.addEventListener("click", async () => {
    await navigator.clipboard.writeText(fingerprint);
    setText(button, t("popup_copied"));
  });
  return button;
}

function clear() {
  for (const id of ["notices", "problem-list", "sections"]) document.getElementById(id).replaceChildren();
  document.getElementById("problems").hidden = true;
  document.getElementById("host-actions").hidden = true;
  byId("revocation-actions").hidden = true;
  byId("unlock-form").hidden = true;
  text("summary", "");
}
