#!/usr/bin/env bash
# End-to-end tests: the real add-on and the real host in a real, headless Thunderbird.
#
# Builds the host, packs the add-on, makes test messages with openssl (make-messages.sh), starts
# Thunderbird with a fresh profile and HOME, and lets driver.py check through Marionette what the
# add-on shows for each message. Screenshots go to $E2E_ARTIFACTS (default target/e2e).
#
# First without a registered host (the add-on must say so and open its help page), then with the
# host registered by `smime-companion install --user` (the add-on must reconnect by itself).
# Then the add-on's menus and pages (contacts, my certificates, options with a value IT set in
# managed storage) and the compose check, for an account with two identities: one with
# Thunderbird's S/MIME set up (Bob's key in Thunderbird's store), one without.
# Every wait is bounded; Thunderbird is stopped on exit. KEEP=1 keeps the work folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
. tests/common/thunderbird.sh
artifacts=$(mkdir -p "${E2E_ARTIFACTS:-target/e2e}" && cd "${E2E_ARTIFACTS:-target/e2e}" && pwd)
addon_id=$(python3 -c 'import json; print(json.load(open("extension/manifest.json"))["browser_specific_settings"]["gecko"]["id"])')

echo "== e2e: installing what it needs"
installer/debian-packages.sh thunderbird libnss3-tools openssl python3-venv
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
trap tb_cleanup EXIT

tb_env "$work"   # HOME, and the host's data (it trusts the test CA, added below)
profile=$work/profile
mkdir -p "$profile/extensions" "$profile/Mail/Local Folders"

echo "== e2e: test messages, add-on, profile"
tests/e2e/make-messages.sh "$work/messages"
cp "$work/messages/pki/e2e-ca.pem" "$SMIME_COMPANION_HOME/anchors/"
installer/package-xpi.sh "$profile/extensions/$addon_id.xpi"
# The reader's own key in Thunderbird's certificate store, so Thunderbird can decrypt what the
# host has no key for (the add-on then judges the decrypted message).
certutil -N -d "sql:$profile" --empty-password
pk12util -i "$work/messages/pki/bob.p12" -d "sql:$profile" -W "" >/dev/null
# Thunderbird trusts the test CA too, so its own S/MIME can sign and encrypt the messages the
# compose check switches on (and collects Alice's certificate when it shows her signed mail).
certutil -A -n "E2E Test CA" -t "C,C,C" -i "$work/messages/pki/e2e-ca.pem" -d "sql:$profile"

# The real registration, made by the host's own installer into the temporary HOME. It is removed
# first and put back by the driver: the add-on must cope with a missing host and recover.
"$host" install --user --client thunderbird --path "$host" >/dev/null
manifest=$HOME/.mozilla/native-messaging-hosts/smime_companion.json
[ -f "$manifest" ] || { echo "host manifest not written to $manifest"; echo "0 passed, 1 failed"; exit 1; }
cp "$manifest" "$work/host-manifest.json"
# A system-wide registration (an installed package) would be found instead of a missing one.
export E2E_HOST_MISSING=1
for system_manifest in /usr/lib/mozilla/native-messaging-hosts/smime_companion.json \
                       /usr/lib64/mozilla/native-messaging-hosts/smime_companion.json; do
  if [ -e "$system_manifest" ]; then
    E2E_HOST_MISSING=0
    echo "skipped: the missing-host checks ($system_manifest registers a host for everybody)"
  fi
done
if [ "$E2E_HOST_MISSING" = 1 ]; then rm "$manifest"; fi   # the driver puts it back

# What IT would push through the `3rdparty` policy, the way Thunderbird reads it for one user: a
# managed-storage manifest. The options page must show the value locked, and sending obey it.
mkdir -p "$HOME/.mozilla/managed-storage"
cat > "$HOME/.mozilla/managed-storage/$addon_id.json" <<JSON
{"name": "$addon_id", "description": "IT settings for the end-to-end test", "type": "storage",
 "data": {"encryptWhenPossible": true}}
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

cases=(plain)
ops=$("$host" ops)
# Each part runs once the host has the ops it needs.
export E2E_PAGES=0 E2E_IDENTITIES=0
if grep -q '^recipients_check ' <<<"$ops"; then E2E_PAGES=1; else echo "skipped: the pages (the host has no contact cache yet)"; fi
if grep -q '^identities_import ' <<<"$ops"; then E2E_IDENTITIES=1; else echo "skipped: importing your own certificate (the host has no identities yet)"; fi
if grep -q '^inspect_message ' <<<"$ops"; then
  cases+=(signed altered untrusted mismatch encrypted undecryptable)
  export E2E_INSPECT=1
else
  export E2E_INSPECT=0
  echo "skipped: the host has no inspect_message yet; only the plain message and the connection are checked"
fi

echo "== e2e: Thunderbird $(thunderbird --version 2>/dev/null | awk '{print $NF}'), headless"
tb_start "$profile" "$work/thunderbird.log" -file "$work/messages/${cases[0]}.eml" || { echo "0 passed, 1 failed"; exit 1; }

PYTHONDONTWRITEBYTECODE=1 timeout 480 "$venv/bin/python" tests/e2e/driver.py "$tb_port" "$work/messages" \
  "$artifacts" extension/_locales/en/messages.json "$work/host-manifest.json" "$manifest" "${cases[@]}"
