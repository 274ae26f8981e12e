#!/usr/bin/env bash
# Packs the Thunderbird add-on (extension/) into an .xpi, as is: no build step.
# Usage: installer/package-xpi.sh [OUT]   (default dist/smime-companion.xpi)
# The archive is reproducible: files in sorted order with fixed timestamps, so the same tree
# always gives the same bytes. Icon sources (icons/src/) stay out; the PNGs made from them go in.
# The Outlook-on-the-web extension (extension/outlook-web/) is packed by package-outlook-web.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/dist/smime-companion.xpi}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
mkdir -p "$(dirname "$out")"
python3 - "$root/extension" "$out" <<'PY'
import os, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
files = []
for folder, dirs, names in os.walk(src):
    rel_folder = os.path.relpath(folder, src)
    # Icon sources stay out; so does the Outlook-on-the-web extension (installer/package-outlook-web.sh).
    if rel_folder.replace(os.sep, "/") in ("icons/src", "outlook-web"):
        dirs[:] = []
        continue
    files += [os.path.normpath(os.path.join(rel_folder, n)) for n in names if not n.startswith(".")]
tmp = out + ".tmp"
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
    # manifest.json first (add-on managers peek at it), then everything else in sorted order
    for rel in sorted(files, key=lambda p: (p != "manifest.json", p.replace(os.sep, "/"))):
        info = zipfile.ZipInfo(rel.replace(os.sep, "/"), date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        with open(os.path.join(src, rel), "rb") as f:
            z.writestr(info, f.read())
os.replace(tmp, out)
print(f"{out}: {len(files)} files")
PY
