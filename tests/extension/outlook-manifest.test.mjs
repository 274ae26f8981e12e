import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { locales, read, readJson, ROOT } from "./docs.mjs";

const manifest = readJson("extension/outlook-web/manifest.json");

function chromiumId(keyB64) {
  const digest = createHash("sha256").update(Buffer.from(keyB64, "base64")).digest("hex").slice(0, 32);
  return [...digest].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join("");
}

// One packed copy for every test below (package-outlook-web.sh is the only way the extension is built).
const out = mkdtempSync(join(tmpdir(), "owa-pack-"));
const packed = (dir) => {
  execFileSync(`${ROOT}installer/package-outlook-web.sh`, [dir], { encoding: "utf8" });
  return join(dir, "unpacked");
};
const unpacked = packed(out);
const files = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));

test("Manifest V3 with the fixed public key: the ID is lhedfoapbnhfnodandjcbapohnbjbddg", () => {
  assert.equal(manifest.manifest_version, 3);
  assert.equal(chromiumId(manifest.key), "lhedfoapbnhfnodandjcbapohnbjbddg");
  assert.equal(manifest.default_locale, "en");
  assert.equal(manifest.version, readJson("extension/manifest.json").version, "both add-ons carry the same version");
});

test("it asks for exactly the permissions it uses", () => {
  assert.deepEqual([...manifest.permissions].sort(), ["downloads", "identity", "nativeMessaging", "scripting", "storage", "tabs"]);
  // Any https host: Outlook on the web and EWS of an on-premises server, national clouds' sign-in
  // and Graph are settings, and IT's must work without each user confirming each server (no
  // policy grants optional host permissions). docs/OUTLOOK-WEB.md says why, and how IT narrows it.
  assert.deepEqual(manifest.host_permissions, ["https://*/*"]);
  assert.equal(manifest.optional_host_permissions, undefined);
  const doc = read("docs/OUTLOOK-WEB.md");
  assert.match(doc, /\*\*`host_permissions: \["https:\/\/\*\/\*"\]`\*\*/);
  assert.match(doc, /runtime_blocked_hosts/);
  assert.equal(manifest.content_scripts, undefined, "the content script is registered for the configured origins only");
  assert.match(manifest.content_security_policy.extension_pages, /img-src 'self' data:;/);
  assert.doesNotMatch(manifest.content_security_policy.extension_pages, /script-src[^;]*(unsafe|http)/);
});

test("the packed folder holds every file the manifest names, and the pages and modules load", () => {
  const named = [manifest.background.service_worker, manifest.action.default_popup, manifest.options_ui.page, manifest.storage.managed_schema,
    ...Object.values(manifest.icons), ...Object.values(manifest.action.default_icon), "outlook-web/content.js"];
  for (const path of named) assert.ok(existsSync(join(unpacked, path)), path);
  assert.deepEqual(readJson("extension/outlook-web/manifest.json"), JSON.parse(readFileSync(join(unpacked, "manifest.json"), "utf8")));
  for (const file of files(unpacked)) {
    const text = /\.(html|mjs|js)$/.test(file) ? readFileSync(file, "utf8") : "";
    const refs = [...text.matchAll(/(?:src|href)="([^"#:]+)"/g), ...text.matchAll(/(?:from|import)\s+"(\.[^"]+)"/g)].map((m) => m[1]);
    for (const ref of refs) assert.ok(existsSync(resolve(dirname(file), ref)), `${relative(unpacked, file)} loads ${ref}, which is not packed`);
  }
  assert.ok(!existsSync(join(unpacked, "background.js")) && !existsSync(join(unpacked, "compose")), "nothing Thunderbird-only");
});

test("one set of locale files, shared: the packed ones are the Thunderbird add-on's", () => {
  for (const lang of ["en", "de"]) {
    assert.equal(readFileSync(join(unpacked, `_locales/${lang}/messages.json`), "utf8"), readFileSync(`${ROOT}extension/_locales/${lang}/messages.json`, "utf8"));
  }
  assert.deepEqual(readdirSync(`${ROOT}extension/outlook-web`).filter((n) => n.startsWith("_")), [], "no second locale folder");
  const { en, de } = locales();
  for (const messages of [en, de]) {
    assert.ok(messages.owa_extensionName.length <= 75, "Chromium's limit for a name");
    assert.ok(messages.owa_extensionDescription.length <= 132, "Chromium's limit for a description");
  }
});

test("the zip is reproducible and holds the packed folder, manifest first", () => {
  const again = packed(mkdtempSync(join(tmpdir(), "owa-pack-")));
  const zip = (u) => readFileSync(join(dirname(u), "smime-companion-outlook-web.zip"));
  assert.deepEqual(zip(unpacked), zip(again));
  const listing = execFileSync("python3", ["-m", "zipfile", "-l", join(out, "smime-companion-outlook-web.zip")], { encoding: "utf8" });
  const names = listing.split("\n").slice(1).map((l) => l.split(/\s+/)[0]).filter(Boolean);
  assert.equal(names[0], "manifest.json");
  assert.deepEqual([...names].sort(), files(unpacked).map((f) => relative(unpacked, f)).sort());
  assert.ok(statSync(join(out, "smime-companion-outlook-web.zip")).size > 10_000);
});

test("the Thunderbird .xpi leaves the Outlook-on-the-web extension out", () => {
  const xpi = join(mkdtempSync(join(tmpdir(), "xpi-")), "a.xpi");
  execFileSync(`${ROOT}installer/package-xpi.sh`, [xpi], { encoding: "utf8" });
  const listing = execFileSync("python3", ["-m", "zipfile", "-l", xpi], { encoding: "utf8" });
  assert.ok(!listing.includes("outlook-web/"), listing);
  assert.ok(listing.includes("popup/details.html"));
});
