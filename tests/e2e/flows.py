"""End-to-end scenarios for issue 14's flows, run by driver.py with the page scenarios (pages.py):

- a contact's new key is a decision: the banner and the details popup's decision card on a message
  signed with Alice's new key, "I checked it" with a note, and the history that records it;
- the compose check leads: the compose button follows the recipients while they are typed and says
  what Send will do; a blocked Send offers "send signed, not encrypted" first, then per recipient
  "ask for a signed message" and "remove";
- Thunderbird and the add-on agree: a message Thunderbird opens with its own key while the
  companion's key is locked is shown as opened by Thunderbird, never as "cannot decrypt";
- reminders that reach the user: the first-run guide (opened on install) with its live steps, and
  the expiry notification.

Every expected text comes from the locale file the driver was given (self.text), so the same
checks run in English and German.
"""

import os

from pages import COLLECT_TEXTS_PY

# Chrome-context helpers of these scenarios, added to the page helpers (pages.JS_PAGES).
JS_FLOWS = r"""
function composeWindow() { return windows("msgcompose").at(-1) ?? null; }
function composeButtonState(win) {
  const b = win?.document.querySelector(`[data-extensionid="${ADDON_ID}"]`);
  if (!b) return null;
  const style = b.getAttribute("style") || "";
  const icon = (style.match(/--webextension-toolbar-image:[^;]*?url\("([^"]+)"/) || [])[1] || "";
  return { label: b.getAttribute("label"), title: b.getAttribute("tooltiptext"), badge: b.getAttribute("badge") || "",
           icon: icon.replace(/^moz-extension:\/\/[^/]+/, "") };
}
// Waits until the compose button's label is one of `labels` (it follows the recipients by itself).
async function composeButtonUntil(win, labels, timeoutMs = 15000) {
  const until = Date.now() + timeoutMs;
  let last = null;
  while (Date.now() < until) {
    last = composeButtonState(win);
    if (last && labels.includes(last.label)) {
      await sleep(300); // label, tooltip, icon and badge land one after another
      return composeButtonState(win);
    }
    await sleep(150);
  }
  return { timedOut: true, last };
}
// The addresses of a compose window's recipient pills.
function pillAddresses(win) {
  return [...win.document.querySelectorAll("mail-address-pill")].map((p) => p.emailAddress);
}
// Types an address into the To field and ends it as Enter does: it becomes a recipient pill.
function typeRecipient(win, address) {
  win.focus(); // typing happens in the window in front
  const input = win.document.getElementById("toAddrInput");
  input.focus();
  input.value = address;
  win.recipientAddPills(input);
}
async function composeShot(win, height = 260) {
  const shot = await snapshot(win.browsingContext);
  const c = canvasFor(win, shot.width, Math.min(shot.height, height));
  c.getContext("2d").drawImage(shot, 0, 0);
  return c.toDataURL("image/png");
}
"""


# The system's notification service, as a stand-in that shows nothing (there is no desktop here)
# and keeps what it was asked to show, with the add-on's listener, on the main window.
JS_MOCK_ALERTS = r"""
const registrar = Components.manager.QueryInterface(Ci.nsIComponentRegistrar);
const CID = Components.ID("{8a1f9b52-3c7d-4e21-9d5a-7b0c2e4f6a13}");
const main = windows("mail:3pane")[0];
main.e2eAlerts ??= [];
if (!registrar.isCIDRegistered(CID)) {
  const service = {
    QueryInterface: ChromeUtils.generateQI(["nsIAlertsService"]),
    showAlert(alert, listener) {
      main.e2eAlerts.push({ name: alert.name, title: alert.title, text: alert.text, listener });
      listener?.observe(null, "alertshow", alert.cookie);
    },
    showAlertNotification() {},
    closeAlert() {},
  };
  const factory = { createInstance(iid) { return service.QueryInterface(iid); } };
  registrar.registerFactory(CID, "e2e alerts", "@mozilla.org/alerts-service;1", factory);
}
return true;
"""


class Flows:
    """Mixed into driver.Driver: the flows of issue 14, items 3, 4, 5 and 7."""

    def fjs(self, body, *args, timeout_s=60):
        return self.pjs(JS_FLOWS + body, *args, timeout_s=timeout_s)

    def mock_alerts(self):
        """Notifications are kept, not shown: the reminders step reads and clicks them."""
        self.js(JS_MOCK_ALERTS)

    # -- item 7: the first-run guide ----------------------------------------------------------------

    def guide_steps(self):
        return self.page("pages/guide.html", r"""
          const steps = [...document.querySelectorAll("#steps > li")];
          if (!steps.length) return null;
          return { progress: document.getElementById("progress").textContent,
                   steps: Object.fromEntries(steps.map((li) => [li.dataset.step, { state: li.dataset.state, text: li.querySelector(".text").textContent,
                     action: li.querySelector("button")?.dataset.action ?? null }])) };""", wait=True)

    def guide_start(self):
        """The guide opened by itself when the add-on was installed; with the program answering,
        its first step is done and the next is importing the certificate."""
        opened = self.pjs(r"""
          const tab = pageTab("pages/guide.html");
          return { open: Boolean(tab) };""")
        self.check("guide: the first-run guide opened when the add-on was installed", opened.get("open") is True, opened)
        self.open_page("pages/guide.html")
        shown = self.guide_steps()
        steps = shown.get("steps", {}) if isinstance(shown, dict) else {}
        self.check("guide: the program answers, the next step is importing my certificate, with its button",
                   steps.get("program", {}).get("state") == "done" and steps.get("certificate", {}).get("state") == "todo"
                   and steps.get("certificate", {}).get("action") == "import"
                   and steps.get("backup", {}).get("state") == "waiting", shown)
        self.page_shot("pages/guide.html", "guide-start.png", max_height=1300)

    def guide_done(self):
        """After the import and the backup (My certificates) the guide shows those steps done,
        and Thunderbird using the certificate for Bob's S/MIME identity."""
        self.open_page("pages/guide.html")
        shown = self.page("pages/guide.html", r"""
          const steps = Object.fromEntries([...document.querySelectorAll("#steps > li")].map((li) => [li.dataset.step, li.dataset.state]));
          if (steps.certificate !== "done" || steps.backup !== "done") return null;
          return { steps, progress: document.getElementById("progress").textContent };""", wait=True)
        steps = shown.get("steps", {})
        self.check("guide: certificate in and backed up, Thunderbird uses it",
                   steps.get("certificate") == "done" and steps.get("backup") == "done" and steps.get("thunderbird") == "done", shown)
        self.check("guide: the progress line counts the steps done",
                   shown.get("progress") == self.text("guide_progress", "4", "4"), shown.get("progress"))
        self.page_shot("pages/guide.html", "guide-done.png", max_height=1300)

    # -- item 7: reminders as notifications ----------------------------------------------------------

    def reminders(self):
        """The imported certificate that expires in 10 days is notified once, as a Thunderbird
        notification; clicking it opens My certificates."""
        alerts = self.js(r"""
          const main = windows("mail:3pane")[0];
          return (main.e2eAlerts ?? []).map((a) => ({ name: a.name, title: a.title, text: a.text }));
        """)
        expiry = [a for a in alerts if "-reminder-expiry-" in a.get("name", "")]
        print(f"     notifications shown: {[(a['title'], a['text']) for a in alerts]}")
        self.check("reminders: the certificate that expires soon is notified once, with when and what to do",
                   len(expiry) == 1 and expiry[0]["title"] == self.text("reminder_expiry_title_other", "10")
                   and "bob@example.org" in expiry[0]["text"], alerts)
        self.check_texts("reminders: the notifications", [{"kind": kind, "text": a.get(kind), "where": a.get("name")}
                                                          for a in alerts for kind in ("title", "text")])
        self.check("reminders: a key imported today is not nagged about its backup yet",
                   not any(a.get("name", "").endswith("-reminder-backup") for a in alerts), alerts)
        clicked = self.pjs(r"""
          const main = windows("mail:3pane")[0];
          const alert = (main.e2eAlerts ?? []).find((a) => a.name.includes("-reminder-expiry-"));
          if (!alert) return { error: "no expiry notification" };
          tabmailOf().switchToTab(tabmailOf().tabInfo[0]);
          await sleep(300);
          alert.listener.observe(null, "alertclickcallback", null);
          const until = Date.now() + 10000;
          while (Date.now() < until) {
            const tab = pageTab("pages/identities.html");
            if (tab && tabmailOf().currentTabInfo === tab) return { shown: true };
            await sleep(200);
          }
          return { shown: false };
        """)
        self.check("reminders: clicking the notification opens My certificates", clicked.get("shown") is True, clicked)

    # -- item 3: a new key is a decision -------------------------------------------------------------

    def key_decision(self, messages_dir):
        """Alice's new key (imported on the contacts page, held back) signs a message: the banner
        says a decision waits, the popup shows the decision card; "I checked it" with a note uses
        the new certificate, and the contacts page's history records it with the note."""
        self.open_message(os.path.join(messages_dir, "newkey.eml"), "tab")
        shown = self.wait_for_button("tab", [self.text("label_checking"), self.text("actionLabel")])
        self.check("key change: the signature itself is valid", shown.get("label") == self.text("state_valid"), shown)
        color = self.banner_color("tab", True)
        self.check("key change: a banner says a decision waits", not all(c > 245 for c in color), color)
        found = self.banner_texts("tab")
        self.check("key change: the banner names the new certificate's address and asks for a decision",
                   self.text("decision_banner_headline", "alice@example.org") in [t["text"] for t in found.get("texts", [])], found)
        self.check_texts("key change: the banner", found.get("texts"))
        self.window_shot("tab", "key-change-banner.png")
        card = self.decision_card("key-change-popup.png")
        self.check("key change: the popup shows the decision card, the certificate in use beside the new one",
                   card.get("state") == "pending" and card.get("title") == self.text("decision_pending_title", "alice@example.org")
                   and [b["heading"] for b in card.get("blocks", [])] == [self.text("decision_in_use_heading"), self.text("decision_new_heading")], card)
        self.check("key change: 'I checked it' with a note, and 'Refuse'; no grey footnote instead",
                   card.get("buttons") == ["confirm", "refuse"] and card.get("note") is True
                   and self.text("sigwarn_certificate_pending") not in card.get("notices", []), card)

        note = "compared by phone"
        decided = self.fjs(r"""
          const [note, headline] = args;
          const win = mainWindow();
          const browser = openPopupBrowser(win);
          if (!browser) return { error: "the popup closed" };
          await inPage(browser, `document.getElementById("decision-note").value = arguments[0];
            document.querySelector('#decision button[data-decision="confirm"]').click(); return true;`, [note]);
          const until = Date.now() + 20000;
          let state = null;
          while (Date.now() < until) {
            state = await inPage(browser, `const box = document.getElementById("decision");
              if (box.hidden || box.dataset.state !== "confirmed" || !box.querySelector(".status")) return null;
              return { state: box.dataset.state, status: box.querySelector(".status").textContent,
                       decided: box.querySelector(".decided")?.textContent ?? "" };`).catch(() => null);
            if (state) break;
            await sleep(200);
          }
          if (!state) return { error: "not decided" };
          await sleep(300);
          state.image = await windowWithPopup(win, browser);
          for (const p of win.document.querySelectorAll("panel")) if (p.state === "open") p.hidePopup();
          return state;
        """, note, "")
        if decided.get("image"):
            self.save_png(decided.pop("image"), "key-change-confirmed.png")
        self.check("key change: the decision is taken from the popup; the card says which, when and the note",
                   decided.get("state") == "confirmed" and decided.get("status") == self.text("decision_done_confirmed", "alice@example.org")
                   and note in decided.get("decided", ""), decided)
        color = self.banner_color("tab", False)
        self.check("key change: decided, the banner is gone", all(c > 245 for c in color), color)
        self.js("""const t = windows("mail:3pane")[0].document.getElementById("tabmail");
                   const m = t.tabInfo.find((x) => x.mode.name === "mailMessageTab"); if (m) t.closeTab(m); return true;""")

        path = "pages/contacts.html"
        self.open_page(path)
        history = self.page(path, r"""
          const search = document.getElementById("search");
          if (search.value) { search.value = ""; search.dispatchEvent(new Event("input")); return null; } // the reload kept the last search
          if (document.getElementById("contact-address").textContent !== "alice@example.org") {
            document.querySelector('#contacts button[data-address="alice@example.org"]')?.click();
            return null;
          }
          const lines = [...document.querySelectorAll("#history li")].map((li) => li.innerText);
          return { lines, state: document.getElementById("encryption").dataset.state };""", wait=True)
        self.check("key change: the history records the confirmation with the note",
                   any(self.text("history_note", note) in line for line in history.get("lines", [])), history)
        self.check("key change: decided, the contact can receive encrypted mail again", history.get("state") == "can", history)
        self.page_shot(path, "key-change-history.png")

    # -- item 4: the compose check leads -------------------------------------------------------------

    def compose_flow(self, first, typed, artifacts):
        """A compose window to Alice, then an unknown recipient typed in: the button follows and
        says what Send will do; encryption switched on makes Send stop, and the check offers what
        helps first. Ask for a signed message, remove the recipient, send signed instead."""
        label = lambda outcome: self.text(f"compose_button_{outcome}")  # noqa: E731
        opened = self.fjs(r"""
          const [to, labels] = args;
          useBobsCertificate();
          const win = await openCompose(to, "Can they receive encrypted mail?");
          if (!win) return { error: "no compose window" };
          const state = await composeButtonUntil(win, labels);
          state.image = await composeShot(win);
          return state;
        """, first, [label("encrypted_signed")])
        if opened.get("image"):
            self.save_png(opened.pop("image"), "compose-live-encrypted.png")
        # IT's managed option encrypts whenever every recipient can receive it; always sign signs.
        self.check("compose: before Send, the button says it will go encrypted and signed",
                   opened.get("label") == label("encrypted_signed") and opened.get("title") == self.text("compose_outcome_encrypted_signed", "1", "0")
                   and opened.get("icon", "").endswith("/encrypted-signed-16.png") and opened.get("badge") == "", opened)

        typed_state = self.fjs(r"""
          const [address, labels] = args;
          const win = composeWindow();
          typeRecipient(win, address);
          const state = await composeButtonUntil(win, labels);
          state.image = await composeShot(win);
          return state;
        """, typed, [label("signed")])
        if typed_state.get("image"):
            self.save_png(typed_state.pop("image"), "compose-live-signed.png")
        self.check("compose: typing a recipient without a certificate turns it to 'signed only', the badge counts them",
                   typed_state.get("label") == label("signed") and typed_state.get("badge") == "1"
                   and typed_state.get("title") == self.text("compose_outcome_signed", "2", "1")
                   and typed_state.get("icon", "").endswith("/valid-16.png"), typed_state)

        shown = self.compose_popup(click=True, name="compose-check.png")
        rows = {r["address"]: r for r in shown.get("rows", [])}
        self.check("compose: the check's headline says what Send will do, then who cannot receive encrypted mail",
                   shown.get("headline") == self.text("compose_outcome_signed", "2", "1")
                   and shown.get("state") == self.text("compose_headline_some_cannot_one", "1", "2"), shown)
        self.check("compose: a known recipient can receive encrypted mail",
                   rows.get("alice@example.org", {}).get("reason") == "can", rows.get("alice@example.org"))
        self.check("compose: an unknown recipient is 'never seen', with the key exchange explained and 'ask for a signed message'",
                   rows.get(typed, {}).get("reason") == "never_seen" and shown.get("keyExchange") is True
                   and self.text("recipient_never_seen_advice", typed) in rows.get(typed, {}).get("text", "")
                   and rows.get(typed, {}).get("actions") == ["ask_signed"], shown)
        self.check("compose: the note says the option signs on Send", self.text("compose_note_always_sign") in shown.get("notes", []), shown.get("notes"))

        # Encryption switched on in Thunderbird: Send would stop. The button says so before Send.
        blocked = self.fjs(r"""
          const [labels] = args;
          const win = composeWindow();
          for (const p of win.document.querySelectorAll("panel")) if (p.state === "open") p.hidePopup();
          await sleep(300);
          if (!win.gSendEncrypted) win.onEncryptionChoice("enc");
          const state = await composeButtonUntil(win, labels);
          state.image = await composeShot(win);
          return state;
        """, [label("blocked")])
        if blocked.get("image"):
            self.save_png(blocked.pop("image"), "compose-live-blocked.png")
        self.check("compose: with encryption on and a recipient without certificate, the button says Send will stop",
                   blocked.get("label") == label("blocked") and blocked.get("badge") == "!"
                   and blocked.get("title") == self.text("compose_outcome_blocked_one", "1", "2"), blocked)
        check = self.compose_popup(click=True, name="compose-blocked.png")
        rows = {r["address"]: r for r in check.get("rows", [])}
        self.check("compose: when Send would stop, 'send signed, not encrypted' comes first; per recipient ask and remove",
                   check.get("actions", [])[:1] == ["send_signed"] and "sign_off" not in check.get("actions", [])
                   and rows.get(typed, {}).get("actions") == ["ask_signed", "remove"], check)

        # "Ask for a signed message": a new message to them, signed, asking for a signed answer.
        asked = self.fjs(r"""
          const [address] = args;
          const before = new Set(windows("msgcompose"));
          const win = composeWindow();
          const browser = openPopupBrowser(win);
          if (!browser) return { error: "the popup closed" };
          await inPage(browser, `document.querySelector('li[data-address="${address}"] button[data-action="ask_signed"]').click(); return true;`);
          const until = Date.now() + 20000;
          let ask = null;
          while (Date.now() < until && !(ask = windows("msgcompose").find((w) => !before.has(w) && w.gMsgCompose && w.document.readyState === "complete"))) await sleep(200);
          if (!ask) return { error: "no new compose window" };
          await sleep(1500);
          const result = { subject: ask.document.getElementById("msgSubject").value, to: pillAddresses(ask).join(","),
                           signed: ask.gSendSigned, encrypted: ask.gSendEncrypted, image: await composeShot(ask, 520) };
          ask.close(); // closed from script: no "save?" question
          await sleep(500);
          return result;
        """, typed)
        if asked.get("image"):
            self.save_png(asked.pop("image"), "compose-ask-signed.png")
        self.check("compose: 'ask for a signed message' opens a signed message to them with the request",
                   asked.get("subject") == self.text("ask_signed_subject") and typed in (asked.get("to") or "")
                   and asked.get("signed") is True and asked.get("encrypted") is False, asked)

        # Remove the recipient from the check: the button follows at once.
        removed = self.fjs(r"""
          const [address, labels] = args;
          const win = composeWindow();
          let browser = openPopupBrowser(win);
          if (!browser) {
            win.document.querySelector(`[data-extensionid="${ADDON_ID}"]`).click();
            const until = Date.now() + 10000;
            while (Date.now() < until && !(browser = openPopupBrowser(win))) await sleep(200);
            await sleep(800);
          }
          if (!browser) return { error: "no popup" };
          await inPage(browser, `document.querySelector('li[data-address="${address}"] button[data-action="remove"]').click(); return true;`);
          const state = await composeButtonUntil(win, labels);
          for (const p of win.document.querySelectorAll("panel")) if (p.state === "open") p.hidePopup();
          state.to = pillAddresses(win).join(",");
          await sleep(300);
          state.image = await composeShot(win);
          return state;
        """, typed, [label("encrypted_signed")])
        if removed.get("image"):
            self.save_png(removed.pop("image"), "compose-after-remove.png")
        self.check("compose: 'remove recipient' takes them out, and the button says encrypted and signed again",
                   removed.get("label") == label("encrypted_signed") and typed not in (removed.get("to") or typed), removed)

        # Typed again, Send: stopped once, and the check opens by itself with the way out first.
        sent = self.fjs(r"""
          const [address, labels] = args;
          const win = composeWindow();
          typeRecipient(win, address);
          const state = await composeButtonUntil(win, labels);
          if (state.timedOut) return { error: "not blocked again", state };
          win.goDoCommand("cmd_sendNow");
          await sleep(2500);
          return { open: !win.closed, signed: win.gSendSigned, encrypted: win.gSendEncrypted };
        """, typed, [label("blocked")])
        self.check("compose: on Send, 'always sign' switched signing on and the send was stopped",
                   sent.get("open") is True and sent.get("signed") is True, sent)
        stopped = self.compose_popup(click=False, name="compose-send-stopped.png")
        self.check("compose: the check opens by itself, says why the message was not sent, and offers 'send signed' first",
                   stopped.get("stopped") == self.text("compose_stopped_encrypt_impossible")
                   and stopped.get("actions", [])[:1] == ["send_signed"], stopped)

        # "Send signed, not encrypted" sends it at once (offline here: to the outbox).
        outbox = self.fjs(r"""
          const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
          const win = composeWindow();
          const browser = openPopupBrowser(win);
          if (!browser) return { error: "the stopped popup closed" };
          // No mail server here: Send goes to the outbox; going online again must not ask about it.
          Services.prefs.setIntPref("offline.send.unsent_messages", 2);
          Services.prefs.setIntPref("offline.download.download_messages", 2);
          Services.io.offline = true;
          await inPage(browser, `document.querySelector('#actions button[data-action="send_signed"]').click(); return true;`);
          const until = Date.now() + 20000;
          while (!win.closed && Date.now() < until) await sleep(200);
          Services.io.offline = false;
          const folder = MailServices.accounts.localFoldersServer.rootFolder.getFolderWithFlags(Ci.nsMsgFolderFlags.Queue);
          return { closed: win.closed, outbox: folder?.filePath.path ?? null };
        """)
        raw = ""
        if outbox.get("outbox") and os.path.exists(outbox["outbox"]):
            with open(outbox["outbox"], "rb") as f:
                raw = f.read().decode("latin-1")
        subject = "Subject: Can they receive encrypted mail?"
        message = raw[raw.find(subject):].split("\nFrom - ")[0] if subject in raw else ""
        self.check("compose: 'send signed, not encrypted' sends the message signed and not encrypted",
                   outbox.get("closed") is True and "application/pkcs7-signature" in message and "enveloped-data" not in message,
                   {k: v for k, v in outbox.items() if k != "outbox"})

    # -- item 5: Thunderbird and the add-on agree ----------------------------------------------------

    def thunderbird_opens_locked(self, message, passphrase):
        """Bob's key locked in the companion, but Thunderbird holds a copy of its own: the message
        Thunderbird shows decrypted is judged on what it decrypted, never 'cannot decrypt' or
        'unlock'. Unlocked on My certificates, the companion decrypts it itself again.

        (Thunderbird shows no message header, so no details popup, for a message it cannot
        decrypt: a locked key is unlocked on My certificates, or by Thunderbird asking for it when
        it uses the companion's security module.)"""
        path = "pages/identities.html"
        self.open_page(path)
        locked = self.page(path, r"""
          const lock = document.getElementById("lock");
          if (!lock.hidden && !document.body.dataset.lockClicked) { document.body.dataset.lockClicked = "1"; lock.click(); return null; }
          const state = document.getElementById("lock-state").textContent;
          return state === arguments[0] ? state : null;""", self.text("lock_state_locked"), wait=True)
        self.check("agree: My certificates locks the keys", locked == self.text("lock_state_locked"), locked)
        self.open_message(message, "tab")
        shown = self.wait_for_button("tab", [self.text("label_checking"), self.text("actionLabel")])
        want = self.text("look_encryptedSigned_title", "Alice Example <alice@example.org>") + " " + self.text("look_suffix_thunderbird_decrypted")
        self.check("agree: the key is locked, Thunderbird opened the message with its own: the button says so, not 'cannot decrypt'",
                   shown.get("label") == self.text("label_encrypted_signed") and shown.get("title") == want
                   and shown.get("badge") == "", shown)
        popup = self.fjs(r"""
          const [headline] = args;
          const win = mainWindow();
          buttonOf(win).click();
          const until = Date.now() + 20000;
          let browser = null;
          while (Date.now() < until && !((browser = openPopupBrowser(win)) && browser.contentTitle === headline)) await sleep(200);
          if (!browser) return { error: "no popup" };
          await sleep(300);
          const state = await inPage(browser, `return { unlock: !document.getElementById("unlock-form").hidden,
            problems: document.querySelectorAll("#problem-list .problem").length,
            notices: [...document.querySelectorAll("#notices li")].map((li) => li.textContent),
            encryption: document.getElementById("section-encryption")?.innerText ?? "" };`);
          state.image = await windowWithPopup(win, browser);
          state.texts = await inPage(browser, args[1], [null]);
          for (const p of win.document.querySelectorAll("panel")) if (p.state === "open") p.hidePopup();
          return state;
        """, want, COLLECT_TEXTS_PY)
        if popup.get("image"):
            self.save_png(popup.pop("image"), "agree-thunderbird-opened-popup.png")
        self.check_texts("agree-thunderbird-opened-popup", popup.pop("texts", None))
        self.check("agree: the popup says Thunderbird opened it with its own key; no problem, no unlock form",
                   popup.get("unlock") is False and popup.get("problems") == 0
                   and self.text("notice_thunderbird_decrypted") in popup.get("notices", [])
                   and self.text("enc_thunderbird") in popup.get("encryption", ""), popup)
        self.js("""const t = windows("mail:3pane")[0].document.getElementById("tabmail");
                   const m = t.tabInfo.find((x) => x.mode.name === "mailMessageTab"); if (m) t.closeTab(m); return true;""")
        self.open_page(path)
        # Unlocked on My certificates, the companion decrypts the message itself again.
        unlocked = self.page(path, r"""
          if (!document.body.dataset.agreeUnlock) {
            document.body.dataset.agreeUnlock = "1";
            document.getElementById("unlock-passphrase").value = arguments[1];
            document.getElementById("unlock-form").requestSubmit();
            return null;
          }
          const state = document.getElementById("lock-state").textContent;
          return state !== arguments[0] ? state : null;""", self.text("lock_state_locked"), passphrase, wait=True)
        self.check("agree: My certificates unlocks the key", unlocked != self.text("lock_state_locked") and isinstance(unlocked, str), unlocked)
        self.open_message(message, "tab")
        shown = self.wait_for_button("tab", [self.text("label_checking"), self.text("actionLabel")])
        self.check("agree: unlocked, the companion decrypts it itself",
                   shown.get("title") == self.text("look_encryptedSigned_title", "Alice Example <alice@example.org>"), shown)
        self.js("""const t = windows("mail:3pane")[0].document.getElementById("tabmail");
                   const m = t.tabInfo.find((x) => x.mode.name === "mailMessageTab"); if (m) t.closeTab(m); return true;""")
