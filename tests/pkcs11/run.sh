#!/usr/bin/env bash
# PKCS#11 module tests with the real consumers: NSS's own tools, then a real headless Thunderbird.
#
# Builds the host and the module (release), makes a test PKI (make-pki.sh), fills a companion data
# folder (two identities: Alice RSA, Gina EC; contacts Bob, Carol RSA and Erin EC, issued by an
# intermediate CA that only the contact cache holds), and then:
#   1. NSS tools: `modutil -add` the module to an NSS database; `certutil -L -h all` lists its
#      certificates (the own ones as user certificates, without a PIN); certutil -V verifies one.
#   2. Thunderbird: a fresh profile that trusts only the test root; driver.py loads the module the
#      way browser.pkcs11.installModule does, with the name and path from the manifest that
#      `smime-companion install --user` wrote, and checks lookups, signing, encryption, decryption
#      and a contact's deletion (see driver.py). Every outgoing message is checked with openssl.
#   3. A directory: Dora's certificate is only in a local slapd (LDAPS, server certificate from the
#      test root); `smime-companion contacts lookup` finds it, and Thunderbird's own S/MIME then
#      finds it on the module and encrypts to her (driver.py, "directory").
# Every wait is bounded; Thunderbird is stopped on exit. KEEP=1 keeps the work folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
. tests/common/thunderbird.sh
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

echo "== pkcs11: installing what it needs"
installer/debian-packages.sh thunderbird libnss3-tools openssl python3-venv slapd ldap-utils
. tests/common/slapd.sh
tb_venv
cargo build --release --locked > target/pkcs11-build.log 2>&1 || { tail -n 30 target/pkcs11-build.log; fail "build"; finish; }
host=$repo/target/release/smime-companion
module=$repo/target/release/libsmime_companion_pkcs11.so
[ -f "$module" ] || { fail "no module at $module"; finish; }

work=$(mktemp -d "${TMPDIR:-/tmp}/smime-pkcs11.XXXXXX")
trap 'tb_cleanup; slapd_stop' EXIT
tb_env "$work"                                         # SMIME_COMPANION_HOME: read by the CLI and by the module in Thunderbird
trace=$work/pkcs11-trace.log                           # every module call Thunderbird makes
mkdir -p "$work/in"
pki=$work/pki

echo "== pkcs11: test PKI, identities, contacts"
tests/pkcs11/make-pki.sh "$pki"
"$host" trust add "$pki/root.pem" > /dev/null
import_identity() { "$host" identities import "$1" --password-file "$2"; }
for who in alice gina; do
  if import_identity "$pki/$who.p12" "$pki/$who.pass" > "$work/import-$who.log" 2>&1; then ok "identity $who imported"
  else fail "identity $who imported: $(tail -n 3 "$work/import-$who.log")"; fi
done
for who in bob carol erin inter; do
  "$host" contacts import "$pki/$who.pem" > /dev/null || fail "contacts import $who"
done

echo "== pkcs11: an LDAP directory that alone knows Dora"
slapd_tls_cert "$work/slapd" "$pki/root.pem" "$pki/root.key"
slapd_person dora dora@example.net "$pki/dora.pem" "$pki/inter.pem" > "$work/people.ldif"
export PKCS11_DIRECTORY=0
if slapd_start "$work/slapd" "$work/people.ldif"; then
  ok "slapd started (LDAPS on 127.0.0.1:$slapd_ldaps_port)"
  # The user's configuration; the server's certificate verifies through the companion's anchors.
  printf '{"directories": [{"id": "test", "url": "ldaps://127.0.0.1:%s", "base_dn": "%s"}]}\n' \
    "$slapd_ldaps_port" "$SLAPD_BASE_DN" > "$SMIME_COMPANION_HOME/config.json"
  PKCS11_DIRECTORY=1
else
  fail "slapd started"
fi

# Messages encrypted by openssl to the companion's keys (Thunderbird must decrypt them).
message() { # NAME TEXT RECIPIENT [openssl options...]
  local name=$1 text=$2 recip=$3
  shift 3
  {
    printf 'From: Bob Contact <bob@example.net>\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@pkcs11.test>\r\n' \
      "$recip" "$name" "$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S +0000')" "$name"
    printf 'Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n' "$text" |
      openssl cms -encrypt -binary -crlfeol -aes256 -recip "$pki/${recip%%@*}.pem" "$@"
  } > "$work/in/$name.eml"
}
message to-alice-pkcs1 "secret: to alice pkcs1" alice@example.org
message to-alice-cancel "secret: to alice cancel" alice@example.org
message to-alice-oaep "secret: to alice oaep" alice@example.org -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256
message to-gina-ecdh-sha1 "secret: to gina sha1" gina@example.org
message to-gina-ecdh-sha256 "secret: to gina sha256" gina@example.org -keyopt ecdh_kdf_md:sha256

echo "== pkcs11: NSS tools"
nssdb=$work/nssdb
mkdir -p "$nssdb"
certutil -N -d "sql:$nssdb" --empty-password
certutil -A -d "sql:$nssdb" -n "Test Root" -t "C,C,C" -i "$pki/root.pem"
if echo | modutil -dbdir "sql:$nssdb" -add "S/MIME Companion" -libfile "$module" -force > "$work/modutil.log" 2>&1; then
  ok "modutil -add loads the module"
else
  fail "modutil -add: $(tail -n 3 "$work/modutil.log")"
fi
listing=$(timeout 60 certutil -L -h all -d "sql:$nssdb" 2>&1 || true)
for nick in "Alice Companion <alice@example.org>   *u,u,u" "Gina Companion <gina@example.org>   *u,u,u" \
            "Bob Contact <bob@example.net>" "Carol Contact <carol@example.net>" "Erin Contact <erin@example.net>" \
            "PKCS11 Test Intermediate CA"; do
  if grep -Eq "^S/MIME Companion:$nick" <<<"$listing"; then ok "certutil -L -h all lists S/MIME Companion:${nick%% *} ..."
  else fail "certutil -L -h all lists S/MIME Companion:$nick"; echo "$listing"; fi
done
if timeout 60 certutil -V -u R -d "sql:$nssdb" -n "S/MIME Companion:Bob Contact <bob@example.net>" 2>&1 | grep -q "certificate is valid"; then
  ok "certutil -V: Bob's certificate is valid for e-mail recipients (chain through the token's intermediate)"
else
  fail "certutil -V Bob"
fi

echo "== pkcs11: Thunderbird $(thunderbird --version 2>/dev/null | awk '{print $NF}'), headless"
"$host" install --user --client thunderbird --path "$host" > "$work/install.log" 2>&1 || true
p11_manifest=$HOME/.mozilla/pkcs11-modules/smime_companion.json
if [ -f "$p11_manifest" ]; then ok "install --user wrote the PKCS#11 manifest"; else fail "install --user wrote $p11_manifest"; cat "$work/install.log"; finish; fi
module_name=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["description"])' "$p11_manifest")
module_path=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["path"])' "$p11_manifest")
[ "$module_path" = "$module" ] && ok "the manifest names the built module" || fail "manifest path $module_path"

profile=$work/profile
mkdir -p "$profile/Mail/Local Folders"
certutil -N -d "sql:$profile" --empty-password
certutil -A -d "sql:$profile" -n "Test Root" -t "C,C,C" -i "$pki/root.pem"
cat tests/common/thunderbird-base.js > "$profile/user.js"
cat >> "$profile/user.js" <<'PREFS'
user_pref("mail.accountmanager.accounts", "account1");
PREFS
SMIME_COMPANION_PKCS11_TRACE=$trace tb_start "$profile" "$work/thunderbird.log" || { fail "Thunderbird started with Marionette"; finish; }

set +e
PYTHONDONTWRITEBYTECODE=1 timeout 180 "$venv/bin/python" tests/pkcs11/driver.py "$tb_port" "$work" \
  "$module_name" "$module_path" "$host" | tee "$work/driver.log"
set -e
driver_line=$(tail -n 1 "$work/driver.log")
if [[ $driver_line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
  passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
else
  fail "driver.py did not finish"; tail -n 20 "$work/thunderbird.log"
fi
if [ -s "$trace" ]; then
  echo "module calls in this run: $(wc -l < "$trace"), of them C_FindObjectsInit: $(grep -c '^C_FindObjectsInit' "$trace")"
  grep -E '^C_(SignInit|DecryptInit|DeriveKey|Login)' "$trace" | sort | uniq -c | sed 's/^/  /'
fi
finish
