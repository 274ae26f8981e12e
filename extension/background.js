// Background script (Manifest V3 event page). Every listener is registered at the top level, so
// Thunderbird can wake the page for it; the open native port keeps the page alive afterwards.
//
// For each displayed message: show "checking" on the header button, get the reading (inspector),
// show its look, and let the banner script and the details popup ask for what they need.
// Pages of the add-on (contacts, my certificates, the compose check) reach the host through this
// page's port (`host` requests). The compose check follows each compose window's recipients and
// shows on its button what Send will do (compose-watch.mjs); it runs again when the user presses
// Send. Reminders of a certificate's expiry and a missing backup go out as notifications
// (reminders.mjs); a new installation opens the first-run guide.

import { NativePort, PortState } from "./modules/native-port.mjs";
import { VerdictStore } from "./modules/verdicts.mjs";
import { inspect } from "./modules/inspector.mjs";
import { BADGE_TEXT_COLOR, buttonLook, certEmail, checkingLook, failureLook, lockedKeys, lookName } from "./modules/look.mjs";
import { currentTheme, iconPaths, onThemeChange, showLook } from "./modules/header-button.mjs";
import { bannerFor, refreshBanner, registerBanner } from "./modules/banner.mjs";
import { describe } from "./modules/describe.mjs";
import { date, day, t } from "./modules/i18n.mjs";
import { HostError, isHostDown, LocalError, MANAGED_DIRECTORY_OPS, Op, PAGE_OPS } from "./modules/ops.mjs";
import { lookupOf, managedDirectories, withLookup, withManaged } from "./modules/directories.mjs";
import { errorReply } from "./modules/host-client.mjs";
import { withTimeout } from "./modules/timeout.mjs";
import { displayedMessageId, messagesOf } from "./modules/displayed.mjs";
import { logError } from "./modules/log.mjs";
import { startTrace } from "./modules/trace.mjs";
import { isCertificateAttachment } from "./modules/attachments.mjs";
import { loadOptions } from "./modules/options.mjs";
import {
  addressKey, addressesToCheck, choiceOf, composeButton, composeRecipients, decideOnSend, recipientRows, sendOutcome,
  smimeCapabilities, smimeSwitches, technology, withoutRecipient,
} from "./modules/recipients.mjs";
import { ComposeWatch, RecipientCache } from "./modules/compose-watch.mjs";
import { recordSignedMail, SIGNED_MAIL_KEY, signedRecipients } from "./modules/renewal.mjs";
import { decisionState, keyChangeOf } from "./modules/key-decision.mjs";
import { neutralize } from "./modules/untrusted.mjs";
import { dueReminders, REMINDER_KEY } from "./modules/reminders.mjs";
import { expiredOwnCertificate } from "./modules/identities-view.mjs";

const port = new NativePort();
const store = new VerdictStore();
const HELP_PAGE = "/pages/host-missing.html";
const CONTACTS_PAGE = "/pages/contacts.html";
const IDENTITIES_PAGE = "/pages/identities.html";
const GUIDE_PAGE = "/pages/guide.html";
// Sending waits for the compose check; a host that does not answer in time must not hold mail.
// The bound covers starting the host as well as its answer.
const SEND_CHECK_TIMEOUT_MS = 5_000;
const COMPOSE_CHECK_TIMEOUT_MS = 15_000;
const MAX_MESSAGES_PER_MENU_CLICK = 50;
const DECISION_OPS = new Set([Op.contactsConfirmCertificate, Op.contactsRefuseCertificate]);
const CONTACT_CHANGING_OPS = new Set([...DECISION_OPS, Op.contactsDelete, Op.contactsDeleteCertificate, Op.contactsImport]);
const IDENTITY_CHANGING_OPS = new Set([Op.identitiesImport, Op.identitiesDelete, Op.identitiesBackupSaved]);
const pendingSends = new Map(); // compose tab id -> what onBeforeSend let go: {from, addresses, signed}
const confirmedSends = new Map(); // compose tab id -> sendKey the user has seen the check for
const stoppedSends = new Map(); // compose tab id -> why the last send was stopped
const userChoices = new Map(); // compose tab id -> {sign?, encrypt?} the user set in the check
const composeButtons = new Map(); // compose tab id -> what its button shows (composeButton)
const recipientCache = new RecipientCache();
const composeWatch = new ComposeWatch({ read: composeDetails, check: (tabId, details) => composeCheck(tabId, { details }), focused: focusedWindows });
let notice = null; // what the last menu action did, for the contacts page to show once
let hostBack = null; // the check of every tab that onHostState started last
const buttons = new Map(); // tab id -> {messageId, final}: what its header button was last set to
const traces = new Map(); // message id -> the timing of its check, until its verdict is shown (trace.mjs)

browser.messageDisplay.onMessagesDisplayed.addListener((tab, displayed) => {
  show(tab.id, messagesOf(displayed)).catch(logError);
});
browser.mailTabs.onSelectedMessagesChanged.addListener(onSelected);
browser.tabs.onRemoved.addListener(forgetTab);
browser.runtime.onMessage.addListener(onInternalMessage);
browser.runtime.onMessageExternal.addListener(onExternalMessage);
port.onStateChange(onHostState);
onThemeChange(() => {
  refreshAllTabs().catch(logError);
  for (const [tabId, button] of composeButtons) paintComposeButton(tabId, button).catch(logError);
});
browser.menus.onShown.addListener(onMenuShown);
browser.menus.onClicked.addListener((info, tab) => onMenuClicked(info, tab).catch(logError));
browser.runtime.onInstalled.addListener(onInstalled);
browser.notifications.onClicked.addListener((id) => onReminderClicked(id).catch(logError));
browser.compose.onBeforeSend.addListener(onBeforeSend);
browser.tabs.onCreated.addListener(watchCompose);
browser.compose.onComposeStateChanged.addListener((tab) => {
  watchCompose(tab);
  composeWatch.nudge(tab.id).catch(logError);
});
browser.compose.onIdentityChanged.addListener((tab) => composeWatch.nudge(tab.id).catch(logError));
browser.windows.onFocusChanged.addListener((windowId) => composeWatch.windowFocused(windowId).catch(logError));
browser.compose.onAfterSend.addListener((tab, sendInfo) => onAfterSend(tab, sendInfo).catch(logError));

startup().catch(logError);

/** A closed tab: what it showed, and what its compose window was about to send. */
function forgetTab(tabId) {
  store.forgetTab(tabId);
  buttons.delete(tabId);
  composeWatch.forget(tabId);
  for (const map of [pendingSends, confirmedSends, stoppedSends, userChoices, composeButtons]) map.delete(tabId);
}

async function startup() {
  await registerBanner().catch(logError);
  await createMenus().catch(logError);
  port.start().catch(() => {}); // a missing host is reported per message and by onHostState
  // Messages already on screen before the add-on started get their verdict too; compose windows
  // already open are followed.
  const tabs = await browser.tabs.query({});
  for (const tab of tabs) watchCompose(tab);
  await Promise.all(tabs.map(async (tab) => {
    const messageId = await displayedMessageId(tab.id);
    if (messageId !== null) await show(tab.id, [{ id: messageId }], { injectBanner: true });
  }));
}

/**
 * Checks the one message a tab shows and updates its button (and banner, when asked). The check
 * starts first; the button says "checking" meanwhile unless it already does for this message
 * (the selection and the display of one message both call this).
 */
async function show(tabId, messages, { injectBanner = false } = {}) {
  // Several selected messages show a summary without a message header: nothing to judge.
  const messageId = messages.length === 1 ? messages[0].id : null;
  store.showInTab(tabId, messageId);
  if (messageId === null) {
    buttons.delete(tabId);
    return;
  }
  let look;
  try {
    let reading = store.entry(messageId).reading;
    if (!reading) {
      const running = check(messageId);
      const on = buttons.get(tabId);
      if (on?.messageId !== messageId || on.final) await setButton(tabId, messageId, checkingLook(), false);
      reading = await running;
    }
    look = buttonLook(reading);
  } catch (e) {
    look = failureLook(e.code ?? "internal_error");
    if (isHostDown(e.code)) offerHelpOnce().catch(logError);
    else logError(e);
  }
  if (store.messageInTab(tabId) !== messageId) return; // the tab moved on meanwhile
  await setButton(tabId, messageId, look, true);
  const trace = traces.get(messageId);
  if (trace) {
    traces.delete(messageId);
    trace.mark("shown");
    trace.report();
  }
  if (injectBanner) await refreshBanner(tabId).catch(logError);
}

/** The reading of a message: the one known, the check running, or a new check. */
function check(messageId) {
  return store.reading(messageId, () => {
    const trace = startTrace(port.timing, { messageId });
    if (trace) traces.set(messageId, trace);
    return inspectMessage(messageId, { trace });
  });
}

/** Asks the host for a message's reading; a signer's certificate it stored changes the contacts. */
async function inspectMessage(messageId, { trace = null } = {}) {
  const reading = await inspect(port, messageId, { trace });
  const stored = [reading.verdict, reading.decrypted].some((v) => (v?.contacts?.stored ?? []).length > 0);
  if (stored) contactsChanged();
  return reading;
}

/** Shows a look on a tab's button, noting which message's look it is and whether it is final. */
function setButton(tabId, messageId, look, final) {
  buttons.set(tabId, { messageId, final });
  return showLook(tabId, look, t);
}

// A message selected in a 3-pane tab is the one its message pane starts loading: its check starts
// now, while Thunderbird reads and shows it, and the button stops showing the previous message's
// verdict. (Thunderbird fires no onMessagesDisplayed at all for a message it cannot decrypt: it
// shows its own error page instead. The selection still says which message is on screen.)
function onSelected(tab, selected) {
  const messages = messagesOf(selected);
  if (messages.length !== 1) return; // several show a summary, announced as displayed
  show(tab.id, messages).catch(logError);
}

async function refreshAllTabs({ injectBanner = false } = {}) {
  await Promise.all(store.tabs().map(([tabId, messageId]) => show(tabId, [{ id: messageId }], { injectBanner })));
}

function onHostState(state) {
  // Back from missing, broken or a restart: check again what failed while it was away.
  if (state === PortState.ready) {
    hostBack = recheck(() => store.forgetFailures());
    hostBack.catch(logError);
    remind().catch(logError);
  }
}

/** A new user gets the first-run guide; an update changes nothing the user sees. */
function onInstalled({ reason }) {
  if (reason === "install") openPage(GUIDE_PAGE).catch(logError);
}

// ---- reminders: expiry and backup as Thunderbird notifications (reminders.mjs) ---------------

const REMINDER_PREFIX = "smime-companion-reminder-";
const REMIND_EVERY_MS = 6 * 3_600_000;
setInterval(() => remind().catch(logError), REMIND_EVERY_MS);

/** Notifies what is due (once per period, remembered in storage.local). */
async function remind() {
  if (port.state !== PortState.ready) return;
  let identities;
  try {
    identities = (await askHost(Op.identitiesList, {})).identities;
  } catch {
    return; // a host without identities, or gone again: nothing to remind of
  }
  const { [REMINDER_KEY]: state } = await browser.storage.local.get(REMINDER_KEY);
  const due = dueReminders({ identities, state: state ?? {}, now: Date.now(), formatDate: day });
  await browser.storage.local.set({ [REMINDER_KEY]: due.state });
  for (const n of due.notifications) {
    await browser.notifications.create(`${REMINDER_PREFIX}${n.id}`, {
      type: "basic",
      iconUrl: browser.runtime.getURL(`/icons/light-theme/${n.kind === "backup" ? "problem" : "untrusted"}-32.png`),
      title: neutralize(t.phrase(n.title)),
      message: neutralize(t.phrase(n.message)),
    });
  }
}

async function onReminderClicked(id) {
  if (!id.startsWith(REMINDER_PREFIX)) return;
  await browser.notifications.clear(id);
  await openPage(IDENTITIES_PAGE, null, id === `${REMINDER_PREFIX}backup` ? "backup" : null);
}

/** Opens the help page the first time this version of the add-on finds no working host. */
async function offerHelpOnce() {
  const { version } = browser.runtime.getManifest();
  const { helpShownFor } = await browser.storage.local.get("helpShownFor");
  if (helpShownFor === version) return;
  await browser.storage.local.set({ helpShownFor: version });
  await openHelp();
}

function openHelp() {
  return browser.tabs.create({ url: HELP_PAGE });
}

/** What the details popup and the help page need about a tab and the host. */
function statusOf(tabId) {
  const messageId = tabId === null || tabId === undefined ? null : store.messageInTab(tabId);
  const entry = messageId === null ? null : store.entry(messageId);
  return {
    host: { state: port.state, lastError: port.lastError, version: port.hostInfo?.version ?? null },
    messageId,
    reading: entry?.reading ?? null,
    checking: Boolean(entry?.running),
    error: entry?.error ? { code: entry.error.code ?? "internal_error", message: entry.error.message } : null,
  };
}

// Pages of this add-on and the banner script talk to the background through these requests.
function onInternalMessage(request, sender) {
  const tabId = sender.tab?.id;
  switch (request?.type) {
    case "status":
      return Promise.resolve(statusOf(request.tabId ?? null));
    case "banner":
      return bannerForTab(tabId);
    case "dismissBanner": {
      const messageId = store.messageInTab(tabId);
      if (messageId !== null) store.dismiss(messageId);
      return Promise.resolve(true);
    }
    case "openDetails":
      return browser.messageDisplayAction.openPopup().then(() => true);
    case "openHelp":
      return openHelp().then(() => true);
    case "retry":
      return retry();
    case "recheckRevocation":
      return recheckRevocation(request.tabId ?? null);
    case "host":
      return fromOwnPage(sender) ? relay(request) : Promise.resolve(errorReply(new HostError("caller_not_allowed", "not a page of this add-on")));
    case "composeCheck":
      return fromOwnPage(sender) ? composeCheck(request.tabId) : Promise.resolve(null);
    case "composeApply":
      return fromOwnPage(sender) ? composeApply(request.tabId, request) : Promise.resolve(false);
    case "takeNotice": {
      const taken = notice;
      notice = null;
      return Promise.resolve(taken);
    }
    case "openContacts":
      return openPage(CONTACTS_PAGE).then(() => true);
    case "openIdentities":
      // `hash` names what to show: "import", or "backup" (the first key without one).
      return openPage(IDENTITIES_PAGE, null, ["import", "backup"].includes(request.hash) ? request.hash : null).then(() => true);
    case "openGuide":
      return openPage(GUIDE_PAGE).then(() => true);
    default:
      return false; // not ours: let other listeners answer
  }
}

async function bannerForTab(tabId) {
  // The banner script may run before onMessagesDisplayed, so ask Thunderbird what the tab shows.
  const messageId = await displayedMessageId(tabId);
  if (messageId === null) return null;
  try {
    // Wait for the same check the header button waits for.
    const reading = await store.reading(messageId, () => inspectMessage(messageId));
    const now = store.messageInTab(tabId);
    if (now !== null && now !== messageId) return null; // the tab moved on meanwhile
    const view = describe(reading, { t, date });
    return bannerFor(view, t, { dismissed: store.dismissed(messageId), decision: await keyDecisionOf(view.keyChange) });
  } catch {
    return null; // no verdict, no banner: the header button tells what went wrong
  }
}

/**
 * Where the user's decision on a changed key stands (key-decision.mjs decisionState), from the
 * contact: only a key change that no longer waits needs the host to tell (refused or not).
 */
async function keyDecisionOf(change) {
  if (!change || change.pending || !change.address) return null;
  const contact = await askHost(Op.contactsShow, { address: change.address }).catch(() => null);
  return contact ? decisionState(change, contact) : null;
}

async function retry() {
  const before = hostBack;
  await port.retryNow().catch(() => {});
  // A host that just came back has had every tab checked again (onHostState): wait for that check
  // instead of running a second one. Otherwise (the host was up, or is still down) check here.
  await (hostBack !== before ? hostBack : recheck(() => store.forgetFailures()));
  return statusOf(null);
}

/**
 * "Check revocation again" for the message a tab shows: the host asks the certification
 * authorities anew where a check failed recently, and the tab shows the new verdict.
 */
async function recheckRevocation(tabId) {
  const messageId = tabId === null ? null : store.messageInTab(tabId);
  if (messageId === null) return statusOf(tabId);
  const before = store.entry(messageId).reading;
  if (before) store.forgetReadings((reading) => reading === before);
  try {
    await store.reading(messageId, () => inspect(port, messageId, { recheckRevocation: true }));
  } catch (e) {
    logError(e); // the header button shows the failure, as for any check
  }
  await refreshAllTabs({ injectBanner: true });
  return statusOf(tabId);
}

/** Forgets what `forget` drops from the store, then checks every displayed message again. */
async function recheck(forget) {
  forget();
  await refreshAllTabs({ injectBanner: true });
}

/**
 * Other add-ons may ask what we found about a displayed message, by message id or by tab id.
 * Read-only: answers come from what is already known; nothing is checked on their behalf.
 */
function onExternalMessage(request) {
  if (request?.type !== "getVerdict") return false;
  const messageId = Number.isInteger(request.messageId) ? request.messageId
    : Number.isInteger(request.tabId) ? store.messageInTab(request.tabId) : null;
  const reading = messageId === null ? null : store.entry(messageId).reading;
  if (!reading) return Promise.resolve({ ok: false, messageId, error: "no_verdict" });
  return Promise.resolve({
    ok: true,
    messageId,
    look: lookName(reading),
    verdict: reading.verdict,
    // the verdict on what Thunderbird decrypted when we had no key, else null
    thunderbird_decrypted_verdict: reading.decrypted,
  });
}

// ---- pages and the host ---------------------------------------------------------------------

/** True for the add-on's own pages (not the banner script, which runs in a message). */
function fromOwnPage(sender) {
  return sender?.id === browser.runtime.id && String(sender.url ?? "").startsWith(browser.runtime.getURL("/"));
}

/** Asks the host on behalf of a page; the reply carries the error code across runtime messaging. */
async function relay({ op, params = {}, timeoutMs }) {
  if (!PAGE_OPS.has(op)) return errorReply(new HostError("unknown_op", `pages may not call ${op}`));
  if (MANAGED_DIRECTORY_OPS.has(op)) params = withManaged(params, await managedDirectories(browser.storage));
  try {
    const result = await askHost(op, params, { timeoutMs });
    // A key that opened may decrypt the messages that were locked. They are checked again before
    // the answer goes back, so the page that unlocked (the details popup) shows the new verdict.
    if (op === Op.identitiesUnlock && result?.unlocked?.length) {
      await recheck(() => store.forgetReadings((reading) => lockedKeys(reading) !== null)).catch(logError);
    }
    // A decision on a new key changes what the popup and the banner say about the messages signed
    // with it: they are checked again before the answer goes back, like an unlock.
    if (DECISION_OPS.has(op)) {
      await recheck(() => store.forgetReadings((reading) => keyChangeOf(reading) !== null)).catch(logError);
    }
    if (CONTACT_CHANGING_OPS.has(op)) contactsChanged();
    if (IDENTITY_CHANGING_OPS.has(op)) {
      ownExpiredBy.clear(); // a renewal imported: the compose check says so at once
      remind().catch(logError);
    }
    return { ok: true, result };
  } catch (e) {
    return errorReply(e);
  }
}

/**
 * Asks the host, starting it when needed. `timeoutMs` bounds the whole wait, the host's start
 * included: whoever gave it (the send check) waits no longer. The request itself keeps the full
 * `timeoutMs` before the port judges the host hung; a late answer is simply not waited for.
 */
async function askHost(op, params, { timeoutMs } = {}) {
  if (!timeoutMs) {
    await port.ready(op);
    return port.request(op, params);
  }
  const deadline = Date.now() + timeoutMs;
  await port.ready(op, { timeoutMs });
  return withTimeout(port.request(op, params, { timeoutMs }), deadline - Date.now(), `${op} took longer than ${timeoutMs} ms`);
}

async function askHostWithPayload(op, field, bytes) {
  await port.ready(op);
  return port.requestWithPayload(op, {}, field, bytes);
}

/**
 * Shows an add-on page, reusing (and reloading) its tab when it is already open; `query` names
 * what it should show (the contacts page's `address`).
 */
async function openPage(path, query = null, hash = null) {
  const base = browser.runtime.getURL(path);
  const url = `${base}${query ? `?${new URLSearchParams(query)}` : ""}${hash ? `#${hash}` : ""}`;
  const [open] = await browser.tabs.query({ url: `${base}*` });
  if (open) {
    if (url !== base) await browser.tabs.update(open.id, { active: true, url });
    else await browser.tabs.update(open.id, { active: true });
    await browser.tabs.reload(open.id);
    return open;
  }
  return browser.tabs.create({ url });
}

// ---- menus: certificate attachments, the sender's certificate, the pages ------------------------

async function createMenus() {
  await browser.menus.removeAll();
  const items = [
    { id: "import-attachment", title: t("menu_import_attachment"), contexts: ["message_attachments", "all_message_attachments"] },
    { id: "save-sender", title: t("menu_save_sender"), contexts: ["message_list"] },
    { id: "open-contacts", title: t("menu_open_contacts"), contexts: ["tools_menu"] },
    { id: "open-identities", title: t("menu_open_identities"), contexts: ["tools_menu"] },
    { id: "open-guide", title: t("menu_open_guide"), contexts: ["tools_menu"] },
  ];
  for (const item of items) {
    await new Promise((resolve, reject) => {
      browser.menus.create(item, () => (browser.runtime.lastError ? reject(browser.runtime.lastError) : resolve()));
    });
  }
}

// The attachment item shows only on attachments whose bytes contacts_import can read.
function onMenuShown(info) {
  if (!info.menuIds.includes("import-attachment")) return;
  const visible = (info.attachments ?? []).some(isCertificateAttachment);
  browser.menus.update("import-attachment", { visible }).then(() => browser.menus.refresh()).catch(logError);
}

async function onMenuClicked(info, tab) {
  switch (info.menuItemId) {
    case "import-attachment":
      notice = await importAttachments(info.attachments ?? [], tab);
      contactsChanged();
      return openPage(CONTACTS_PAGE);
    case "save-sender":
      notice = await saveSenders(messagesOf(info.selectedMessages));
      return openPage(CONTACTS_PAGE);
    case "open-contacts":
      return openPage(CONTACTS_PAGE);
    case "open-identities":
      return openPage(IDENTITIES_PAGE);
    case "open-guide":
      return openPage(GUIDE_PAGE);
    default:
      return null;
  }
}

/**
 * The message whose attachments a menu was opened on. Thunderbird hands the listener the message
 * browser's own window as `tab` for attachment menus, which messageDisplay does not know; the
 * active tab of that window (or of the last focused one) shows the message.
 */
async function displayedMessageFor(tab) {
  const candidates = [tab?.id];
  for (const query of [{ active: true, windowId: tab?.windowId }, { active: true, lastFocusedWindow: true }]) {
    if (query.windowId === undefined && "windowId" in query) continue;
    const tabs = await browser.tabs.query(query).catch(() => []);
    candidates.push(...tabs.map((t) => t.id));
  }
  // Asked all at once: each answer is bounded, and the first candidate that shows one message wins.
  const shown = await Promise.all([...new Set(candidates)].filter(Number.isInteger).map((id) => displayedMessageId(id)));
  return shown.find((id) => id !== null) ?? null;
}

/** Sends each certificate attachment's bytes to contacts_import; one result per file. */
async function importAttachments(attachments, tab) {
  const messageId = await displayedMessageFor(tab);
  const files = [];
  for (const attachment of attachments.filter(isCertificateAttachment)) {
    try {
      if (messageId === null) throw new HostError(LocalError.messageUnreadable, "no single displayed message");
      const file = await browser.messages.getAttachmentFile(messageId, attachment.partName);
      const bytes = new Uint8Array(await file.arrayBuffer());
      const result = await askHostWithPayload(Op.contactsImport, "data", bytes);
      files.push({ name: attachment.name, result });
    } catch (e) {
      files.push({ name: attachment.name, error: e?.code ?? "internal_error" });
    }
  }
  return { kind: "import", files };
}

/** Inspects each selected message (which harvests a verified signer's certificate). */
async function saveSenders(messages) {
  const results = [];
  for (const message of messages.slice(0, MAX_MESSAGES_PER_MENU_CLICK)) {
    try {
      const reading = await store.reading(message.id, () => inspectMessage(message.id));
      const verdict = reading.decrypted ?? reading.verdict;
      const signer = verdict.signature?.signer ?? null;
      results.push({
        subject: message.subject ?? "",
        state: verdict.signature?.state ?? "none",
        // What Thunderbird opened with its own key is readable: its signature was checked inside.
        encryption: reading.decrypted ? "decrypted_by_thunderbird" : reading.verdict.encryption?.state ?? "none",
        address: certEmail(signer),
        stored: (verdict.contacts?.stored ?? []).length > 0 || (reading.verdict.contacts?.stored ?? []).length > 0,
        storeError: verdict.contacts?.error ? "store_error" : null,
      });
    } catch (e) {
      results.push({ subject: message.subject ?? "", error: e?.code ?? "internal_error" });
    }
  }
  return { kind: "senders", results, more: messages.length > MAX_MESSAGES_PER_MENU_CLICK };
}

// ---- compose: the recipients check, live on the button, in its popup and on Send ----------------

/** Follows a compose window from its start (and windows open before the add-on started). */
function watchCompose(tab) {
  if (tab?.type === "messageCompose") composeWatch.track(tab.id, tab.windowId ?? null);
}

/** The windows in front, whose compose windows the watch reads; null when none says it is. */
async function focusedWindows() {
  const front = (await browser.windows.getAll()).filter((w) => w.focused).map((w) => w.id);
  return front.length ? front : null;
}

/** A compose window's details; null while it is still loading; rejects once it is gone. */
async function composeDetails(tabId) {
  try {
    return await browser.compose.getComposeDetails(tabId);
  } catch (e) {
    await browser.tabs.get(tabId); // throws for a closed tab: the watch then forgets it
    return null;
  }
}

/**
 * Everything the compose popup needs to show the check of one compose tab, and what Send will do,
 * which the compose button shows. The host is asked only for addresses it was not asked about
 * lately (RecipientCache), or for all of them with `fresh` (the check on Send).
 */
async function composeCheck(tabId, { details = null, timeoutMs = COMPOSE_CHECK_TIMEOUT_MS, fresh = false } = {}) {
  details ??= await browser.compose.getComposeDetails(tabId);
  const [identity, options] = await Promise.all([
    details.identityId ? browser.identities.get(details.identityId).catch(() => null) : null,
    loadOptions(browser.storage),
  ]);
  const recipients = composeRecipients(details);
  const addresses = addressesToCheck(recipients);
  const base = {
    tabId,
    caps: smimeCapabilities(identity),
    switches: smimeSwitches(details),
    openpgp: details.selectedEncryptionTechnology?.name === "OpenPGP",
    identityEmail: identity?.email ?? null,
    options: options.values,
    optionSources: options.source,
    userChoice: userChoices.get(tabId) ?? {},
    confirmedKey: confirmedSends.get(tabId) ?? null,
    stopped: stoppedSends.get(tabId) ?? null,
    ownExpired: await ownExpiredFor(identity?.email),
  };
  let checks = [];
  let lookup = null;
  let hostError = null;
  if (addresses.length) {
    if (!fresh && recipientCache.missing(addresses).length) {
      showCompose(tabId, { ...base, rows: recipientRows(recipients, []), hostError: null });
    }
    try {
      // Recipients without a usable certificate are looked up in the directories first (the host
      // bounds that wait below the send check's timeout and remembers recent answers;
      // docs/DIRECTORY.md). What the lookup said stays with each kept answer.
      const managed = await managedDirectories(browser.storage);
      const ask = async (list) => {
        const answer = await askHost(Op.recipientsCheck, withManaged({ addresses: list, lookup: true }, managed), { timeoutMs });
        return withLookup(answer.recipients, answer.lookup ?? null, addressKey);
      };
      checks = await recipientCache.checks(addresses, ask, { fresh });
      lookup = lookupOf(checks);
    } catch (e) {
      hostError = e?.code ?? "internal_error";
    }
  }
  const check = { ...base, rows: recipientRows(recipients, hostError ? null : checks, lookup), hostError, lookup };
  showCompose(tabId, check);
  return check;
}

// The user's own certificates per sending address, as the compose check needs them: asked again
// after an import or deletion on My certificates (relay), and after a while (the CLI imports too).
const OWN_CERTIFICATES_FRESH_MS = 30_000;
const ownExpiredBy = new Map(); // lower-case address -> {at, value: {email, until} | null}

/**
 * {email, until} when every certificate the companion holds for the sending address has expired
 * (Thunderbird refuses to sign or encrypt with it), else null; null too without an answer from
 * the host, which the compose check then goes on without.
 */
async function ownExpiredFor(email) {
  if (!email) return null;
  const address = email.toLowerCase();
  const known = ownExpiredBy.get(address);
  if (known && Date.now() - known.at < OWN_CERTIFICATES_FRESH_MS) return known.value;
  let value = null;
  try {
    const expired = expiredOwnCertificate(email, (await askHost(Op.identitiesList, {})).identities ?? []);
    value = expired ? { email, until: day(expired.not_after) ?? "?" } : null;
  } catch {
    return known?.value ?? null;
  }
  ownExpiredBy.set(address, { at: Date.now(), value });
  return value;
}

/** Shows on the compose button what Send will do with this message (sendOutcome). */
function showCompose(tabId, check) {
  const button = composeButton(sendOutcome(check));
  composeButtons.set(tabId, button);
  paintComposeButton(tabId, button).catch(logError);
}

async function paintComposeButton(tabId, button) {
  const action = browser.composeAction;
  await Promise.all([
    action.setIcon({ tabId, path: iconPaths(button.icon ?? "encrypted", currentTheme()) }),
    action.setLabel({ tabId, label: t.phrase(button.label) }),
    action.setTitle({ tabId, title: neutralize(t.phrase(button.title)) }),
    action.setBadgeText({ tabId, text: button.badge }),
    button.color ? action.setBadgeBackgroundColor({ tabId, color: button.color }) : null,
    button.color ? action.setBadgeTextColor({ tabId, color: BADGE_TEXT_COLOR }) : null,
  ]);
}

/** The contacts changed (a harvest, an import, a decision, a deletion): check the recipients again. */
function contactsChanged() {
  recipientCache.invalidate();
  composeWatch.recheckAll().catch(logError);
}

/**
 * Does what the compose popup asked: flips Thunderbird's S/MIME switches (and remembers the
 * wish for this message), sends signed but unencrypted, removes a recipient, writes to a
 * recipient to ask for a signed message, or opens the contacts page at a recipient.
 */
async function composeApply(tabId, { action, switches = null, address = null }) {
  switch (action) {
    case "remove": {
      const details = await browser.compose.getComposeDetails(tabId);
      await browser.compose.setComposeDetails(tabId, withoutRecipient(details, address));
      await composeWatch.nudge(tabId);
      return true;
    }
    case "ask_signed":
      await askForSignedMail(tabId, address);
      return true;
    case "decide":
      await openPage(CONTACTS_PAGE, { address });
      return true;
    case "open_identities":
      await openPage(IDENTITIES_PAGE);
      return true;
    default:
      break;
  }
  if (!switches) return false;
  await browser.compose.setComposeDetails(tabId, { selectedEncryptionTechnology: technology(switches) });
  userChoices.set(tabId, { ...userChoices.get(tabId), ...choiceOf(action) });
  stoppedSends.delete(tabId); // the user acted on it; the notice has done its job
  if (action === "send_signed" || action === "send_plain") {
    // Send as the user would: now, or later when Thunderbird is offline. onBeforeSend checks it.
    await browser.compose.sendMessage(tabId);
    return true;
  }
  await composeWatch.nudge(tabId);
  return true;
}

/**
 * The key exchange's first step, in one click: a message to `address` asking for a signed reply,
 * from the same identity, signed where Thunderbird can sign (it carries the user's certificate).
 */
async function askForSignedMail(fromTabId, address) {
  const details = await browser.compose.getComposeDetails(fromTabId);
  const identity = details.identityId ? await browser.identities.get(details.identityId).catch(() => null) : null;
  const tab = await browser.compose.beginNew({
    identityId: details.identityId,
    to: [address],
    subject: t("ask_signed_subject"),
    isPlainText: true,
    plainTextBody: [t("ask_signed_hello"), t("ask_signed_request"), `${t("ask_signed_thanks")}\n${identity?.name || identity?.email || ""}`].join("\n\n"),
  });
  if (smimeCapabilities(identity).canSign) {
    await browser.compose.setComposeDetails(tab.id, { selectedEncryptionTechnology: technology({ sign: true, encrypt: false }) }).catch(logError);
    userChoices.set(tab.id, { sign: true, encrypt: false });
  }
}

async function onBeforeSend(tab, details) {
  let check;
  try {
    check = await composeCheck(tab.id, { details, timeoutMs: SEND_CHECK_TIMEOUT_MS, fresh: true });
  } catch (e) {
    logError(e);
    return {}; // never keep mail from being sent because the check broke
  }
  const decision = decideOnSend({
    options: check.options, caps: check.caps, switches: check.switches, rows: check.rows,
    hostError: check.hostError, confirmedKey: check.confirmedKey, userChoice: check.userChoice,
  });
  const switches = decision.switches ?? check.switches;
  const update = decision.switches ? { selectedEncryptionTechnology: technology(decision.switches) } : null;
  if (decision.stop) {
    // Thunderbird ignores details returned with a cancel, so apply them first.
    if (update) await browser.compose.setComposeDetails(tab.id, update).catch(logError);
    confirmedSends.set(tab.id, decision.key);
    stoppedSends.set(tab.id, decision.stop);
    pendingSends.delete(tab.id);
    showCompose(tab.id, { ...check, confirmedKey: decision.key, stopped: decision.stop });
    // The compose window is locked until this listener returns; show the check right after.
    setTimeout(() => browser.composeAction.openPopup({ windowId: tab.windowId }).catch(logError), 0);
    return { cancel: true };
  }
  stoppedSends.delete(tab.id);
  pendingSends.set(tab.id, {
    from: check.identityEmail,
    addresses: check.rows.filter((r) => r.address).map((r) => r.address),
    signed: Boolean(switches?.sign),
  });
  return update ? { details: update } : {};
}

/** Notes who received a signed message, for the renewal checklist (renewal.mjs). */
async function onAfterSend(tab, sendInfo) {
  const pending = pendingSends.get(tab.id);
  pendingSends.delete(tab.id);
  const addresses = signedRecipients(sendInfo, pending);
  if (!addresses.length) return;
  const { [SIGNED_MAIL_KEY]: log } = await browser.storage.local.get(SIGNED_MAIL_KEY);
  const next = recordSignedMail(log, { addresses, from: pending.from, at: new Date().toISOString() });
  await browser.storage.local.set({ [SIGNED_MAIL_KEY]: next });
}
