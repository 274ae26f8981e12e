"""Drives a running headless Thunderbird through Marionette (chrome context) and checks what the
S/MIME Companion add-on shows for each test message: the header button's label, tooltip, icon
and badge, the banner above the message, and the details popup. Then (pages.py) its menus, the
contacts page, My certificates, the options, the compose check; and (flows.py) a new key as a
decision, the compose button while recipients are typed, a locked key while Thunderbird opens the
message with its own, the first-run guide and the reminders; last (stories.py) the S/MIME FAQ's
stories, step by step. Saves screenshots.

Every text it reads is compared with the locale file of the run's language (E2E_LOCALE, en or
de): what the add-on must show comes from there, never from this file; and every text the add-on
shows in a popup, a banner, a page or a dialog must be a message of that file or data
(locale_check.py). Screenshots are named after the language ("de-altered-popup.png"); each
message's popup is also taken in Thunderbird's dark theme ("…-popup-dark.png").

Usage: driver.py PORT MESSAGES_DIR ARTIFACTS_DIR LOCALE_JSON HOST_MANIFEST_SRC HOST_MANIFEST_DST CASES...
  A case is NAME (a MESSAGES_DIR/NAME.eml) with its expectations from CASES below.
  The first case's message is already open (thunderbird -file) when the driver starts.
  Every part runs every time (run.sh fails a host that lacks an op the add-on calls).
Prints one line per check and a closing "N passed, N failed"; exits 1 on any failure.
"""

import base64
import json
import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from chrome_session import ChromeSession  # noqa: E402

from locale_check import LocaleCheck
from pages import COLLECT_TEXTS_PY, Pages
from flows import Flows
from stories import Stories

ADDON_ID = "smime-companion@smime-companion.org"

# What the add-on must show for each message made by make-messages.sh.
# label: message key of the state's one name (extension/modules/look.mjs STATES), on the button and
# as the popup's headline; title: the tooltip's message key and substitutions; icon: icon name;
# problem: the button has a "!" badge and a banner shows above the message; mark: a danger state,
# whose body is marked not to be trusted; where: window (default), tab or 3pane.
ALICE = "Alice Example <alice@example.org>"
CASES = {
    "plain": dict(icon="unsigned", label="state_none", title=("look_unsigned_title",), problem=False),
    "signed": dict(icon="valid", label="state_valid", title=("look_valid_title", ALICE), problem=False),
    "altered": dict(icon="altered", label="state_content_altered", title=("state_content_altered_explain",), problem=True, mark=True),
    "untrusted": dict(icon="untrusted", label="state_untrusted", title=("look_untrusted_title",), problem=True),
    "mismatch": dict(icon="mismatch", label="state_sender_mismatch",
                     title=("look_mismatch_title", "alice@example.org", "boss@example.com"), problem=True, mark=True),
    "revoked": dict(icon="altered", label="state_revoked", title=("state_revoked_explain",), problem=True, mark=True),
    "broken": dict(icon="altered", label="state_malformed", title=("state_malformed_explain",), problem=True, mark=True),
    "expired": dict(icon="problem", label="state_expired", title=("state_expired_explain",), problem=True),
    "partial": dict(icon="problem", label="state_partially_signed", title=("look_partial_title",), problem=True),
    "doubtful": dict(icon="mismatch", label="label_doubtful_sender", title=("look_doubtfulSender_title", ALICE, "boss@example.com"), problem=True),
    "encrypted": dict(icon="encrypted-signed", label="label_encrypted_signed",
                      title=("look_encryptedSigned_title", ALICE),
                      extra="look_suffix_thunderbird_decrypted", problem=False, where="tab"),
    # Thunderbird shows its own error page for a message it cannot decrypt and hides the message
    # header with our button (so: no banner, no popup), and it announces no display; in the 3-pane
    # the add-on goes by the selection and still sets the button's state.
    "undecryptable": dict(icon="undecryptable", label="enc_no_key",
                          title=("look_undecryptable_title_no_key",), problem=True, banner=False,
                          popup=False, where="3pane"),
}

# What the add-on may show besides its texts: the test PKI's names and files, the messages' subjects.
DATA = [
    "Alice Example", "Bob Reader", "Carol Other", "Dave Example", "Erin Example", "Example Corp", "DE", "E2E Test CA",
    "S-MIME Companion Tests", "Unknown Test CA", "Nobody", "Work", "S/MIME Companion", "Thunderbird",
    "carol.cer", "alice-new.pem", "alice-no-key.p12", "bob-old.p12", "bob.p12", "alice@example.org.pem", "bob@example.org.p12",
    "E2E Test CA (S-MIME Companion Tests)", "Unknown Test CA (Nobody)", "Bob Reader (E2E Test CA)",
    "Signed by Alice", "Plain: not signed", "Altered after signing", "Signed by an unknown CA", "Signed, but not by the sender",
    "Encrypted and signed", "Encrypted for somebody else", "My certificate",
    # What the test itself types or configures: a search, a decision's note, IT's directory and
    # the person only it knows.
    "carol", "dora", "compared by phone", "corp", "Dora Directory",
]

WAIT_S = 30

# Chrome-context helpers, defined once per call (Marionette runs each script in a fresh sandbox).
JS_HELPERS = r"""
const ADDON_ID = "%s";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function aboutMessageOf(win) {
  const tabmail = win.document.getElementById("tabmail");
  if (tabmail) {
    const info = tabmail.currentTabInfo;
    if (info.mode.name === "mailMessageTab") return info.chromeBrowser.contentDocument;
    if (info.mode.name === "mail3PaneTab") return info.chromeBrowser.contentDocument.getElementById("messageBrowser").contentDocument;
    return null;
  }
  return win.document.getElementById("messageBrowser")?.contentDocument ?? null;
}
function buttonOf(win) {
  return aboutMessageOf(win)?.querySelector(`[data-extensionid="${ADDON_ID}"]`) ?? null;
}
function windows(type) {
  return [...Services.wm.getEnumerator(type)];
}
// Copies the message file at `path` into the Local Folders folder "E2E" (so it is a mailbox://
// message, as received mail is) and resolves to its header.
async function copyIntoE2eFolder(path) {
  const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
  const root = MailServices.accounts.localFoldersServer.rootFolder;
  if (!root.getChildNamed("E2E")) root.createSubfolder("E2E", null);
  const folder = root.getChildNamed("E2E");
  const key = await new Promise((resolve, reject) => {
    let key = null;
    const listener = {
      QueryInterface: ChromeUtils.generateQI(["nsIMsgCopyServiceListener"]),
      onStartCopy() {}, onProgress() {}, getMessageId() { return ""; },
      setMessageKey(k) { key = k; },
      onStopCopy(status) { Components.isSuccessCode(status) ? resolve(key) : reject(new Error("copy failed " + status)); },
    };
    MailServices.copy.copyFileMessage(new FileUtils.File(path), folder, null, false, 0, "", listener, null);
  });
  return folder.GetMessageHeader(key);
}
function openedWindow(kind) {
  // kind "window": the newest message window; "tab" or "3pane": the 3-pane window, showing a
  // message tab or its folder tab in front
  if (kind !== "window") return windows("mail:3pane")[0];
  const list = windows("mail:messageWindow");
  return list[list.length - 1] ?? null;
}
async function snapshot(browsingContext) {
  return browsingContext.currentWindowGlobal.drawSnapshot(null, 1, "white");
}
function canvasFor(win, w, h) {
  const c = win.document.createElementNS("http://www.w3.org/1999/xhtml", "canvas");
  c.width = w; c.height = h;
  return c;
}
// Thunderbird's dark theme on or off; waits until the add-on's popup pages would see the change.
async function setDarkTheme(on) {
  const { AddonManager } = ChromeUtils.importESModule("resource://gre/modules/AddonManager.sys.mjs");
  const theme = await AddonManager.getAddonByID(on ? "thunderbird-compact-dark@mozilla.org" : "default-theme@mozilla.org");
  if (theme && !theme.isActive) await theme.enable();
  const win = windows("mail:3pane")[0];
  const until = Date.now() + 5000;
  while (win.matchMedia("(prefers-color-scheme: dark)").matches !== on && Date.now() < until) await sleep(100);
  await sleep(600); // the header button's icon follows the theme (onThemeChange)
  return win.matchMedia("(prefers-color-scheme: dark)").matches === on;
}
// One picture of a window with the popup `browser` open over it, framed; as a data: URL.
async function windowWithPopup(win, browser) {
  const winShot = await snapshot(win.browsingContext);
  const popShot = await snapshot(browser.browsingContext);
  const x = browser.screenX - win.screenX, y = browser.screenY - win.screenY;
  const c = canvasFor(win, Math.max(winShot.width, x + popShot.width + 1), Math.max(winShot.height, y + popShot.height + 1));
  const ctx = c.getContext("2d");
  ctx.fillStyle = "white"; ctx.fillRect(0, 0, c.width, c.height);
  ctx.drawImage(winShot, 0, 0);
  ctx.drawImage(popShot, x, y);
  ctx.strokeStyle = "#8f8f9d";
  ctx.strokeRect(x - 0.5, y - 0.5, popShot.width + 1, popShot.height + 1);
  return c.toDataURL("image/png");
}
""" % ADDON_ID




class Driver(Stories, Flows, Pages, ChromeSession):
    def __init__(self, port, artifacts, locale, lang):
        ChromeSession.__init__(self, port, JS_HELPERS)
        self.artifacts = artifacts
        self.messages = locale
        self.lang = lang
        self.locale_check = LocaleCheck(locale, lang, DATA)

    def js(self, body, *args, timeout_s=WAIT_S + 10):
        return ChromeSession.js(self, body, *args, timeout_s=timeout_s)

    def text(self, key, *subs):
        """A message of the run's locale file with its substitutions; a counted one by its form
        (`key` ending in _one or _other)."""
        message = self.messages[key]["message"]
        return re.sub(r"\$(\d)", lambda m: subs[int(m.group(1)) - 1], message)

    def save_png(self, data_url, name):
        """Saves a screenshot as ARTIFACTS/<lang>-<name>."""
        path = os.path.join(self.artifacts, f"{self.lang}-{name}")
        with open(path, "wb") as f:
            f.write(base64.b64decode(data_url.split(",", 1)[1]))
        return path

    def check_texts(self, place, items):
        """Every text of `items` ({kind, text, where}) comes from the run's locale file, or is data."""
        items = [i for i in items or [] if isinstance(i, dict) and i.get("text")]
        bad = self.locale_check.offenders(items)
        self.check(f"{self.lang} texts: {place} shows only texts of the {self.lang} locale file and data ({len(items)} texts)",
                   items and not bad, [f"{i.get('where')}: {i['text']!r}" for i in bad[:10]] or "no texts found")

    # -- what the add-on shows ------------------------------------------------------------------

    def wait_for_button(self, kind, not_labels, timeout_s=WAIT_S):
        """The header button of the newest message window (or tab) once its label is settled."""
        return self.js(r"""
          const [kind, notLabels, timeoutMs] = args;
          const until = Date.now() + timeoutMs;
          let last = null;
          while (Date.now() < until) {
            const win = openedWindow(kind);
            const b = win && buttonOf(win);
            if (b) {
              const style = b.getAttribute("style") || "";
              const icon = (style.match(/--webextension-toolbar-image:[^;]*?url\("([^"]+)"/) || [])[1] || "";
              last = { label: b.getAttribute("label"), title: b.getAttribute("tooltiptext"),
                       badge: b.getAttribute("badge") || "", icon: icon.replace(/^moz-extension:\/\/[^/]+/, "") };
              if (!notLabels.includes(last.label)) {
                // Label, tooltip, icon and badge are set one after another: let the rest land.
                await sleep(400);
                const style2 = b.getAttribute("style") || "";
                const icon2 = (style2.match(/--webextension-toolbar-image:[^;]*?url\("([^"]+)"/) || [])[1] || "";
                return { label: b.getAttribute("label"), title: b.getAttribute("tooltiptext"),
                         badge: b.getAttribute("badge") || "", icon: icon2.replace(/^moz-extension:\/\/[^/]+/, "") };
              }
            }
            await sleep(200);
          }
          return { timedOut: true, last };
        """, kind, not_labels, timeout_s * 1000, timeout_s=timeout_s + 10)

    def banner_color(self, kind, expect_tint):
        """The colour of the message pane's top-left corner: a banner tints it. Waits a few
        seconds for the tint when one is expected, and a second to be sure when not."""
        return self.js(r"""
          const [kind, expectTint] = args;
          const win = openedWindow(kind);
          const pane = aboutMessageOf(win).getElementById("messagepane");
          const until = Date.now() + (expectTint ? 5000 : 1000);
          let rgb;
          do {
            await sleep(250);
            const shot = await snapshot(pane.browsingContext);
            const c = canvasFor(win, shot.width, shot.height);
            const ctx = c.getContext("2d");
            ctx.drawImage(shot, 0, 0);
            rgb = Array.from(ctx.getImageData(20, 12, 1, 1).data.slice(0, 3));
          } while (Date.now() < until && (rgb.every((v) => v > 245) === expectTint));
          return rgb;
        """, kind, expect_tint)

    def window_shot(self, kind, name):
        url = self.js(r"""
          const win = openedWindow(args[0]);
          const shot = await snapshot(win.browsingContext);
          const c = canvasFor(win, shot.width, shot.height);
          c.getContext("2d").drawImage(shot, 0, 0);
          return c.toDataURL("image/png");
        """, kind)
        return self.save_png(url, name)

    def popup_shot(self, kind, name, settled_titles, collect=False):
        """Opens the details popup, waits for its content, saves window + popup as one picture;
        with `collect`, then reads every text it shows (its details opened). Returns
        {title, texts}."""
        result = self.js(r"""
          const [kind, settled, timeoutMs, collect, collectTexts] = args;
          const win = openedWindow(kind);
          buttonOf(win).click();
          const until = Date.now() + timeoutMs;
          let panel = null, browser = null;
          while (Date.now() < until) {
            panel = [...win.document.querySelectorAll("panel")].find((p) => p.state === "open" && p.querySelector("browser"));
            browser = panel?.querySelector("browser");
            if (browser && settled.includes(browser.contentTitle) && browser.getBoundingClientRect().height > 50) break;
            await sleep(200);
          }
          if (!browser) return { error: "no popup opened" };
          await sleep(300); // let layout settle after the last text change
          const image = await windowWithPopup(win, browser);
          const title = browser.contentTitle;
          const actor = browser.browsingContext.currentWindowGlobal.getActor("MarionetteCommands");
          const texts = collect ? await actor.executeScript(collectTexts, [null], {}) : null;
          panel.hidePopup();
          await sleep(200);
          return { title, image, texts };
        """, kind, settled_titles, WAIT_S * 1000, collect, COLLECT_TEXTS_PY)
        self.save_png(result["image"], name)
        return result

    def dark_popup_shot(self, kind, name, settled_titles):
        """The popup again, in Thunderbird's dark theme; the light theme comes back after."""
        dark = self.js("return setDarkTheme(true);")
        try:
            result = self.popup_shot(kind, name, settled_titles)
        finally:
            self.js("return setDarkTheme(false);")
        return dark, result

    def banner_texts(self, kind):
        """The texts of the banner and of the mark on the body, read from their (closed) shadow
        roots with the system's privileges: the page itself cannot reach them."""
        return self.js(r"""
          const [kind, collectTexts] = args;
          const pane = aboutMessageOf(openedWindow(kind)).getElementById("messagepane");
          const actor = pane.browsingContext.currentWindowGlobal.getActor("MarionetteCommands");
          const texts = await actor.executeScript(collectTexts, [["smime-companion-banner", "smime-companion-mark"]], { sandboxName: "system" });
          const present = await actor.executeScript(
            "return ['smime-companion-banner', 'smime-companion-mark'].filter((id) => document.getElementById(id))", [], { sandboxName: "system" });
          return { texts, present };
        """, kind, COLLECT_TEXTS_PY)

    def open_message(self, path, kind):
        """Copies the message into the folder "E2E" (copyIntoE2eFolder) and opens it in a new
        message window, a message tab, or the 3-pane window's folder tab."""
        self.js(r"""
          const [path, kind] = args;
          const { MailUtils } = ChromeUtils.importESModule("resource:///modules/MailUtils.sys.mjs");
          const hdr = await copyIntoE2eFolder(path);
          const before = windows("mail:messageWindow").length;
          if (kind === "tab") {
            windows("mail:3pane")[0].document.getElementById("tabmail")
              .openTab("mailMessageTab", { messageURI: hdr.folder.getUriForMsg(hdr), background: false });
          } else if (kind === "3pane") {
            MailUtils.displayMessageInFolderTab(hdr);
          } else {
            MailUtils.openMessageInNewWindow(hdr);
            const until = Date.now() + 20000;
            while (windows("mail:messageWindow").length === before && Date.now() < until) await sleep(100);
          }
          await sleep(300);
          return true;
        """, path, kind)

    def close_message(self, kind):
        self.js(r"""
          const win = openedWindow(args[0]);
          if (args[0] === "tab") win.document.getElementById("tabmail").closeTab();
          else if (args[0] === "window") win.close();
          return true;
        """, kind)

    # -- scenarios ------------------------------------------------------------------------------

    def host_missing(self, manifest_src, manifest_dst):
        """No host registered: the button says so and the help page opens. Then the host is
        registered and the add-on must reconnect by itself (backoff) and judge the message."""
        checking = self.text("label_checking")
        shown = self.wait_for_button("window", [checking, self.text("actionLabel")])
        self.check("host missing: header button says the program is unavailable",
                   shown.get("label") == self.text("label_host_unavailable")
                   and shown.get("icon", "").endswith("/unavailable-16.png"), shown)
        help_open = self.js(r"""
          const until = Date.now() + 10000;
          while (Date.now() < until) {
            const tabmail = windows("mail:3pane")[0].document.getElementById("tabmail");
            const tab = tabmail.tabInfo.find((t) => t.browser?.currentURI?.spec?.endsWith("/pages/host-missing.html"));
            if (tab) { tabmail.switchToTab(tab); await sleep(800); return true; }
            await sleep(200);
          }
          return false;
        """)
        self.check("host missing: the help page opened", help_open)
        if help_open:
            self.page_shot("pages/host-missing.html", "host-missing-help.png", max_height=1600)
        shutil.copyfile(manifest_src, manifest_dst)
        shown = self.wait_for_button("window", [checking, self.text("label_host_unavailable")], timeout_s=40)
        self.check("host installed later: the add-on reconnects by itself and judges the message",
                   shown.get("label") == self.text("state_none"), shown)

    def message(self, name, path, first):
        case = CASES[name]
        kind = case.get("where", "window")
        if not first:
            self.open_message(path, kind)
        self.js(r"""
          const win = openedWindow(args[0]);
          if (win.outerWidth < 1200) { win.resizeTo(1280, 860); await sleep(300); } // room for the popup
          return true;
        """, kind)
        settled_not = [self.text("label_checking"), self.text("actionLabel")]
        shown = self.wait_for_button(kind, settled_not)
        label = self.text(case["label"])
        want_title = self.text(*case["title"]) + (" " + self.text(case["extra"]) if case.get("extra") else "")
        self.check(f"{name}: label", shown.get("label") == label, shown)
        self.check(f"{name}: tooltip", shown.get("title") == want_title, f"{shown.get('title')!r} != {want_title!r}")
        self.check(f"{name}: icon", shown.get("icon") in (f"/icons/light-theme/{case['icon']}-16.png",
                                                          f"/icons/dark-theme/{case['icon']}-16.png"), shown.get("icon"))
        problem = case["problem"]
        self.check(f"{name}: badge", (shown.get("badge") == "!") == problem, shown.get("badge"))
        self.check_texts(f"{name}: the header button", [
            {"kind": "label", "text": shown.get("label"), "where": "label"}, {"kind": "title", "text": shown.get("title"), "where": "tooltip"}])
        banner = case.get("banner", problem)
        if case.get("popup", True):
            color = self.banner_color(kind, banner)
            tinted = not all(c > 245 for c in color)
            self.check(f"{name}: banner {'shown' if banner else 'absent'}", tinted == banner, color)
            found = self.banner_texts(kind)
            mark = case.get("mark", False)
            self.check(f"{name}: the body is {'marked' if mark else 'not marked'} as not to be trusted",
                       ("smime-companion-mark" in found.get("present", [])) == mark, found.get("present"))
            if banner:
                texts = [t["text"] for t in found.get("texts", [])]
                self.check(f"{name}: the banner names the state as the button does", label in texts, texts)
                self.check_texts(f"{name}: the banner", found.get("texts"))
        self.window_shot(kind, f"{name}-banner.png" if banner else f"{name}-window.png")
        if case.get("popup", True):
            popup = self.popup_shot(kind, f"{name}-popup.png", [label], collect=True)
            self.check(f"{name}: popup headline is the state's name", popup["title"] == label, f"{popup['title']!r}")
            self.check_texts(f"{name}: the popup", popup.get("texts"))
            dark, _ = self.dark_popup_shot(kind, f"{name}-popup-dark.png", [label])
            self.check(f"{name}: the popup in the dark theme", dark, dark)
        self.close_message(kind)


def main():
    port, messages_dir, artifacts, locale_path, manifest_src, manifest_dst = sys.argv[1:7]
    names = sys.argv[7:]
    with open(locale_path, encoding="utf-8") as f:
        locale = json.load(f)
    d = Driver(int(port), artifacts, locale, os.environ.get("E2E_LOCALE", "en"))
    start = time.monotonic()
    d.mock_alerts()
    try:
        d.host_missing(manifest_src, manifest_dst)
        for i, name in enumerate(names):
            d.message(name, os.path.join(messages_dir, f"{name}.eml"), i == 0)
    except Exception as e:  # a broken step must still print the tally
        d.check("driver ran to the end", False, repr(e))
    pki = os.path.join(messages_dir, "pki")
    d.step("first-run guide", d.guide_start)
    d.step("attachment menu", d.attachment_menu, messages_dir)
    d.step("message list menu", d.message_list_menu, "Signed by Alice", "alice@example.org")
    d.step("contacts page", d.contacts_page, pki, artifacts)
    d.step("key change decision", d.key_decision, messages_dir)
    d.step("my certificates", d.identities_page, pki, artifacts)
    d.step("reminders", d.reminders)
    d.step("first-run guide done", d.guide_done)
    d.step("options", d.options_page)
    d.step("compose check", d.compose_flow, "Alice Example <alice@example.org>", "nobody@example.net", artifacts)
    d.step("signed send", d.signed_send, "Alice Example <alice@example.org>")
    d.step("thunderbird and the add-on agree", d.thunderbird_opens_locked, os.path.join(messages_dir, "encrypted.eml"), "correct horse battery")
    # Dora, once found, is a contact (the renewal checklist above counts contacts).
    d.step("directory", d.directory, "Dora Directory <dora@example.org>")
    # Last: the FAQ's stories (stories.py) connect the companion's security module to Thunderbird.
    d.stories(pki, os.environ["E2E_SECOND_COMPUTER"])
    print(f"driver ({d.lang}) took {time.monotonic() - start:.1f} s")
    print(f"{d.passed} passed, {d.failed} failed")
    sys.exit(1 if d.failed else 0)


if __name__ == "__main__":
    main()
