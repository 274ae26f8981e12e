"""The German S/MIME FAQ's stories (/work/shared/reference/smime-faq-de.txt, issue 16), played
through in the real Thunderbird after the other parts, each as numbered steps with a screenshot
per step: ARTIFACTS/<lang>-story-<story>-<step>-<what>.png. Every step checks what a user would
notice: the texts the add-on shows (from the run's locale file, and nothing else: locale_check.py),
states and buttons; and what the other side of a mail sees, with `openssl cms`.

  key-exchange     no certificate yet: the compose check asks the colleague for a signed mail (the
                   request leaves signed); her first signed mail arrives; the check goes from "no
                   certificate yet" to "can receive encrypted mail"; the encrypted reply leaves and
                   the colleague decrypts it with her key
  stale-key        a colleague replaced her certificate while the old one is still known: mail goes
                   to the old key and she cannot read it; her mail with the new one shows the
                   key-change decision card, the compose check and the contacts page say a decision
                   waits; the fix (delete the contact on the contacts page); her next signed mail
                   brings the new one, and encrypted mail reaches her again
  file-without-key a .cer from the CA, a .p12 exported without the key: the import says exactly that
                   and what to ask the CA or the old computer for; nothing is stored
  own-expired      Bob's own certificate expired: My certificates and the compose check say so;
                   old mail encrypted to it still opens (Thunderbird uses the companion's key
                   through its security module, after asking for the passphrase)
  own-renewal      the new .p12 imported: it replaces the expired one; old mail still opens; the
                   renewal checklist is worked through (backup, Thunderbird, a signed mail to every
                   contact)
  second-computer  a backup saved on this computer is imported in a second Thunderbird (its own
                   profile, HOME and companion data: the laptop), where the same encrypted mail opens

Bob's second address (bob@home.example, Thunderbird identity id2) is the one whose certificate
expires and is renewed; the colleagues are Fiona (fiona@example.org) and Greta
(greta@example.org). Their certificates and messages come from make-messages.sh.
"""

import email
import email.header
import email.policy
import mailbox
import os
import re
import shutil
import subprocess
import tempfile
import time

from pages import COLLECT_TEXTS_PY, JS_MOCK_PICKER

FIONA = "Fiona Colleague <fiona@example.org>"
GRETA = "Greta Example <greta@example.org>"
HOME = "bob@home.example"
PASSPHRASE = "correct horse battery"  # Bob's passphrase for the keys the companion keeps (the module's PIN)
BACKUP_PASSWORD = "laptop-backup-7"

# What the add-on may show besides its texts in the stories (locale_check.py): names, files, subjects,
# what the user typed into a search field.
STORY_DATA = [
    "Fiona Colleague", "Greta Example", "greta", "bob-home.cer", "bob-home-no-key.p12", "bob-home-expired.p12", "bob-home.p12",
    f"{HOME}.p12", "Hello from Fiona, signed", "Greta, signed last year", "Greta, with her new certificate",
    "Encrypted to your old certificate", "Encrypted to your new certificate", "C=DE,CN=Bob Reader",
]

# Chrome-context helpers of the stories, added to driver.JS_HELPERS and pages.JS_PAGES.
JS_STORIES = r"""
// Thunderbird's own dialogs while a story runs (state on the 3-pane window): a password prompt (the
// companion's security module asks for the passphrase) is answered with `pin`, any other dialog
// (an alert) accepted; each is recorded with its text and a picture.
function dialogs() {
  const g = mainWindow();
  if (!g.__storyDialogs) {
    g.__storyDialogs = { pin: "", seen: [] };
    const observer = {
      observe(win) {
        const act = async () => {
          const doc = win.document;
          const text = (doc.getElementById("infoBody")?.textContent || doc.body?.textContent || "").trim();
          const password = doc.getElementById("password1Textbox");
          let image = null;
          try {
            const shot = await snapshot(win.browsingContext);
            const c = canvasFor(g, shot.width, shot.height);
            c.getContext("2d").drawImage(shot, 0, 0);
            image = c.toDataURL("image/png");
          } catch (e) { /* a picture is a bonus */ }
          g.__storyDialogs.seen.push({ text, password: Boolean(password && !password.hidden), image });
          if (password) password.value = g.__storyDialogs.pin;
          doc.querySelector("dialog").acceptDialog();
        };
        if (win.document?.readyState === "complete") win.setTimeout(act, 0);
        else win.addEventListener("load", () => win.setTimeout(act, 0), { once: true });
      },
    };
    Services.obs.addObserver(observer, "common-dialog-loaded");
    g.__storyObserver = observer;
  }
  return g.__storyDialogs;
}
function composeWindow() { return windows("msgcompose").at(-1) ?? null; }
"""


def _slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class Story:
    """One story's numbered steps: names its screenshots and its checks."""

    def __init__(self, driver, name):
        self.d = driver
        self.name = name
        self.n = 0

    def step(self, what):
        """Starts the next step; returns the screenshot name for it."""
        self.n += 1
        self.what = what
        print(f"-- story {self.name}, step {self.n}: {what}")
        return f"story-{self.name}-{self.n}-{_slug(what)}.png"

    def check(self, name, ok, detail=""):
        self.d.check(f"story {self.name} {self.n}: {name}", ok, detail)


class Stories:
    """Mixed into driver.Driver: the FAQ's stories and their helpers."""

    def sjs(self, body, *args, timeout_s=60):
        return self.pjs(JS_STORIES + body, *args, timeout_s=timeout_s)

    # -- helpers -------------------------------------------------------------------------------------

    def story_setup(self, pki, account=True):
        """Before the stories: their names and files count as data; Thunderbird's dialogs are
        answered; with `account`, Bob's bob@example.org (id1) signs and encrypts with his
        certificate in Thunderbird's store, as set up in the account settings."""
        self.pki = pki
        self.locale_check.data |= {self.locale_check.normal(d) for d in STORY_DATA}
        # Thunderbird asks for the passphrase of the companion's security device whenever it
        # needs a key: dialogs() answers it. Marionette must leave it alone (by default it
        # dismisses a prompt that is open while a command runs).
        self.m.delete_session()
        self.m.start_session({"unhandledPromptBehavior": "ignore"})
        self.m.set_context(self.m.CONTEXT_CHROME)
        self.sjs("dialogs(); return true;")
        if account:
            self.use_certificate("id1", "bob@example.org")

    def text_before(self, key, *subs):
        """A message of the run's locale file up to its first placeholder beyond `subs` (for a
        text whose rest is a date or a number the add-on formats)."""
        message = self.messages[key]["message"]
        cut = re.search(r"\$([%d-9])" % (len(subs) + 1), message)
        head = message[:cut.start()] if cut else message
        return re.sub(r"\$(\d)", lambda m: subs[int(m.group(1)) - 1], head)

    def set_pin(self, pin):
        self.sjs("dialogs().pin = args[0]; return true;", pin)

    def dialogs_seen(self, since):
        """Thunderbird's dialogs since the `since`-th (their texts; pictures saved by the caller)."""
        return self.sjs("return dialogs().seen.slice(args[0]);", since)

    def dialog_count(self):
        return self.sjs("return dialogs().seen.length;")

    def fingerprint(self, name):
        out = subprocess.run(["openssl", "x509", "-in", os.path.join(self.pki, f"{name}.pem"), "-noout", "-fingerprint", "-sha256"],
                             capture_output=True, text=True, check=True).stdout
        return out.split("=", 1)[1].strip().replace(":", "").upper()

    def compose_from(self, identity, to, subject, body="Hello"):
        opened = self.sjs("""
          const win = await composeFrom(args[0], args[1], args[2], args[3]);
          return { ok: !!win };""", identity, to, subject, body)
        return opened.get("ok") is True

    def compose_action(self, action):
        """Clicks `action` (encrypt_on, sign_on, …) in the open compose check popup; True once done."""
        return self.sjs(r"""
          const [action] = args;
          const browser = openPopupBrowser(composeWindow());
          if (!browser) return { error: "no compose popup" };
          const clicked = await inPage(browser, `const b = document.querySelector('#actions button[data-action="${action}"]');
            if (!b) return false; b.click(); return true;`);
          if (!clicked) return false;
          const until = Date.now() + 10000;
          while (Date.now() < until) {
            const gone = await inPage(browser, `return !document.querySelector('#actions button[data-action="${action}"]');`).catch(() => false);
            if (gone) { await sleep(300); return true; }
            await sleep(200);
          }
          return false;""", action)

    def compose_switches(self):
        """The S/MIME switches the open compose check offers (sign_on, encrypt_off, …)."""
        return self.sjs(r"""
          const browser = openPopupBrowser(composeWindow());
          if (!browser) return [];
          return inPage(browser, `return [...document.querySelectorAll("#switches button")].map((b) => b.dataset.action);`);""")

    def compose_row_action(self, address, action):
        """Clicks a recipient's `action` (ask_signed, decide, remove) in the open compose check."""
        return self.sjs(r"""
          const [address, action] = args;
          const browser = openPopupBrowser(composeWindow());
          if (!browser) return { error: "no compose popup" };
          return inPage(browser, `const b = document.querySelector('#recipients li[data-address="${address}"] button[data-action="${action}"]');
            if (!b) return false; b.click(); return true;`);""", address, action)

    def close_compose(self):
        self.sjs("""
          const win = composeWindow();
          if (!win) return true;
          for (const p of win.document.querySelectorAll("panel")) if (p.state === "open") p.hidePopup();
          await sleep(300);
          // Closed unchanged: no "save as draft?" question.
          win.gContentChanged = false;
          if (win.gMsgCompose) win.gMsgCompose.bodyModified = false;
          win.close();
          await sleep(300);
          return true;""")

    def send_later(self, subject, png):
        """Closes the check, saves a picture of the compose window as it is sent (`png`), and
        sends it to the outbox (Send Later); returns {closed, raw, signed, encrypted}: whether the
        window closed, and the message as it left. Sending starts in its own script: a passphrase
        prompt may open while it runs."""
        seen = self.dialog_count()
        url = self.sjs(r"""
          const win = composeWindow();
          for (const p of win.document.querySelectorAll("panel")) if (p.state === "open") p.hidePopup();
          await sleep(400);
          const shot = await snapshot(win.browsingContext);
          const c = canvasFor(win, shot.width, shot.height);
          c.getContext("2d").drawImage(shot, 0, 0);
          win.__storySending = args[0];
          win.setTimeout(() => win.goDoCommand("cmd_sendLater"), 0);
          return c.toDataURL("image/png");""", subject)
        self.save_png(url, png)
        outbox = self.sjs(r"""
          const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
          const outbox = MailServices.accounts.localFoldersServer.rootFolder.getFolderWithFlags(Ci.nsMsgFolderFlags.Queue);
          return outbox?.filePath.path ?? null;""")
        # Sent once the message is in the outbox and its window gone (Thunderbird may keep it a
        # while, hidden, after writing the message).
        until = time.monotonic() + 90
        raw, closed = b"", False
        while time.monotonic() < until:
            raw = self.outbox_message(outbox, subject)
            closed = self.quiet_js(JS_STORIES + r"""
              const win = windows("msgcompose").find((w) => w.__storySending === args[0]);
              return !win || win.closed || !win.gMsgCompose || win.document.hidden;""", subject)
            if raw and closed:
                break
            time.sleep(0.5)
        return {"closed": closed, "raw": raw, "dialogs": [d.get("text", "")[:200] for d in self.dialogs_seen(seen)],
                "signed": b"multipart/signed" in raw or b"signed-data" in raw,
                "encrypted": b"enveloped-data" in raw}

    @staticmethod
    def outbox_message(path, subject):
        """The newest message with `subject` in the outbox (an mbox), as bytes; b"" if none."""
        if not path or not os.path.exists(path):
            return b""
        found = b""
        for message in mailbox.mbox(path):
            header = email.header.decode_header((message["Subject"] or "").replace("\r", "").replace("\n", ""))
            if str(email.header.make_header(header)) == subject:
                found = message.as_bytes()
        return found

    def openssl_decrypt(self, raw, key):
        """What the holder of pki/KEY.key reads: the decrypted, then verified message text; None
        when it cannot be decrypted (or the signature inside does not verify)."""
        with tempfile.TemporaryDirectory() as tmp:
            sealed = os.path.join(tmp, "sealed.eml")
            with open(sealed, "wb") as f:
                f.write(raw)
            opened = subprocess.run(["openssl", "cms", "-decrypt", "-in", sealed, "-inkey", os.path.join(self.pki, f"{key}.key"),
                                     "-recip", os.path.join(self.pki, f"{key}.pem")], capture_output=True)
            if opened.returncode != 0:
                return None
            inner = os.path.join(tmp, "inner.eml")
            with open(inner, "wb") as f:
                f.write(opened.stdout)
            return self.openssl_verify_file(inner)

    def openssl_verify(self, raw):
        """The text of a signed message as its recipient's openssl verifies it (None: no valid
        signature from a certificate of the test CA)."""
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "signed.eml")
            with open(path, "wb") as f:
                f.write(raw)
            return self.openssl_verify_file(path)

    def openssl_verify_file(self, path):
        verified = subprocess.run(["openssl", "cms", "-verify", "-in", path, "-CAfile", os.path.join(self.pki, "e2e-ca.pem"),
                                   "-purpose", "any", "-signer", path + ".signer.pem"], capture_output=True)
        if verified.returncode != 0:
            return None
        self.last_signer = subprocess.run(["openssl", "x509", "-in", path + ".signer.pem", "-noout", "-fingerprint", "-sha256"],
                                          capture_output=True, text=True).stdout.split("=", 1)[-1].strip().replace(":", "").upper()
        return self.plain_text(verified.stdout)

    @staticmethod
    def plain_text(entity):
        """The text of a MIME entity's text/plain part(s), transfer encoding undone."""
        message = email.message_from_bytes(entity, policy=email.policy.default)
        parts = [p for p in message.walk() if p.get_content_type() == "text/plain"]
        return "\n".join(p.get_content() for p in parts)

    def open_story_message(self, name, kind="tab"):
        """Copies messages/NAME.eml into the E2E folder and opens it (a tab by default); the
        opening runs after this script returns, as a passphrase prompt may block it."""
        path = os.path.join(os.path.dirname(self.pki), f"{name}.eml")
        self.js(r"""
          const [path, kind] = args;
          const { MailUtils } = ChromeUtils.importESModule("resource:///modules/MailUtils.sys.mjs");
          const hdr = await copyIntoE2eFolder(path);
          const main = windows("mail:3pane")[0];
          main.setTimeout(() => {
            if (kind === "tab") main.document.getElementById("tabmail").openTab("mailMessageTab", { messageURI: hdr.folder.getUriForMsg(hdr), background: false });
            else MailUtils.openMessageInNewWindow(hdr);
          }, 0);
          return true;
        """, path, kind)

    def settled_button(self, not_labels, timeout_s=45):
        """The header button of the message tab in front once its label is none of `not_labels`.
        Asked in short scripts: a passphrase prompt may open meanwhile, and a script running then
        gets no answer."""
        read = r"""
          const b = buttonOf(openedWindow("tab"));
          if (!b) return { label: null };
          const style = b.getAttribute("style") || "";
          const icon = (style.match(/--webextension-toolbar-image:[^;]*?url\("([^"]+)"/) || [])[1] || "";
          return { label: b.getAttribute("label"), title: b.getAttribute("tooltiptext"), badge: b.getAttribute("badge") || "",
                   icon: icon.replace(/^moz-extension:\/\/[^/]+/, "") };"""
        until = time.monotonic() + timeout_s
        last = None
        while time.monotonic() < until:
            last = self.quiet_js(read) or last
            if last and last.get("label") and last["label"] not in not_labels:
                time.sleep(0.4)  # label, tooltip, icon and badge are set one after another
                return self.quiet_js(read) or last
            time.sleep(0.3)
        return {"timedOut": True, "last": last}

    def quiet_js(self, body, *args):
        """A short script while a passphrase prompt may open: its answer may be lost (None)."""
        try:
            return self.js(body, *args, timeout_s=10)
        except Exception as e:  # noqa: BLE001 - a lost answer is asked again by the caller
            print(f"   (asked again: {type(e).__name__})")
            return None

    def message_shown(self, story, name, label, title, png, popup_png=None):
        """Waits for the header button of the message in front, checks its label and tooltip,
        saves the window (and with `popup_png` the details popup, whose texts are checked);
        returns {button, popup}."""
        shown = self.settled_button([self.text("label_checking"), self.text("actionLabel")])
        story.check(f"{name}: the header button says {label!r}", shown.get("label") == label, shown)
        if title is not None:
            story.check(f"{name}: its tooltip", shown.get("title") == title, f"{shown.get('title')!r} != {title!r}")
        self.window_shot("tab", png)
        popup = None
        if popup_png:
            popup = self.popup_shot("tab", popup_png, [label], collect=True)
            self.check_texts(popup_png[:-len(".png")], popup.get("texts"))
            popup["paragraphs"] = [t["text"] for t in popup.get("texts") or []]
        return {"button": shown, "popup": popup}

    def close_tab(self):
        self.js("""const win = windows("mail:3pane")[0];
                   for (const p of win.document.querySelectorAll("panel")) if (p.state === "open") p.hidePopup();
                   const t = win.document.getElementById("tabmail"); if (t.currentTabInfo.mode.name === "mailMessageTab") t.closeTab(); return true;""")

    def use_certificate(self, identity, email, newest=True):
        """Chooses in the account settings of `identity` the certificate for `email` (on any token:
        the companion's module included), the newest or the oldest, for signing and encryption."""
        return self.js(r"""
          const [key, email, newest] = args;
          const certdb = Cc["@mozilla.org/security/x509certdb;1"].getService(Ci.nsIX509CertDB);
          const certs = certdb.getCerts().filter((c) => c.emailAddress === email)
            .sort((a, b) => a.validity.notBefore - b.validity.notBefore);
          const cert = newest ? certs.at(-1) : certs[0];
          if (!cert) return { error: "no certificate for " + email + " among " + certdb.getCerts().length };
          const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
          const identity = MailServices.accounts.getIdentity(key);
          identity.setUnicharAttribute("signing_cert_name", cert.displayName);
          identity.setUnicharAttribute("encryption_cert_name", cert.displayName);
          identity.setCharAttribute("signing_cert_dbkey", cert.dbKey);
          identity.setCharAttribute("encryption_cert_dbkey", cert.dbKey);
          return { token: cert.tokenName, name: cert.displayName, notAfter: cert.validity.notAfter / 1000 };
        """, identity, email, newest)

    def connect_module(self, story, png):
        """My certificates: 'Connect S/MIME Companion to Thunderbird' loads the security module."""
        path = "pages/identities.html"
        self.open_page(path)
        state = self.page(path, r"""
          const button = document.getElementById("install-module");
          if (!document.body.dataset.moduleClicked) {
            if (button.hidden) return { before: document.getElementById("module-state").textContent, hidden: true };
            document.body.dataset.moduleClicked = "1";
            button.click();
            return null;
          }
          const state = document.getElementById("module-state").textContent;
          const notice = document.getElementById("notice");
          return state === arguments[0] && !notice.hidden && notice.innerText ? { state, notice: notice.innerText } : null;""",
                          self.text("module_state_loaded"), wait=True, timeout_s=30)
        story.check("the security module is connected: Thunderbird now uses the companion's keys",
                    state.get("state") == self.text("module_state_loaded") and self.text("module_installed") in state.get("notice", ""), state)
        self.page_shot(path, png, max_height=3000)

    def device_login(self, story):
        """Thunderbird asks for the passphrase of the companion's security device (as it does when
        a key is first needed, or on Security Devices → Log In) and the user types it; checks that
        the prompt named the device and that Thunderbird is logged in after. Done before opening a
        message that needs the key: opened while logged out, Thunderbird's own message display
        sometimes reports it cannot decrypt although the login and the decryption succeed (a race
        with another decryption of the same message, seen in about one run in three)."""
        seen = self.dialog_count()
        self.set_pin(PASSPHRASE)
        self.sjs(r"""
          const db = Cc["@mozilla.org/security/pkcs11moduledb;1"].getService(Ci.nsIPKCS11ModuleDB);
          for (const mod of await db.listModules()) {
            for (const slot of mod.slots) {
              if (slot.tokenName !== "S/MIME Companion") continue;
              const token = slot.getToken();
              if (!token.isLoggedIn) mainWindow().setTimeout(() => { try { token.login(false); } catch (e) { /* checked below */ } }, 0);
              return true;
            }
          }
          return false;""")
        until = time.monotonic() + 30
        logged_in = None
        while time.monotonic() < until:
            logged_in = self.quiet_js(r"""
              const db = Cc["@mozilla.org/security/pkcs11moduledb;1"].getService(Ci.nsIPKCS11ModuleDB);
              for (const mod of await db.listModules()) {
                for (const slot of mod.slots) if (slot.tokenName === "S/MIME Companion") return slot.getToken().isLoggedIn;
              }
              return null;""")
            if logged_in:
                break
            time.sleep(0.3)
        prompts = [d for d in self.dialogs_seen(seen) if d.get("password")]
        story.check("Thunderbird asked once for the passphrase of the companion's security device, and is logged in to it",
                    len(prompts) == 1 and "S/MIME Companion" in prompts[0].get("text", "") and logged_in is True,
                    [d.get("text") for d in prompts])
        return prompts[0].get("image") if prompts else None

    def identity_cards(self, path):
        return self.page(path, r"""
          return [...document.querySelectorAll(".identity")].map((card) => ({
            fingerprint: card.dataset.fingerprint, title: card.querySelector(".title").textContent,
            badges: [...card.querySelectorAll(".badges .badge")].map((b) => b.textContent),
            status: card.querySelector(".status-line").textContent, text: card.innerText }));""")

    def checklist(self, path, email, kind):
        """The checklist of `kind` (expired, expiring, renewed) for `email` on My certificates."""
        return self.page(path, r"""
          const [email, kind] = arguments;
          const list = [...document.querySelectorAll(`#checklists .checklist.${kind}`)].find((l) => l.querySelector("h3").textContent.includes(email));
          if (!list) return null;
          return { heading: list.querySelector("h3").textContent,
                   steps: [...list.querySelectorAll("ol.steps li")].map((li) => ({ id: li.dataset.step, state: li.className, text: li.innerText })),
                   waiting: [...list.querySelectorAll(".waiting li .address")].map((n) => n.textContent) };""",
                         email, kind, wait=True, timeout_s=20)

    def picker_folder(self):
        """Where the stand-in file picker (pages.JS_MOCK_PICKER) saves: the folder it was first
        registered with (the artifacts, by the parts before the stories)."""
        self.js(JS_MOCK_PICKER, self.artifacts)
        return self.js(r"""
          const picker = Cc["@mozilla.org/filepicker;1"].createInstance(Ci.nsIFilePicker);
          picker.defaultString = "x";
          return picker.file.parent.path;""")

    def take_backup(self, name):
        """Moves a backup the picker saved out of its folder (the artifacts) into a private temporary
        folder: it holds a (test) private key. Returns its new path, or None."""
        source = os.path.join(self.picker_folder(), name)
        if not os.path.exists(source):
            return None
        target = os.path.join(tempfile.mkdtemp(prefix="story-backup-"), name)
        shutil.move(source, target)
        return target

    def backup_identity(self, path, fingerprint, password, marker):
        """Saves a backup of the identity `fingerprint` from its card on My certificates (the file
        picker answered by a stand-in); returns the notice then shown."""
        return self.page(path, r"""
          const [fingerprint, passphrase, password, marker] = arguments;
          const card = document.querySelector(`.identity[data-fingerprint="${fingerprint}"]`);
          if (!card) return null;
          if (document.body.dataset.backupRound !== marker) {
            document.getElementById("notice").hidden = true;
            const form = card.querySelector(".backup-form");
            if (form.hidden) card.querySelector("button.backup").click();
            form.querySelector(".backup-passphrase").value = passphrase;
            form.querySelector(".backup-password").value = password;
            form.querySelector(".backup-password-repeat").value = password;
            document.body.dataset.backupRound = marker;
            form.requestSubmit();
            return null;
          }
          const notice = document.getElementById("notice");
          return notice.hidden ? null : { notice: notice.innerText };""", fingerprint, PASSPHRASE, password, marker, wait=True, timeout_s=40)

    # -- the stories ---------------------------------------------------------------------------------

    def story_file_without_key(self, pki):
        """Das Zertifikat liegt in einem anderen Ordner: it was installed without its private key."""
        s = Story(self, "file-without-key")
        path = "pages/identities.html"
        self.open_page(path)
        before = len(self.identity_cards(path) or [])

        png = s.step("a .cer from the CA")
        result = self.import_p12(path, os.path.join(pki, "bob-home.cer"), "", None)
        s.check("the import is refused: the file is a certificate without its private key, and the text says where the key is "
                "and what to ask the CA for",
                self.text("import_failed", "bob-home.cer") in result.get("headline", "")
                and self.text("error_certificate_without_key") in result.get("headline", "") and not result.get("checks"), result)
        self.page_shot(path, png)

        png = s.step("a .p12 exported without the key")
        result = self.import_p12(path, os.path.join(pki, "bob-home-no-key.p12"), "home-pass", None)
        s.check("the import is refused: the file holds the certificate but not its private key; export it again with the key "
                "on the old computer, or have it re-issued",
                self.text("import_failed", "bob-home-no-key.p12") in result.get("headline", "")
                and self.text("error_pkcs12_without_key") in result.get("headline", "") and not result.get("checks"), result)
        self.page_shot(path, png)
        after = len(self.identity_cards(path) or [])
        s.check("nothing was stored: My certificates lists what it listed before", after == before, f"{before} -> {after}")

    def story_key_exchange(self):
        """Wie findet der Austausch der Keys statt? A signed mail there, a signed mail back."""
        s = Story(self, "key-exchange")
        png = s.step("compose to a new colleague")
        s.check("a compose window to Fiona", self.compose_from("id1", FIONA, "Hello Fiona"))
        shown = self.compose_popup(click=True, name=png)
        fiona = {r["address"]: r for r in shown.get("rows", [])}.get("fiona@example.org", {})
        s.check("the check says Fiona cannot receive encrypted mail yet: no certificate, and how the key exchange works",
                shown.get("state") == self.text("compose_headline_some_cannot_one", "1", "1")
                and fiona.get("reason") == "never_seen" and shown.get("keyExchange") is True
                and self.text("recipient_never_seen_advice", "fiona@example.org") in fiona.get("text", ""), shown)
        s.check("Send will sign ('always sign'), not encrypt; encryption is not offered",
                shown.get("headline") == self.text("compose_outcome_signed") and "encrypt_on" not in shown.get("actions", []), shown)
        s.check("the check offers to ask Fiona for a signed message", "ask_signed" in fiona.get("actions", []), fiona)

        png = s.step("ask her for a signed message")
        subject = self.text("ask_signed_subject")
        s.check("'ask for a signed message' opens a new message to Fiona", self.compose_row_action("fiona@example.org", "ask_signed"))
        asked = self.sjs(r"""
          const until = Date.now() + 20000;
          while (Date.now() < until) {
            const win = composeWindow();
            const subject = win?.document.getElementById("msgSubject")?.value;
            if (subject === args[0] && win.gMsgCompose) {
              await sleep(1500); // the add-on switches signing on
              return { subject, to: [...win.document.querySelectorAll("mail-address-pill")].map((p) => p.emailAddress),
                       signed: win.gSendSigned, encrypted: win.gSendEncrypted };
            }
            await sleep(200);
          }
          return { timedOut: true };""", subject)
        s.check("the request goes to Fiona, signed (it carries Bob's certificate), not encrypted",
                asked.get("to") == ["fiona@example.org"] and asked.get("signed") is True and not asked.get("encrypted"), asked)
        sent = self.send_later(subject, png)
        s.check("the request left signed", sent["closed"] and sent["signed"] and not sent["encrypted"],
                {k: v for k, v in sent.items() if k != "raw"})
        s.check("Fiona's side verifies Bob's signature (and so gets his certificate)", bool(self.openssl_verify(sent["raw"])))
        self.close_compose()  # "Hello Fiona", not sent

        png = s.step("her signed reply arrives")
        self.open_story_message("story-fiona")
        self.message_shown(s, "Fiona's signed mail", self.text("state_valid"), self.text("look_valid_title", FIONA), png,
                           popup_png=png.replace(".png", "-popup.png"))
        self.close_tab()

        png = s.step("compose again: she can receive encrypted mail")
        s.check("a compose window to Fiona", self.compose_from("id1", FIONA, "Re: Hello from Fiona, signed",
                                                               "Thank you, Fiona: this reply is encrypted."))
        shown = self.compose_popup(click=True, name=png)
        fiona = {r["address"]: r for r in shown.get("rows", [])}.get("fiona@example.org", {})
        s.check("the check now says Fiona can receive encrypted mail, with the certificate her mail brought",
                shown.get("state") == self.text("compose_headline_one_can") and fiona.get("reason") == "can"
                and "Fiona Colleague" in fiona.get("text", "") and shown.get("keyExchange") is False, shown)
        s.check("encryption is offered", "encrypt_on" in shown.get("actions", []), shown.get("actions"))

        png = s.step("encryption switched on")
        s.check("'encrypt' in the check switches Thunderbird's encryption on", self.compose_action("encrypt_on"))
        shown = self.compose_popup(click=False, name=png)
        s.check("the check says Send will encrypt and sign; encryption can be switched off again",
                shown.get("headline") == self.text("compose_outcome_encrypted_signed") and "encrypt_off" in self.compose_switches(), shown)

        png = s.step("the encrypted reply leaves and Fiona reads it")
        sent = self.send_later("Re: Hello from Fiona, signed", png)
        s.check("the reply left signed and encrypted", sent["closed"] and sent["encrypted"], {k: v for k, v in sent.items() if k != "raw"})
        text = self.openssl_decrypt(sent["raw"], "fiona") if sent["raw"] else None
        s.check("Fiona decrypts it with her key (openssl cms -decrypt) and Bob's signature inside verifies",
                text is not None and "this reply is encrypted" in text, (text or "")[:200])

    def contact_details(self, address):
        """The contacts page showing `address`: its encryption state and certificates (their text
        without spaces, upper case, so a fingerprint can be found in it)."""
        contacts = "pages/contacts.html"
        self.open_page(contacts)
        return self.page(contacts, r"""
          const [address] = arguments;
          const search = document.getElementById("search");
          if (search.value !== address) { search.value = address; search.dispatchEvent(new Event("input", { bubbles: true })); return null; }
          if (document.getElementById("contact-address").textContent !== address) {
            document.querySelector(`#contacts button[data-address="${address}"]`)?.click();
            return null;
          }
          const box = document.getElementById("encryption");
          return { state: box.dataset.state ?? null, title: box.querySelector("strong").textContent, advice: box.querySelector(".advice").textContent,
                   pending: [...document.querySelectorAll("#pending .pending-certificate")].map((p) => p.innerText.replace(/\s+/g, "").toUpperCase()),
                   certificates: [...document.querySelectorAll("#certificates .certificate")].map((c) => c.innerText.replace(/\s+/g, "").toUpperCase()) };""",
                         address, wait=True)

    def story_stale_key(self):
        """Der Austausch der Schlüssel ist erfolgt. Jedoch kann der Empfänger meine Mails nicht lesen."""
        s = Story(self, "stale-key")
        old_fp, new_fp = self.fingerprint("greta-old"), self.fingerprint("greta")

        png = s.step("Greta's signed mail arrives")
        self.open_story_message("story-greta-old")
        self.message_shown(s, "Greta's signed mail", self.text("state_valid"), self.text("look_valid_title", GRETA), png)
        self.close_tab()

        png = s.step("compose: the check says she can receive encrypted mail")
        s.check("a compose window to Greta", self.compose_from("id1", GRETA, "For Greta, encrypted", "Greta, this is for your eyes only."))
        shown = self.compose_popup(click=True, name=png)
        greta = {r["address"]: r for r in shown.get("rows", [])}.get("greta@example.org", {})
        s.check("Greta can receive encrypted mail, as far as the companion knows", greta.get("reason") == "can", shown)
        s.check("'encrypt' in the check switches encryption on", self.compose_action("encrypt_on"))

        png = s.step("sent, but she cannot read it")
        sent = self.send_later("For Greta, encrypted", png)
        s.check("the mail left encrypted", sent["closed"] and sent["encrypted"], {k: v for k, v in sent.items() if k != "raw"})
        s.check("Greta cannot decrypt it with her key: it went to her old certificate, whose key she no longer has",
                sent["raw"] and self.openssl_decrypt(sent["raw"], "greta") is None
                and "for your eyes only" in (self.openssl_decrypt(sent["raw"], "greta-old") or ""))

        png = s.step("her mail with a new certificate: a decision waits")
        self.open_story_message("story-greta-new")
        self.message_shown(s, "Greta's mail with her new certificate", self.text("state_valid"), None, png)
        found = self.banner_texts("tab")
        s.check("a banner says a new certificate of Greta's waits for a decision",
                self.text("decision_banner_headline", "greta@example.org") in [t["text"] for t in found.get("texts", [])], found)
        self.check_texts(png[:-len(".png")] + " banner", found.get("texts"))
        card = self.decision_card(png.replace(".png", "-popup.png"), close=True)
        blocks = card.get("blocks", [])
        s.check("the details popup shows the decision card: the certificate in use (the old one) beside the new one",
                card.get("state") == "pending" and card.get("title") == self.text("decision_pending_title", "greta@example.org")
                and [b["heading"] for b in blocks] == [self.text("decision_in_use_heading"), self.text("decision_new_heading")]
                and old_fp[:16] in blocks[0]["text"] and new_fp[:16] in blocks[1]["text"], card)
        self.close_tab()

        png = s.step("compose: still the old certificate, a decision waits")
        s.check("a compose window to Greta", self.compose_from("id1", GRETA, "For Greta, again"))
        shown = self.compose_popup(click=True, name=png)
        greta = {r["address"]: r for r in shown.get("rows", [])}.get("greta@example.org", {})
        s.check("the check says mail to Greta would use her previous certificate, which she may no longer read, and offers "
                "to decide on the contacts page",
                greta.get("reason") == "pending_decision" and self.text("recipient_can_pending") in greta.get("text", "")
                and self.text("recipient_can_pending_advice", "greta@example.org") in greta.get("text", "")
                and "decide" in greta.get("actions", []), shown)
        s.check("'decide on the contacts page' opens it", self.compose_row_action("greta@example.org", "decide"))

        png = s.step("the contacts page: waiting for a decision")
        shown = self.contact_details("greta@example.org")
        s.check("the contacts page says a decision waits, and shows the certificate in use (old) and the new one",
                shown.get("state") == "pending" and shown.get("title") == self.text("contact_waiting_decision")
                and len(shown.get("certificates", [])) == 2 and old_fp in shown["certificates"][0] and shown.get("pending"), shown)
        self.page_shot("pages/contacts.html", png, max_height=1800)
        self.close_compose()

        png = s.step("the fix: delete the contact")
        contacts = "pages/contacts.html"
        dialog = self.page(contacts, r"""
          const open = document.querySelector("dialog.confirm[open]");
          if (open) return { title: open.querySelector("h2").textContent, lines: [...open.querySelectorAll("li")].map((li) => li.textContent) };
          document.getElementById("delete").click();
          return null;""", wait=True)
        s.check("deleting asks first, and says it is the fix for a stale certificate: her next signed mail brings the right one",
                dialog.get("title") == self.text("contact_delete_title", "greta@example.org")
                and self.text("contact_delete_recover") in dialog.get("lines", []), dialog)
        self.page_shot(contacts, png, max_height=1800)
        deleted = self.page(contacts, r"""
          const open = document.querySelector("dialog.confirm[open]");
          if (open) { open.querySelector("button.danger").click(); return null; }
          const notice = document.getElementById("notice");
          if (notice.hidden || !notice.innerText.includes("greta@example.org")) return null;
          // The details are shown again once deleted: the history stays, the certificates go.
          const certificates = document.querySelectorAll("#certificates .certificate").length;
          return certificates ? null : { notice: notice.innerText, certificates };""", wait=True)
        s.check("the contact is deleted with both certificates", deleted.get("certificates") == 0
                and self.text("notice_contact_deleted_other", "2", "greta@example.org") in deleted.get("notice", ""), deleted)
        png = s.step("deleted")
        self.page_shot(contacts, png, max_height=1800)

        png = s.step("compose: no certificate until her next signed mail")
        s.check("a compose window to Greta", self.compose_from("id1", GRETA, "For Greta, once more"))
        shown = self.compose_popup(click=True, name=png)
        greta = {r["address"]: r for r in shown.get("rows", [])}.get("greta@example.org", {})
        s.check("the check says Greta has no certificate here, and explains the key exchange",
                greta.get("reason") == "never_seen" and shown.get("keyExchange") is True, shown)
        self.close_compose()

        png = s.step("her next signed mail brings the new certificate")
        self.open_story_message("story-greta-next")
        self.message_shown(s, "Greta's next signed mail", self.text("state_valid"), self.text("look_valid_title", GRETA), png)
        self.close_tab()

        png = s.step("compose: she can receive encrypted mail again")
        s.check("a compose window to Greta", self.compose_from("id1", GRETA, "For Greta, to your new key", "Greta, now you can read this."))
        shown = self.compose_popup(click=True, name=png)
        greta = {r["address"]: r for r in shown.get("rows", [])}.get("greta@example.org", {})
        s.check("Greta can receive encrypted mail again, with no decision waiting", greta.get("reason") == "can", shown)
        s.check("'encrypt' in the check switches encryption on", self.compose_action("encrypt_on"))

        png = s.step("sent, and she reads it")
        sent = self.send_later("For Greta, to your new key", png)
        text = self.openssl_decrypt(sent["raw"], "greta") if sent["raw"] else None
        s.check("the mail left encrypted to her new certificate: Greta decrypts it with her new key",
                sent["closed"] and sent["encrypted"] and text is not None and "now you can read this" in text, (text or "")[:200])
        shown = self.contact_details("greta@example.org")
        s.check("the contacts page shows her new certificate only, used for encryption",
                shown.get("state") == "can" and len(shown.get("certificates", [])) == 1 and new_fp in shown["certificates"][0], shown)

    def story_own_expired(self):
        """Mein Zertifikat ist abgelaufen. Kann ich dann noch verschlüsselte E-Mails lesen?"""
        s = Story(self, "own-expired")
        path = "pages/identities.html"
        self.open_page(path)

        png = s.step("my certificates says it expired")
        result = self.import_p12(path, os.path.join(self.pki, "bob-home-expired.p12"), "home-pass", PASSPHRASE)
        failed = [c["check"] for c in result.get("checks", []) if not c["ok"]]
        s.check("the (long installed) certificate is kept, its one failed check: expired", failed == ["not_expired"], result)
        listed = self.checklist(path, HOME, "expired")
        s.check("My certificates says the certificate expired, and to ask the provider for a new one",
                listed.get("heading", "").startswith(self.text_before("expiry_heading_expired", HOME))
                and any(step["id"] == "request" and self.text_before("expiry_step_request_expired") in step["text"]
                        for step in listed.get("steps", [])), listed)
        self.page_shot(path, png, max_height=3000)

        png = s.step("connect the companion to Thunderbird")
        self.connect_module(s, png)
        chosen = self.use_certificate("id2", HOME)
        s.check("Thunderbird's account settings for bob@home.example name the certificate, on the companion's security device",
                chosen.get("token") == "S/MIME Companion", chosen)

        png = s.step("compose signed: the check says the certificate expired")
        s.check("a compose window from bob@home.example", self.compose_from("id2", FIONA, "Signed with an expired certificate?"))
        shown = self.compose_popup(click=True, name=png)
        notes = shown.get("notes", [])
        s.check("the compose check says the own certificate expired and signing with it is not possible",
                any(n.startswith(self.text_before("compose_note_own_expired", HOME)) for n in notes)
                and "open_identities" in shown.get("actions", []), shown)
        s.check("the headline says Send will fail: Thunderbird cannot sign with the expired certificate",
                shown.get("headline") == self.text("compose_outcome_own_expired"), shown.get("headline"))
        self.close_compose()

        png = s.step("old mail still opens")
        image = self.device_login(s)
        if image:
            self.save_png(image, png.replace(".png", "-passphrase.png"))
        self.open_story_message("story-home-old")
        opened = self.message_shown(s, "old mail encrypted to the expired certificate", self.text("label_encrypted_signed"),
                                    self.text("look_encryptedSigned_title", FIONA), png, popup_png=png.replace(".png", "-popup.png"))
        paragraphs = opened["popup"]["paragraphs"] if opened["popup"] else []
        s.check("the details say the message is encrypted to the user's certificate, which has expired: keep its key",
                self.text("enc_key_expired") in paragraphs and self.text("field_encrypted_to_you") in paragraphs, paragraphs)
        self.close_tab()

    def story_own_renewal(self):
        """Was passiert nach der Verlängerung eines S/MIME Zertifikates?"""
        s = Story(self, "own-renewal")
        path = "pages/identities.html"
        self.open_page(path)

        png = s.step("import the new certificate")
        result = self.import_p12(path, os.path.join(self.pki, "bob-home.p12"), "home-pass", PASSPHRASE)
        checks = result.get("checks", [])
        s.check("the import passes every check and says it replaces the older certificate: a renewal",
                checks and all(c["ok"] for c in checks) and self.text("import_done", HOME) in result.get("headline", "")
                and self.text("import_replaced_one") in result.get("headline", ""), result)
        listed = self.checklist(path, HOME, "renewed")
        s.check("the renewal checklist appears", listed.get("steps") and listed["steps"][0]["id"] == "imported", listed)
        cards = {c["title"] + c["status"]: c for c in self.identity_cards(path)}
        replaced = [c for c in cards.values() if HOME in c["text"] and self.text("identity_badge_replaced") in c["badges"]]
        s.check("the old certificate is kept, marked replaced", len(replaced) == 1, list(cards.values()))
        self.page_shot(path, png, max_height=3000)

        png = s.step("old mail still opens")
        # The new key needs the passphrase once more: the security device logs Thunderbird out
        # when it next looks (docs/PKCS11.md).
        logged_out = self.sjs(r"""
          const db = Cc["@mozilla.org/security/pkcs11moduledb;1"].getService(Ci.nsIPKCS11ModuleDB);
          const until = Date.now() + 15000;
          while (Date.now() < until) {
            for (const mod of await db.listModules()) {
              for (const slot of mod.slots) {
                if (slot.tokenName === "S/MIME Companion" && !slot.getToken().isLoggedIn) return true;
              }
            }
            await sleep(300);
          }
          return false;""")
        s.check("after the import, Thunderbird's login to the companion's device has ended (the new key needs the passphrase)",
                logged_out is True, logged_out)
        self.device_login(s)
        self.open_story_message("story-home-old")
        opened = self.message_shown(s, "old mail encrypted to the replaced certificate", self.text("label_encrypted_signed"),
                                    self.text("look_encryptedSigned_title", FIONA), png, popup_png=png.replace(".png", "-popup.png"))
        paragraphs = opened["popup"]["paragraphs"] if opened["popup"] else []
        s.check("the details say it was encrypted to an older certificate that has been replaced",
                self.text("enc_key_replaced") in paragraphs, paragraphs)
        self.close_tab()

        png = s.step("checklist: backup")
        self.open_page(path)
        new = [c for c in self.identity_cards(path) if HOME in c["text"] and self.text("identity_badge_replaced") not in c["badges"]
               and c["fingerprint"] == self.fingerprint("bob-home").lower()]
        fingerprint = new[0]["fingerprint"] if new else self.fingerprint("bob-home").lower()
        self.picker_folder()
        saved = self.backup_identity(path, fingerprint, BACKUP_PASSWORD, "renewal")
        backup = self.take_backup(f"{HOME}.p12")
        s.check("the backup of the new certificate is saved", self.text("backup_saved", f"{HOME}.p12") in saved.get("notice", "")
                and backup is not None, saved)
        if backup:
            shutil.rmtree(os.path.dirname(backup), ignore_errors=True)
        listed = self.checklist(path, HOME, "renewed")
        state = {st["id"]: st["state"] for st in listed.get("steps", [])}
        s.check("the checklist ticks the backup off", state.get("backup") == "done", listed)
        self.page_shot(path, png, max_height=3000)

        png = s.step("checklist: Thunderbird uses the new certificate")
        chosen = self.use_certificate("id2", HOME, newest=True)
        s.check("the account settings name the new certificate",
                chosen.get("token") == "S/MIME Companion" and chosen.get("notAfter", 0) > time.time() * 1000, chosen)
        self.open_page(path)
        listed = self.checklist(path, HOME, "renewed")
        state = {st["id"]: st["state"] for st in listed.get("steps", [])}
        s.check("the checklist ticks Thunderbird off", state.get("thunderbird") == "done", listed)
        waiting = listed.get("waiting", [])
        s.check("every contact still waits for a signed mail with the new certificate",
                "fiona@example.org" in waiting and "greta@example.org" in waiting, waiting)
        self.page_shot(path, png, max_height=3000)

        png = s.step("checklist: a signed mail to every contact")
        s.check("a compose window from bob@home.example to every waiting contact",
                self.compose_from("id2", ", ".join(waiting), "My new certificate", "Hello, this signed mail brings my new certificate. Bob"))
        self.compose_popup(click=True, name=png)
        sent = self.send_later("My new certificate", png.replace(".png", "-sent.png"))
        s.check("the mail left", sent["closed"] and (sent["signed"] or sent["encrypted"]), {k: v for k, v in sent.items() if k != "raw"})
        # Encrypted too when every contact can receive it (IT's option): Fiona opens it then.
        self.last_signer = None
        text = self.openssl_decrypt(sent["raw"], "fiona") if sent["encrypted"] else self.openssl_verify(sent["raw"]) if sent["raw"] else None
        s.check("its recipients verify the signature: it is made with the new certificate",
                text is not None and "brings my new certificate" in text and self.last_signer == self.fingerprint("bob-home"),
                self.last_signer)

        png = s.step("checklist done")
        self.open_page(path)
        listed = self.page(path, r"""
          const [email] = arguments;
          const list = [...document.querySelectorAll("#checklists .checklist.renewed")].find((l) => l.querySelector("h3").textContent.includes(email));
          if (!list) return null;
          const steps = [...list.querySelectorAll("ol.steps li")].map((li) => ({ id: li.dataset.step, state: li.className, text: li.innerText }));
          const contacts = steps.find((st) => st.id === "contacts");
          return contacts && contacts.state === "done" ? { steps, waiting: list.querySelectorAll(".waiting li").length } : null;""",
                           HOME, wait=True, timeout_s=20)
        steps = listed.get("steps", [])
        contacts = next((st for st in steps if st["id"] == "contacts"), {})
        s.check("every step is done: the contacts step counts everyone",
                steps and all(st["state"] in ("done", "info") for st in steps)
                and self.text("renewal_step_contacts", str(len(waiting)), str(len(waiting))) in contacts.get("text", ""), listed)
        self.page_shot(path, png, max_height=3000)

    def story_second_computer(self, second):
        """Ist es möglich ein S/MIME Zertifikat auf mehreren Rechnern zu verwenden?"""
        s = Story(self, "second-computer")
        path = "pages/identities.html"

        png = s.step("backup saved on this computer")
        self.open_page(path)
        self.picker_folder()
        fingerprint = self.fingerprint("bob-home").lower()
        saved = self.backup_identity(path, fingerprint, BACKUP_PASSWORD, "second-computer")
        backup = self.take_backup(f"{HOME}.p12")
        s.check("the backup is saved", self.text("backup_saved", f"{HOME}.p12") in saved.get("notice", "") and backup is not None, saved)
        if backup is None:
            return
        backup_dir = os.path.dirname(backup)
        self.page_shot(path, png, max_height=3000)

        laptop = None
        proc = None
        try:
            png = s.step("the second computer imports it")
            proc, port = self.start_second_thunderbird(second)
            s.check("a second Thunderbird (its own profile, HOME and companion data) started", port is not None, second)
            if port is None:
                return
            laptop = type(self)(port, self.artifacts, self.messages, self.lang)
            laptop.check = self.check  # one tally
            laptop.locale_check = self.locale_check
            laptop.story_setup(self.pki, account=False)
            laptop.open_page(path)
            empty = laptop.identity_cards(path)
            s.check("the second computer has no certificate of Bob's yet", empty == [], empty)
            result = laptop.import_p12(path, backup, BACKUP_PASSWORD, PASSPHRASE)
            s.check("the backup imports there with every check passed",
                    result.get("checks") and all(c["ok"] for c in result["checks"]) and laptop.text("import_done", HOME) in result.get("headline", ""),
                    result)
            laptop.page_shot(path, png, max_height=3000)

            png = s.step("connect the companion to Thunderbird there")
            laptop.connect_module(s, png)

            png = s.step("the same encrypted mail opens there")
            laptop.device_login(s)
            laptop.open_story_message("story-home-new")
            opened = laptop.message_shown(s, "the encrypted mail on the second computer", laptop.text("label_encrypted_signed"),
                                          laptop.text("look_encryptedSigned_title", FIONA), png, popup_png=png.replace(".png", "-popup.png"))
            paragraphs = opened["popup"]["paragraphs"] if opened["popup"] else []
            s.check("the details say it is encrypted to the user's certificate (from the backup)",
                    laptop.text("field_encrypted_to_you") in paragraphs and laptop.text("enc_key_expired") not in paragraphs, paragraphs)
        finally:
            if laptop is not None:
                try:
                    laptop.m.delete_session()
                except Exception:  # noqa: BLE001 - the process is stopped below anyway
                    pass
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            shutil.rmtree(backup_dir, ignore_errors=True)  # it holds a (test) private key

        png = s.step("and here too")
        self.set_pin(PASSPHRASE)
        self.open_story_message("story-home-new")
        self.message_shown(s, "the encrypted mail on the first computer", self.text("label_encrypted_signed"),
                           self.text("look_encryptedSigned_title", FIONA), png)
        self.close_tab()

    def start_second_thunderbird(self, second):
        """Starts Thunderbird on the second computer's profile (run.sh made it: SECOND/profile,
        SECOND/home with the host registered, SECOND/companion); returns (process, Marionette port)."""
        profile = os.path.join(second, "profile")
        env = dict(os.environ, HOME=os.path.join(second, "home"), SMIME_COMPANION_HOME=os.path.join(second, "companion"))
        log = open(os.path.join(second, "thunderbird.log"), "wb")
        proc = subprocess.Popen(["thunderbird", "--headless", "--marionette", "--remote-allow-system-access", "--no-remote",
                                 "--profile", profile], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        with open(os.path.join(second, "thunderbird.pid"), "w") as f:
            f.write(str(proc.pid))  # run.sh stops it, should the driver not
        port_file = os.path.join(profile, "MarionetteActivePort")
        until = time.monotonic() + 60
        while time.monotonic() < until:
            if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
                with open(port_file) as f:
                    return proc, int(f.read().strip())
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        return proc, None

    def stories(self, pki, second):
        """Every story, in an order in which each leaves what the next builds on."""
        self.story_setup(pki)
        self.step("story: a file without the private key", self.story_file_without_key, pki)
        self.step("story: key exchange", self.story_key_exchange)
        self.step("story: a stale key", self.story_stale_key)
        self.step("story: own certificate expired", self.story_own_expired)
        self.step("story: own renewal", self.story_own_renewal)
        self.step("story: a second computer", self.story_second_computer, second)
