import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ICON_SIZES } from "../../extension/modules/look.mjs";
import { readJson, ROOT } from "./docs.mjs";

const manifest = readJson("extension/manifest.json");
const ext = (path) => `${ROOT}extension/${path.replace(/^\//, "")}`;

test("Manifest V3 for Thunderbird 140 and later, with the fixed add-on id", () => {
  assert.equal(manifest.manifest_version, 3);
  assert.equal(manifest.browser_specific_settings.gecko.id, "smime-companion@smime-companion.org");
  assert.equal(manifest.browser_specific_settings.gecko.strict_min_version, "140.0");
});

test("it may talk to the host, read messages, add the banner and keep a flag", () => {
  for (const p of ["nativeMessaging", "messagesRead", "scripting", "storage"]) assert.ok(manifest.permissions.includes(p), p);
});

// Each permission the write side adds, and what for; nothing beyond these.
const WRITE_SIDE = {
  menus: "items on certificate attachments, the message list and the tools menu",
  compose: "the recipients check on Send and on the button; switching Thunderbird's S/MIME",
  "compose.send": "the blocked Send's way out in one click: 'send signed, not encrypted' sends the message",
  accountsRead: "Thunderbird's identities and their S/MIME setup; the sending identity",
  downloads: "saving exports and the backup where the user chooses (Save As)",
  pkcs11: "loading the companion's security module into Thunderbird, and telling whether it is",
  notifications: "reminders that reach the user: a certificate's expiry and a missing backup, once per period",
};

test("the write side asks for exactly the permissions it uses", () => {
  assert.deepEqual([...manifest.permissions].sort(), [...["nativeMessaging", "messagesRead", "scripting", "storage", "tabs"], ...Object.keys(WRITE_SIDE)].sort());
});

test("the compose window has the check button with its popup, and the options page exists", () => {
  const action = manifest.compose_action;
  assert.ok(existsSync(ext(action.default_popup)), action.default_popup);
  assert.match(action.default_title, /^__MSG_\w+__$/);
  assert.match(action.default_label, /^__MSG_\w+__$/);
  assert.deepEqual(action.theme_icons.map((i) => i.size).sort((a, b) => a - b), ICON_SIZES);
  for (const icon of action.theme_icons) assert.ok(existsSync(ext(icon.light)) && existsSync(ext(icon.dark)));
  assert.ok(existsSync(ext(manifest.options_ui.page)), manifest.options_ui.page);
});

test("IT's managed storage has a schema beside the manifest, not named in it", () => {
  // Thunderbird fills storage.managed from the `3rdparty` policy or a managed-storage manifest
  // and warns about Chrome's `storage.managed_schema` key; the schema documents what IT writes.
  assert.ok(existsSync(ext("managed-schema.json")));
  assert.equal(manifest.storage, undefined);
});

test("the default locale is English and both locales exist", () => {
  assert.equal(manifest.default_locale, "en");
  for (const lang of ["en", "de"]) assert.ok(existsSync(ext(`_locales/${lang}/messages.json`)));
});

test("the background is one ES module that exists", () => {
  assert.equal(manifest.background.type, "module");
  assert.deepEqual(manifest.background.scripts.map((s) => existsSync(ext(s))), [true]);
});

test("the header button has a popup, a title, and icons for light and dark themes at 16 and 32 px", () => {
  const action = manifest.message_display_action;
  assert.ok(action, "message_display_action");
  assert.ok(existsSync(ext(action.default_popup)), action.default_popup);
  assert.match(action.default_title, /^__MSG_\w+__$/);
  const sizes = action.theme_icons.map((i) => i.size).sort((a, b) => a - b);
  assert.deepEqual(sizes, ICON_SIZES);
  for (const icon of action.theme_icons) {
    assert.ok(existsSync(ext(icon.light)) && existsSync(ext(icon.dark)), JSON.stringify(icon));
    assert.notEqual(icon.light, icon.dark);
  }
  for (const path of Object.values(action.default_icon)) assert.ok(existsSync(ext(path)), path);
});

test("every file the pages load exists, and every page loads only its own files", () => {
  const pages = [];
  for (const dir of readdirSync(ext(""), { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const name of readdirSync(ext(dir.name))) if (name.endsWith(".html")) pages.push(`${dir.name}/${name}`);
  }
  assert.ok(pages.length >= 6, pages.join());
  for (const page of pages) {
    const html = readFileSync(ext(page), "utf8");
    const dir = page.split("/")[0];
    for (const m of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
      assert.ok(!/^[a-z]+:/.test(m[1]), `${page} loads ${m[1]} from outside the add-on`);
      assert.ok(existsSync(ext(`${dir}/${m[1]}`)), `${page}: ${m[1]}`);
    }
    assert.ok(!/<script(?![^>]*type="module")/.test(html), `${page}: plain ES modules only`);
  }
});

test("no page or module sets markup from strings", () => {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(ext(dir), { withFileTypes: true })) {
      const path = `${dir}${entry.name}`;
      if (entry.isDirectory()) walk(`${path}/`);
      else if (/\.(mjs|js)$/.test(entry.name)) files.push(path);
    }
  };
  walk("");
  for (const file of files) {
    const code = readFileSync(ext(file), "utf8");
    assert.ok(!/\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write/.test(code), file);
  }
});

test("package-xpi.sh packs the same tree into the same bytes, manifest first, without icon sources", () => {
  const dir = mkdtempSync(join(tmpdir(), "xpi-"));
  const run = (out) => execFileSync(`${ROOT}installer/package-xpi.sh`, [out], { encoding: "utf8" });
  run(join(dir, "a.xpi"));
  run(join(dir, "b.xpi"));
  assert.deepEqual(readFileSync(join(dir, "a.xpi")), readFileSync(join(dir, "b.xpi")));
  const listing = execFileSync("python3", ["-m", "zipfile", "-l", join(dir, "a.xpi")], { encoding: "utf8" });
  const names = listing.split("\n").slice(1).map((l) => l.split(/\s+/)[0]).filter(Boolean);
  assert.equal(names[0], "manifest.json");
  assert.ok(names.includes("background.js") && names.includes("popup/details.html"));
  for (const page of ["pages/contacts.html", "pages/identities.html", "pages/options.html", "pages/guide.html", "compose/check.html", "managed-schema.json"]) {
    assert.ok(names.includes(page), page);
  }
  assert.ok(!names.some((n) => n.startsWith("icons/src/")), "SVG sources stay out");
});
