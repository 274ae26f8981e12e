#!/usr/bin/env bash
# The Outlook-on-the-web extension in a real, headless Chromium (Debian's `chromium`), with the
# real host, against stand-ins for Outlook on the web, the Microsoft identity platform, Graph and
# EWS on 127.0.0.1 (standin.mjs; Chromium maps *.test there), serving messages made by the tests'
# own CA (make-messages.sh). The extension is packed from its single sources
# (installer/package-outlook-web.sh) and loaded unpacked, so its ID is the fixed one; the host is
# registered by its own installer (`install --user --client chromium`) in the test profile.
# driver.mjs checks the toolbar icon, the notice in the page, the popup and the reader for each
# message and each failure of fetching one; screenshots go to $OWA_ARTIFACTS (default
# target/outlook-web).
#
# Messages from elsewhere: OWA_MESSAGES=DIR serves every .eml in DIR instead and writes
# $OWA_ARTIFACTS/verdicts.json (per file: the signature and encryption state and the signers'
# addresses the popup showed). OWA_CA=PEM adds a trust anchor; OWA_P12=FILE with
# OWA_P12_PASSWORD_FILE=FILE imports an identity (the password also unlocks it in the popup).
# `run.sh bench`: the benchmark (not a test), navigation to seal for 1 KiB, 1 MiB and 25 MiB
# signed messages beside `smime-companion inspect` on the same files.
# Run as root, its last part writes IT's settings as a Chromium policy (3rdparty managed storage)
# into /etc/chromium/policies/managed/ and removes it on exit; OWA_MANAGED=0 leaves that out.
# OWA_HOST=/path/to/smime-companion tests a host built elsewhere. KEEP=1 keeps the work folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
mode=suite
[ "${1:-}" = bench ] && mode=bench
[ -n "${OWA_MESSAGES:-}" ] && mode=outside
artifacts=$(mkdir -p "${OWA_ARTIFACTS:-target/outlook-web}" && cd "${OWA_ARTIFACTS:-target/outlook-web}" && pwd)

echo "== outlook-web: installing what it needs"
installer/debian-packages.sh chromium nodejs openssl python3
chromium_bin=/usr/lib/chromium/chromium   # the browser itself, without the Debian wrapper's extra flags
[ -x "$chromium_bin" ] || chromium_bin=$(command -v chromium)
if [ -n "${OWA_HOST:-}" ]; then
  host=$(realpath "$OWA_HOST")
else
  mkdir -p target && cargo build --release --locked > target/outlook-web-build.log 2>&1 || { tail -n 30 target/outlook-web-build.log; echo "0 passed, 1 failed"; exit 1; }
  host=$repo/target/release/smime-companion
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/smime-owa.XXXXXX")
# IT's managed settings reach the extension through Chromium's policy folder, which only root may
# write; as root the suite puts a policy file there for its last part and takes it away again.
managed_policy=
if [ "$mode" = suite ] && [ "$(id -u)" -eq 0 ] && [ "${OWA_MANAGED:-1}" = 1 ]; then
  managed_policy=/etc/chromium/policies/managed/smime-companion-outlook-web-test-$$.json
fi
cleanup() {
  local rc=$?
  [ -n "$managed_policy" ] && rm -f "$managed_policy"
  if [ $rc -ne 0 ] || [ "${KEEP:-0}" = 1 ]; then
    cp "$work/chromium.log" "$artifacts/" 2>/dev/null || true
    echo "work folder kept: $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
export HOME=$work/home                                 # the browser profile and the host manifest live here
export SMIME_COMPANION_HOME=$work/companion            # the host's data: contact cache, identities, anchors
export SMIME_COMPANION_SYSTEM_ANCHORS=$work/no-anchors
export SMIME_COMPANION_SYSTEM_CONFIG=$work/no-config.json
unset XDG_CONFIG_HOME XDG_DATA_HOME
mkdir -p "$HOME" "$SMIME_COMPANION_HOME/anchors" "$SMIME_COMPANION_SYSTEM_ANCHORS"

echo "== outlook-web: extension, messages, identities"
installer/package-outlook-web.sh "$work/extension" >/dev/null
extension=$work/extension/unpacked
extension_id=$(python3 -c 'import base64, hashlib, json, sys
key = json.load(open(sys.argv[1]))["key"]
print("".join(chr(97 + int(c, 16)) for c in hashlib.sha256(base64.b64decode(key)).hexdigest()[:32]))' "$extension/manifest.json")
messages=$work/messages
bob_passphrase="correct horse battery"
outside_password=null
if [ "$mode" = outside ]; then
  messages=$(realpath "$OWA_MESSAGES")
  [ -n "${OWA_CA:-}" ] && cp "$OWA_CA" "$SMIME_COMPANION_HOME/anchors/outside-ca.pem"
  if [ -n "${OWA_P12:-}" ]; then
    "$host" identities import "$OWA_P12" --password-file "${OWA_P12_PASSWORD_FILE:?OWA_P12 needs OWA_P12_PASSWORD_FILE}" >/dev/null
    outside_password=$(python3 -c 'import json, sys; print(json.dumps(open(sys.argv[1]).read().rstrip("\r\n")))' "$OWA_P12_PASSWORD_FILE")
  fi
else
  BENCH=$([ "$mode" = bench ] && echo 1 || echo 0) tests/outlook-web/make-messages.sh "$messages"
  cp "$messages/pki/e2e-ca.pem" "$SMIME_COMPANION_HOME/anchors/"
  printf '%s' "$bob_passphrase" > "$work/bob-passphrase"
  printf '' > "$work/empty"
  "$host" identities import "$messages/pki/bob.p12" --password-file "$work/empty" --new-passphrase-file "$work/bob-passphrase" >/dev/null
fi

# The stand-ins' TLS certificate for *.test; Chromium accepts it by its key's hash alone.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/tls.key" -out "$work/tls.pem" -days 2 -subj "/CN=S-MIME Companion stand-ins" \
  -addext "subjectAltName=DNS:*.test,DNS:owa.cloud.test,DNS:owa.onprem.test,DNS:login.test,DNS:graph.test,DNS:remote.test" 2>/dev/null
spki=$(openssl x509 -in "$work/tls.pem" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)

# The host's registration, by its own installer, where Chromium with this profile looks
# (<user data dir>/NativeMessagingHosts). Taken away first in the suite: the extension must cope
# with a missing host and recover without a restart.
profile=$HOME/.config/chromium
"$host" install --user --client chromium --path "$host" >/dev/null
manifest=$profile/NativeMessagingHosts/smime_companion.json
[ -f "$manifest" ] || { echo "host manifest not written to $manifest"; echo "0 passed, 1 failed"; exit 1; }
cp "$manifest" "$work/host-manifest.json"
host_missing=false
if [ "$mode" = suite ]; then
  if [ -e /etc/chromium/native-messaging-hosts/smime_companion.json ]; then
    echo "skipped: the missing-host checks (/etc/chromium/native-messaging-hosts registers a host for everybody)"
  else
    rm "$manifest"
    host_missing=true
  fi
fi

OWA_MODE=$mode OWA_CHROMIUM=$chromium_bin OWA_EXTENSION=$extension OWA_EXTENSION_ID=$extension_id OWA_PROFILE=$profile \
OWA_ARTIFACTS_DIR=$artifacts OWA_MESSAGE_DIR=$messages OWA_LOCALE=$repo/extension/_locales/en/messages.json OWA_WORK=$work \
OWA_SPKI=$spki OWA_HOST_MISSING=$host_missing OWA_MANIFEST=$manifest OWA_BOB=$bob_passphrase OWA_OUTSIDE_PASSWORD=$outside_password \
OWA_HOST_BIN=$host OWA_MANAGED_POLICY=$managed_policy python3 - "$work/config.json" <<'PY'
import json, os, sys
e = os.environ
work = e["OWA_WORK"]
json.dump({
  "mode": e["OWA_MODE"], "chromium": e["OWA_CHROMIUM"], "extension": e["OWA_EXTENSION"], "extensionId": e["OWA_EXTENSION_ID"],
  "profile": e["OWA_PROFILE"], "artifacts": e["OWA_ARTIFACTS_DIR"], "messages": e["OWA_MESSAGE_DIR"], "locale": e["OWA_LOCALE"],
  "tlsKey": f"{work}/tls.key", "tlsCert": f"{work}/tls.pem", "spki": e["OWA_SPKI"], "chromiumLog": f"{work}/chromium.log",
  "hostMissing": e["OWA_HOST_MISSING"] == "true", "hostManifest": {"src": f"{work}/host-manifest.json", "dst": e["OWA_MANIFEST"]},
  "bobPassphrase": e["OWA_BOB"], "outsidePassword": json.loads(e["OWA_OUTSIDE_PASSWORD"]),
  "host": e["OWA_HOST_BIN"], "managedPolicy": e["OWA_MANAGED_POLICY"] or None, "cliEnv": {k: v for k, v in e.items() if not k.startswith("OWA_")},
}, open(sys.argv[1], "w"))
PY

echo "== outlook-web: $("$chromium_bin" --version 2>/dev/null), headless ($mode)"
timeout 600 node tests/outlook-web/driver.mjs "$work/config.json"
