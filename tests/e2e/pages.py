"""End-to-end scenarios for the add-on's own pages and menus, run by driver.py after the message
cases: the attachment and message-list menus, the contacts page, My certificates, the options
(with a value IT set through managed storage), a signed send; and the compose check's popup
reader (the compose flow itself is in flows.py).

Pages are extension pages in tabs or popups, in another process than the chrome Marionette
drives. Scripts reach them through the MarionetteCommands window actor of their browsing context
(the one Marionette itself uses for content), so assertions read the page's real DOM.
"""

import base64
import json
import os

# Chrome-context helpers for pages, added to driver.JS_HELPERS.
JS_PAGES = r"""
function mainWindow() { return windows("mail:3pane")[0]; }
function tabmailOf() { return mainWindow().document.getElementById("tabmail"); }
function addonUrl(path) { return WebExtensionPolicy.getByID(ADDON_ID).getURL(path); }
function pageTab(path) {
  const url = addonUrl(path);
  return tabmailOf().tabInfo.find((t) => t.browser?.currentURI?.spec?.split("?")[0] === url) ?? null;
}
async function inPage(browser, script, args = []) {
  const actor = browser.browsingContext.currentWindowGlobal.getActor("MarionetteCommands");
  return actor.executeScript(script, args, {});
}
// Waits until the page in `browser` has rendered (body[data-ready]) and `script` returns truthy.
async function pageWait(browser, script = "return true", timeoutMs = 20000, args = []) {
  const until = Date.now() + timeoutMs;
  let last = null;
  while (Date.now() < until) {
    if (browser.browsingContext?.currentWindowGlobal) {
      last = await inPage(browser, `if (document.body?.dataset.ready !== "true") return null; ${script}`, args).catch((e) => null);
      if (last) return last;
    }
    await sleep(200);
  }
  return { timedOut: true, last };
}
async function openContextMenu(doc, menuId, target) {
  const menu = doc.getElementById(menuId);
  if (menu.state === "open") { menu.hidePopup(); await sleep(200); }
  // A contextmenu event on the target makes it the menu's trigger, as a right click does.
  const ev = new doc.defaultView.MouseEvent("contextmenu", { bubbles: true, cancelable: true, button: 2 });
  const shown = new Promise((r) => menu.addEventListener("popupshown", r, { once: true }));
  target.dispatchEvent(ev);
  await Promise.race([shown, sleep(1500)]);
  if (menu.state !== "open") {
    menu.openPopup(target, "after_start", 0, 0, true, false, ev);
    await Promise.race([new Promise((r) => menu.addEventListener("popupshown", r, { once: true })), sleep(3000)]);
  }
  await sleep(600); // the add-on hides or shows its item in menus.onShown
  return menu;
}
// A compose window from identity `key` (id1: bob@example.org, id2: bob@home.example).
async function composeFrom(key, to, subject, body) {
  const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
  const params = Cc["@mozilla.org/messengercompose/composeparams;1"].createInstance(Ci.nsIMsgComposeParams);
  const fields = Cc["@mozilla.org/messengercompose/composefields;1"].createInstance(Ci.nsIMsgCompFields);
  fields.to = to;
  fields.subject = subject;
  fields.body = body;
  params.composeFields = fields;
  params.identity = MailServices.accounts.getIdentity(key);
  params.type = Ci.nsIMsgCompType.New;
  params.format = Ci.nsIMsgCompFormat.PlainText;
  const before = new Set(windows("msgcompose"));
  MailServices.compose.OpenComposeWindowWithParams(null, params);
  const until = Date.now() + 20000;
  while (Date.now() < until) {
    const win = windows("msgcompose").find((w) => !before.has(w));
    if (win?.gMsgCompose && win.document.readyState === "complete" && win.document.querySelector(`[data-extensionid="${ADDON_ID}"]`)) {
      win.resizeTo(1200, 900);
      await sleep(1200);
      return win;
    }
    await sleep(200);
  }
  return null;
}
// Bob's certificate in Thunderbird's store becomes identity id1's signing and encryption
// certificate, named by database key as choosing it in the account settings does.
function useBobsCertificate() {
  const certdb = Cc["@mozilla.org/security/x509certdb;1"].getService(Ci.nsIX509CertDB);
  const bob = certdb.getCerts().find((c) => c.emailAddress === "bob@example.org");
  const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
  const identity = MailServices.accounts.getIdentity("id1");
  identity.setCharAttribute("signing_cert_dbkey", bob.dbKey);
  identity.setCharAttribute("encryption_cert_dbkey", bob.dbKey);
}
// Opens a compose window from Bob's S/MIME identity (id1) and waits for the add-on's button.
function openCompose(to, subject) {
  return composeFrom("id1", to, subject, "Hello");
}
// The browser of the add-on popup open in `win`, once it shows a page (else null).
function openPopupBrowser(win) {
  const panel = [...win.document.querySelectorAll("panel")].find((p) => p.state === "open" && p.querySelector("browser"));
  const browser = panel?.querySelector("browser");
  return browser && browser.getBoundingClientRect().height > 50 ? browser : null;
}
function addonMenuItem(menu, id) {
  return [...menu.querySelectorAll("menuitem")].find((m) => m.id.endsWith(`-menuitem-_${id}`)) ?? null;
}
"""

# Every text a document of the add-on shows: visible text, and the placeholders, tooltips and
# labels of visible elements, each as {kind, text, where}. Details are opened first: what they hold
# is shown on request. `hosts` (ids) limits it to those elements' shadow roots (the banner in a
# message: everything else there is the message's own content). Runs in the document.
COLLECT_TEXTS_PY = r"""
  const [hosts] = arguments;
  const out = [];
  const roots = hosts ? hosts.map((id) => document.getElementById(id)?.openOrClosedShadowRoot).filter(Boolean) : [document.body];
  if (!hosts) {
    for (const d of document.querySelectorAll("details")) d.open = true;
    if (document.title.trim()) out.push({ kind: "title", text: document.title, where: "title" });
  }
  const visible = (el) => el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true });
  for (const root of roots) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const p = n.parentElement;
      if (!p || p.closest("script, style, template")) continue;
      if (!visible(p.tagName === "OPTION" ? p.closest("select") : p)) continue;
      const text = n.data.replace(/\s+/g, " ").trim();
      if (text) out.push({ kind: p.closest("pre, code") ? "code" : "text", text, where: p.closest("[id]")?.id ?? p.tagName.toLowerCase() });
    }
    // Controls that label themselves in the browser's language ("Browse…", "No file selected.").
    const native = 'input[type="file"], input[type="date"], input[type="time"], input[type="datetime-local"], input[type="month"], input[type="week"], input[type="submit"]:not([value]), input[type="reset"]:not([value])';
    for (const el of root.querySelectorAll(native)) {
      if (visible(el)) out.push({ kind: "native", text: "<input type=" + el.type + ">", where: el.id || "input" });
    }
    for (const el of root.querySelectorAll("[placeholder], [title], [aria-label], img[alt]")) {
      if (!visible(el)) continue;
      for (const a of ["placeholder", "title", "aria-label", "alt"]) {
        const v = el.getAttribute(a);
        if (v && v.trim()) out.push({ kind: a, text: v.trim(), where: (el.id || el.tagName.toLowerCase()) + "@" + a });
      }
    }
  }
  return out;"""

# A file picker that answers "save here" without a dialog: the downloads API's Save As asks one.
JS_MOCK_PICKER = r"""
const [dir] = args;
const registrar = Components.manager.QueryInterface(Ci.nsIComponentRegistrar);
const CID = Components.ID("{4f0b3c52-9a0e-4a53-9f6e-5e2d2b0e7c11}");
if (!registrar.isCIDRegistered(CID)) {
  function Picker() {}
  Picker.prototype = {
    QueryInterface: ChromeUtils.generateQI(["nsIFilePicker"]),
    init() {}, appendFilter() {}, appendFilters() {},
    defaultString: "", defaultExtension: "", filterIndex: 0, displayDirectory: null, addToRecentDocs: false,
    get file() { const f = new FileUtils.File(dir); f.append(this.defaultString); return f; },
    get fileURL() { return Services.io.newFileURI(this.file); },
    // The pref e2e.picker.cancel makes the stand-in answer as a user who cancels.
    open(callback) {
      const cancel = Services.prefs.getBoolPref("e2e.picker.cancel", false);
      Promise.resolve().then(() => callback.done(cancel ? Ci.nsIFilePicker.returnCancel : Ci.nsIFilePicker.returnOK));
    },
  };
  const factory = { createInstance(iid) { return new Picker().QueryInterface(iid); } };
  registrar.registerFactory(CID, "e2e file picker", "@mozilla.org/filepicker;1", factory);
}
return true;
"""


class Pages:
    """Mixed into driver.Driver: page scenarios and their helpers."""

    def pjs(self, body, *args, timeout_s=60):
        return self.js(JS_PAGES + body, *args, timeout_s=timeout_s)

    def backup_round(self, path, marker):
        """Starts a backup of the first identity on My certificates (bob.p12, whose passphrase is
        "correct horse battery"); returns the notice then shown."""
        return self.page(path, r"""
          const [marker] = arguments;
          const current = [...document.querySelectorAll(".identity")][0];
          const form = current.querySelector(".backup-form");
          if (document.body.dataset.backupRound !== marker) {
            document.getElementById("notice").hidden = true;
            if (form.hidden) current.querySelector("button.backup").click();
            // Asked for every backup, also while the key is unlocked (docs/IDENTITIES.md).
            form.querySelector(".backup-passphrase").value = "correct horse battery";
            form.querySelector(".backup-password").value = "backup-password-1";
            form.querySelector(".backup-password-repeat").value = "backup-password-1";
            document.body.dataset.backupRound = marker;
            form.requestSubmit();
            return null;
          }
          const notice = document.getElementById("notice");
          if (notice.hidden) return null;
          return { notice: notice.innerText, reminder: !document.getElementById("backup-reminder").hidden };""", marker, wait=True, timeout_s=30)

    def open_page(self, path):
        """Shows an add-on page in a tab of the main window (reusing an open one) and waits for it."""
        return self.pjs(r"""
          const [path] = args;
          const tabmail = tabmailOf();
          let tab = pageTab(path);
          if (tab) { tabmail.switchToTab(tab); tab.browser.reload(); await sleep(300); }
          else tab = tabmail.openTab("contentTab", { url: addonUrl(path), background: false });
          const until = Date.now() + 15000;
          while (!tab.browser?.browsingContext?.currentWindowGlobal && Date.now() < until) await sleep(100);
          return pageWait(tab.browser, "return true");
        """, path)

    def page(self, path, script, *args, wait=False, timeout_s=20):
        """Runs `script` (a function body; `arguments` holds args) in the add-on page `path`."""
        return self.pjs(r"""
          const [path, script, wait, timeoutMs, pageArgs] = args;
          const tab = pageTab(path);
          if (!tab) return { error: "page not open: " + path };
          if (wait) return pageWait(tab.browser, script, timeoutMs, pageArgs);
          return inPage(tab.browser, script, pageArgs);
        """, path, script, wait, timeout_s * 1000, list(args), timeout_s=timeout_s + 20)

    def page_shot(self, path, name, max_height=2400):
        """Saves the main window showing page `path`, tall enough for the whole page (bounded)."""
        url = self.pjs(r"""
          const [path, maxHeight] = args;
          const win = mainWindow();
          const tab = pageTab(path);
          tabmailOf().switchToTab(tab);
          const height = await inPage(tab.browser, "window.scrollTo(0, 0); return document.documentElement.scrollHeight");
          const chrome = win.outerHeight - tab.browser.getBoundingClientRect().height;
          win.resizeTo(1280, Math.min(maxHeight, Math.max(860, Math.ceil(height + chrome + 8))));
          await sleep(700);
          const shot = await snapshot(win.browsingContext);
          const c = canvasFor(win, shot.width, shot.height);
          c.getContext("2d").drawImage(shot, 0, 0);
          return c.toDataURL("image/png");
        """, path, max_height)
        self.save_png(url, name)
        self.js("const win = windows('mail:3pane')[0]; win.resizeTo(1280, 860); await sleep(300); return true;")
        # What the picture shows (its folded parts opened) is all in the run's language.
        self.check_texts(name[:-len(".png")], self.page_texts(path))

    def page_texts(self, path):
        """Every text the add-on page `path` (open in a tab) shows (driver.COLLECT_TEXTS_PY)."""
        return self.pjs(r"""
          const tab = pageTab(args[0]);
          if (!tab) return [];
          return inPage(tab.browser, args[1], [null]);""", path, COLLECT_TEXTS_PY)

    def set_file(self, path, input_id, file_path, file_name=None):
        """Puts a file into a page's <input type=file>, as choosing it in the dialog does."""
        with open(file_path, "rb") as f:
            data = base64.b64encode(f.read()).decode()
        return self.page(path, r"""
          const [id, name, b64] = arguments;
          const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const dt = new DataTransfer();
          dt.items.add(new File([bytes], name));
          const input = document.getElementById(id);
          input.files = dt.files;
          input.dispatchEvent(new Event("change", { bubbles: true }));
          return true;
        """, input_id, file_name or os.path.basename(file_path), data)

    def wait_page_tab(self, path, script, timeout_s=20):
        """Waits until the add-on opens page `path` in a tab and `script` holds there."""
        return self.pjs(r"""
          const [path, script, timeoutMs] = args;
          const until = Date.now() + timeoutMs;
          while (Date.now() < until) {
            const tab = pageTab(path);
            if (tab && tabmailOf().currentTabInfo === tab && tab.browser.browsingContext?.currentWindowGlobal) {
              return pageWait(tab.browser, script, Math.max(1000, until - Date.now()));
            }
            await sleep(200);
          }
          return { timedOut: true };
        """, path, script, timeout_s * 1000, timeout_s=timeout_s + 20)

    # -- menus ---------------------------------------------------------------------------------

    def attachment_menu(self, messages_dir):
        """A .cer attachment: the menu item shows on it and imports it into the contacts."""
        self.open_message(os.path.join(messages_dir, "certificate.eml"), "tab")
        item = self.pjs(r"""
          const doc = aboutMessageOf(mainWindow());
          const until = Date.now() + 10000;
          let att = null;
          while (!(att = doc.querySelector("#attachmentList richlistitem.attachmentItem")) && Date.now() < until) await sleep(200);
          if (!att) return { error: "no attachment shown" };
          doc.getElementById("attachmentList").selectItem(att);
          const menu = await openContextMenu(doc, "attachmentItemContext", att);
          const item = addonMenuItem(menu, "import-attachment");
          const found = item ? { label: item.label, hidden: item.hidden } : null;
          if (item && !item.hidden) item.doCommand();
          menu.hidePopup();
          return found;
        """)
        self.check("attachment menu: 'save certificate' shows on a .cer attachment",
                   item and not item.get("hidden") and item.get("label") == self.text("menu_import_attachment"), item)
        shown = self.wait_page_tab("pages/contacts.html", r"""
          const notice = document.getElementById("notice");
          if (notice.hidden) return null;
          return { notice: notice.innerText, address: document.getElementById("contact-address").textContent };""")
        self.check("attachment menu: the contacts page says the certificate was saved and shows Carol",
                   shown.get("address") == "carol@example.org"
                   and self.text("import_result_imported_one", "1", "carol@example.org") in shown.get("notice", ""), shown)
        self.page_shot("pages/contacts.html", "menu-attachment-contacts.png", max_height=1100)
        self.js("""const t = windows("mail:3pane")[0].document.getElementById("tabmail");
                   const m = t.tabInfo.find((x) => x.mode.name === "mailMessageTab"); if (m) t.closeTab(m); return true;""")

    def message_list_menu(self, subject, address):
        """The message list's 'save the sender's certificate' inspects the message and says so."""
        item = self.pjs(r"""
          const [subject] = args;
          const tabmail = tabmailOf();
          const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
          const { MailUtils } = ChromeUtils.importESModule("resource:///modules/MailUtils.sys.mjs");
          const folder = MailServices.accounts.localFoldersServer.rootFolder.getChildNamed("E2E");
          const hdr = [...folder.messages].find((h) => h.mime2DecodedSubject === subject);
          if (!hdr) return { error: "no message " + subject };
          MailUtils.displayMessageInFolderTab(hdr);
          await sleep(1500);
          const about3 = tabmail.currentTabInfo.chromeBrowser.contentDocument;
          const tree = about3.getElementById("threadTree");
          const row = tree.getRowAtIndex(tree.selectedIndex);
          if (!row) return { error: "no selected row" };
          const menu = await openContextMenu(about3, "mailContext", row);
          const item = addonMenuItem(menu, "save-sender");
          const found = item ? { label: item.label, hidden: item.hidden } : null;
          if (item && !item.hidden) item.doCommand();
          menu.hidePopup();
          return found;
        """, subject)
        self.check("message list menu: 'save the sender's certificate' is offered",
                   item and not item.get("hidden") and item.get("label") == self.text("menu_save_sender"), item)
        # Waits for this sender's contact: the page may still show the previous action's notice.
        shown = self.wait_page_tab("pages/contacts.html", r"""
          const notice = document.getElementById("notice");
          const address = document.getElementById("contact-address").textContent;
          if (notice.hidden || address !== %s) return null;
          return { notice: notice.innerText, address };""" % json.dumps(address))
        self.check("message list menu: the sender's certificate is saved and shown",
                   shown.get("address") == address and self.text("notice_senders_saved") in shown.get("notice", ""), shown)
        self.page_shot("pages/contacts.html", "menu-sender-contacts.png", max_height=1100)

    # -- contacts --------------------------------------------------------------------------------

    def contacts_page(self, pki, artifacts):
        path = "pages/contacts.html"
        self.open_page(path)
        # Alice comes with a new key while her certificate is still valid: a key change.
        self.set_file(path, "import-file", os.path.join(pki, "alice-new.pem"))
        shown = self.page(path, r"""
          const notice = document.getElementById("notice");
          if (notice.hidden || !notice.innerText.includes("alice-new.pem")) return null;
          const history = [...document.querySelectorAll("#history li")].map((li) => ({ text: li.querySelector(".what").textContent, attention: li.classList.contains("attention") }));
          if (!history.length) return null;
          return {
            notice: notice.innerText, severity: notice.className,
            address: document.getElementById("contact-address").textContent,
            history,
            flags: [...document.querySelectorAll('#contacts button[data-address="alice@example.org"] .badge')].map((b) => b.textContent),
            encryption: document.querySelector("#encryption strong").textContent,
            certificates: document.querySelectorAll("#certificates .certificate").length,
          };""", wait=True)
        self.check("contacts: importing a certificate file says what it did, and warns of the key change",
                   self.text("import_result_key_changed", "alice@example.org") in shown.get("notice", "")
                   and "warning" in shown.get("severity", ""), shown)
        key_changed = [h for h in shown.get("history", []) if h["attention"]]
        # Marked too: the new key held back for confirmation (certificate_pending).
        self.check("contacts: the history shows the key change, marked",
                   any(h["text"].startswith(self.text("history_key_changed", "x", "y").split("(")[0].strip()) for h in key_changed), shown.get("history"))
        self.check("contacts: the list flags the contact whose key changed",
                   self.text("label_key_changed") in shown.get("flags", []), shown.get("flags"))
        # The new key is held back: not a plain green "can encrypt" while the previous one is used.
        self.check("contacts: the details say the contact waits for a decision on the new key, with every certificate listed",
                   shown.get("encryption") == self.text("contact_waiting_decision") and shown.get("certificates", 0) >= 2, shown)
        self.page_shot(path, "contacts.png")

        # Export: the downloads API's Save As (answered by a stand-in picker) writes the file.
        self.js(JS_MOCK_PICKER, artifacts)
        exported = self.page(path, r"""
          if (!document.body.dataset.exportStarted) {
            document.body.dataset.exportStarted = "1";
            document.getElementById("export-format").value = "pem";
            document.getElementById("export").click();
            return null;
          }
          const notice = document.getElementById("notice");
          return notice.innerText.includes(arguments[0]) ? notice.innerText : null;""", self.text("notice_exported", "alice@example.org", "alice@example.org.pem"), wait=True)
        export_file = os.path.join(artifacts, "alice@example.org.pem")
        content = open(export_file, encoding="ascii", errors="replace").read() if os.path.exists(export_file) else ""
        self.check("contacts: export saves the contact's certificates where the user chose",
                   content.count("-----BEGIN CERTIFICATE-----") >= 2, exported)
        if os.path.exists(export_file):
            os.remove(export_file)

        # Search narrows the list.
        found = self.page(path, r"""
          const search = document.getElementById("search");
          if (search.value !== "carol") { search.value = "carol"; search.dispatchEvent(new Event("input")); return null; }
          const shown = [...document.querySelectorAll("#contacts button.contact")].map((b) => b.dataset.address);
          return shown.length === 1 ? shown : null;""", wait=True)
        self.check("contacts: search finds the contact by address", found == ["carol@example.org"], found)

        # Deleting a contact asks first, and says what follows.
        dialog = self.page(path, r"""
          const open = document.querySelector("dialog.confirm[open]");
          if (open) return { title: open.querySelector("h2").textContent, lines: [...open.querySelectorAll("li")].map((li) => li.textContent) };
          if (document.getElementById("contact-address").textContent !== "carol@example.org") {
            document.querySelector('#contacts button[data-address="carol@example.org"]').click();
            return null;
          }
          document.getElementById("delete").click();
          return null;""", wait=True)
        self.check("contacts: deleting asks for confirmation and explains the consequence",
                   dialog.get("title") == self.text("contact_delete_title", "carol@example.org")
                   and self.text("contact_delete_no_encryption", "carol@example.org") in dialog.get("lines", []), dialog)
        self.page_shot(path, "contacts-delete-confirm.png", max_height=1100)
        deleted = self.page(path, r"""
          const open = document.querySelector("dialog.confirm[open]");
          if (open) { open.querySelector("button.danger").click(); return null; }
          const history = [...document.querySelectorAll("#history li .what")].map((n) => n.textContent);
          if (!history.includes(arguments[0])) return null;
          return { notice: document.getElementById("notice").innerText, certificates: document.querySelectorAll("#certificates .certificate").length,
                   listed: [...document.querySelectorAll("#contacts button.contact")].map((b) => b.dataset.address) };""",
                            self.text("history_contact_deleted"), wait=True)
        self.check("contacts: the contact is deleted with its certificates, and the history says so",
                   deleted.get("certificates") == 0 and "carol@example.org" not in deleted.get("listed", ["carol@example.org"])
                   and self.text("notice_contact_deleted_one", "1", "carol@example.org") in deleted.get("notice", ""), deleted)
        # Thunderbird's own copy is out of the add-on's reach: the page says where it is and how to remove it.
        self.check("contacts: after deleting, the page says how to remove Thunderbird's own copy",
                   self.text("tbcopy_heading", "carol@example.org") in deleted.get("notice", "")
                   and self.text("tbcopy_step_open") in deleted.get("notice", ""), deleted.get("notice"))
        self.page_shot(path, "contacts-deleted.png", max_height=1300)

    # -- my certificates -------------------------------------------------------------------------

    def identities_page(self, pki, artifacts):
        path = "pages/identities.html"
        self.open_page(path)
        tb = self.page(path, r"""
          const cards = [...document.querySelectorAll(".tb-identity")];
          if (!cards.length) return null;
          return cards.map((c) => ({ email: c.dataset.email, state: c.dataset.state, steps: c.querySelectorAll("ol li").length }));""", wait=True)
        states = {c["email"]: c for c in tb} if isinstance(tb, list) else {}
        self.check("my certificates: Thunderbird's own S/MIME setup is shown per identity",
                   states.get("bob@example.org", {}).get("state") == "ready" and states.get("bob@home.example", {}).get("state") == "missing", tb)
        self.check("my certificates: a missing setup comes with step-by-step guidance",
                   states.get("bob@home.example", {}).get("steps", 0) >= 4, tb)
        module = self.page(path, "return document.getElementById('module-state').textContent;")
        self.check("my certificates: the security module's state is explained",
                   module in [self.text(f"module_state_{s}") for s in ("loaded", "not_loaded", "unavailable", "unsupported")], module)

        # A .p12 without its key is refused, with words about the missing key.
        result = self.import_p12(path, os.path.join(pki, "alice-no-key.p12"), "x", None)
        self.check("my certificates: a .p12 without its private key is refused and explained",
                   self.text("error_pkcs12_without_key") in result.get("headline", "") and not result.get("checks"), result)
        self.page_shot(path, "my-certificates-no-key.png")

        # An old certificate that expires in 10 days: the expiry radar shows its checklist.
        result = self.import_p12(path, os.path.join(pki, "bob-old.p12"), "old-pass", None)
        checks = result.get("checks", [])
        self.check("my certificates: the import reports every check",
                   len(checks) == 7 and all(c["ok"] for c in checks) and "bob@example.org" in result.get("headline", ""), result)
        radar = self.page(path, r"""
          const lists = [...document.querySelectorAll("#checklists .checklist")];
          if (!lists.length) return null;
          return { kinds: lists.map((l) => l.className), reminder: !document.getElementById("backup-reminder").hidden,
                   heading: lists[0].querySelector("h3").textContent };""", wait=True)
        self.check("my certificates: the expiry radar shows the certificate that expires soon",
                   any("expiring" in k for k in radar.get("kinds", [])), radar)
        self.check("my certificates: a reminder shows while no backup exists", radar.get("reminder") is True, radar)
        self.page_shot(path, "my-certificates-expiring.png")

        # The renewal: a new key pair. The checklist now lists the contacts still waiting.
        result = self.import_p12(path, os.path.join(pki, "bob.p12"), "", "correct horse battery")
        renewal = self.page(path, r"""
          const list = document.querySelector("#checklists .checklist.renewed");
          if (!list) return null;
          return { steps: [...list.querySelectorAll("ol.steps li")].map((li) => li.dataset.step + ":" + li.className),
                   waiting: [...list.querySelectorAll(".waiting li .address")].map((n) => n.textContent),
                   replaced: [...document.querySelectorAll(".identity")].some((n) => n.querySelector(".badges").textContent.includes(arguments[0])) };""",
                            self.text("identity_badge_replaced"), wait=True)
        self.check("my certificates: after a renewal the checklist covers sending a signed mail to each contact",
                   "alice@example.org" in renewal.get("waiting", []) and any(s.startswith("contacts:todo") for s in renewal.get("steps", [])), renewal)
        self.check("my certificates: the renewed certificate is kept, marked as replaced", renewal.get("replaced") is True, renewal)
        self.page_shot(path, "my-certificates-renewal.png", max_height=3000)

        # Backup: the downloads API's Save As (answered by a stand-in picker) writes the .p12.
        # Cancelled first: no file, so the reminder must stay.
        self.js(JS_MOCK_PICKER, artifacts)
        self.js('Services.prefs.setBoolPref("e2e.picker.cancel", true); return true;')
        cancelled = self.backup_round(path, "cancelled")
        self.check("my certificates: a cancelled backup is not counted, the reminder stays",
                   self.text("backup_cancelled") in cancelled.get("notice", "") and cancelled.get("reminder") is True, cancelled)
        self.js('Services.prefs.setBoolPref("e2e.picker.cancel", false); return true;')
        saved = self.backup_round(path, "saved")
        backup_file = os.path.join(artifacts, "bob@example.org.p12")
        self.check("my certificates: the backup is saved where the user chose, and the reminder goes",
                   self.text("backup_saved", "bob@example.org.p12") in saved.get("notice", "")
                   and saved.get("reminder") is False and os.path.getsize(backup_file) > 1000, saved)
        if os.path.exists(backup_file):
            os.remove(backup_file)  # it holds a (test) private key: not an artifact to keep

        # Lock, then unlock with the passphrase.
        locked = self.page(path, r"""
          if (!document.body.dataset.lockClicked) { document.body.dataset.lockClicked = "1"; document.getElementById("lock").click(); return null; }
          const state = document.getElementById("lock-state").textContent;
          return state === arguments[0] ? state : null;""", self.text("lock_state_locked"), wait=True)
        self.check("my certificates: lock locks every key", locked == self.text("lock_state_locked"), locked)
        unlocked = self.page(path, r"""
          if (!document.body.dataset.unlockSent) {
            document.body.dataset.unlockSent = "1";
            document.getElementById("unlock-passphrase").value = "correct horse battery";
            document.getElementById("unlock-form").requestSubmit();
            return null;
          }
          const state = document.getElementById("lock-state").textContent;
          return state !== arguments[0] ? { notice: document.getElementById("notice").innerText, state } : null;""",
                             self.text("lock_state_locked"), wait=True)
        self.check("my certificates: unlock with the passphrase",
                   unlocked.get("state") == self.text("lock_state_unlocked_other", "2", "1"), unlocked)
        self.page_shot(path, "my-certificates.png", max_height=3000)

    def import_p12(self, path, file_path, password, passphrase):
        self.page(path, "document.getElementById('import-result').hidden = true; delete document.body.dataset.imported; return true;")
        self.set_file(path, "p12-file", file_path)
        return self.page(path, r"""
          const [password, passphrase] = arguments;
          if (!document.body.dataset.imported) {
            document.body.dataset.imported = "1";
            document.getElementById("p12-password").value = password;
            const own = document.getElementById("own-passphrase");
            if (own.checked !== Boolean(passphrase)) own.click();
            document.getElementById("new-passphrase").value = passphrase ?? "";
            document.getElementById("import-form").requestSubmit();
            return null;
          }
          const result = document.getElementById("import-result");
          const headline = document.getElementById("import-headline");
          if (result.hidden || headline.className === "status") return null; // still checking: no verdict colour yet
          return { headline: headline.innerText,
                   checks: [...document.querySelectorAll("#import-checks li")].map((li) => ({ check: li.dataset.check, ok: li.classList.contains("done") })) };""",
                         password, passphrase, wait=True, timeout_s=30)

    # -- options -----------------------------------------------------------------------------------

    def options_page(self):
        path = "pages/options.html"
        self.open_page(path)
        options = self.page(path, r"""
          return Object.fromEntries([...document.querySelectorAll(".option")].map((s) => [s.id.replace("option-", ""), {
            source: s.dataset.source, checked: s.querySelector("input").checked, disabled: s.querySelector("input").disabled,
            managedNote: !s.querySelector(".managed").hidden }]));""", wait=True)
        managed = options.get("encryptWhenPossible", {})
        self.check("options: a value IT set in managed storage wins and is locked",
                   managed == {"source": "managed", "checked": True, "disabled": True, "managedNote": True}, options)
        self.check("options: other options keep their default and stay changeable",
                   options.get("alwaysSign", {}).get("source") == "default" and options.get("alwaysSign", {}).get("disabled") is False, options)
        self.page_shot(path, "options.png", max_height=900)

    # -- compose (the check itself: flows.py, compose_flow) --------------------------------------------

    def directory(self, to):
        """Dora's certificate is only in IT's directory (managed settings): the options page lists
        the directory as IT's; the contacts page does not know her; the compose check looks her up
        and shows she can receive encrypted mail, with the certificate from the directory; then the
        contacts page lists her, and its "Search the directory" finds her certificate again."""
        path = "pages/options.html"
        self.open_page(path)
        listed = self.page(path, r"""
          const card = document.querySelector('#directories .directory[data-id="corp"]');
          if (!card) return null;
          return { text: card.innerText, removable: !!card.querySelector("button.danger") };""", wait=True)
        self.check("directory: the options page lists IT's directory, locked",
                   self.text("directory_origin_managed") in listed.get("text", "") and listed.get("removable") is False, listed)

        contacts = "pages/contacts.html"
        self.open_page(contacts)
        # The page keeps what was typed into its search box across reloads: list everyone.
        self.page(contacts, r"""
          const search = document.getElementById("search");
          search.value = "";
          search.dispatchEvent(new Event("input", { bubbles: true }));
          return true;""")
        known = self.page(contacts, r"""
          if (document.getElementById("search").value !== "" || document.getElementById("empty").textContent.includes("“")) return null;
          return { dora: !!document.querySelector('#contacts button[data-address="dora@example.org"]'),
                   search: !document.getElementById("directory-search").hidden };""", wait=True)
        self.check("directory: before the check, the contacts page does not know Dora, and offers to search the directory",
                   known.get("dora") is False and known.get("search") is True, known)

        opened = self.pjs(r"""
          const win = await openCompose(args[0], "Only the directory knows her");
          return { ok: !!win };
        """, to)
        self.check("directory: a compose window to Dora", opened.get("ok") is True, opened)
        shown = self.compose_popup(click=True, name="compose-directory.png")
        rows = {r["address"]: r for r in shown.get("rows", [])}
        dora = rows.get("dora@example.org", {})
        self.check("directory: the compose check turns Dora from 'no certificate yet' to 'can receive encrypted mail'",
                   dora.get("reason") == "can" and self.text("recipient_from_directory") in dora.get("text", ""), shown)
        self.pjs(r"""
          const win = windows("msgcompose").at(-1);
          for (const p of win.document.querySelectorAll("panel")) if (p.state === "open") p.hidePopup();
          await sleep(300);
          win.close();
          return true;
        """)

        self.open_page(contacts)
        self.page(contacts, r"""
          const search = document.getElementById("search");
          search.value = "dora";
          search.dispatchEvent(new Event("input", { bubbles: true }));
          return true;""")
        after = self.page(contacts, r"""
          return document.querySelector('#contacts button[data-address="dora@example.org"]') ? true : null;""", wait=True)
        self.check("directory: the contacts page now lists Dora", after is True, after)
        found = self.page(contacts, r"""
          document.getElementById("lookup-address").value = "dora@example.org";
          document.getElementById("lookup-button").click();
          return true;""")
        notice = self.page(contacts, r"""
          const box = document.getElementById("notice");
          if (box.hidden || !box.textContent.includes("dora@example.org")) return null;
          return { severity: box.className, text: box.innerText };""", wait=True)
        self.check("directory: 'Search the directory' finds Dora's certificate and says she can receive encrypted mail",
                   found is True and "ok" in notice.get("severity", "") and self.text("lookup_address_can_one", "1", "dora@example.org") in notice.get("text", ""), notice)
        self.page_shot(contacts, "contacts-directory.png", max_height=1400)

    def decision_card(self, png, close=False):
        """Opens the details popup of the message in front and reads its key-change decision card:
        state, title, blocks ({heading, text: the block's text without spaces, upper case}), buttons,
        whether it takes a note, and the popup's notices. Saves a picture as `png` and checks the
        popup's texts; `close` closes the popup again."""
        card = self.pjs(r"""
          const [collect, close] = args;
          const win = mainWindow();
          buttonOf(win).click();
          const until = Date.now() + 20000;
          let browser = null, state = null;
          while (Date.now() < until) {
            browser = openPopupBrowser(win);
            if (browser) {
              state = await inPage(browser, `const box = document.getElementById("decision");
                if (!box || box.hidden || !box.querySelector(".block.in_use dd")) return null;
                return { state: box.dataset.state, title: box.querySelector("h2").textContent,
                         blocks: [...box.querySelectorAll(".block")].map((b) => ({ heading: b.querySelector("h3").textContent,
                                                                                  text: b.innerText.replace(/\\s+/g, "").toUpperCase() })),
                         buttons: [...box.querySelectorAll("button")].map((b) => b.dataset.decision),
                         note: Boolean(box.querySelector("#decision-note")),
                         notices: [...document.querySelectorAll("#notices li")].map((li) => li.textContent) };`).catch(() => null);
              if (state) break;
            }
            await sleep(200);
          }
          if (!state) return { error: "no decision card" };
          await sleep(300);
          state.image = await windowWithPopup(win, browser);
          state.texts = await inPage(browser, collect, [null]);
          if (close) for (const p of win.document.querySelectorAll("panel")) if (p.state === "open") p.hidePopup();
          return state;
        """, COLLECT_TEXTS_PY, close)
        if card.get("image"):
            self.save_png(card.pop("image"), png)
        self.check_texts(png[:-len(".png")], card.pop("texts", None))
        return card

    def signed_send(self, to):
        """Sends (to the outbox) a message to a contact who can receive encrypted mail: IT's option
        switches encryption on, 'always sign' signing; Thunderbird's own S/MIME does the rest.
        The renewal checklist then counts the contact as reached (compose.onAfterSend)."""
        sent = self.pjs(r"""
          const [to] = args;
          useBobsCertificate();
          const win = await openCompose(to, "Signed, with my new certificate");
          if (!win) return { error: "no compose window" };
          const before = { signed: win.gSendSigned, encrypted: win.gSendEncrypted };
          win.goDoCommand("cmd_sendLater");
          const until = Date.now() + 20000;
          while (!win.closed && Date.now() < until) await sleep(200);
          const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
          const outbox = MailServices.accounts.localFoldersServer.rootFolder.getFolderWithFlags(Ci.nsMsgFolderFlags.Queue);
          return { before, closed: win.closed, outbox: outbox?.filePath.path ?? null };
        """, to)
        raw = ""
        if sent.get("outbox") and os.path.exists(sent["outbox"]):
            with open(sent["outbox"], "rb") as f:
                raw = f.read().decode("latin-1")
        self.check("send: the option switched Thunderbird's S/MIME on, and the message left signed and encrypted",
                   sent.get("closed") is True and sent.get("before") == {"signed": False, "encrypted": False}
                   and "Signed, with my new certificate" in raw and "application/pkcs7-mime" in raw and "enveloped-data" in raw,
                   {k: v for k, v in sent.items() if k != "outbox"})

        path = "pages/identities.html"
        self.open_page(path)
        renewal = self.page(path, r"""
          const list = document.querySelector("#checklists .checklist.renewed");
          if (!list) return null;
          const contacts = list.querySelector('li[data-step="contacts"]');
          const waiting = [...list.querySelectorAll(".waiting li .address")].map((n) => n.textContent);
          if (waiting.includes("alice@example.org")) return null;
          return { contacts: contacts.innerText, waiting, everyone: waiting.length + 1 };""", wait=True)
        # Everyone else who wrote signed mail (Dave, Erin) still waits for a signed message.
        self.check("send: the renewal checklist counts the contact who got the signed message",
                   "alice@example.org" not in renewal.get("waiting", ["alice@example.org"])
                   and self.text("renewal_step_contacts", "1", str(renewal.get("everyone"))) in renewal.get("contacts", ""), renewal)
        self.page_shot(path, "my-certificates-after-send.png", max_height=1400)

    def compose_popup(self, click, name):
        """Opens (or waits for) the compose check popup, reads it and saves window + popup."""
        result = self.js(r"""
          const [click, settledNot, timeoutMs, collectTexts] = args;
          const win = windows("msgcompose").at(-1);
          if (click) win.document.querySelector(`[data-extensionid="${ADDON_ID}"]`).click();
          const until = Date.now() + timeoutMs;
          let browser = null;
          while (Date.now() < until) {
            const panel = [...win.document.querySelectorAll("panel")].find((p) => p.state === "open" && p.querySelector("browser"));
            browser = panel?.querySelector("browser");
            if (browser && browser.getBoundingClientRect().height > 50 && browser.contentTitle && browser.contentTitle !== settledNot) break;
            browser = null;
            await sleep(200);
          }
          if (!browser) return { error: "no compose popup" };
          await sleep(400);
          const image = await windowWithPopup(win, browser);
          const actor = browser.browsingContext.currentWindowGlobal.getActor("MarionetteCommands");
          const texts = await actor.executeScript(collectTexts, [null], {});
          const state = await actor.executeScript(`return {
            headline: document.getElementById("headline").textContent,
            state: document.getElementById("state").textContent,
            stopped: document.getElementById("stopped").hidden ? null : document.getElementById("stopped").textContent,
            rows: [...document.querySelectorAll("#recipients li")].map((li) => ({ address: li.dataset.address, reason: li.dataset.reason, text: li.innerText,
                                                                                  actions: [...li.querySelectorAll("button[data-action]")].map((b) => b.dataset.action) })),
            keyExchange: !document.getElementById("keyexchange").hidden,
            notes: [...document.querySelectorAll("#notes li")].map((li) => li.textContent),
            actions: [...document.querySelectorAll("#actions button")].map((b) => b.dataset.action),
          };`, [], {});
          state.image = image;
          state.texts = texts;
          return state;
        """, click, self.text("compose_title"), 20000, COLLECT_TEXTS_PY)
        image = result.pop("image", None)
        if image:
            self.save_png(image, name)
        self.check_texts(name[:-len(".png")], result.pop("texts", None))
        return result
