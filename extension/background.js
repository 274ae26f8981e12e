// Background script (Manifest V3 event page). Every listener is registered at the top level, so
// Thunderbird can wake the page for it; the open native port keeps the page alive afterwards.
//
// For each displayed message: show "checking" on the header button, get the reading (inspector),
// show its look, and let the banner script and the details popup ask for what they need.

import { NativePort, PortState } from "./modules/native-port.mjs";
import { VerdictStore } from "./modules/verdicts.mjs";
import { inspect } from "./modules/inspector.mjs";
import { buttonLook, checkingLook, failureLook, lookName } from "./modules/look.mjs";
import { onThemeChange, showLook } from "./modules/header-button.mjs";
import { bannerFor, refreshBanner, registerBanner } from "./modules/banner.mjs";
import { describe } from "./modules/describe.mjs";
import { dateFormatter } from "./modules/format.mjs";
import { translator } from "./modules/texts.mjs";

const t = translator((key, subs) => browser.i18n.getMessage(key, subs));
const date = dateFormatter(browser.i18n.getUILanguage());
const port = new NativePort();
const store = new VerdictStore();
const dismissed = new Set(); // message ids whose banner the user closed
const HELP_PAGE = "/pages/host-missing.html";

browser.messageDisplay.onMessagesDisplayed.addListener((tab, displayed) => {
  show(tab.id, messagesOf(displayed)).catch(logError);
});
browser.mailTabs.onSelectedMessagesChanged.addListener(onSelected);
browser.tabs.onRemoved.addListener((tabId) => store.forgetTab(tabId));
browser.runtime.onMessage.addListener(onInternalMessage);
browser.runtime.onMessageExternal.addListener(onExternalMessage);
port.onStateChange(onHostState);
onThemeChange(() => refreshAllTabs().catch(logError));

startup().catch(logError);

async function startup() {
  await registerBanner().catch(logError);
  port.start().catch(() => {}); // a missing host is reported per message and by onHostState
  // Messages already on screen before the add-on started get their verdict too.
  const tabs = await browser.tabs.query({});
  await Promise.all(tabs.map(async (tab) => {
    const displayed = await browser.messageDisplay.getDisplayedMessages(tab.id).catch(() => null);
    if (!displayed) return;
    await show(tab.id, messagesOf(displayed), { injectBanner: true });
  }));
}

// MV3 hands over a MessageList ({messages}); accept a plain array too.
function messagesOf(displayed) {
  return Array.isArray(displayed) ? displayed : (displayed?.messages ?? []);
}

/** Checks the one message a tab shows and updates its button (and banner, when asked). */
async function show(tabId, messages, { injectBanner = false } = {}) {
  // Several selected messages show a summary without a message header: nothing to judge.
  const messageId = messages.length === 1 ? messages[0].id : null;
  store.showInTab(tabId, messageId);
  if (messageId === null) return;
  const known = store.entry(messageId).reading;
  if (!known) await showLook(tabId, checkingLook(), t);
  let look;
  try {
    const reading = known ?? (await store.reading(messageId, () => inspect(port, messageId)));
    look = buttonLook(reading);
  } catch (e) {
    look = failureLook(e.code ?? "internal_error");
    if (e.code === "host_missing" || e.code === "host_broken") offerHelpOnce().catch(logError);
    else logError(e);
  }
  if (store.messageInTab(tabId) !== messageId) return; // the tab moved on meanwhile
  await showLook(tabId, look, t);
  if (injectBanner) await refreshBanner(tabId).catch(logError);
}

// Thunderbird fires no onMessagesDisplayed for a message it cannot decrypt (it shows its own
// error page instead, and getDisplayedMessages waits for a load that never ends). In a 3-pane
// tab the selection still says which message is on screen.
const SELECTION_GRACE_MS = 1_500;

function onSelected(tab, selected) {
  const messages = messagesOf(selected);
  if (messages.length !== 1) return;
  setTimeout(() => {
    if (store.messageInTab(tab.id) !== messages[0].id) show(tab.id, messages).catch(logError);
  }, SELECTION_GRACE_MS);
}

async function refreshAllTabs({ injectBanner = false } = {}) {
  await Promise.all(store.tabs().map(([tabId, messageId]) => show(tabId, [{ id: messageId }], { injectBanner })));
}

function onHostState(state) {
  // Back from missing, broken or a restart: check again what failed while it was away.
  if (state === PortState.ready) {
    store.forgetFailures();
    refreshAllTabs({ injectBanner: true }).catch(logError);
  }
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
      if (messageId !== null) dismissed.add(messageId);
      return Promise.resolve(true);
    }
    case "openDetails":
      return browser.messageDisplayAction.openPopup().then(() => true);
    case "openHelp":
      return openHelp().then(() => true);
    case "retry":
      return retry();
    default:
      return false; // not ours: let other listeners answer
  }
}

async function bannerForTab(tabId) {
  // The banner script may run before onMessagesDisplayed, so ask Thunderbird what the tab shows.
  const shown = messagesOf(await browser.messageDisplay.getDisplayedMessages(tabId).catch(() => null));
  const messageId = shown.length === 1 ? shown[0].id : null;
  if (messageId === null || dismissed.has(messageId)) return null;
  try {
    // Wait for the same check the header button waits for.
    const reading = await store.reading(messageId, () => inspect(port, messageId));
    const now = store.messageInTab(tabId);
    if (now !== null && now !== messageId) return null; // the tab moved on meanwhile
    return bannerFor(describe(reading, { t, date }), t);
  } catch {
    return null; // no verdict, no banner: the header button tells what went wrong
  }
}

async function retry() {
  await port.retryNow().catch(() => {});
  store.forgetFailures();
  await refreshAllTabs({ injectBanner: true });
  return statusOf(null);
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

function logError(e) {
  console.error("S/MIME Companion:", e?.code ?? "", e?.message ?? e);
}
