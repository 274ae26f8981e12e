// Service worker of the Outlook-on-the-web extension (Chromium, Chrome, Edge; Manifest V3).
// Every listener is registered at the top level, so the browser can wake the worker for it.
//
// For each tab that shows a message in Outlook on the web (the content script reports the
// address): show "checking" on the toolbar icon, fetch the message's MIME from Exchange (Graph
// or EWS, mail-source.mjs), have the host judge it (the same `inspect_message` as Thunderbird,
// which also harvests verified signers into the shared contact cache), then show the verdict's
// look on the icon, and the notice in the page for a bad one. The popup (the Thunderbird
// add-on's own popup page), the reader, the options and the shared contacts and My certificates
// pages ask this worker, which owns the one native port.
//
// Chromium stops an idle worker (the open native port keeps it alive, but not forever): what
// each tab shows and the readings are kept in storage.session and restored on the next start;
// the port reconnects by itself, and a check that was cut off runs again when asked.

import "../modules/platform.mjs"; // first: shared modules name the API `browser`
import { NativePort, PortState } from "../modules/native-port.mjs";
import { VerdictStore } from "../modules/verdicts.mjs";
import { inspectBytes } from "../modules/inspector.mjs";
import { buttonLook, checkingLook, failureLook, lockedKeys } from "../modules/look.mjs";
import { iconPaths } from "../modules/header-button.mjs";
import { describe } from "../modules/describe.mjs";
import { date, t } from "../modules/i18n.mjs"; // owa_ variants first (platform.mjs)
import { HostError, isHostDown, Op, PAGE_OPS } from "../modules/ops.mjs";
import { errorReply } from "../modules/host-client.mjs";
import { withTimeout } from "../modules/timeout.mjs";
import { logError } from "../modules/log.mjs";
import { graphScope, loadSettings, pageMatches, routeFor } from "./modules/settings.mjs";
import { itemIdFromUrl, messageKey } from "./modules/owa-url.mjs";
import { TokenKeeper } from "./modules/oauth.mjs";
import { bodySource, bytesOf, fetchEwsMime, graphMimeUrl, openGraphMime } from "./modules/mail-source.mjs";
import { graphStatusError, OwaError } from "./modules/fetch-errors.mjs";
import { messageHeaders } from "./modules/mime.mjs";
import { actionTitle, noticeFor, popupActions } from "./modules/view.mjs";

// Chromium moves many small native-messaging frames much faster than one of tens of MiB (measured
// with `tests/outlook-web/run.sh bench`): messages over 512 KiB go to the host as a chunked upload.
const port = new NativePort({ upload: { inlineBytes: 512 * 1024, chunkBytes: 512 * 1024, inFlight: 8 } });
const store = new VerdictStore(); // message key -> reading / failure / running check
const tabs = new Map(); // tabId -> {key, origin, itemId, dark}; key null: no message open
const raw = new Map(); // message key -> raw bytes, the newest few (the reader needs them again)
const tokens = new TokenKeeper({
  launch: (url, interactive, timeoutMs) =>
    chrome.identity.launchWebAuthFlow({ url, interactive, abortOnLoadForNonInteractive: false, timeoutMsForNonInteractive: timeoutMs }),
  store: chrome.storage.session,
});
const SCRIPT_ID = "smime-companion-owa";
const STATE_KEY = "owaState";
const RAW_CACHE_BYTES = 64 * 1024 * 1024;
const READER_PAGE = "/outlook-web/reader.html";
const PAGES = {
  openContacts: "/pages/contacts.html",
  openIdentities: "/pages/identities.html",
  openHelp: "/pages/host-missing.html",
  openOptions: "/outlook-web/options.html",
};
const BASE_TIMEOUT_MS = 30_000;
const STREAM_FROM_BYTES = 512 * 1024; // larger messages from Graph go to the host while downloading
const HOST_FETCH_TIMEOUT_MS = 120_000; // the host's download of one message from Graph
// The icons, decoded once: setIcon with a path makes the browser load and decode the file on every call.
const icons = new Map(); // "<icon>-<theme>" -> Promise of {16: ImageData, 32: ImageData}
// What the browser tests and the benchmark read: when each tab's icon changed and to what, what
// each page was last told to show (logged once delivered), and how long each check took.
const lookLog = [];
const noticeLog = [];
const timings = new Map(); // message key -> {bytes, openMs, hostMs, streamed}
globalThis.smimeCompanionLooks = lookLog;
globalThis.smimeCompanionNotices = noticeLog;

chrome.runtime.onMessage.addListener(onMessage);
chrome.runtime.onInstalled.addListener(() => syncContentScripts().catch(logError));
chrome.runtime.onStartup.addListener(() => syncContentScripts().catch(logError));
chrome.storage.onChanged.addListener(onStorageChanged);
chrome.tabs.onRemoved.addListener((tabId) => forgetTab(tabId));
chrome.tabs.onUpdated.addListener(onTabUpdated);
port.onStateChange(onHostState);
const restored = restore().catch(logError);
port.start().catch(() => {}); // a missing host is shown per message and on the help page

// ---- settings, read once per change ---------------------------------------------------------------

let settings = null; // Promise of loadSettings(), dropped when either storage area changes

function currentSettings() {
  settings ??= loadSettings(chrome.storage).catch((e) => {
    settings = null;
    throw e;
  });
  return settings;
}

// ---- state that outlives the worker ------------------------------------------------------------

async function restore() {
  const { [STATE_KEY]: saved } = await chrome.storage.session.get(STATE_KEY);
  for (const [tabId, tab] of saved?.tabs ?? []) tabs.set(tabId, tab);
  for (const [key, reading] of saved?.readings ?? []) await store.reading(key, () => Promise.resolve(reading));
  for (const key of saved?.dismissed ?? []) store.dismiss(key);
}

/** Saves what the tabs show at once: the worker may be stopped at any moment after this. */
function persist() {
  const keys = new Set([...tabs.values()].map((tab) => tab.key).filter(Boolean));
  const readings = [...keys].map((key) => [key, store.entry(key).reading]).filter(([, r]) => r);
  const dismissed = [...keys].filter((key) => store.dismissed(key));
  chrome.storage.session.set({ [STATE_KEY]: { tabs: [...tabs.entries()], readings, dismissed } }).catch(logError);
}

function forgetTab(tabId) {
  tabs.delete(tabId);
  persist();
}

// ---- the tabs ----------------------------------------------------------------------------------------

/** The content script reports an address: which message (if any) the tab now shows. */
async function onLocation(tabId, url, dark) {
  const { values } = await currentSettings();
  const origin = new URL(url).origin;
  if (!routeFor(origin, values)) {
    forgetTab(tabId);
    return null;
  }
  const itemId = itemIdFromUrl(url);
  const key = itemId ? messageKey(origin, itemId) : null;
  const before = tabs.get(tabId);
  tabs.set(tabId, { key, origin, itemId, dark: Boolean(dark) });
  persist();
  if (before?.key !== key || before?.dark !== Boolean(dark) || unchecked(key)) show(tabId).catch(logError);
  return noticeForTab(tabId);
}

/** True when nothing is known or running for a message: a check the stopped worker lost. */
function unchecked(key) {
  const e = key ? store.entry(key) : null;
  return Boolean(e && !e.reading && !e.error && !e.running);
}

function onTabUpdated(tabId, change) {
  if (!change.url) return;
  currentSettings().then(({ values }) => {
    if (routeFor(new URL(change.url).origin, values)) {
      // The browser names the new address as soon as the navigation starts: the check runs while
      // Outlook's page still loads. The content script reports the same address later (and
      // whether the page is dark); onLocation does not check the same message twice.
      onLocation(tabId, change.url, tabs.get(tabId)?.dark ?? false).catch(logError);
    } else if (tabs.has(tabId)) {
      // Left Outlook on the web: nothing to show any more.
      forgetTab(tabId);
      showLook(tabId, null).catch(() => {});
    }
  }).catch(logError);
}

/** Checks the message a tab shows (unless known) and shows the result on the icon and page. */
async function show(tabId) {
  const tab = tabs.get(tabId);
  if (!tab?.key) {
    await showLook(tabId, null);
    await pushNotice(tabId);
    return;
  }
  const { key } = tab;
  // "Checking" goes up while the check already runs; the result waits for it, so it comes last.
  const checking = store.entry(key).reading ? null : showLook(tabId, checkingLook(), { key });
  let look;
  let error = null;
  try {
    look = buttonLook(await store.reading(key, () => readMessage(tab)));
  } catch (e) {
    error = { code: e.code ?? "internal_error", message: String(e.message ?? e).slice(0, 300) };
    look = failureLook(error.code);
    if (isHostDown(e.code)) offerHelpOnce().catch(logError);
    else if (!String(e.code ?? "").startsWith("owa_")) logError(e);
  }
  await checking;
  if (tabs.get(tabId)?.key !== key) return; // the tab moved on meanwhile
  await showLook(tabId, look, { key, error });
  await pushNotice(tabId);
  persist();
}

async function readMessage(tab) {
  await port.ready(Op.inspectMessage); // no sign-in or download when no host can judge it
  const started = performance.now();
  const fetched = await fetchByHost(tab);
  if (fetched) {
    const opened = performance.now();
    const timeoutMs = BASE_TIMEOUT_MS + Math.ceil(fetched.total_bytes / (1024 * 1024)) * 1_000;
    const verdict = await port.request(Op.inspectMessage, { transfer: fetched.transfer_id, return_content: false }, { timeoutMs });
    timings.set(tab.key, { bytes: fetched.total_bytes, openMs: Math.round(opened - started), hostMs: Math.round(performance.now() - opened), byHost: true });
    return { verdict, decrypted: null };
  }
  const source = await openRaw(tab);
  const opened = performance.now();
  let verdict;
  let size;
  if (source.stream) {
    // A large message goes to the host while it downloads: chunk by chunk, as it arrives.
    const timeoutMs = BASE_TIMEOUT_MS + Math.ceil(source.stream.total / (1024 * 1024)) * 1_000;
    const transfer = await port.uploadStream(source.stream.total, source.stream.read, { timeoutMs });
    keep(tab.key, source.stream.bytes());
    verdict = await port.request(Op.inspectMessage, { transfer, return_content: false }, { timeoutMs });
    size = source.stream.total;
  } else {
    keep(tab.key, source.bytes);
    verdict = await inspectBytes(port, source.bytes);
    size = source.bytes.length;
  }
  timings.set(tab.key, { bytes: size, openMs: Math.round(opened - started), hostMs: Math.round(performance.now() - opened), streamed: Boolean(source.stream) });
  return { verdict, decrypted: null };
}

/**
 * The message of a tab from Graph, downloaded by the host itself into a transfer
 * (`transfer_fetch`: {transfer_id, total_bytes}): the message does not pass through the browser,
 * whose native messaging moves a large one at a fraction of the host's speed. Null where the
 * browser fetches instead: EWS (the browser's own sign-in to the server), a message kept from
 * before, a host without `transfer_fetch`, and a server the host cannot reach or does not trust
 * where the browser may (a proxy, a certificate only the browser knows).
 */
async function fetchByHost(tab) {
  if (raw.has(tab.key) || !port.accepts(Op.transferFetch, "url")) return null;
  const { values } = await currentSettings();
  const route = routeFor(tab.origin, values);
  if (route?.kind !== "graph") return null;
  const options = { redirectUri: chrome.identity.getRedirectURL(), scope: graphScope(values) };
  const ask = async () => port.request(Op.transferFetch, {
    url: graphMimeUrl(values.graphUrl, tab.itemId),
    authorization: `Bearer ${await tokens.token(values, options)}`,
    timeout_ms: HOST_FETCH_TIMEOUT_MS,
  }, { timeoutMs: HOST_FETCH_TIMEOUT_MS + 5_000 });
  try {
    try {
      return await ask();
    } catch (e) {
      if (e.code !== "fetch_failed" || e.details?.status !== 401) throw e;
      await tokens.forget(); // Graph refused the token: get a new one, once
      return await ask();
    }
  } catch (e) {
    if (e.code !== "fetch_failed") throw e;
    const { status, problem } = e.details ?? {};
    if (status) throw new HostError(graphStatusError(status), `Graph answered ${status}`, { status });
    if (problem === "too_large") throw new HostError(OwaError.tooLarge, e.message);
    return null;
  }
}

/**
 * The raw message of a tab from Exchange (or the few kept from before): `{bytes}`, or for a large
 * message from Graph `{stream}` (mail-source.mjs bodySource), still downloading.
 */
async function openRaw(tab) {
  if (raw.has(tab.key)) return { bytes: raw.get(tab.key) };
  const { values } = await currentSettings();
  const route = routeFor(tab.origin, values);
  if (!route) throw new HostError(OwaError.notConfigured, `${tab.origin} is not an Outlook-on-the-web address in the settings`);
  if (route.kind === "ews") return { bytes: await fetchEwsMime({ ewsUrl: route.ewsUrl, itemId: tab.itemId }) };
  const options = { redirectUri: chrome.identity.getRedirectURL(), scope: graphScope(values) };
  const open = async () => openGraphMime({ graphUrl: values.graphUrl, itemId: tab.itemId, token: await tokens.token(values, options) });
  let response;
  try {
    response = await open();
  } catch (e) {
    if (e.code !== OwaError.signedOut) throw e;
    await tokens.forget(); // Graph refused the token: get a new one, once
    response = await open();
  }
  const stream = bodySource(response);
  if (stream && stream.total > STREAM_FROM_BYTES) return { stream };
  return { bytes: stream ? await readAll(stream) : await bytesOf(response) };
}

async function readAll(stream) {
  while ((await stream.read(1024 * 1024)).length);
  return stream.bytes();
}

/** The raw message of a tab, whole (for the reader). */
async function fetchRaw(tab) {
  const source = await openRaw(tab);
  const bytes = source.stream ? await readAll(source.stream) : source.bytes;
  keep(tab.key, bytes);
  return bytes;
}

/** Keeps the newest raw messages (the reader needs them again), up to RAW_CACHE_BYTES. */
function keep(key, bytes) {
  raw.delete(key);
  raw.set(key, bytes);
  let total = [...raw.values()].reduce((n, b) => n + b.length, 0);
  for (const [old, b] of raw) {
    if (total <= RAW_CACHE_BYTES || old === key) break;
    raw.delete(old);
    total -= b.length;
  }
}

/** The toolbar icon of a tab: a look (look.mjs), or null for "no message open". */
async function showLook(tabId, look, { key = null, error = null } = {}) {
  const asked = Date.now();
  const action = chrome.action;
  const theme = tabs.get(tabId)?.dark ? "dark" : "light";
  const icon = look?.icon ?? "checking";
  await Promise.all([
    iconImages(icon, theme).then((imageData) => action.setIcon({ tabId, imageData })),
    action.setTitle({ tabId, title: actionTitle(look, t) }), // neutralised: it may name the signer
    action.setBadgeText({ tabId, text: look?.badge.text ?? "" }),
    look?.badge.color ? action.setBadgeBackgroundColor({ tabId, color: look.badge.color }) : null,
    look?.badge.textColor ? action.setBadgeTextColor({ tabId, color: look.badge.textColor }) : null,
  ]).catch(() => {}); // the tab was closed meanwhile
  lookLog.push({ tabId, key, look: look?.name ?? null, error, asked, at: Date.now(), timings: timings.get(key) ?? null });
  if (lookLog.length > 200) lookLog.shift();
}

function iconImages(icon, theme) {
  const id = `${icon}-${theme}`;
  if (!icons.has(id)) {
    const decode = async ([size, path]) => {
      const bitmap = await createImageBitmap(await (await fetch(chrome.runtime.getURL(path))).blob());
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const context = canvas.getContext("2d");
      context.drawImage(bitmap, 0, 0);
      return [size, context.getImageData(0, 0, bitmap.width, bitmap.height)];
    };
    const images = Promise.all(Object.entries(iconPaths(icon, theme)).map(decode)).then(Object.fromEntries);
    images.catch(() => icons.delete(id));
    icons.set(id, images);
  }
  return icons.get(id);
}

// ---- the notice in Outlook's page ---------------------------------------------------------------

function noticeForTab(tabId) {
  const key = tabs.get(tabId)?.key;
  const reading = key ? store.entry(key).reading : null;
  if (!reading || store.dismissed(key)) return { notice: null };
  const notice = noticeFor(describe(reading, { t, date }), reading, t);
  return { notice: notice ? { ...notice, key } : null };
}

async function pushNotice(tabId) {
  const { notice } = noticeForTab(tabId);
  await chrome.tabs.sendMessage(tabId, { type: "owaNotice", notice }).catch(() => {});
  noticeLog.push({ tabId, key: tabs.get(tabId)?.key ?? null, shown: Boolean(notice), at: Date.now() });
  if (noticeLog.length > 200) noticeLog.shift();
}

// ---- the host ------------------------------------------------------------------------------------

function onHostState(state) {
  // Back from missing, broken or a restart: check again what failed while it was away.
  if (state === PortState.ready) recheck(() => store.forgetFailures()).catch(logError);
}

/** Forgets what `forget` drops from the store, then checks every tab's message again. */
async function recheck(forget) {
  await restored;
  forget();
  await Promise.all([...tabs.keys()].map((tabId) => show(tabId)));
}

async function offerHelpOnce() {
  const { version } = chrome.runtime.getManifest();
  const { helpShownFor } = await chrome.storage.local.get("helpShownFor");
  if (helpShownFor === version) return;
  await chrome.storage.local.set({ helpShownFor: version });
  await openPage(PAGES.openHelp);
}

async function askHost(op, params, { timeoutMs } = {}) {
  if (!timeoutMs) {
    await port.ready(op);
    return port.request(op, params);
  }
  const deadline = Date.now() + timeoutMs;
  await port.ready(op, { timeoutMs });
  return withTimeout(port.request(op, params, { timeoutMs }), deadline - Date.now(), `${op} took longer than ${timeoutMs} ms`);
}

/** A page asks the host (host-client.mjs); unlocking checks the locked messages again first. */
async function relay({ op, params = {}, timeoutMs }) {
  if (!PAGE_OPS.has(op)) return errorReply(new HostError("unknown_op", `pages may not call ${op}`));
  try {
    const result = await askHost(op, params, { timeoutMs });
    if (op === Op.identitiesUnlock && result?.unlocked?.length) {
      await recheck(() => store.forgetReadings((reading) => lockedKeys(reading) !== null)).catch(logError);
    }
    return { ok: true, result };
  } catch (e) {
    return errorReply(e);
  }
}

// ---- the popup, the reader and the pages --------------------------------------------------------

function statusOf(tabId) {
  const tab = tabId === null || tabId === undefined ? null : tabs.get(tabId);
  const key = tab?.key ?? null;
  const entry = key ? store.entry(key) : null;
  const error = entry?.error ? { code: entry.error.code ?? "internal_error", message: entry.error.message } : null;
  return {
    host: { state: port.state, lastError: port.lastError, version: port.hostInfo?.version ?? null },
    messageId: key,
    reading: entry?.reading ?? null,
    checking: Boolean(entry?.running),
    error,
    note: tab ? "owa_no_message" : "owa_no_outlook",
    actions: popupActions({ reading: entry?.reading ?? null, error: entry?.running ? null : error?.code }),
  };
}

/** Shows an extension page, reusing (and reloading) its tab when it is already open. */
async function openPage(path, query = "") {
  const url = chrome.runtime.getURL(path);
  const [open] = query ? [] : await chrome.tabs.query({ url: `${url}*` });
  if (open) {
    await chrome.tabs.update(open.id, { active: true });
    await chrome.tabs.reload(open.id);
    return open;
  }
  return chrome.tabs.create({ url: `${url}${query}` });
}

async function openDetails(tabId, windowId) {
  // The toolbar popup where the browser allows opening it, else the same page in a small window.
  try {
    await chrome.action.openPopup({ windowId });
  } catch {
    await chrome.windows.create({ url: chrome.runtime.getURL(`/popup/details.html?tab=${tabId}`), type: "popup", width: 520, height: 640 });
  }
}

async function signIn(tabId) {
  const { values } = await currentSettings();
  const options = { redirectUri: chrome.identity.getRedirectURL(), scope: graphScope(values), interactive: true };
  try {
    await tokens.token(values, options);
  } catch (e) {
    if (!String(e.code ?? "").startsWith("owa_")) logError(e);
  }
  await recheck(() => store.forgetFailures());
  return statusOf(tabId);
}

/** What the reader page shows: the verdict, the outer headers and the content the host unwrapped. */
async function readerContent(tabId, key) {
  const tab = [...tabs.values()].find((x) => x.key === key) ?? (tabs.get(tabId)?.key === key ? tabs.get(tabId) : null);
  if (!tab) throw new HostError(OwaError.itemGone, "that message is not open in any tab any more");
  await port.ready(Op.inspectMessage);
  const bytes = await fetchRaw(tab);
  const timeoutMs = BASE_TIMEOUT_MS + Math.ceil(bytes.length / (1024 * 1024)) * 1_000;
  const verdict = await port.requestWithPayload(Op.inspectMessage, { return_content: true, harvest: false }, "message", bytes, { timeoutMs });
  const mime = verdict.content?.mime_b64 ?? null;
  if (verdict.content) delete verdict.content.mime_b64;
  return { reading: { verdict, decrypted: null }, headers: messageHeaders(bytes), mime_b64: mime };
}

function originOf(url) {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

function fromOwnPage(sender) {
  return sender?.id === chrome.runtime.id && String(sender.url ?? "").startsWith(chrome.runtime.getURL("/"));
}

function onMessage(request, sender, sendResponse) {
  const answer = handle(request, sender);
  if (answer === undefined) return false; // not ours
  Promise.resolve(answer).then(sendResponse, (e) => sendResponse(errorReply(e)));
  return true;
}

function handle(request, sender) {
  const fromPage = sender.tab && !fromOwnPage(sender);
  const tabId = sender.tab?.id;
  if (fromPage) {
    // The content script in Outlook's page: only these.
    switch (request?.type) {
      case "owaLocation": {
        // The address the content script reads, on the origin the browser says the page has.
        const url = String(request.url ?? "");
        const origin = originOf(url);
        if (!origin || origin !== originOf(sender.url)) return null;
        return restored.then(() => onLocation(tabId, url, request.dark));
      }
      case "dismissNotice": {
        const key = tabs.get(tabId)?.key;
        if (key && key === request.key) store.dismiss(key);
        persist();
        return true;
      }
      case "openDetails":
        return openDetails(tabId, sender.tab.windowId).then(() => true);
      default:
        return undefined;
    }
  }
  if (!fromOwnPage(sender)) return undefined;
  const target = Number.isInteger(request?.tabId) ? request.tabId : null;
  switch (request?.type) {
    case "status":
      return restored.then(() => {
        // A check cut off when the worker was stopped runs again now that somebody asks.
        if (unchecked(tabs.get(target)?.key)) show(target).catch(logError);
        return statusOf(target);
      });
    case "retry":
      return restored.then(async () => {
        await port.retryNow().catch(() => {});
        await recheck(() => store.forgetFailures());
        return statusOf(target);
      });
    case "recheck":
      return restored.then(async () => {
        const key = tabs.get(target)?.key;
        if (key) raw.delete(key);
        await recheck(() => store.forgetFailures());
        return statusOf(target);
      });
    case "signIn":
      return restored.then(() => signIn(target));
    case "host":
      return relay(request);
    case "takeNotice":
      return null;
    case "openReader": {
      const key = tabs.get(target)?.key;
      if (!key) return false;
      return openPage(READER_PAGE, `?tab=${target}&key=${encodeURIComponent(key)}`).then(() => true);
    }
    case "readerContent":
      return restored.then(() => readerContent(target, String(request.key ?? ""))).then((content) => ({ ok: true, ...content }));
    case "openContacts":
    case "openIdentities":
    case "openHelp":
    case "openOptions":
      return openPage(PAGES[request.type]).then(() => true);
    default:
      return undefined;
  }
}

// ---- settings and the content script ------------------------------------------------------------

function onStorageChanged(changes, area) {
  if (area !== "local" && area !== "managed") return;
  settings = null;
  syncContentScripts().catch(logError);
  // New settings may fix what failed (a client ID, an EWS address): check again.
  recheck(() => store.forgetFailures()).catch(logError);
}

/** Registers the content script for exactly the Outlook-on-the-web origins the settings name. */
async function syncContentScripts() {
  const { values } = await currentSettings();
  const matches = pageMatches(values);
  // At document_start: the message is fetched while Outlook's own page is still loading.
  const wanted = { id: SCRIPT_ID, matches, js: ["outlook-web/content.js"], runAt: "document_start", allFrames: false, persistAcrossSessions: true };
  const [existing] = await chrome.scripting.getRegisteredContentScripts({ ids: [SCRIPT_ID] });
  const shape = (r) => JSON.stringify([[...r.matches].sort(), r.js, r.runAt]);
  if (!existing || shape(existing) !== shape(wanted)) {
    if (existing) await chrome.scripting.unregisterContentScripts({ ids: [SCRIPT_ID] });
    if (matches.length) await chrome.scripting.registerContentScripts([wanted]);
  }
  // Pages that were open before: the registration reaches only pages loaded after it.
  const open = matches.length ? await chrome.tabs.query({ url: matches }) : [];
  await Promise.all(open.map((tab) => chrome.scripting.executeScript({ target: { tabId: tab.id }, files: ["outlook-web/content.js"] }).catch(() => {})));
}

syncContentScripts().catch(logError);
