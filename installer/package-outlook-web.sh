#!/usr/bin/env bash
# Packs the Outlook-on-the-web extension (Chromium, Chrome, Edge) from its single sources:
# extension/outlook-web/ (its manifest, service worker, content script, reader and options) plus
# what it shares with the Thunderbird add-on (extension/modules/, the popup, the contacts, My
# certificates and help pages, the icons and ONE set of locale files, extension/_locales/).
# Chromium cannot load files from outside an extension's folder, so this assembles one:
#   DIR/unpacked/                          the extension, for "Load unpacked", --load-extension,
#                                          or `chromium --pack-extension` (a .crx for self-hosting)
#   DIR/smime-companion-outlook-web.zip    the same, zipped, for the Chrome Web Store / Edge Add-ons
# Usage: installer/package-outlook-web.sh [DIR]   (default target/outlook-web-extension)
# A build output: never commit it. The archive is reproducible (sorted, fixed timestamps).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/target/outlook-web-extension}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
mkdir -p "$out"
python3 - "$root/extension" "$out" <<'PY'
import os, shutil, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
# (path below extension/, path in the package); folders are copied whole, hidden files never.
PARTS = [
    ("outlook-web/manifest.json", "manifest.json"),
    ("outlook-web", "outlook-web"),
    ("_locales", "_locales"),
    ("icons/light-theme", "icons/light-theme"),
    ("icons/dark-theme", "icons/dark-theme"),
    ("colors.css", "colors.css"),
    ("modules", "modules"),
    ("popup", "popup"),
] + [(f"pages/{name}", f"pages/{name}") for name in (
    "page.css", "contacts.html", "contacts.mjs", "contacts.css", "identities.html", "identities.mjs", "identities.css",
    "host-missing.html", "host-missing.mjs", "host-missing.css")]
files = {}
for source, target in PARTS:
    path = os.path.join(src, source)
    if os.path.isdir(path):
        for folder, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in names:
                if name.startswith("."):
                    continue
                rel = os.path.relpath(os.path.join(folder, name), path)
                dest = os.path.join(target, rel).replace(os.sep, "/")
                if dest != "outlook-web/manifest.json":  # it is the package's manifest.json
                    files[dest] = os.path.join(folder, name)
    elif os.path.isfile(path):
        files[target] = path
    else:
        sys.exit(f"package-outlook-web: {source} is missing")
unpacked = os.path.join(out, "unpacked")
shutil.rmtree(unpacked, ignore_errors=True)
for dest, source in files.items():
    os.makedirs(os.path.dirname(os.path.join(unpacked, dest)), exist_ok=True)
    shutil.copyfile(source, os.path.join(unpacked, dest))
archive = os.path.join(out, "smime-companion-outlook-web.zip")
tmp = archive + ".tmp"
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
    for dest in sorted(files, key=lambda p: (p != "manifest.json", p)):
        info = zipfile.ZipInfo(dest, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        with open(files[dest], "rb") as f:
            z.writestr(info, f.read())
os.replace(tmp, archive)
print(f"{unpacked}: {len(files)} files")
print(archive)
PY
