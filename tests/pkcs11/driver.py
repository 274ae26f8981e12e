"""Drives a running headless Thunderbird (Marionette, chrome context) through the calls its own
compose window and send code make, with S/MIME Companion's PKCS#11 module as the only place that
holds the user's keys and the contacts' certificates. Checks every outgoing message with openssl.

Usage: driver.py PORT WORK_DIR MODULE_NAME MODULE_PATH COMPANION_BIN
  WORK_DIR/pki      the test PKI (make-pki.sh); root.pem is trusted in Thunderbird's own store
  WORK_DIR/in/*.eml messages encrypted by openssl to the companion's keys
  WORK_DIR/out      where the messages Thunderbird writes go
Prints one line per check and a closing "N passed, N failed"; exits 1 on any failure.
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from chrome_session import ChromeSession  # noqa: E402

TOKEN = "S/MIME Companion"

JS_HELPERS = r"""
const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
const { MailUtils } = ChromeUtils.importESModule("resource:///modules/MailUtils.sys.mjs");
const { FileUtils } = ChromeUtils.importESModule("resource://gre/modules/FileUtils.sys.mjs");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const main = () => Services.wm.getMostRecentWindow("mail:3pane");
// PIN prompts: counted; cancelled, or answered with a PIN (state kept on the 3-pane window).
function prompts() {
  const g = main();
  if (!g.__p11) {
    g.__p11 = { mode: "cancel", pin: "", seen: [] };
    const obs = {
      observe(subject, topic) {
        const win = subject;
        const act = () => {
          const doc = win.document;
          const dlg = doc.querySelector("dialog");
          const text = (doc.getElementById("infoBody") || doc.body || {}).textContent || "";
          g.__p11.seen.push(text.trim());
          if (g.__p11.mode === "pin") {
            doc.getElementById("password1Textbox").value = g.__p11.pin;
            dlg.acceptDialog();
          } else {
            dlg.cancelDialog();
          }
        };
        if (win.document && win.document.readyState === "complete") win.setTimeout(act, 0);
        else win.addEventListener("load", () => win.setTimeout(act, 0), { once: true });
      },
    };
    Services.obs.addObserver(obs, "common-dialog-loaded");
    g.__p11obs = obs;
  }
  return g.__p11;
}
// Login and logout as NSS does them, through Thunderbird's own libnss3.
function nss() {
  const { ctypes } = ChromeUtils.importESModule("resource://gre/modules/ctypes.sys.mjs");
  const dir = Services.dirsvc.get("GreBinD", Ci.nsIFile);
  dir.append(ctypes.libraryName("nss3"));
  const lib = ctypes.open(dir.path);
  const f = (name, ret, ...a) => lib.declare(name, ctypes.default_abi, ret, ...a);
  return {
    find: f("PK11_FindSlotByName", ctypes.voidptr_t, ctypes.char.ptr),
    check: f("PK11_CheckUserPassword", ctypes.int, ctypes.voidptr_t, ctypes.char.ptr),
    logout: f("PK11_Logout", ctypes.int, ctypes.voidptr_t),
    loggedIn: f("PK11_IsLoggedIn", ctypes.int, ctypes.voidptr_t, ctypes.voidptr_t),
    free: f("PK11_FreeSlot", ctypes.void_t, ctypes.voidptr_t),
    close: () => lib.close(),
  };
}
function findCert(secure, email) {
  return new Promise((resolve) =>
    secure.asyncFindCertByEmailAddr(email, {
      QueryInterface: ChromeUtils.generateQI(["nsIDoneFindCertForEmailCallback"]),
      findCertDone(e, cert) { resolve(cert); },
    }));
}
function newSecure() {
  return Cc["@mozilla.org/messengercompose/composesecure;1"].createInstance(Ci.nsIMsgComposeSecure);
}
function aboutMessage(win) {
  return win.document.getElementById("messageBrowser")?.contentWindow ?? null;
}
"""


class Driver(ChromeSession):
    show_detail_on_ok = True

    def __init__(self, port, work, module_name, module_path, companion):
        super().__init__(port, JS_HELPERS, {"unhandledPromptBehavior": "ignore"})
        self.work = work
        self.pki = os.path.join(work, "pki")
        self.out = os.path.join(work, "out")
        os.makedirs(self.out, exist_ok=True)
        self.module_name = module_name
        self.module_path = module_path
        self.companion = companion

    # -- Thunderbird calls ----------------------------------------------------------------------

    def load_module(self):
        """nsIPKCS11ModuleDB.addModule(name, path, 0, 0): what browser.pkcs11.installModule and
        Settings > Security Devices > Load do (flags 0: no "friendly" flag from the loader)."""
        return self.js(r"""
          const [name, path] = args;
          const db = Cc["@mozilla.org/security/pkcs11moduledb;1"].getService(Ci.nsIPKCS11ModuleDB);
          await db.addModule(name, path, 0, 0);
          for (const mod of await db.listModules()) {
            if (mod.name !== name) continue;
            const tokens = [...mod.slots].map((s) => s.tokenName);
            return { name: mod.name, library: mod.libName, tokens };
          }
          return null;
        """, self.module_name, self.module_path)

    def lookup(self, email):
        """The compose window's recipient check: asyncFindCertByEmailAddr, counting PIN prompts."""
        return self.js(r"""
          const [email] = args;
          const p = prompts();
          p.mode = "cancel";
          const before = p.seen.length;
          const cert = await findCert(newSecure(), email);
          return { found: !!cert, token: cert ? cert.tokenName : null, subject: cert ? cert.subjectName : null,
                   prompts: p.seen.length - before };
        """, email)

    def login(self, pin):
        return self.js(r"""
          const [pin] = args;
          const n = nss();
          const slot = n.find(""" + '"' + TOKEN + '"' + r""");
          if (slot.isNull()) return { error: "no slot" };
          const rv = pin === "" ? 0 : pin === null ? n.logout(slot) : n.check(slot, pin);
          const loggedIn = n.loggedIn(slot, null);
          n.free(slot);
          return { rv, loggedIn };
        """, pin)

    def send(self, sender, recipient, name, body):
        """MimeMessage's send path: the compose window's lookups (cacheValidCertForEmail), then
        beginCryptoEncapsulation, mimeCryptoWriteBlock and finishCryptoEncapsulation, signed and
        encrypted, with the identity's certificates chosen by dbKey as Account Settings stores them."""
        path = os.path.join(self.out, name)
        result = self.js(r"""
          const [sender, recipient, path, body] = args;
          const secure = newSecure();
          const own = await findCert(secure, sender);
          if (!own) return { error: "no own certificate for " + sender };
          for (const email of [recipient]) {
            const cert = await findCert(secure, email);
            if (cert) secure.cacheValidCertForEmail(email, cert.dbKey);
          }
          const identity = MailServices.accounts.createIdentity();
          identity.email = sender;
          identity.setCharAttribute("signing_cert_dbkey", own.dbKey);
          identity.setCharAttribute("encryption_cert_dbkey", own.dbKey);
          const fields = Cc["@mozilla.org/messengercompose/composefields;1"].createInstance(Ci.nsIMsgCompFields);
          fields.from = sender;
          fields.to = recipient;
          fields.subject = "PKCS#11 test";
          fields.composeSecure = secure;
          secure.requireEncryptMessage = true;
          secure.signMessage = true;
          const stream = Cc["@mozilla.org/network/file-output-stream;1"].createInstance(Ci.nsIFileOutputStream);
          stream.init(new FileUtils.File(path), -1, -1, 0);
          const headers = `From: ${sender}\r\nTo: ${recipient}\r\nSubject: PKCS#11 test\r\n` +
            `Date: ${new Date().toUTCString().replace("GMT", "+0000")}\r\nMessage-ID: <${Date.now()}@pkcs11.test>\r\nMIME-Version: 1.0\r\n`;
          stream.write(headers, headers.length);
          const report = Cc["@mozilla.org/messengercompose/sendreport;1"].createInstance(Ci.nsIMsgSendReport);
          const p = prompts();
          const before = p.seen.length;
          try {
            secure.beginCryptoEncapsulation(stream, recipient, fields, headers, identity, report, false);
            const inner = "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" + body + "\r\n";
            secure.mimeCryptoWriteBlock(inner, inner.length);
            secure.finishCryptoEncapsulation(false, report);
          } catch (e) {
            stream.close();
            return { failed: String(e).slice(0, 300), prompts: p.seen.length - before };
          }
          stream.close();
          return { failed: null, prompts: p.seen.length - before };
        """, sender, recipient, path, body)
        return path, result

    def display(self, eml, pin=None, timeout_s=20):
        """Opens a message (MailUtils.openEMLFile: a message tab or window, as the user's
        preference says) and reads what Thunderbird shows: the body and its S/MIME status. A PIN
        prompt is answered with `pin` (or cancelled). Opening and reading are separate scripts:
        a script that is running when the prompt opens gets no result back."""
        self.js(r"""
          const [path, pin] = args;
          const p = prompts();
          p.mode = pin === null ? "cancel" : "pin";
          p.pin = pin || "";
          p.before = p.seen.length;
          const tabmail = main().document.getElementById("tabmail");
          p.knownTabs = new Set(tabmail.tabInfo);
          p.knownWins = new Set([...Services.wm.getEnumerator("mail:messageWindow")]);
          const file = new FileUtils.File(path);
          main().setTimeout(() => MailUtils.openEMLFile(main(), file, Services.io.newFileURI(file)), 0);
          return true;
        """, eml, pin)
        until = time.time() + timeout_s
        shown = None
        while time.time() < until:
            time.sleep(0.3)
            shown = self.js(r"""
              const p = prompts();
              const tabmail = main().document.getElementById("tabmail");
              const tab = tabmail.tabInfo.find((t) => !p.knownTabs.has(t) && t.mode.name === "mailMessageTab");
              const win = [...Services.wm.getEnumerator("mail:messageWindow")].find((w) => !p.knownWins.has(w));
              const about = tab ? tab.chromeBrowser.contentWindow : win ? aboutMessage(win) : null;
              const text = about?.document?.getElementById("messagepane")?.contentDocument?.body?.textContent || "";
              const status = about ? { encryption: about.gEncryptionStatus ?? null, signature: about.gSignatureStatus ?? null } : null;
              return JSON.parse(JSON.stringify({ opened: !!about, text: text.slice(0, 400), status,
                                                 prompts: p.seen.length - p.before }));
            """)
            if shown and "secret:" in shown["text"]:
                break
        time.sleep(0.5)
        final = self.js(r"""
          const p = prompts();
          const tabmail = main().document.getElementById("tabmail");
          for (const t of tabmail.tabInfo.filter((t) => !p.knownTabs.has(t))) tabmail.closeTab(t);
          for (const w of [...Services.wm.getEnumerator("mail:messageWindow")].filter((w) => !p.knownWins.has(w))) w.close();
          p.mode = "cancel";
          return { prompts: p.seen.length - p.before, promptText: JSON.parse(JSON.stringify(p.seen.slice(p.before))) };
        """)
        result = dict(shown or {"text": "", "status": None})
        result.update(final)
        return result

    # -- outside checks -------------------------------------------------------------------------------

    def openssl(self, *args, stdin=None):
        return subprocess.run(["openssl", *args], input=stdin, capture_output=True, timeout=30)

    def check_message(self, name, path, recipient, signer_email, body):
        """openssl cms: decrypt with the recipient's key, then verify the inner signature against
        the test root alone (the intermediate must come from the message, i.e. from our token)."""
        dec = self.openssl("cms", "-decrypt", "-in", path, "-recip", f"{self.pki}/{recipient}.pem", "-inkey", f"{self.pki}/{recipient}.key")
        self.check(f"{name}: openssl cms -decrypt with {recipient}'s key", dec.returncode == 0, dec.stderr.decode()[-300:])
        if dec.returncode != 0:
            return
        inner = os.path.join(self.out, name + ".inner")
        with open(inner, "wb") as f:
            f.write(dec.stdout)
        signer = os.path.join(self.out, name + ".signer.pem")
        ver = self.openssl("cms", "-verify", "-in", inner, "-CAfile", f"{self.pki}/root.pem", "-purpose", "smimesign", "-signer", signer)
        self.check(f"{name}: openssl cms -verify (root only; chain from the message)", ver.returncode == 0 and b"Verification successful" in ver.stderr,
                   ver.stderr.decode()[-300:])
        if os.path.exists(signer):
            email = self.openssl("x509", "-in", signer, "-noout", "-ext", "subjectAltName").stdout.decode()
            self.check(f"{name}: signed by {signer_email}", signer_email in email, email.strip())
        self.check(f"{name}: body intact", body.encode() in ver.stdout, ver.stdout[:200])

    def companion_cli(self, *args):
        return subprocess.run([self.companion, *args], capture_output=True, timeout=30)


def main():
    port, work, module_name, module_path, companion = sys.argv[1:6]
    d = Driver(int(port), work, module_name, module_path, companion)
    pki = d.pki
    alice_pin = open(f"{pki}/alice.pass").read().strip()
    gina_pin = open(f"{pki}/gina.pass").read().strip()

    def loading():
        mod = d.load_module()
        d.check("module loaded by nsIPKCS11ModuleDB.addModule (flags 0)", bool(mod) and TOKEN in mod["tokens"], str(mod))
    d.step("module loaded", loading)

    def lookups():
        for email, want in [("bob@example.net", True), ("BOB@Example.NET", True), ("erin@example.net", True),
                            ("alice@example.org", True), ("nobody@example.net", False)]:
            r = d.lookup(email)
            ok = r["found"] == want and (not want or r["token"] == TOKEN) and r["prompts"] == 0
            d.check(f"recipient lookup {email}: {'found on the companion token' if want else 'not found'}, no PIN prompt", ok, str(r))
    d.step("recipient lookups", lookups)

    def rsa_send():
        r = d.login(alice_pin)
        d.check("login with Alice's passphrase (PK11_CheckUserPassword)", r["rv"] == 0 and r["loggedIn"] == 1, str(r))
        body = "secret: signed by Alice's companion key, to Bob"
        path, res = d.send("alice@example.org", "bob@example.net", "alice-to-bob.eml", body)
        d.check("Thunderbird signs (CKM_RSA_PKCS) and encrypts to Bob from the cache", res["failed"] is None and res["prompts"] == 0, str(res))
        if res["failed"] is None:
            d.check_message("alice-to-bob", path, "bob", "alice@example.org", body)
    d.step("RSA sign and encrypt", rsa_send)

    def ec_send():
        d.login(None)
        r = d.login(gina_pin)
        d.check("login with Gina's passphrase (another identity, another PIN)", r["rv"] == 0 and r["loggedIn"] == 1, str(r))
        body = "secret: signed by Gina's EC companion key, to Erin"
        path, res = d.send("gina@example.org", "erin@example.net", "gina-to-erin.eml", body)
        d.check("Thunderbird signs (CKM_ECDSA) and encrypts to Erin (EC) from the cache", res["failed"] is None, str(res))
        if res["failed"] is None:
            d.check_message("gina-to-erin", path, "erin", "gina@example.org", body)
    d.step("EC sign and encrypt", ec_send)

    def decrypt():
        d.login(None)
        inbox = os.path.join(work, "in")
        r = d.display(f"{inbox}/to-alice-pkcs1.eml", pin=alice_pin)
        d.check("logged out, a message to Alice raises one PIN prompt; the PIN decrypts it (CKM_RSA_PKCS)",
                "secret: to alice pkcs1" in r["text"] and r["prompts"] == 1, str(r))
        r = d.display(f"{inbox}/to-alice-oaep.eml")
        d.check("RSA-OAEP message to Alice decrypted (CKM_RSA_PKCS_OAEP)", "secret: to alice oaep" in r["text"], str(r))
        d.login(None)
        r = d.display(f"{inbox}/to-alice-cancel.eml", pin=None)
        d.check("logged out and the prompt cancelled: not decrypted", "secret:" not in r["text"] and r["prompts"] == 1, str(r))
        r = d.login(gina_pin)
        for name, label in [("to-gina-ecdh-sha1.eml", "sha1"), ("to-gina-ecdh-sha256.eml", "sha256")]:
            r = d.display(f"{inbox}/{name}")
            d.check(f"ECDH message to Gina decrypted (CKM_ECDH1_DERIVE, X9.63 {label} KDF)", f"secret: to gina {label}" in r["text"], str(r))
    d.step("decrypt", decrypt)

    def locking():
        r = d.login(alice_pin)
        d.check("logged in again", r["loggedIn"] == 1, str(r))
        cli = d.companion_cli("identities", "lock")
        d.check("smime-companion identities lock", cli.returncode == 0, (cli.stdout + cli.stderr).decode()[-300:])
        time.sleep(1.3)
        r = d.login("")  # only asks NSS whether it is logged in (PK11_IsLoggedIn)
        d.check("after identities lock, Thunderbird is logged out of the module", r["loggedIn"] == 0, str(r))
    if "identities" in d.companion_cli("--help").stdout.decode():
        d.step("identities lock", locking)

    def directory():
        r = d.lookup("dora@example.net")
        d.check("before the lookup: dora@example.net (only in the directory) not found", not r["found"], str(r))
        cli = d.companion_cli("contacts", "lookup", "dora@example.net")
        d.check("smime-companion contacts lookup dora@example.net: found in the directory, can receive encrypted mail",
                cli.returncode == 0 and b"can encrypt" in cli.stdout, (cli.stdout + cli.stderr).decode()[-400:])
        time.sleep(1.3)  # the module asks the cache for changes at most once a second
        r = d.lookup("dora@example.net")
        d.check("after the lookup: Thunderbird finds dora@example.net on the companion token", r["found"] and r["token"] == TOKEN, str(r))
        d.login(None)
        d.login(alice_pin)
        body = "secret: to Dora, whose certificate came from the directory"
        path, res = d.send("alice@example.org", "dora@example.net", "alice-to-dora.eml", body)
        d.check("Thunderbird's own S/MIME signs and encrypts to Dora with the directory's certificate", res["failed"] is None, str(res))
        if res["failed"] is None:
            d.check_message("alice-to-dora", path, "dora", "alice@example.org", body)
    if os.environ.get("PKCS11_DIRECTORY") == "1":
        d.step("directory", directory)

    def deletion():
        r = d.lookup("carol@example.net")
        d.check("before the delete: carol@example.net found on the companion token", r["found"] and r["token"] == TOKEN, str(r))
        cli = d.companion_cli("contacts", "delete", "carol@example.net")
        d.check("smime-companion contacts delete carol@example.net", cli.returncode == 0, cli.stderr.decode()[-300:])
        time.sleep(1.3)  # the module asks the cache for changes at most once a second
        r = d.lookup("carol@example.net")
        d.check("after the delete: carol@example.net no longer found (no restart)", not r["found"], str(r))
        d.login(alice_pin)
        path, res = d.send("alice@example.org", "carol@example.net", "alice-to-carol.eml", "secret: must not be sent")
        d.check("after the delete: Thunderbird refuses to encrypt to Carol", res["failed"] is not None, str(res))
    d.step("delete", deletion)

    print(f"{d.passed} passed, {d.failed} failed")
    sys.exit(1 if d.failed else 0)


if __name__ == "__main__":
    main()
