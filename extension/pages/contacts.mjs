// The contacts page: the certificates the companion collected from contacts' signed mail (the
// contact cache, docs/CONTACTS.md). Search and list contacts, show one with its certificates,
// which one encryption would use (or why none, per certificate) and its history; let the user
// use or refuse a new key that waits for confirmation (or any other certificate); import a certificate file,
// export a contact's certificates, delete a certificate or a whole contact after a confirmation
// that says what follows. It also shows what a menu action (an attachment imported, a sender's
// certificate saved) just did, and searches the LDAP directories for an address when any is
// configured (docs/DIRECTORY.md).

import { callHost } from "../modules/host-client.mjs";
import { Op } from "../modules/ops.mjs";
import { localizePage } from "../modules/page-i18n.mjs";
import { errorKey } from "../modules/texts.mjs";
import { date, day, t } from "../modules/i18n.mjs";
import { fromBase64, toBase64 } from "../modules/bytes.mjs";
import { byId, confirmDialog, definitionList, el, setText, text, valueNode } from "../modules/dom.mjs";
import { saveBytes } from "../modules/save-file.mjs";
import { notices } from "../modules/notice.mjs";
import { stateLabel } from "../modules/look.mjs";
import { lookupOutcome } from "../modules/directories.mjs";
import { isThunderbird } from "../modules/platform.mjs";
import {
  certificateCard, contactRow, decisionNotice, deleteCertificateConfirmation, deleteConfirmation, encryptionSummary, exportFile,
  decisionsWaiting, historyLine, importOutcome, pendingNotices, shortFingerprint, thunderbirdCopySteps,
} from "../modules/contacts-view.mjs";

const { showNotice, showError: reportError } = notices(t, { asList: true });
const PAGE_SIZE = 50;
const SEARCH_DELAY_MS = 250;

let offset = 0;
let selected = null; // the address shown in the details pane
let shown = null; // its contacts_show result
let searchTimer = null;

localizePage();
byId("search").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => loadList().catch(showError), SEARCH_DELAY_MS);
});
byId("sort").addEventListener("change", () => loadList().catch(showError));
byId("more").addEventListener("click", () => loadList({ append: true }).catch(showError));
byId("import").addEventListener("click", () => byId("import-file").click());
byId("import-file").addEventListener("change", (event) => importFile(event.target).catch(showError));
byId("export").addEventListener("click", () => exportContact().catch(showError));
byId("delete").addEventListener("click", () => deleteContact().catch(showError));
byId("lookup-button").addEventListener("click", () => searchDirectory().catch(showError));
byId("lookup-address").addEventListener("keydown", (event) => {
  if (event.key === "Enter") searchDirectory().catch(showError);
});
init().catch(showError);

async function init() {
  const notice = await browser.runtime.sendMessage({ type: "takeNotice" });
  const wanted = new URLSearchParams(location.search).get("address") ?? (notice ? showMenuNotice(notice) : null);
  await Promise.all([loadStats(), loadList(), showDirectorySearch()]);
  if (wanted) await select(wanted);
  document.body.dataset.ready = "true"; // for the end-to-end test: the first render is complete
}

async function loadStats() {
  const s = await callHost(Op.contactsStats);
  text("stats", t("contacts_stats", [s.contacts, s.certificates, s.expiring_within_30_days ?? 0]));
}

async function loadList({ append = false } = {}) {
  offset = append ? offset : 0;
  const search = byId("search").value.trim();
  const page = await callHost(Op.contactsList, { search: search || undefined, sort: byId("sort").value, offset, limit: PAGE_SIZE });
  const list = byId("contacts");
  if (!append) list.replaceChildren();
  for (const item of page.items) list.append(contactItem(item));
  offset += page.items.length;
  byId("more").hidden = offset >= page.total;
  const empty = byId("empty");
  empty.hidden = page.total > 0;
  setText(empty, search ? t("contacts_none_found", [search]) : t("contacts_none"));
  markSelected();
}

function contactItem(item) {
  const row = contactRow(item, { t, date: day });
  const button = el("button", "contact");
  button.dataset.address = row.address;
  const head = el("span", "address", row.address);
  const flags = el("span", "badges");
  for (const flag of row.flags) flags.append(el("span", `badge ${flag.kind ?? "muted"}`, flag.text));
  head.append(flags);
  const meta = el("span", `meta${row.expired ? " expired" : ""}`, [row.certificates, row.expiry].filter(Boolean).join(" · "));
  button.append(head, el("span", "name", row.name), meta);
  button.addEventListener("click", () => {
    byId("notice").hidden = true; // it was about something else
    select(row.address).catch(showError);
  });
  const li = el("li");
  li.append(button);
  return li;
}

function markSelected() {
  for (const button of document.querySelectorAll("#contacts button.contact")) {
    button.classList.toggle("selected", button.dataset.address === selected);
    button.setAttribute("aria-pressed", String(button.dataset.address === selected));
  }
}

async function select(address) {
  selected = address;
  markSelected();
  shown = await callHost(Op.contactsShow, { address });
  renderDetails(shown);
}

function renderDetails(contact) {
  byId("placeholder").hidden = true;
  byId("details").hidden = false;
  text("contact-address", contact.address);
  text("contact-name", contact.name ?? "");

  const summary = encryptionSummary(contact.encryption, { t, date, pending: decisionsWaiting(contact) });
  const box = byId("encryption");
  box.className = `status ${summary.ok ? "ok" : "warning"}`;
  box.dataset.state = summary.state;
  setText(box.querySelector("strong"), summary.title);
  setText(box.querySelector(".detail"), summary.detail ?? "");
  setText(box.querySelector(".advice"), summary.advice ?? "");

  renderPending(contact);

  const chosen = contact.encryption?.certificate?.fingerprint_sha256 ?? null;
  const certificates = byId("certificates");
  certificates.replaceChildren();
  // The one encryption uses first, then the newest.
  const order = (c) => (c.fingerprint_sha256 === chosen ? 0 : 1);
  const sorted = [...contact.certificates].sort((a, b) => order(a) - order(b) || Date.parse(b.not_before) - Date.parse(a.not_before));
  for (const cert of sorted) certificates.append(certificateBlock(cert, cert.fingerprint_sha256 === chosen));
  if (!contact.certificates.length) certificates.append(el("p", "muted", t("contacts_no_certificates")));

  const history = byId("history");
  history.replaceChildren();
  for (const entry of [...contact.history].reverse()) {
    const line = historyLine(entry, { t, date });
    const li = el("li", line.attention ? "attention" : null);
    li.append(el("span", "when", line.when), el("span", "what", line.text));
    if (line.explain) li.append(el("p", "explain", line.explain));
    history.append(li);
  }
  byId("delete").disabled = !contact.certificates.length;
  byId("export").disabled = !contact.certificates.length;
}

// A new key waits for the user: shown above everything else, with its whole fingerprint to
// compare, an optional note on how it was checked, and the two decisions.
function renderPending(contact) {
  const box = byId("pending");
  box.replaceChildren();
  for (const notice of pendingNotices(contact, { t, date })) {
    const section = el("section", "status warning pending-certificate");
    const note = el("input");
    note.type = "text";
    note.maxLength = 200;
    note.placeholder = notice.notePlaceholder;
    note.id = `note-${notice.fingerprint}`;
    const label = el("label", null, notice.noteLabel);
    label.htmlFor = note.id;
    const use = el("button", "primary", notice.confirm);
    use.addEventListener("click", () => decide(notice.fingerprint, "confirm", note.value).catch(showError));
    const refuse = el("button", "danger", notice.refuse);
    refuse.addEventListener("click", () => decide(notice.fingerprint, "refuse", note.value).catch(showError));
    const buttons = el("div", "buttons");
    buttons.append(use, refuse);
    section.append(el("strong", null, notice.title), el("p", null, notice.what), fingerprintLines(notice.fingerprintText),
      el("p", null, notice.keeps), el("p", "advice", notice.compare));
    if (isThunderbird()) section.append(el("p", "muted", t("decision_thunderbird_copy", [contact.address])));
    section.append(label, note, buttons);
    box.append(section);
  }
}

/** A whole fingerprint, each of its lines (format.mjs groupFingerprint) on a line of its own. */
function fingerprintLines(fingerprint) {
  const p = valueNode({ kind: "fingerprint", value: fingerprint });
  const block = el("p", "fingerprint");
  block.append(...p.childNodes);
  return block;
}

async function decide(fingerprint, decision, note) {
  const op = decision === "confirm" ? Op.contactsConfirmCertificate : Op.contactsRefuseCertificate;
  const result = await callHost(op, { address: shown.address, fingerprint, note: note?.trim() || undefined });
  // Refusing here cannot reach the copy Thunderbird may have kept from the signed mail.
  showNotice("ok", decisionNotice(result, { t }), result.status === "refused" && isThunderbird() ? [t("decision_thunderbird_copy", [result.address])] : []);
  await Promise.all([loadStats(), loadList()]);
  await select(shown.address);
}

function certificateBlock(cert, chosen) {
  const card = certificateCard(cert, { t, date, chosen });
  const node = byId("certificate-template").content.firstElementChild.cloneNode(true);
  localizePage(node);
  setText(node.querySelector(".title"), card.title);
  const badges = node.querySelector(".badges");
  for (const badge of card.badges) badges.append(el("span", `badge ${badge.kind}`, badge.text));
  setText(node.querySelector(".lead-line"), card.lead);
  const unused = node.querySelector(".unused");
  setText(unused, card.unused ?? "");
  unused.hidden = !card.unused;
  node.querySelector("dl").replaceWith(definitionList(card.rows));
  const decisions = node.querySelector(".decisions");
  for (const action of card.actions) {
    const button = el("button", action.id === "refuse" ? "danger" : null, action.text);
    button.addEventListener("click", () => decide(cert.fingerprint_sha256, action.id).catch(showError));
    decisions.append(button);
  }
  node.querySelector(".delete-certificate").addEventListener("click", () => deleteCertificate(cert).catch(showError));
  return node;
}

async function importFile(input) {
  const [file] = input.files;
  input.value = "";
  if (!file) return;
  const bytes = new Uint8Array(await file.arrayBuffer());
  try {
    const result = await callHost(Op.contactsImport, { data_b64: toBase64(bytes) });
    const outcome = importOutcome(result, { t });
    showNotice(outcome.warning ? "warning" : "ok", t("notice_file_imported", [file.name]), outcome.lines);
    await Promise.all([loadStats(), loadList()]);
    if (outcome.addresses[0]) await select(outcome.addresses[0]);
  } catch (e) {
    showNotice("error", t("notice_file_not_imported", [file.name]), [t(errorKey(e.code))]);
  }
}

async function exportContact() {
  const format = byId("export-format").value;
  const { data_b64 } = await callHost(Op.contactsExport, { address: shown.address, format });
  const file = exportFile(shown.address, format);
  if (await saveBytes(fromBase64(data_b64), file.name, file.type)) {
    showNotice("ok", t("notice_exported", [shown.address, file.name]), []);
  }
}

async function deleteContact() {
  if (!(await confirmDialog(deleteConfirmation(shown, { t, thunderbird: isThunderbird() })))) return;
  const certificates = shown.certificates;
  const { address, deleted_certificates: deleted } = await callHost(Op.contactsDelete, { address: shown.address });
  const count = Array.isArray(deleted) ? deleted.length : Number(deleted) || 0; // fingerprints, or a count
  // Thunderbird's own copy is out of the add-on's reach: say where it is and how to remove it.
  const steps = isThunderbird() ? [thunderbirdCopySteps(address, certificates, { t, date: day })] : [];
  showNotice("ok", t.count("notice_contact_deleted", count, [address]), [t("contact_delete_recover"), ...steps]);
  await Promise.all([loadStats(), loadList()]);
  // The history stays, so the contact can still be shown: it says what was deleted and when.
  await select(address).catch(() => clearDetails());
}

async function deleteCertificate(cert) {
  if (!(await confirmDialog(deleteCertificateConfirmation(cert, { t, thunderbird: isThunderbird() })))) return;
  await callHost(Op.contactsDeleteCertificate, { fingerprint: cert.fingerprint_sha256 });
  const steps = isThunderbird() && cert.can_encrypt ? [thunderbirdCopySteps(shown.address, [cert], { t, date: day })] : [];
  showNotice("ok", t("notice_certificate_deleted", [shortFingerprint(cert.fingerprint_sha256), shown.address]), steps);
  await Promise.all([loadStats(), loadList()]);
  await select(shown.address).catch(() => clearDetails());
}

function clearDetails() {
  selected = null;
  shown = null;
  byId("details").hidden = true;
  byId("placeholder").hidden = false;
  markSelected();
}

/** Shows what a menu action did; returns the address to select, if any. */
function showMenuNotice(notice) {
  if (notice.kind === "import") {
    const lines = [];
    let address = null;
    let severity = "ok";
    for (const file of notice.files) {
      if (file.error) {
        severity = "error";
        lines.push(t("notice_attachment_failed", [file.name, t(errorKey(file.error))]));
        continue;
      }
      const outcome = importOutcome(file.result, { t });
      if (outcome.warning && severity === "ok") severity = "warning";
      lines.push(t("notice_attachment_result", [file.name, outcome.lines.join(" ")]));
      address ??= outcome.addresses[0] ?? null;
    }
    showNotice(severity, t("notice_attachments_imported"), lines);
    return address;
  }
  if (notice.kind === "senders") {
    const lines = [];
    let address = null;
    let severity = "ok";
    for (const r of notice.results) {
      const subject = r.subject || t("notice_no_subject");
      if (r.error) lines.push(t("notice_sender_failed", [subject, t(errorKey(r.error))]));
      else if (r.storeError) lines.push(t("notice_sender_failed", [subject, t(errorKey(r.storeError))]));
      else if (r.stored && r.address) lines.push(t(r.state === "untrusted" ? "notice_sender_saved_untrusted" : "notice_sender_saved", [r.address, subject]));
      else if (r.state === "none" && ["no_key", "locked", "failed", "unsupported"].includes(r.encryption)) lines.push(t("notice_sender_unreadable", [subject]));
      else if (r.state === "none") lines.push(t("notice_sender_unsigned", [subject]));
      else lines.push(t("notice_sender_not_saved", [subject, t(stateLabel(r.state))]));
      if (r.stored && r.address) address ??= r.address;
      else severity = "warning";
    }
    if (notice.more) lines.push(t("notice_senders_more"));
    showNotice(severity, t(address ? "notice_senders_saved" : "notice_senders_none"), lines);
    return address;
  }
  return null;
}

// ---- search the directory ---------------------------------------------------------------------

/** Shows the directory search when a directory is configured (a failure only hides it). */
async function showDirectorySearch() {
  const listing = await callHost(Op.directoriesList).catch(() => null);
  byId("directory-search").hidden = !listing?.directories?.length;
}

/** Looks the typed address up in every directory, then shows what it found and the contact. */
async function searchDirectory() {
  const input = byId("lookup-address");
  const address = input.value.trim();
  if (!address) return;
  const button = byId("lookup-button");
  button.disabled = true;
  try {
    const result = await callHost(Op.contactsLookup, { addresses: [address] });
    const outcome = lookupOutcome(result, { t });
    showNotice(outcome.severity, outcome.headline, outcome.lines);
    await Promise.all([loadStats(), loadList()]);
    if (outcome.firstFound) await select(outcome.firstFound);
  } finally {
    button.disabled = false;
  }
}

function showError(e) {
  reportError(e);
  document.body.dataset.ready = "true"; // a failed first render is complete too
}
