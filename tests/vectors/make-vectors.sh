#!/usr/bin/env bash
# Builds the S/MIME test messages (.eml) and their expected verdicts (expected.json).
#
#   tests/vectors/make-vectors.sh PKI_DIR OUTDIR
#
# Makes the test PKI in PKI_DIR first when needed (tests/pki/make-pki.sh), then runs
# gen_vectors.py, which drives the real tools (openssl, NSS cmsutil, gpgsm) and assembles MIME.
# Like make-pki.sh it is cheap to call on every test run: when OUTDIR/expected.json exists and
# OUTDIR/.stamp holds the hash of the generator scripts and of the PKI they were made with, it
# does nothing. (The PKI's keys are random, so new PKI ⇒ new vectors.)
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 PKI_DIR OUTDIR" >&2
    exit 2
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PKI_SCRIPT=$HERE/../pki/make-pki.sh

"$PKI_SCRIPT" "$1"
PKI=$(cd "$1" && pwd)
mkdir -p "$2"
OUT=$(cd "$2" && pwd)

STAMP=$(cat "$PKI_SCRIPT" "$HERE/../pki/p12merge.py" "$HERE/make-vectors.sh" "$HERE/gen_vectors.py" \
    "$HERE/der.py" "$HERE/mime.py" "$PKI/pki.json" | sha256sum | cut -d' ' -f1)

# One builder at a time; later callers find the finished stamp.
exec 9>"$OUT/.lock"
flock 9
if [[ -f $OUT/expected.json && -f $OUT/.stamp && "$(cat "$OUT/.stamp")" == "$STAMP" ]]; then
    exit 0
fi

for tool in openssl cmsutil certutil pk12util gpgsm gpgconf python3; do
    command -v "$tool" >/dev/null || { echo "make-vectors.sh: $tool is required (Debian: openssl libnss3-tools gpgsm)" >&2; exit 1; }
done

rm -f "$OUT/.stamp" "$OUT/expected.json" "$OUT"/*.eml
python3 "$HERE/gen_vectors.py" "$PKI" "$OUT"
echo "$STAMP" > "$OUT/.stamp"
