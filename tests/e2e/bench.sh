#!/usr/bin/env bash
# The wait, measured: a benchmark (not a test) in a real, headless Thunderbird. For signed
# messages of 1 KiB, 1 MiB and 25 MiB, and encrypted (and signed) ones of the same sizes, how long
# after the message is selected in a folder the add-on's verdict is on its header button, next to
# Thunderbird's own S/MIME status for the same message in the same run, with where our time goes
# (bench.py). Thunderbird trusts the test CA and holds the reader's key; so does the host (the same
# .p12, imported and then unlocked in the add-on's session), so both really verify and decrypt.
#
#   tests/e2e/bench.sh [REPS]     (default 5 displays per case, after one warm-up)
#
# BENCH_CASES="signed-1m encrypted-1m" picks cases; E2E_HOST=/path/to/smime-companion measures a
# host built elsewhere; KEEP=1 keeps the work folder. Prints every figure; asserts nothing about time.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
. tests/common/thunderbird.sh
reps=${1:-5}
cases=(${BENCH_CASES:-signed-1k signed-1m signed-25m encrypted-1k encrypted-1m encrypted-25m})
addon_id=$(python3 -c 'import json; print(json.load(open("extension/manifest.json"))["browser_specific_settings"]["gecko"]["id"])')

echo "== bench: installing what it needs"
installer/debian-packages.sh thunderbird libnss3-tools openssl python3-venv
tb_venv
if [ -n "${E2E_HOST:-}" ]; then
  host=$(realpath "$E2E_HOST")
else
  mkdir -p target && cargo build --release --locked > target/e2e-bench-build.log 2>&1 || { tail -n 30 target/e2e-bench-build.log; exit 1; }
  host=$repo/target/release/smime-companion
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/smime-bench.XXXXXX")
trap tb_cleanup EXIT
tb_env "$work"
profile=$work/profile
messages=$work/messages
mkdir -p "$profile/extensions" "$profile/Mail/Local Folders"

echo "== bench: messages, add-on, profile"
# The test PKI, and plain.eml (shown between displays). No message here is signed by Dave, whose
# certificate names an OCSP responder: port 9 (discard) is named and never asked.
E2E_OCSP_PORT=9 tests/e2e/make-messages.sh "$messages"
date_header="Date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S +0000')"
# content BYTES: a short text and an attachment, about BYTES in all (random bytes, base64).
content() {
  printf 'Content-Type: multipart/mixed; boundary="bench"\r\n\r\n--bench\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
  printf 'Hello Bob, the figures are attached. Alice\r\n--bench\r\n'
  printf 'Content-Type: application/octet-stream; name="data.bin"\r\nContent-Disposition: attachment; filename="data.bin"\r\n'
  printf 'Content-Transfer-Encoding: base64\r\n\r\n'
  head -c $(($1 * 3 / 4)) /dev/urandom | base64 -w 76 | sed 's/$/\r/'
  printf -- '--bench--\r\n'
}
headers() { # SUBJECT
  printf 'From: Alice Example <alice@example.org>\r\nTo: Bob Reader <bob@example.org>\r\nSubject: %s\r\n%s\r\n' "$1" "$date_header"
}
sign() { openssl cms -sign -binary -crlfeol -md sha256 -signer "$messages/pki/alice.pem" -inkey "$messages/pki/alice.key" -certfile "$messages/pki/e2e-ca.pem"; }
encrypt() { openssl cms -encrypt -binary -crlfeol -aes256 "$messages/pki/bob.pem"; }
for size in 1k:1024 1m:1048576 25m:26214400; do
  name=${size%%:*} bytes=${size#*:}
  { headers "Benchmark: signed, $name"; content "$bytes" | sign; } > "$messages/bench-signed-$name.eml"
  # Encryption adds a third (base64 of the ciphertext): the content is smaller, the message as large.
  { headers "Benchmark: encrypted, $name"; content $((bytes * 3 / 4)) | sign | encrypt; } > "$messages/bench-encrypted-$name.eml"
done
ls -l "$messages"/bench-*.eml | awk '{print "   " $5 " bytes  " $NF}'
cp "$messages/pki/e2e-ca.pem" "$SMIME_COMPANION_HOME/anchors/"
installer/package-xpi.sh "$profile/extensions/$addon_id.xpi"
# Thunderbird: the test CA trusted, Bob's key in its store.
tb_reader_profile "$profile" "$messages/pki"
# The host: registered as the installer does, with Bob's key (sealed under a passphrase that
# bench.py gives to the add-on's unlock form).
"$host" install --user --client thunderbird --path "$host" >/dev/null
passphrase="bench passphrase"
printf '' > "$work/p12-password"
printf '%s' "$passphrase" > "$work/passphrase"
"$host" identities import "$messages/pki/bob.p12" --password-file "$work/p12-password" --new-passphrase-file "$work/passphrase" >/dev/null
rm "$work/p12-password" "$work/passphrase"

cat tests/common/thunderbird-base.js > "$profile/user.js"
cat >> "$profile/user.js" <<'PREFS'
user_pref("extensions.autoDisableScopes", 0);
user_pref("mail.accountmanager.accounts", "account1");
user_pref("devtools.console.stdout.chrome", true);
user_pref("devtools.console.stdout.content", true);
PREFS

# The host times its work and tells the add-on to time its own (trace.mjs, docs/CONFIG.md).
export SMIME_COMPANION_TIMING=1
echo "== bench: Thunderbird $(thunderbird --version 2>/dev/null | awk '{print $NF}'), headless, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
tb_start "$profile" "$work/thunderbird.log" || exit 1
PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" tests/e2e/bench.py "$tb_port" "$messages" "$work/thunderbird.log" \
  extension/_locales/en/messages.json "$passphrase" "$reps" "${cases[@]}"
echo "== bench: done, load $(cut -d' ' -f1-3 /proc/loadavg)"
