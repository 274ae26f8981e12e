#!/usr/bin/env bash
# End-to-end tests: the real add-on and the real host in a real, headless Thunderbird.
#
# Builds the host, packs the add-on, makes test messages with openssl (make-messages.sh), starts
# Thunderbird with a fresh profile and HOME, and lets driver.py check through Marionette what the
# add-on shows for each message. Screenshots go to $E2E_ARTIFACTS (default target/e2e).
#
# First without a registered host (the add-on must say so and open its help page), then with the
# host registered by `smime-companion install --user` (the add-on must reconnect by itself).
# A message signed with a revoked certificate is judged against a local OCSP responder (`openssl
# ocsp`, started here). Then the add-on's menus and pages (contacts, my certificates, options with a value IT set in
# managed storage) and the compose check, for an account with two identities: one with
# Thunderbird's S/MIME set up (Bob's key in Thunderbird's store), one without. A local slapd
# (LDAPS) holds Dora's certificate, and IT's managed settings name it: the compose check finds
# her there (pages.py, "directory").
# Last, the German S/MIME FAQ's stories step by step (stories.py): key exchange, a stale key, a
# file without its private key, an expired and a renewed own certificate (read through the
# companion's security module), and a second computer (a second Thunderbird with its own profile,
# HOME and companion data, started by the driver). Every part runs every time: a host that lacks
# an op the add-on calls fails the run.
# Every wait is bounded; Thunderbird is stopped on exit. KEEP=1 keeps the work folder.
#
# E2E_LOCALE=de runs it all in a German Thunderbird (Debian's thunderbird-l10n-de, the language
# asked for in the profile's preferences): what the add-on must show comes from the German locale
# file, every text it shows must be German (or data), dates and numbers written the German way.
# Screenshots are named after the language (de-…, en-…); run both for both sets.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
. tests/common/thunderbird.sh
artifacts=$(mkdir -p "${E2E_ARTIFACTS:-target/e2e}" && cd "${E2E_ARTIFACTS:-target/e2e}" && pwd)
lang=${E2E_LOCALE:-en}
case "$lang" in en|de) ;; *) echo "E2E_LOCALE must be en or de, not $lang"; echo "0 passed, 1 failed"; exit 1 ;; esac
export E2E_LOCALE=$lang
addon_id=$(python3 -c 'import json; print(json.load(open("extension/manifest.json"))["browser_specific_settings"]["gecko"]["id"])')

echo "== e2e: installing what it needs"
packages=(thunderbird libnss3-tools openssl python3-venv slapd ldap-utils)
if [ "$lang" = de ]; then packages+=(thunderbird-l10n-de); fi
installer/debian-packages.sh "${packages[@]}"
. tests/common/slapd.sh
# The check that every text comes from the run's locale file is itself checked first.
PYTHONDONTWRITEBYTECODE=1 python3 tests/e2e/locale_check.py --self-test extension/_locales || { echo "0 passed, 1 failed"; exit 1; }
tb_venv
# E2E_HOST=/path/to/smime-companion tests a host built elsewhere (a package, say) instead.
if [ -n "${E2E_HOST:-}" ]; then
  host=$(realpath "$E2E_HOST")
else
  cargo build --release --locked > target/e2e-build.log 2>&1 || { tail -n 30 target/e2e-build.log; echo "0 passed, 1 failed"; exit 1; }
  host=$repo/target/release/smime-companion
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/smime-e2e.XXXXXX")
tb_artifacts=$artifacts   # Thunderbird's log is copied there when the suite fails
ocsp_pid=
cleanup() {
  local rc=$?
  if [ -n "$ocsp_pid" ]; then kill "$ocsp_pid" 2>/dev/null || true; wait "$ocsp_pid" 2>/dev/null || true; fi
  slapd_stop
  # The second computer's Thunderbird, should the driver not have stopped it (stories.py).
  if [ -s "$work/second/thunderbird.pid" ]; then kill "$(cat "$work/second/thunderbird.pid")" 2>/dev/null || true; fi
  (exit $rc)
  tb_cleanup
}
trap cleanup EXIT

tb_env "$work"   # HOME, and the host's data (it trusts the test CA, added below)
profile=$work/profile
mkdir -p "$profile/extensions" "$profile/Mail/Local Folders"

echo "== e2e: test messages, add-on, profile"
# The CA's OCSP responder for the revoked signer: `openssl ocsp` on a free local port, named in
# the certificate the messages are made with.
export E2E_OCSP_PORT
E2E_OCSP_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
tests/e2e/make-messages.sh "$work/messages"
pki=$work/messages/pki
openssl ocsp -index "$pki/ocsp-index.txt" -port "$E2E_OCSP_PORT" -rsigner "$pki/e2e-ca.pem" -rkey "$pki/e2e-ca.key" \
  -CA "$pki/e2e-ca.pem" -ndays 1 > "$work/ocsp.log" 2>&1 &
ocsp_pid=$!
for _ in $(seq 100); do grep -q "waiting for OCSP client connections" "$work/ocsp.log" 2>/dev/null && break; sleep 0.1; done
grep -q "waiting for OCSP client connections" "$work/ocsp.log" || { cat "$work/ocsp.log"; echo "0 passed, 1 failed"; exit 1; }
cp "$work/messages/pki/e2e-ca.pem" "$SMIME_COMPANION_HOME/anchors/"
installer/package-xpi.sh "$profile/extensions/$addon_id.xpi"
# The reader's own key in Thunderbird's certificate store, so Thunderbird can decrypt what the
# host has no key for (the add-on then judges the decrypted message); Thunderbird trusts the test
# CA too, so its own S/MIME can sign and encrypt the messages the compose check switches on (and
# collects Alice's certificate when it shows her signed mail).
tb_reader_profile "$profile" "$work/messages/pki"

# The real registration, made by the host's own installer into the temporary HOME.
"$host" install --user --client thunderbird --path "$host" >/dev/null
manifest=$HOME/.mozilla/native-messaging-hosts/smime_companion.json
[ -f "$manifest" ] || { echo "host manifest not written to $manifest"; echo "0 passed, 1 failed"; exit 1; }
cp "$manifest" "$work/host-manifest.json"
# The add-on must cope with a missing host and recover: the manifest is removed here and put back
# by the driver. A system-wide registration (an installed package) would be found instead, so
# Thunderbird then runs in a private mount namespace in which those folders are empty.
rm "$manifest"
tb_wrap=()
hidden=()
for system_dir in /usr/lib/mozilla/native-messaging-hosts /usr/lib64/mozilla/native-messaging-hosts; do
  if [ -e "$system_dir/smime_companion.json" ]; then hidden+=("$system_dir"); fi
done
if [ ${#hidden[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then namespace=(unshare --mount); else namespace=(unshare --user --map-root-user --mount); fi
  mkdir -p "$work/empty"
  tb_wrap=("${namespace[@]}" sh -c 'empty=$1; shift; while [ "$1" != -- ]; do mount --bind "$empty" "$1" || exit 1; shift; done; shift; exec "$@"' \
           sh "$work/empty" "${hidden[@]}" --)
  if ! "${tb_wrap[@]}" true 2> "$work/unshare.log"; then
    echo "FAIL the missing-host checks cannot run: ${hidden[*]} registers a host for everybody, and hiding it"
    echo "     from Thunderbird in a private mount namespace is not permitted here ($(head -c 300 "$work/unshare.log"))."
    echo "     Remove the system-wide package, or allow user namespaces (sysctl kernel.unprivileged_userns_clone=1)."
    echo "0 passed, 1 failed"; exit 1
  fi
  echo "== e2e: Thunderbird runs with ${hidden[*]} hidden (a private mount namespace): the host is missing until the driver registers it"
fi

# An LDAP directory that alone knows Dora; its server certificate is from the test CA, which the
# companion trusts (anchors), so LDAPS verifies without a ca_file.
# Every part runs every time: a directory that does not start fails the run.
slapd_tls_cert "$work/slapd" "$work/messages/pki/e2e-ca.pem" "$work/messages/pki/e2e-ca.key"
slapd_person dora dora@example.org "$work/messages/pki/dora.pem" "$work/messages/pki/e2e-ca.pem" > "$work/people.ldif"
slapd_start "$work/slapd" "$work/people.ldif" || { echo "the test's LDAP directory (slapd) did not start"; echo "0 passed, 1 failed"; exit 1; }
directories="[{\"id\": \"corp\", \"url\": \"ldaps://127.0.0.1:$slapd_ldaps_port\", \"base_dn\": \"$SLAPD_BASE_DN\"}]"

# What IT would push through the `3rdparty` policy, the way Thunderbird reads it for one user: a
# managed-storage manifest. The options page must show the value locked, and sending obey it;
# IT's directory is looked up by the compose check.
mkdir -p "$HOME/.mozilla/managed-storage"
cat > "$HOME/.mozilla/managed-storage/$addon_id.json" <<JSON
{"name": "$addon_id", "description": "IT settings for the end-to-end test", "type": "storage",
 "data": {"encryptWhenPossible": true, "directories": $directories}}
JSON

cat tests/common/thunderbird-base.js > "$profile/user.js"
cat >> "$profile/user.js" <<'PREFS'
user_pref("extensions.autoDisableScopes", 0);
user_pref("mail.accountmanager.accounts", "account1,account2");
user_pref("mail.accountmanager.defaultaccount", "account2");
// Bob's mail account (never contacted: no mail check, an unreachable server) with two identities:
// id1 has Thunderbird's own S/MIME set up with Bob's certificate, id2 has none.
user_pref("mail.account.account2.server", "server2");
user_pref("mail.account.account2.identities", "id1,id2");
user_pref("mail.server.server2.type", "pop3");
user_pref("mail.server.server2.hostname", "127.0.0.1");
user_pref("mail.server.server2.port", 1);
user_pref("mail.server.server2.userName", "bob");
user_pref("mail.server.server2.name", "Bob Reader");
user_pref("mail.server.server2.login_at_startup", false);
user_pref("mail.server.server2.check_new_mail", false);
user_pref("mail.server.server2.directory-rel", "[ProfD]Mail/pop");
user_pref("mail.identity.id1.fullName", "Bob Reader");
user_pref("mail.identity.id1.useremail", "bob@example.org");
user_pref("mail.identity.id1.valid", true);
user_pref("mail.identity.id1.smtpServer", "smtp1");
user_pref("mail.identity.id1.signing_cert_name", "Bob Reader");
user_pref("mail.identity.id1.encryption_cert_name", "Bob Reader");
user_pref("mail.identity.id2.fullName", "Bob Reader");
user_pref("mail.identity.id2.useremail", "bob@home.example");
user_pref("mail.identity.id2.valid", true);
user_pref("mail.identity.id2.smtpServer", "smtp1");
user_pref("mail.smtpservers", "smtp1");
user_pref("mail.smtpserver.smtp1.hostname", "127.0.0.1");
user_pref("mail.smtpserver.smtp1.port", 1);
user_pref("devtools.console.stdout.chrome", true);
PREFS
if [ "$lang" = de ]; then
  # The language pack Debian installs beside Thunderbird, asked for by the profile.
  cat >> "$profile/user.js" <<'PREFS'
user_pref("intl.locale.requested", "de");
user_pref("extensions.langpacks.signatures.required", false);
PREFS
fi

# The second computer of the story "second-computer" (stories.py): its own HOME with the host
# registered by the installer, its own companion data and Thunderbird profile (the add-on, the test
# CA trusted, Bob's accounts, the run's language). The driver starts and stops its Thunderbird.
second=$work/second
mkdir -p "$second/profile/extensions" "$second/profile/Mail/Local Folders" "$second/home" "$second/companion/anchors"
cp "$pki/e2e-ca.pem" "$second/companion/anchors/"
cp "$profile/extensions/$addon_id.xpi" "$second/profile/extensions/"
certutil -N -d "sql:$second/profile" --empty-password
certutil -A -n "E2E Test CA" -t "C,C,C" -i "$pki/e2e-ca.pem" -d "sql:$second/profile"
HOME=$second/home SMIME_COMPANION_HOME=$second/companion "$host" install --user --client thunderbird --path "$host" >/dev/null
cp "$profile/user.js" "$second/profile/user.js"   # the same accounts: Bob's other computer
# Started without a message to open, Thunderbird would show its first-run account wizard.
echo 'user_pref("mail.provider.suppress_dialog_on_startup", true);' >> "$second/profile/user.js"
export E2E_SECOND_COMPUTER=$second

cases=(plain signed altered untrusted mismatch revoked broken expired partial doubtful encrypted undecryptable)
# Every part runs every time: a host that lacks an op the add-on calls (extension/modules/ops.mjs)
# fails the run; nothing is left out.
ops=$("$host" ops)
missing=$(python3 - "$ops" <<'PY2'
import re, sys
have = {line.split()[0] for line in sys.argv[1].splitlines() if line.strip()}
table = open("extension/modules/ops.mjs", encoding="utf-8").read()
table = table[table.index("export const Op = Object.freeze({"):]
table = table[:table.index("});")]
print(" ".join(op for op in re.findall(r':\s*"([a-z0-9_]+)"', table) if op not in have))
PY2
)
if [ -n "$missing" ]; then
  echo "FAIL the host ($host) lacks ops the add-on calls: $missing"
  echo "0 passed, 1 failed"; exit 1
fi

echo "== e2e: Thunderbird $(thunderbird --version 2>/dev/null | awk '{print $NF}'), headless, in $lang"
tb_start "$profile" "$work/thunderbird.log" -file "$work/messages/${cases[0]}.eml" || { echo "0 passed, 1 failed"; exit 1; }

PYTHONDONTWRITEBYTECODE=1 timeout 900 "$venv/bin/python" tests/e2e/driver.py "$tb_port" "$work/messages" \
  "$artifacts" "extension/_locales/$lang/messages.json" "$work/host-manifest.json" "$manifest" "${cases[@]}"
