// Details popup of the header button: everything S/MIME Companion found about the displayed
// message, built from the reading the background holds. All text goes through dom.mjs (as
// textContent, neutralised): certificate fields are chosen by whoever made the certificate.
//
// A message encrypted to one of the user's locked keys gets an unlock form: the passphrase goes
// to the host through the background (unlock.mjs), which checks the message again; the popup
// then shows the new verdict. The passphrase is not kept: the field is emptied as it is sent.
//
// The same page is the toolbar popup of the Outlook-on-the-web extension (Chromium): there the
// background adds `actions` to the status (sign in, open the reader, settings), each a button
// that sends its `type` back with the tab; `?tab=ID` names the tab when the page is not a popup.
// The body's data attributes repeat the states shown, for scripts (the browser tests).

import { describe } from "../modules/describe.mjs";
import { byId, el, setDocumentTitle, setText, text, valueNode } from "../modules/dom.mjs";
import { iconPaths, currentTheme } from "../modules/header-button.mjs";
import { certEmail, checkingLook, failureLook, lockedKeys, summarize } from "../modules/look.mjs";
import { localizePage } from "../modules/page-i18n.mjs";
import { logError } from "../modules/log.mjs";
import { errorKey } from "../modules/texts.mjs";
import { date, day, t } from "../modules/i18n.mjs";
import { unlockKeys, unlockLabel } from "../modules/unlock.mjs";
import { callHost } from "../modules/host-client.mjs";
import { Op } from "../modules/ops.mjs";
import { decisionCard, decisionDone } from "../modules/key-decision.mjs";
import { isThunderbird } from "../modules/platform.mjs";

const POLL_MS = 400;

let locked = null; // the locked keys of the message shown (lockedKeys), while it has some
let unlockNotice = null; // {key, subs, severity} of the last unlock attempt, shown with the form
let unlocking = false;
let pollTimer = null; // the one refresh scheduled while a check runs
let acting = false; // an action's request is on its way
let deciding = false; // a decision on a new key is on its way
let decisionNotice = null; // what the last decision did, shown on the card
let decisionFor = null; // the key change the card shows (its new fingerprint), to drop a stale notice

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
byId("more-below").addEventListener("click", () => {
  const page = document.scrollingElement;
  page.scrollBy({ top: page.clientHeight * 0.8, behavior: "smooth" });
});
addEventListener("scroll", showMoreBelow, { passive: true });
addEventListener("resize", showMoreBelow);
byId("technical").addEventListener("toggle", showMoreBelow);
refresh();

/**
 * A popup taller than the room it gets scrolls, and a scroll bar that shows only while scrolling
 * is no sign of that: while more lies below, a button says so at the bottom edge.
 */
function showMoreBelow() {
  const page = document.scrollingElement;
  byId("more-below").hidden = page.scrollHeight - page.scrollTop - page.clientHeight < 8;
}

// Retry and unlock refresh too, also while polling: whoever refreshes replaces the scheduled
// refresh, so there is never more than one polling loop.
async function refresh() {
  clearTimeout(pollTimer);
  pollTimer = null;
  const tabId = await shownTab();
  const status = await browser.runtime.sendMessage({ type: "status", tabId });
  render(status, tabId);
  if (!status.reading && (status.checking || status.host.state === "connecting")) {
    clearTimeout(pollTimer); // another refresh may have scheduled one meanwhile
    pollTimer = setTimeout(refresh, POLL_MS);
  }
}

/** The tab whose message is shown: `?tab=ID`, else the active tab of this window. */
async function shownTab() {
  const wanted = Number.parseInt(new URLSearchParams(location.search).get("tab") ?? "", 10);
  if (Number.isInteger(wanted)) return wanted;
  const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
  return tab?.id ?? null;
}

function render(status, tabId) {
  clear();
  requestAnimationFrame(showMoreBelow);
  renderActions(status.actions ?? [], tabId);
  if (status.messageId === null) return renderNote(status.note ? t(status.note) : t("popup_no_message"));
  if (status.reading) return renderReading(status.reading);
  // A background that offers its own way out of a failure (sign in, try again) replaces Retry.
  const ownWayOut = (status.actions ?? []).some((a) => !a.page);
  if (status.error && !status.checking) return renderFailure(status.error.code, { ownWayOut });
  shows("checking");
  setHeadline(checkingLook(), t("popup_checking"));
}

/** What the page shows, for scripts: `data-shows`, and the states and signers of a reading. */
function shows(what, { reading = null, error = null } = {}) {
  const data = document.body.dataset;
  data.shows = what;
  for (const key of ["signature", "encryption", "signers", "error"]) delete data[key];
  if (error) data.error = error;
  if (!reading) return;
  const { signature, encryption } = summarize(reading);
  data.signature = signature.state;
  data.encryption = encryption.state;
  const root = (signature.layers ?? []).filter((l) => l.position === "root").flatMap((l) => l.signers ?? []);
  const emails = [certEmail(signature.signer), ...root.flatMap((s) => s.certificate?.emails ?? [])].filter(Boolean);
  data.signers = [...new Set(emails.map((e) => e.toLowerCase()))].join(" ");
}

// ---- actions the background offers (the Outlook-on-the-web extension) -----------------------------

// Actions on the message go under the headline; links to the add-on's pages (`page`) at the end.
function renderActions(actions, tabId) {
  for (const [id, pages] of [["actions", false], ["page-links", true]]) {
    const box = byId(id);
    const mine = actions.filter((a) => Boolean(a.page) === pages);
    box.replaceChildren();
    box.hidden = !mine.length;
    for (const action of mine) {
      const button = el("button", action.primary ? "primary" : null, t(action.key));
      button.dataset.action = action.type;
      button.disabled = acting;
      button.addEventListener("click", () => act(action, tabId).catch(logError));
      box.append(button);
    }
  }
}

async function act(action, tabId) {
  if (acting) return;
  acting = true;
  for (const button of document.querySelectorAll("#actions button, #page-links button")) button.disabled = true;
  try {
    await browser.runtime.sendMessage({ type: action.type, tabId });
  } finally {
    acting = false;
  }
  if (action.closes) window.close();
  else await refresh();
}

// The verdict first (the state's name, what it means, what to do), then who signed and what the
// certificate confirms; serial numbers, methods, the chain and the header lines only behind
// "Technical details".
function renderReading(reading) {
  shows("reading", { reading });
  const view = describe(reading, { t, date });
  setHeadline(view.look, view.headline);
  text("summary", view.summary);
  const advice = byId("advice");
  advice.hidden = !view.advice;
  setText(advice.querySelector("span"), view.advice);
  const notices = document.getElementById("notices");
  for (const notice of view.notices) notices.append(el("li", null, notice));
  if (view.problems.length) {
    document.getElementById("problems").hidden = false;
    const list = document.getElementById("problem-list");
    // The headline and the sentence under it already say what the first problem is.
    view.problems.forEach((problem, i) => list.append(problemCard(problem, i === 0 ? view : null)));
  }
  const sections = document.getElementById("sections");
  for (const section of view.sections) sections.append(sectionBlock(section));
  byId("revocation-actions").hidden = !view.recheckRevocation;
  const technical = byId("technical");
  technical.hidden = !view.technical.length;
  for (const section of view.technical) byId("technical-sections").append(sectionBlock(section));
  showUnlockForm(lockedKeys(reading));
  showDecision(view.keyChange).catch(logError);
}

// ---- a contact's new key: the decision card (key-decision.mjs) ----------------------------------

/** Shows the card from the verdict at once, then again with the contact's stored certificates. */
async function showDecision(change) {
  const box = byId("decision");
  if (!change?.fingerprint) {
    box.hidden = true;
    box.replaceChildren();
    decisionFor = null;
    return;
  }
  if (decisionFor !== change.fingerprint) decisionNotice = null;
  decisionFor = change.fingerprint;
  renderDecision(change, null);
  const contact = change.address ? await callHost(Op.contactsShow, { address: change.address }).catch(() => null) : null;
  if (contact && decisionFor === change.fingerprint) renderDecision(change, contact);
}

function renderDecision(change, contact) {
  const card = decisionCard(change, { contact, t, date: day, thunderbird: isThunderbird() });
  const box = byId("decision");
  const note = box.querySelector("input")?.value ?? "";
  box.className = `decision ${card.severity}`;
  box.dataset.state = card.state;
  box.replaceChildren(el("h2", null, card.title), el("p", "explain", card.explain));
  const blocks = el("div", "blocks");
  for (const block of card.blocks) {
    const part = el("div", `block ${block.role}`);
    part.append(el("h3", null, block.heading));
    const dl = el("dl");
    for (const row of block.rows) dl.append(el("dt", null, row.label), valueNode(row));
    part.append(dl);
    blocks.append(part);
  }
  box.append(blocks);
  for (const [name, line] of [["check", card.check], ["decided", card.decided]]) {
    if (line) box.append(el("p", name, line));
  }
  let input = null;
  if (card.note) {
    input = el("input");
    input.type = "text";
    input.id = "decision-note";
    input.maxLength = 200;
    input.placeholder = card.note.placeholder;
    input.value = note;
    const label = el("label", null, card.note.label);
    label.htmlFor = input.id;
    box.append(label, input);
  }
  const buttons = el("div", "buttons");
  for (const action of card.actions) {
    const button = el("button", action.primary ? "primary" : action.id === "refuse" ? "danger" : null, action.text);
    button.dataset.decision = action.id;
    button.disabled = deciding;
    button.addEventListener("click", () => decide(card, action.id, input?.value ?? "").catch(logError));
    buttons.append(button);
  }
  box.append(buttons);
  if (decisionNotice) box.append(el("p", `status ${decisionNotice.severity}`, decisionNotice.text));
  // Thunderbird's own copy of the new key, after the choices: it matters for a refusal.
  if (card.thunderbird) box.append(el("p", "thunderbird", card.thunderbird));
  box.hidden = false;
}

async function decide(card, decision, note) {
  if (deciding) return;
  deciding = true;
  for (const button of byId("decision").querySelectorAll("button")) button.disabled = true;
  try {
    const op = decision === "confirm" ? Op.contactsConfirmCertificate : Op.contactsRefuseCertificate;
    // The background checks the messages with this key change again before it answers.
    const result = await callHost(op, { address: card.address, fingerprint: card.fingerprint, note: note.trim() || undefined });
    decisionNotice = { severity: "ok", text: decisionDone(result, { t }) };
  } catch (e) {
    decisionNotice = { severity: "error", text: t(errorKey(e?.code)) };
  } finally {
    deciding = false;
  }
  await refresh();
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
  setText(status, unlockNotice ? t.phrase(unlockNotice) : "");
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

function renderFailure(code, { ownWayOut = false } = {}) {
  shows("failure", { error: code });
  const look = failureLook(code);
  const hostDown = look.name === "unavailable";
  setHeadline(look, hostDown ? t("popup_host_missing") : t("popup_failed"));
  text("summary", t(errorKey(code)));
  document.getElementById("host-actions").hidden = ownWayOut && !hostDown;
  document.getElementById("open-help").hidden = !hostDown;
}

function renderNote(note) {
  shows("note");
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

function problemCard(problem, shownAbove) {
  const card = document.getElementById("problem-template").content.firstElementChild.cloneNode(true);
  localizePage(card);
  card.classList.add(problem.severity);
  const title = card.querySelector(".title");
  const explain = card.querySelector(".explain");
  setText(title, problem.title);
  setText(explain, problem.explain);
  title.hidden = shownAbove?.headline === problem.title;
  explain.hidden = shownAbove?.summary === problem.explain;
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
  for (const id of ["notices", "problem-list", "sections", "technical-sections"]) document.getElementById(id).replaceChildren();
  document.getElementById("problems").hidden = true;
  byId("technical").hidden = true;
  byId("advice").hidden = true;
  document.getElementById("host-actions").hidden = true;
  byId("revocation-actions").hidden = true;
  byId("unlock-form").hidden = true;
  byId("decision").hidden = true;
  text("summary", "");
}
