// My certificates: the user's own certificates and keys, held by the companion (identities_*
// ops). Import a .p12 with every check explained; unlock and lock the keys; save a backup, with
// a reminder until one exists; the expiry radar with its renewal checklist (after a renewal:
// which contacts still need a signed mail with the new certificate); and, for each Thunderbird
// identity, whether Thunderbird's own S/MIME is set up, with the steps when it is not, and the
// companion's security module (PKCS#11) that lets Thunderbird use the companion's certificates.

import { callHost } from "../modules/host-client.mjs";
import { LocalError, Op } from "../modules/ops.mjs";
import { localizePage } from "../modules/page-i18n.mjs";
import { errorKey } from "../modules/texts.mjs";
import { date as dateTime, day, t } from "../modules/i18n.mjs";
import { fromBase64, toBase64 } from "../modules/bytes.mjs";
import { byId, confirmDialog, definitionList, el, setText, text } from "../modules/dom.mjs";
import { saveBytes } from "../modules/save-file.mjs";
import { notices } from "../modules/notice.mjs";
import {
  backupFailureKey, backupReminder, backupRequest, identityAddress, identityBadges, identityCardLayout, identityLead, identityName, identityRows,
  identityStatus, importChecks, thunderbirdSetup,
} from "../modules/identities-view.mjs";
import { checklists, needsContacts, SIGNED_MAIL_KEY } from "../modules/renewal.mjs";
import { installModule, moduleState } from "../modules/pkcs11.mjs";
import { unlockKeys } from "../modules/unlock.mjs";
import { whileBusy } from "../modules/busy.mjs";
import { isThunderbird } from "../modules/platform.mjs";

const { showNotice, showError } = notices(t, {
  scroll: true,
  headlineKey: (code) => (code === LocalError.opUnavailable ? "identities_host_too_old" : "page_host_error"),
});
const CONTACT_PAGES = 10; // at most 10 × 500 contacts in the renewal checklist

let identities = [];
let module = "unsupported";
let backupDue = []; // fingerprints of the keys in use without a backup (the reminder's)

localizePage();
byId("import-form").addEventListener("submit", (event) => {
  event.preventDefault();
  importP12().catch(showError);
});
byId("p12-choose").addEventListener("click", () => byId("p12-file").click());
byId("p12-file").addEventListener("change", showChosenFile);
byId("own-passphrase").addEventListener("change", (event) => {
  for (const node of document.querySelectorAll(".own")) node.hidden = !event.target.checked;
});
byId("unlock-form").addEventListener("submit", (event) => {
  event.preventDefault();
  unlock().catch(showError);
});
byId("lock").addEventListener("click", () => lock().catch(showError));
byId("install-module").addEventListener("click", () => loadModule().catch(showError));
browser.storage.onChanged.addListener((changes, area) => {
  if (area === "local" && changes[SIGNED_MAIL_KEY]) refresh().catch(showError);
});
byId("backup-now").addEventListener("click", openFirstBackup);
window.addEventListener("hashchange", showWanted);
refresh().catch(showError).finally(() => {
  showWanted();
  document.body.dataset.ready = "true"; // for the end-to-end test: the first render is complete
});

/** Reads everything again and renders every section. */
async function refresh() {
  module = await moduleState();
  const tb = await thunderbirdIdentities();
  let hostFailure = null;
  try {
    identities = (await callHost(Op.identitiesList)).identities;
  } catch (e) {
    identities = [];
    hostFailure = e;
  }
  renderModule();
  renderThunderbird(tb);
  if (hostFailure) {
    // Thunderbird's own setup above still helps; the companion's part needs the host.
    for (const id of ["lock-bar", "backup-reminder", "radar"]) byId(id).hidden = true;
    byId("identities").replaceChildren();
    throw hostFailure;
  }
  renderIdentities();
  renderLockBar();
  const [status, radar, contacts, log] = await Promise.all([
    callHost(Op.backupStatus).catch(() => null),
    callHost(Op.expiryRadar, { days: 30 }).then((r) => r.identities).catch(() => []),
    needsContacts(identities) ? contactAddresses() : [],
    browser.storage.local.get(SIGNED_MAIL_KEY).then((s) => s[SIGNED_MAIL_KEY] ?? {}),
  ]);
  renderBackupReminder(backupReminder(status, identities));
  renderChecklists(checklists({ identities, radar, contacts, log, tbIdentities: tb.map((x) => x.identity), formatDate: day }));
}

async function thunderbirdIdentities() {
  // The Outlook-on-the-web extension shares this page; its browser has no Thunderbird identities.
  byId("thunderbird").hidden = !isThunderbird();
  if (!isThunderbird()) return [];
  const accounts = await browser.accounts.list(false).catch(() => []);
  const out = [];
  for (const account of accounts) {
    for (const identity of account.identities ?? []) out.push({ identity, accountName: account.name });
  }
  return out;
}

async function contactAddresses() {
  const addresses = [];
  for (let page = 0, offset = 0; page < CONTACT_PAGES; page++) {
    const result = await callHost(Op.contactsList, { offset, limit: 500 }).catch(() => null);
    if (!result) break;
    addresses.push(...result.items.map((i) => i.address));
    offset += result.items.length;
    if (offset >= result.total || !result.items.length) break;
  }
  return addresses;
}

// ---- your certificates ---------------------------------------------------------------------------

function renderIdentities() {
  const list = byId("identities");
  list.replaceChildren();
  byId("no-identities").hidden = identities.length > 0;
  const order = (i) => (i.replaced_by ? 2 : i.expired ? 1 : 0);
  for (const identity of [...identities].sort((a, b) => order(a) - order(b))) list.append(identityCard(identity));
}

function identityCard(identity) {
  const node = byId("identity-template").content.firstElementChild.cloneNode(true);
  localizePage(node);
  node.dataset.fingerprint = identity.fingerprint;
  setText(node.querySelector(".title"), identityName(identity));
  const status = identityStatus(identity, { formatDate: day });
  const badges = node.querySelector(".badges");
  for (const badge of identityBadges(identity)) badges.append(el("span", `badge ${badge.kind}`, t(badge.key)));
  setText(node.querySelector(".status-line"), t.phrase(status));
  setText(node.querySelector(".confirms"), identityLead(identity, t));
  node.querySelector("dl").replaceWith(definitionList(identityRows(identity, { t, date: dateTime, day, identities })));

  // What needs the user comes first: a key without a backup says so above its facts.
  const card = identityCardLayout(identity);
  const warning = node.querySelector(".identity-warning");
  warning.hidden = !card.warning;
  if (card.warning) setText(warning.querySelector("span"), t(card.warning.key, card.warning.subs));

  // The passphrase is asked for every backup, unlocked or not: the key leaves for good.
  const form = node.querySelector(".backup-form");
  const backupButton = node.querySelector(".backup");
  backupButton.classList.toggle("primary", card.backupFirst);
  const openBackup = () => {
    form.hidden = false;
    form.querySelector(".backup-passphrase").focus();
  };
  backupButton.addEventListener("click", () => (form.hidden ? openBackup() : (form.hidden = true)));
  warning.querySelector("button").addEventListener("click", openBackup);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    backup(identity, form).catch(showError);
  });
  // Deleting a key without a backup loses it for good: out of the way, behind "More", with why.
  const more = node.querySelector(".more");
  const remove = node.querySelector(".delete");
  if (card.deleteBehindMore) {
    more.hidden = false;
    setText(more.querySelector(".danger-note"), t("identity_delete_no_backup_warning"));
    more.querySelector(".more-actions").append(remove);
  }
  remove.addEventListener("click", () => deleteIdentity(identity).catch(showError));
  return node;
}

async function backup(identity, form) {
  const [password, repeat, passphrase] = takeSecrets(form, [".backup-password", ".backup-password-repeat", ".backup-passphrase"]);
  // Recorded below (record_backup false), once the file is really written: Save As may be cancelled.
  const request = backupRequest(identity, { password, repeat, passphrase, legacy: form.querySelector(".backup-legacy").checked });
  if (request.error) {
    showNotice("error", t(request.error), []);
    return;
  }
  let result;
  try {
    result = await whileBusy(form, t("busy_backup"), () => callHost(Op.identitiesExport, request.params));
  } catch (e) {
    const key = backupFailureKey(e?.code);
    if (!key) throw e;
    showNotice("error", t(key), []);
    return;
  }
  form.reset();
  form.hidden = true;
  const saved = await saveBytes(fromBase64(result.p12_b64), result.file_name, "application/x-pkcs12");
  if (saved) await callHost(Op.identitiesBackupSaved, { identity: identity.fingerprint });
  await refresh();
  if (saved) showNotice("ok", t("backup_saved", [result.file_name]), [t("backup_saved_keep")]);
  else showNotice("warning", t("backup_cancelled"), []);
}

async function deleteIdentity(identity) {
  const email = identityAddress(identity);
  const confirmed = await confirmDialog({
    title: t("identity_delete_title", [email]),
    consequences: [
      t("identity_delete_old_mail"),
      identity.backed_up_at ? t("identity_delete_backup_exists", [day(identity.backed_up_at) ?? "?"]) : t("identity_delete_no_backup"),
      t("identity_delete_thunderbird"),
    ],
    confirm: t("identity_delete_confirm"),
    cancel: t("dialog_cancel"),
  });
  if (!confirmed) return;
  await callHost(Op.identitiesDelete, { fingerprint: identity.fingerprint });
  await refresh();
  showNotice("ok", t("identity_deleted", [email]), []);
}

// ---- unlock and lock ----------------------------------------------------------------------------

function renderLockBar() {
  byId("lock-bar").hidden = identities.length === 0;
  const unlocked = identities.filter((i) => i.unlocked).length;
  text("lock-state", unlocked ? t.count("lock_state_unlocked", identities.length, [unlocked]) : t("lock_state_locked"));
  byId("unlock-form").hidden = unlocked === identities.length;
  byId("lock").hidden = unlocked === 0;
}

async function unlock() {
  const input = byId("unlock-passphrase");
  const passphrase = input.value;
  input.value = ""; // the passphrase stays in the field no longer than it takes to send it
  const outcome = await whileBusy(byId("lock-bar"), t("busy_unlock"), () => unlockKeys(passphrase));
  if (!outcome.ok && !outcome.wrongPassword) throw outcome.error;
  if (!outcome.ok) {
    showNotice("error", t.phrase(outcome.notice), []);
    return;
  }
  await refresh();
  showNotice("ok", t.phrase(outcome.notice), []);
}

async function lock() {
  await callHost(Op.identitiesLock);
  await refresh();
  showNotice("ok", t("lock_done"), []);
}

// ---- import --------------------------------------------------------------------------------------

/** The name of the file chosen for import, or that none is. */
function showChosenFile() {
  const [file] = byId("p12-file").files;
  text("p12-name", file ? file.name : t("import_no_file"));
}

async function importP12() {
  const [file] = byId("p12-file").files;
  if (!file) {
    byId("p12-choose").focus();
    return;
  }
  const own = byId("own-passphrase").checked;
  const [password, newPassphrase] = takeSecrets(byId("import-form"), ["#p12-password", "#new-passphrase"]);
  const bytes = new Uint8Array(await file.arrayBuffer());
  const result = byId("import-result");
  const headline = byId("import-headline");
  const list = byId("import-checks");
  list.replaceChildren();
  headline.className = "status";
  headline.replaceChildren(el("strong", null, t("import_checking", [file.name])));
  result.hidden = false;
  try {
    // Checking the file and sealing the key take a while: the form says so and cannot be sent twice.
    const reply = await whileBusy(byId("import-form"), t("busy_import"), () => callHost(Op.identitiesImport, {
      p12_b64: toBase64(bytes),
      password,
      ...(own && newPassphrase ? { new_passphrase: newPassphrase } : {}),
    }));
    byId("import-form").reset();
    showChosenFile();
    for (const node of document.querySelectorAll(".own")) node.hidden = true;
    const checks = importChecks(reply.checks, { t, formatDate: day });
    const failed = checks.filter((c) => !c.ok).length;
    const email = identityAddress(reply.identity) ?? file.name;
    headline.className = `status ${failed ? "warning" : "ok"}`;
    headline.replaceChildren(el("strong", null, failed ? t.count("import_done_with_problems", failed, [email]) : t("import_done", [email])));
    if (reply.replaced?.length) headline.append(el("p", null, t.count("import_replaced", reply.replaced.length)));
    headline.append(el("p", null, t("import_next_backup")));
    for (const check of checks) list.append(checkItem(check));
    await refresh();
  } catch (e) {
    headline.className = "status error";
    headline.replaceChildren(el("strong", null, t("import_failed", [file.name])), el("p", null, t(errorKey(e.code))));
    if (e.code === "wrong_password") headline.append(el("p", null, t("import_nothing_stored")));
  }
}

/**
 * The values of the password fields `selectors` of `form`, which are emptied as they are read:
 * a password stays on the page no longer than it takes to send it, also when the attempt fails
 * (the user types it again).
 */
function takeSecrets(form, selectors) {
  return selectors.map((selector) => {
    const input = form.querySelector(selector);
    const value = input.value;
    input.value = "";
    return value;
  });
}

function checkItem(check) {
  const li = el("li", check.ok ? "done" : "todo");
  li.dataset.check = check.check;
  const body = el("div", null);
  body.append(el("span", null, t(check.title.key, check.title.subs)));
  if (check.advice) body.append(el("p", "advice", t(check.advice.key, check.advice.subs)));
  li.append(el("span", "mark", check.ok ? "✓" : "✗"), body);
  return li;
}

// ---- backup reminder and expiry radar --------------------------------------------------------------

function renderBackupReminder(reminder) {
  byId("backup-reminder").hidden = !reminder;
  backupDue = reminder?.fingerprints ?? [];
  if (reminder) text("backup-reminder-text", t("backup_reminder_text", [reminder.emails.join(", ") || "?"]));
}

/** Opens the backup form of the first key without a backup (the reminder's button, `#backup`). */
function openFirstBackup() {
  const fingerprint = backupDue[0];
  const card = fingerprint ? document.querySelector(`.identity[data-fingerprint="${CSS.escape(fingerprint)}"]`) : null;
  if (!card) return;
  const form = card.querySelector(".backup-form");
  form.hidden = false;
  card.scrollIntoView({ block: "start" });
  form.querySelector(".backup-passphrase").focus();
}

/** `#import` and `#backup` (the guide, a reminder) show that part of the page. */
function showWanted() {
  const wanted = location.hash.slice(1);
  if (wanted === "backup") openFirstBackup();
  if (wanted === "import") {
    byId("import-section").scrollIntoView({ block: "start" });
    byId("p12-choose").focus(); // the file field itself is hidden behind the add-on's own button
  }
}

function renderChecklists(lists) {
  byId("radar").hidden = lists.length === 0;
  const box = byId("checklists");
  box.replaceChildren();
  for (const list of lists) {
    const card = el("article", `card checklist ${list.kind}`);
    const email = identityAddress(list.identity);
    const heading = list.kind === "renewed"
      ? t("renewal_heading", [email, day(list.since) ?? "?"])
      : list.kind === "expired"
        ? t("expiry_heading_expired", [email, day(list.identity.not_after) ?? "?"])
        : t.count("expiry_heading", Math.max(0, list.identity.expires_in_days ?? 0), [email, day(list.identity.not_after) ?? "?"]);
    card.append(el("h3", null, heading));
    const steps = el("ol", "steps");
    for (const step of list.steps) {
      const li = el("li", step.done === true ? "done" : step.done === false ? "todo" : "info");
      li.dataset.step = step.id;
      li.append(el("span", "mark", step.done === true ? "✓" : step.done === false ? "○" : "•"), el("span", null, t.phrase(step)));
      steps.append(li);
    }
    card.append(steps);
    if (list.kind === "renewed" && list.waiting.length) card.append(waitingList(list));
    box.append(card);
  }
}

/** The contacts still waiting for a signed mail with the new certificate, each with a button. */
function waitingList(list) {
  const block = el("details", "waiting");
  block.open = list.waiting.length <= 12;
  block.append(el("summary", null, t.count("renewal_waiting", list.waiting.length)));
  const ul = el("ul");
  for (const address of list.waiting) {
    const li = el("li");
    const write = el("button", null, t("renewal_write"));
    write.hidden = !browser.compose; // writing from here needs Thunderbird
    write.addEventListener("click", () => browser.compose.beginNew({ to: [address] }).catch(showError));
    li.append(el("span", "address", address), write);
    ul.append(li);
  }
  block.append(ul, el("p", "muted", t("renewal_write_note")));
  return block;
}

// ---- Thunderbird's own S/MIME setup -------------------------------------------------------------

function renderModule() {
  const state = byId("module-state");
  setText(state, t(`module_state_${module}`));
  byId("install-module").hidden = module !== "not_loaded";
  byId("module").className = `card module ${module}`;
}

async function loadModule() {
  module = await whileBusy(byId("module"), t("busy_module"), () => installModule().catch(() => "not_loaded"));
  await refresh();
  showNotice(module === "loaded" ? "ok" : "warning", t(module === "loaded" ? "module_installed" : "module_install_failed"), []);
}

function renderThunderbird(tb) {
  const box = byId("tb-identities");
  box.replaceChildren();
  if (!tb.length) box.append(el("p", "muted", t("tb_no_identities")));
  for (const { identity, accountName } of tb) {
    const setup = thunderbirdSetup(identity, { identities, module, accountName });
    const card = el("article", `card tb-identity ${setup.state}`);
    card.dataset.email = setup.email;
    card.dataset.state = setup.state;
    const head = el("h3", null, setup.name ? `${setup.name} <${setup.email}>` : setup.email);
    const badges = el("span", "badges");
    badges.append(el("span", `badge ${setup.state === "ready" ? "ok" : "warning"}`, t(`tb_state_${setup.state}`)));
    head.append(badges);
    card.append(head);
    card.append(definitionList([
      { label: t("tb_signing"), value: t(setup.sign ? "tb_certificate_set" : "tb_certificate_missing") },
      { label: t("tb_encryption"), value: t(setup.encrypt ? "tb_certificate_set" : "tb_certificate_missing") },
      { label: t("tb_companion_certificate"), value: setup.companionCertificate ? t("tb_companion_has", [day(setup.companionCertificate.not_after) ?? "?"]) : t("tb_companion_none") },
    ]));
    if (setup.state === "ready") card.append(el("p", "muted", t("tb_ready_note")));
    if (setup.steps.length) {
      card.append(el("p", null, t("tb_steps_intro")));
      const ol = el("ol", "numbered");
      for (const step of setup.steps) ol.append(el("li", null, t(step.key, step.subs)));
      card.append(ol);
    }
    box.append(card);
  }
}
