#!/usr/bin/env bash
# The Debian package on this machine: builds it (installer/linux/build-deb.sh), installs it with
# `apt-get install ./smime-companion_*.deb` (the silent install IT uses), checks every file, the
# merged Thunderbird policy and `smime-companion doctor --system`, then purges it and checks that
# everything is gone, the policy entry included, while other policies stay. Four rounds: an
# existing policies.json with other settings, none at all, a broken one (left untouched), and one
# where IT blocks the add-on itself (left untouched too).
#
# Needs root (CI runs as root) or password-less sudo. Any policies.json that was there before is
# put back at the end. KEEP_DEB_INSTALLED=1 installs the package once more at the end and leaves it
# installed, so the end-to-end suite can check that a real Thunderbird finds the host and the
# force-installed add-on.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo -n); fi
as_root() { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive "$@"; }

policy=/etc/thunderbird/policies/policies.json
bin=/usr/bin/smime-companion
xpi=/usr/share/smime-companion/smime-companion.xpi
manifest=/usr/lib/mozilla/native-messaging-hosts/smime_companion.json
manifest64=/usr/lib64/mozilla/native-messaging-hosts/smime_companion.json
receipt=/var/lib/smime-companion/install-receipt.json
# Chrome's, Edge's and Chromium's system folders for host manifests (Outlook on the web).
chromium_manifests=(/etc/opt/chrome/native-messaging-hosts/smime_companion.json
  /etc/opt/edge/native-messaging-hosts/smime_companion.json /etc/chromium/native-messaging-hosts/smime_companion.json)
outlook_web=/usr/share/smime-companion/outlook-web
# The extension's fixed ID, from the key in its manifest (Chromium: the first 128 bits of the
# key's SHA-256, written with the letters a-p).
outlook_origin="chrome-extension://$(python3 -c 'import json; print(json.load(open("extension/outlook-web/manifest.json"))["key"])' | base64 -d | sha256sum | head -c 32 | tr 0-9a-f a-p)/"
addon_id=$(python3 -c 'import json; print(json.load(open("extension/manifest.json"))["browser_specific_settings"]["gecko"]["id"])')

work=$(mktemp -d "${TMPDIR:-/tmp}/smime-deb-test.XXXXXX")
chmod 0755 "$work"   # apt's sandbox user must read the .deb
had_policy=0
had_policy_dir=0
[ -d "$(dirname "$policy")" ] && had_policy_dir=1
if as_root test -e "$policy"; then had_policy=1; as_root cp -a "$policy" "$work/policy.orig"; fi
restore_policy() {
  if [ "$had_policy" = 1 ]; then
    as_root mkdir -p "$(dirname "$policy")"; as_root cp -a "$work/policy.orig" "$policy"
  else
    as_root rm -f "$policy"
    [ "$had_policy_dir" = 1 ] || as_root rmdir "$(dirname "$policy")" 2>/dev/null || true
  fi
}
cleanup() {
  local rc=$?
  if [ "${KEEP_DEB_INSTALLED:-0}" != 1 ] || [ $rc -ne 0 ]; then
    if dpkg-query -W -f='${Status}' smime-companion 2>/dev/null | grep -q installed; then
      as_root apt-get purge -y -qq smime-companion >/dev/null 2>&1 || true
    fi
    restore_policy
  fi
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $what" >&2; fi
}
has_entry() {  # has_entry FILE: our force_installed entry pointing at the package's add-on
  python3 - "$1" "$addon_id" "file://$xpi" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))["policies"]["ExtensionSettings"][sys.argv[2]]
sys.exit(0 if e == {"installation_mode": "force_installed", "install_url": sys.argv[3]} else 1)
PY
}
lacks_entry() {
  python3 - "$1" "$addon_id" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])).get("policies", {})
sys.exit(1 if sys.argv[2] in p.get("ExtensionSettings", {}) else 0)
PY
}
keeps_other_settings() {
  python3 - "$1" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["policies"]
sys.exit(0 if p.get("DisableTelemetry") is True and p["ExtensionSettings"].get("*") == {"installation_mode": "allowed"} else 1)
PY
}
quiet_output() {  # nothing from our maintainer scripts in apt-get's output
  ! grep -Eq 'smime-companion:|^wrote |^note: |^unchanged ' "$1"
}
manifest_ok() {  # manifest_ok FILE
  python3 - "$1" "$bin" "$addon_id" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
ok = m["name"] == "smime_companion" and m["type"] == "stdio" and m["path"] == sys.argv[2] and sys.argv[3] in m["allowed_extensions"]
sys.exit(0 if ok else 1)
PY
}
chromium_manifest_ok() {  # chromium_manifest_ok FILE: Chromium's style, allowing the Outlook extension
  python3 - "$1" "$bin" "$outlook_origin" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
ok = m["name"] == "smime_companion" and m["type"] == "stdio" and m["path"] == sys.argv[2] and m["allowed_origins"] == [sys.argv[3]]
sys.exit(0 if ok and "allowed_extensions" not in m else 1)
PY
}
installed_files_ok() {
  check "binary installed" test -x "$bin"
  check "add-on installed" test -s "$xpi"
  check "Outlook-on-the-web extension shipped, unpacked" test -s "$outlook_web/unpacked/manifest.json"
  check "Outlook-on-the-web extension shipped, zipped for the stores" test -s "$outlook_web/smime-companion-outlook-web.zip"
  check "the shipped extension is readable by every user" sh -c "! find '$outlook_web' ! -perm -o+r | grep -q ."
  for m in "${chromium_manifests[@]}"; do
    check "Chromium-style host manifest in $(dirname "$m"), allowing the Outlook extension" chromium_manifest_ok "$m"
    check "the receipt lists $m" grep -q "\"$m\"" "$receipt"
  done
  check "host manifest in /usr/lib/mozilla" manifest_ok "$manifest"
  check "the host manifest is postinst's, not a file of the package" sh -c "! dpkg -S '$manifest'"
  check "the receipt lists the host manifest" grep -q "\"$manifest\"" "$receipt"
  if [ -d /usr/lib64 ]; then
    check "host manifest in /usr/lib64/mozilla (this machine has /usr/lib64)" manifest_ok "$manifest64"
  else
    check "no /usr/lib64/mozilla on a machine without /usr/lib64" test ! -e /usr/lib64/mozilla
  fi
  check "install receipt written" test -s "$receipt"
}
everything_gone() {
  check "binary removed" test ! -e "$bin"
  check "add-on removed" test ! -e /usr/share/smime-companion
  check "host manifest removed" test ! -e "$manifest"
  check "lib64 host manifest removed" test ! -e "$manifest64"
  for m in "${chromium_manifests[@]}"; do
    check "host manifest removed from $(dirname "$m")" test ! -e "$m"
  done
  check "receipt removed" test ! -e /var/lib/smime-companion
  check "dpkg forgot the package" sh -c "! dpkg-query -W -f='\${Status}' smime-companion 2>/dev/null | grep -q 'install ok'"
}
install_deb() {  # install_deb LOG
  as_root apt-get install -y "$deb" > "$1" 2>&1
}
purge_deb() {
  as_root apt-get purge -y smime-companion > "$work/purge.log" 2>&1
}

echo "== deb: build"
installer/debian-packages.sh python3 >/dev/null
if dpkg-query -W -f='${Status}' smime-companion 2>/dev/null | grep -q installed; then
  as_root apt-get purge -y -qq smime-companion >/dev/null 2>&1
fi
deb=$(installer/linux/build-deb.sh "$work" 2>"$work/build.log") || { cat "$work/build.log" >&2; exit 1; }
echo "built $(basename "$deb")"
check "lintian-free basics: dpkg-deb can read the package" dpkg-deb --info "$deb"

echo "== deb: round 1, an existing policies.json with other settings"
as_root mkdir -p "$(dirname "$policy")"
printf '{"policies": {"DisableTelemetry": true, "ExtensionSettings": {"*": {"installation_mode": "allowed"}}}}\n' > "$work/existing.json"
as_root cp "$work/existing.json" "$policy"
check "apt-get install succeeds" install_deb "$work/install1.log"
check "the install is silent" quiet_output "$work/install1.log"
installed_files_ok
check "policy entry merged" has_entry "$policy"
check "other policies kept" keeps_other_settings "$policy"
check "doctor --system is healthy" "$bin" doctor --system
"$bin" doctor --system || true
check "apt-get purge succeeds" purge_deb
everything_gone
check "policy entry removed on purge" lacks_entry "$policy"
check "other policies still there" keeps_other_settings "$policy"

echo "== deb: round 2, no policies.json"
as_root rm -f "$policy"
check "apt-get install succeeds" install_deb "$work/install2.log"
check "the install is silent" quiet_output "$work/install2.log"
installed_files_ok
check "policy file created with the entry" has_entry "$policy"
check "doctor --system is healthy" "$bin" doctor --system
check "doctor --system --json is healthy" sh -c "'$bin' doctor --system --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)[\"healthy\"] else 1)'"
check "apt-get purge succeeds" purge_deb
everything_gone
check "policy file removed on purge" test ! -e "$policy"

echo "== deb: round 3, a broken policies.json is left untouched"
as_root mkdir -p "$(dirname "$policy")"
printf '{"policies": {"DisableTelemetry": true,\n' > "$work/broken.json"
as_root cp "$work/broken.json" "$policy"
check "apt-get install succeeds anyway" install_deb "$work/install3.log"
check "postinst says why the add-on is not forced" grep -q "was left unchanged" "$work/install3.log"
check "the broken file is untouched" cmp -s "$work/broken.json" "$policy"
installed_files_ok
check "doctor --system reports the broken policy" sh -c "! '$bin' doctor --system"
check "apt-get purge succeeds" purge_deb
everything_gone
check "the broken file is still untouched" cmp -s "$work/broken.json" "$policy"

echo "== deb: round 4, IT's own entry for the add-on is left as it is"
printf '{"policies": {"ExtensionSettings": {"%s": {"installation_mode": "blocked"}}}}\n' "$addon_id" > "$work/it-entry.json"
as_root cp "$work/it-entry.json" "$policy"
check "apt-get install succeeds" install_deb "$work/install4.log"
check "postinst notes IT's entry" grep -q "blocks the add-on.*left as it is" "$work/install4.log"
check "IT's entry is untouched" cmp -s "$work/it-entry.json" "$policy"
installed_files_ok
check "apt-get purge succeeds" purge_deb
everything_gone
check "IT's entry is still untouched" cmp -s "$work/it-entry.json" "$policy"

restore_policy
if [ "${KEEP_DEB_INSTALLED:-0}" = 1 ]; then
  echo "== deb: installing once more and keeping it (KEEP_DEB_INSTALLED=1)"
  check "apt-get install succeeds" install_deb "$work/install-kept.log"
  check "policy entry merged" has_entry "$policy"
fi

echo "deb: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
