"""The wait, measured (a benchmark, not a test): in a running headless Thunderbird, how long after a
message is selected in a folder the add-on's verdict is on its header button, next to Thunderbird's
own S/MIME status for the same message in the same run (its header's signed and encrypted icons).

Usage: bench.py PORT MESSAGES_DIR THUNDERBIRD_LOG LOCALE_JSON PASSPHRASE REPS CASE...
  A case is KIND-SIZE, a MESSAGES_DIR/bench-KIND-SIZE.eml made by bench.sh. Each case's message
  is copied REPS + 1 times into the Local Folders folder "Bench" (the first copy warms up and is
  not counted): every display is a message neither Thunderbird nor the add-on has seen.

One display: select MESSAGES_DIR/plain.eml and wait until both are settled; then, with
observers on the header button and on Thunderbird's crypto icons, note the time (in the chrome
process) and select the case's next copy, as a click in the message list does. Thunderbird's time
is when its icons reached their final state (it announces `smimeprocessed` once its
verification is done); ours when the button's label became the verdict's. The add-on, run by a
host started with SMIME_COMPANION_TIMING=1, prints where its time went
("smime-companion timing {…}" in Thunderbird's output, trace.mjs), with the host's own share.
Repetitions run case after case, so load from elsewhere falls on every case alike.

Prints every figure, then per case the median and spread (min–max) of Thunderbird's time, ours,
the difference and the ratio, and the median breakdown of ours. Asserts nothing about time.
"""

import json
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from chrome_session import ChromeSession  # noqa: E402

ADDON_ID = "smime-companion@smime-companion.org"
WAIT_S = 180
TRACE = re.compile(r"smime-companion timing (\{.*\})")

JS_HELPERS = r"""
const ADDON_ID = "%s";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();
function mainWindow() { return Services.wm.getMostRecentWindow("mail:3pane"); }
function about3Pane() {
  const tabmail = mainWindow().document.getElementById("tabmail");
  tabmail.switchToTab(0);
  return tabmail.tabInfo[0].chromeBrowser.contentWindow;
}
function aboutMessage() { return about3Pane().messageBrowser.contentWindow; }
function benchFolder() {
  const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
  const root = MailServices.accounts.localFoldersServer.rootFolder;
  if (!root.getChildNamed("Bench")) root.createSubfolder("Bench", null);
  return root.getChildNamed("Bench");
}
function headerOf(messageId) {
  const folder = benchFolder();
  for (const hdr of folder.messages) if (hdr.messageId === messageId) return hdr;
  return null;
}
// What the add-on's button and Thunderbird's crypto box show now.
function shown() {
  const doc = aboutMessage().document;
  const b = doc.querySelector(`[data-extensionid="${ADDON_ID}"]`);
  const icon = (id) => { const n = doc.getElementById(id); return n && !n.hidden ? (n.getAttribute("src") || "").replace(/^.*\//, "") : ""; };
  return { label: b?.getAttribute("label") ?? null, encrypted: icon("encryptedHdrIcon"), signed: icon("signedHdrIcon"),
           boxHidden: Boolean(doc.getElementById("cryptoBox")?.hidden) };
}
""" % ADDON_ID


class Bench(ChromeSession):
    def __init__(self, port, log_path, locale):
        ChromeSession.__init__(self, port, JS_HELPERS)
        self.log_path = log_path
        self.log_seen = 0
        self.locale = locale

    def text(self, key):
        return self.locale[key]["message"]

    def copy_in(self, path, copies):
        """Copies the file into "Bench" `copies` times, each with its own Message-ID; returns them."""
        return self.js(r"""
          const [path, copies] = args;
          const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
          const folder = benchFolder();
          const original = await IOUtils.read(path);
          const ids = [];
          for (let i = 0; i < copies; i++) {
            // A fresh Message-ID per copy: the first header line, before the original's.
            const id = `bench-${i}-${Math.random().toString(36).slice(2)}@bench.example.org`;
            const head = new TextEncoder().encode(`Message-ID: <${id}>\r\n`);
            const tmp = PathUtils.join(PathUtils.tempDir, `bench-copy-${id}.eml`);
            const bytes = new Uint8Array(head.length + original.length);
            bytes.set(head); bytes.set(original, head.length);
            await IOUtils.write(tmp, bytes);
            await new Promise((resolve, reject) => {
              const listener = {
                QueryInterface: ChromeUtils.generateQI(["nsIMsgCopyServiceListener"]),
                onStartCopy() {}, onProgress() {}, getMessageId() { return ""; }, setMessageKey() {},
                onStopCopy(status) { Components.isSuccessCode(status) ? resolve() : reject(new Error("copy failed " + status)); },
              };
              MailServices.copy.copyFileMessage(new FileUtils.File(tmp), folder, null, false, 0, "", listener, null);
            });
            await IOUtils.remove(tmp);
            ids.push(id);
          }
          return ids;
        """, path, copies, timeout_s=600)

    def settle(self, message_id, label):
        """Selects a message and waits until Thunderbird has loaded it and the button shows `label`,
        then until no timer of the selection can be pending (the add-on's older versions looked at
        a selection again 1.5 s later)."""
        return self.js(r"""
          const [messageId, label, timeoutMs] = args;
          const hdr = headerOf(messageId);
          if (!hdr) return { error: "no such message " + messageId };
          const pane = about3Pane();
          pane.selectMessage(hdr);
          const until = Date.now() + timeoutMs;
          while (Date.now() < until) {
            const s = shown();
            if (aboutMessage().msgLoaded && aboutMessage().gMessage?.messageId === messageId && s.label === label) {
              await sleep(1600);
              return shown();
            }
            await sleep(50);
          }
          return { timedOut: true, last: shown() };
        """, message_id, label, WAIT_S * 1000, timeout_s=WAIT_S + 20)

    def display(self, message_id, not_labels):
        """One timed display: times (ms after the selection) of Thunderbird's and our final state."""
        return self.js(r"""
          const [messageId, notLabels, timeoutMs] = args;
          const hdr = headerOf(messageId);
          if (!hdr) return { error: "no such message " + messageId };
          const pane = about3Pane();
          const msgWin = aboutMessage();
          const doc = msgWin.document;
          const events = [];   // [ms, what]
          const ours = [];     // [ms, label]
          const theirs = [];   // [ms, {encrypted, signed, boxHidden}]
          let t0 = null;
          const at = () => now() - t0;
          const button = doc.querySelector(`[data-extensionid="${ADDON_ID}"]`);
          const buttonObserver = new msgWin.MutationObserver(() => ours.push([at(), shown().label]));
          buttonObserver.observe(button, { attributes: true, attributeFilter: ["label"] });
          const boxObserver = new msgWin.MutationObserver(() => { const s = shown(); theirs.push([at(), [s.encrypted, s.signed, s.boxHidden]]); });
          boxObserver.observe(doc.getElementById("cryptoBox"), { attributes: true, subtree: true, attributeFilter: ["src", "hidden"] });
          const onEvent = (e) => events.push([at(), e.type]);
          for (const type of ["MsgLoading", "MsgLoaded", "smimeprocessed"]) msgWin.addEventListener(type, onEvent);
          pane.threadTree.addEventListener("select", onEvent, { once: true });
          const index = pane.gDBView.findIndexOfMsgHdr(hdr, true);
          t0 = now();
          pane.threadTree.selectedIndex = index;   // as a click in the list: "select" fires at once
          const until = Date.now() + timeoutMs;
          let done = false;
          while (Date.now() < until) {
            const processed = events.some(([, type]) => type === "smimeprocessed");
            const label = shown().label;
            if (processed && label && !notLabels.includes(label)) { done = true; break; }
            await sleep(20);
          }
          await sleep(200); // late attribute changes of either side
          buttonObserver.disconnect(); boxObserver.disconnect();
          for (const type of ["MsgLoading", "MsgLoaded", "smimeprocessed"]) msgWin.removeEventListener(type, onEvent);
          return { t0, done, events, ours, theirs, final: shown() };
        """, message_id, not_labels, WAIT_S * 1000, timeout_s=WAIT_S + 20)

    def traces_since(self, t0, wait_s=5.0):
        """The add-on's timing lines that started after `t0` (epoch ms), from Thunderbird's output."""
        deadline = time.monotonic() + wait_s
        found = []
        while True:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                f.seek(self.log_seen)
                for line in f:
                    # The console prints the line as a JSON string: console.info: "smime-companion timing {\"…"
                    quoted = re.search(r'console\.\w+: (".*")\s*$', line)
                    text = json.loads(quoted.group(1)) if quoted else line
                    m = TRACE.search(text)
                    if m:
                        found.append(json.loads(m.group(1)))
                self.log_seen = f.tell()
            hits = [t for t in found if t["start"] >= t0 - 1]
            if hits or time.monotonic() > deadline:
                return hits
            time.sleep(0.2)

    def unlock(self, passphrase):
        """Unlocks the reader's key in the add-on's host session, through My certificates."""
        return self.js(r"""
          const [passphrase, unlockedPrefixes] = args;
          const policy = WebExtensionPolicy.getByID(ADDON_ID);
          const url = policy.getURL("pages/identities.html");
          const tabmail = mainWindow().document.getElementById("tabmail");
          const tab = tabmail.openTab("contentTab", { url, background: false });
          const until = Date.now() + 30000;
          let result = null;
          while (Date.now() < until) {
            const wg = tab.browser?.browsingContext?.currentWindowGlobal;
            if (wg && tab.browser.currentURI.spec === url) {
              const actor = wg.getActor("MarionetteCommands");
              result = await actor.executeScript(`
                const [passphrase] = arguments;
                if (document.body?.dataset.ready !== "true") return null;
                if (!document.body.dataset.benchUnlock) {
                  document.body.dataset.benchUnlock = "1";
                  document.getElementById("unlock-passphrase").value = passphrase;
                  document.getElementById("unlock-form").requestSubmit();
                  return null;
                }
                const state = document.getElementById("lock-state").textContent;
                const notice = document.getElementById("notice");
                if (arguments[1].some((prefix) => state.startsWith(prefix))) return { unlocked: true, state };
                return notice.hidden ? null : { unlocked: false, notice: notice.innerText };`,
                [passphrase, unlockedPrefixes], {}).catch(() => null);
              if (result) break;
            }
            await sleep(300);
          }
          await sleep(1000);
          tabmail.closeTab(tab);
          return result ?? { timedOut: true };
        """, passphrase, [self.text(k).split("$")[0] for k in ("lock_state_unlocked_one", "lock_state_unlocked_other")], timeout_s=60)


def settled_time(changes, final):
    """When a side reached its final state for good: the first change of the last run that equals it."""
    when = None
    for at, state in changes:
        if state == final:
            if when is None:
                when = at
        else:
            when = None
    return when


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    return f"{statistics.median(values):8.1f} ({min(values):.1f}–{max(values):.1f})"


def main():
    port, messages_dir, log_path, locale_path, passphrase, reps = sys.argv[1:7]
    cases = sys.argv[7:]
    reps = int(reps)
    with open(locale_path, encoding="utf-8") as f:
        locale = json.load(f)
    b = Bench(int(port), log_path, locale)
    not_labels = [b.text("label_checking"), b.text("actionLabel"), b.text("state_none")]

    print("== bench: copying the messages into Local Folders/Bench")
    reset_id = b.copy_in(os.path.join(messages_dir, "plain.eml"), 1)[0]
    copies = {}
    for case in cases:
        copies[case] = b.copy_in(os.path.join(messages_dir, f"bench-{case}.eml"), reps + 1)
    unsigned = b.text("state_none")
    first = b.settle(reset_id, unsigned)
    print(f"   reset message: {first}")
    unlocked = b.unlock(passphrase)
    print(f"   unlocked the reader's key in the host session: {unlocked}")

    rows = {case: [] for case in cases}
    print("== bench: displays (ms after the selection; TB = Thunderbird's own S/MIME status, ours = the button)")
    for rep in range(reps + 1):
        for case in cases:
            settled = b.settle(reset_id, unsigned)
            if settled.get("timedOut"):
                print(f"   {case}: the reset message did not settle: {settled}")
            r = b.display(copies[case][rep], not_labels)
            final = r["final"]
            tb = settled_time([(at, list(s)) for at, s in r["theirs"]], [final["encrypted"], final["signed"], final["boxHidden"]])
            ours = settled_time(r["ours"], final["label"])
            events = {what: at for at, what in r["events"]}
            traces = b.traces_since(r["t0"])
            trace = traces[0] if traces else None
            row = dict(rep=rep, t0=r["t0"], tb=tb, ours=ours, done=r["done"], final=final, events=events, trace=trace)
            tag = "warm-up" if rep == 0 else f"run {rep}"
            ratio = f"{ours / tb:.2f}" if tb and ours else "-"
            diff = f"{ours - tb:+.1f}" if tb is not None and ours is not None else "-"
            print(f"   {case:<14} {tag:<7} TB {tb if tb is None else round(tb, 1)!s:>8}  ours {ours if ours is None else round(ours, 1)!s:>8}"
                  f"  ours-TB {diff:>8}  ours/TB {ratio:>5}  loaded {round(events.get('MsgLoaded', -1), 1)}"
                  f"  [{final['label']} | TB {final['encrypted'] or '-'} {final['signed'] or '-'}]" + ("" if r["done"] else "  NOT DONE"))
            if trace:
                print(f"      add-on: {json.dumps(trace, sort_keys=True)}")
            if rep > 0:
                rows[case].append(row)

    print()
    print(f"== bench: medians and spread (min–max) over {reps} displays per case, ms after the selection")
    print(f"{'case':<14} {'TB own status':>24} {'our verdict':>24} {'ours - TB':>24} {'ours / TB':>20}")
    for case in cases:
        rs = rows[case]
        tbs = [r["tb"] for r in rs]
        ours = [r["ours"] for r in rs]
        diffs = [r["ours"] - r["tb"] for r in rs if r["ours"] is not None and r["tb"] is not None]
        ratios = [r["ours"] / r["tb"] for r in rs if r["ours"] and r["tb"]]
        ratio = f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})" if ratios else "-"
        print(f"{case:<14} {spread(tbs):>24} {spread(ours):>24} {spread(diffs):>24} {ratio:>20}")

    print()
    print("== bench: where our time goes (median ms of each step; trace.mjs)")
    for case in cases:
        traces = [r["trace"] for r in rows[case] if r["trace"]]
        if not traces:
            print(f"{case:<14} (no timing lines: is the host started with SMIME_COMPANION_TIMING=1?)")
            continue
        names = []
        for t in traces:
            for name in t["steps"]:
                if name not in names:
                    names.append(name)
        parts = [f"{name} {statistics.median([t['steps'].get(name, 0) for t in traces]):.1f}" for name in names]
        host = [t.get("host") or {} for t in traces]
        if any(host):
            parts.append(f"[host: pipe {statistics.median([h.get('read_ms', 0) for h in host]):.1f}"
                         f", handling {statistics.median([h.get('handle_ms', 0) for h in host]):.1f}]")
        chunks = [t["chunks"] for t in traces if t.get("chunks")]
        if chunks:
            parts.append(f"[host, the upload's {chunks[0]['count']} chunks: from the first's arrival to the last handled "
                         f"{statistics.median([c['span_ms'] for c in chunks]):.1f}, of which reading them "
                         f"{statistics.median([c['read_ms'] for c in chunks]):.1f}, handling "
                         f"{statistics.median([c['handle_ms'] for c in chunks]):.1f}]")
        start = statistics.median([r["trace"]["start"] - r["t0"] for r in rows[case] if r["trace"]])
        print(f"{case:<14} {traces[0].get('bytes')} bytes; the add-on starts at {start:.1f}, then "
              + ", ".join(parts) + f"; total {statistics.median([t['total_ms'] for t in traces]):.1f}")
    missing = [case for case in cases if any(not r["done"] for r in rows[case])]
    if missing:
        print(f"(some displays did not settle within {WAIT_S} s: {', '.join(missing)})")


if __name__ == "__main__":
    main()
