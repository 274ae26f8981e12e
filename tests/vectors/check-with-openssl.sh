#!/usr/bin/env bash
# Cross-checks the generated vectors with the openssl CLI (and a few with NSS cmsutil), so we know each vector is what its
# expected verdict claims: valid signatures verify, altered ones fail for the right reason,
# encrypted ones decrypt, and so on.
#
#   tests/vectors/check-with-openssl.sh PKI_DIR VECTOR_DIR
#
# openssl does not know our sender/time/weak-algorithm rules, so for those vectors the check is
# that the cryptography and chain are fine (the verdict then comes only from the rule under test).
# Every file in expected.json must have a row below, and every row a file.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 PKI_DIR VECTOR_DIR" >&2
    exit 2
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PKI=$(cd "$1" && pwd)
VEC=$(cd "$2" && pwd)
AT=$(date -u -d 2027-01-01T00:00:00Z +%s) # the verification time of expected.json
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# One row per vector:  FILE  STEP…  =>  ok | fail:REGEX
# Steps transform the current entity, starting with the whole message:
#   part:N          the raw MIME part N (IMAP numbering, mime.py)
#   verify          openssl cms -verify against root.pem at the fixed time, purpose smimesign;
#                   continues with the signed content
#   verify:crl      … also checking revocation with the issuing CA's CRL
#   verify:crl-empty  … with the CA's empty CRL
#   verify:msgcrl   … checking revocation with only the CRLs inside the message
#   decrypt:NAME    openssl cms -decrypt with NAME's key; continues with the plaintext
#   der             the base64 body of the entity, as DER (openssl reads S/MIME only when the
#                   Content-Type says pkcs7-mime)
#   certs           the message carries certificates (smime -pk7out | pkcs7 -print_certs)
#   nss-verify      NSS cmsutil -D must report signer0.status=GoodSignature (for every signer)
#   nss-decrypt     NSS cmsutil -D with alice's key; continues with the plaintext
# "fail:REGEX": the last step must fail, with REGEX (grep -E) in openssl's error output.
CHECKS=$(cat <<'EOF'
openssl-detached-sha256.eml                 verify => ok
openssl-opaque-sha256.eml                   verify => ok
openssl-detached-x-pkcs7-signature.eml      verify => ok
openssl-opaque-x-pkcs7-mime.eml             verify => ok
openssl-detached-sha384.eml                 verify => ok
openssl-detached-sha512.eml                 verify => ok
openssl-detached-ecdsa-p256-judy.eml        verify => ok
openssl-detached-ecdsa-p384-ken.eml         verify => ok
openssl-detached-rsa4096-dave.eml           verify => ok
openssl-detached-carol-organization.eml     verify => ok
openssl-detached-bob-individual.eml         verify => ok
openssl-detached-gsalice-globalsign.eml     verify => ok
openssl-detached-erin-subject-email.eml     verify => ok
openssl-detached-alice2-renewed.eml         verify => ok
openssl-detached-heidi-no-eku.eml           verify => ok
openssl-detached-alice-mailbox.eml          verify => ok
openssl-detached-lf-line-endings.eml        verify => ok
openssl-detached-quoted-printable-utf8.eml  verify => ok
openssl-detached-8bit-utf8.eml              verify => ok
openssl-detached-multipart-content.eml      verify => ok
nss-cmsutil-detached-sha256.eml             verify => ok
nss-cmsutil-opaque-sha256.eml               verify => ok
nss-cmsutil-enveloped.eml                   decrypt:alice => ok
nss-cmsutil-certs-only.eml                  certs => ok
gpgsm-detached-sha256.eml                   verify => ok
gpgsm-enveloped.eml                         decrypt:alice => ok
altered-detached-text.eml                   verify => fail:content verify error
altered-opaque-econtent.eml                 verify => fail:content verify error
multi-signers-transplanted.eml              verify => fail:content verify error
weak-sha1-digest.eml                        verify => ok
weak-rsa1024-mallory.eml                    verify => ok
unsupported-digest-oid.eml                  verify => fail:unknown digest algorithm
sender-mismatch-from-bob.eml                verify => ok
sender-mismatch-two-mailboxes.eml           verify => ok
sender-mismatch-two-from-fields.eml         verify => ok
sender-mismatch-empty-from.eml              verify => ok
sender-mismatch-display-name-trick.eml      verify => ok
sender-mismatch-no-from-no-sender.eml       verify => ok
sender-no-from-sender-alice.eml             verify => ok
sender-from-uppercase-domain.eml            verify => ok
sender-from-uppercase-local-part.eml        verify => ok
no-sender-address-noaddr.eml                verify => ok
untrusted-self-signed-eve.eml               verify => fail:self-signed certificate
untrusted-unknown-ca-trudy.eml              verify => fail:unable to get local issuer certificate
expired-frank.eml                           verify => fail:certificate has expired
not-yet-valid-grace.eml                     verify => fail:certificate is not yet valid
wrong-usage-eku-serverauth-ivan.eml         verify => fail:unsuitable certificate purpose|unsupported certificate purpose
wrong-usage-ku-oscar.eml                    verify => fail:unsuitable certificate purpose|unsupported certificate purpose
revoked-rupert-crl-passed.eml               verify:crl => fail:certificate revoked
rupert-empty-crl-good.eml                   verify:crl-empty => ok
crl-passed-alice-not-listed.eml             verify:crl => ok
revoked-rupert-crl-embedded.eml             verify:msgcrl => fail:certificate revoked
signer-certificate-missing.eml              verify => fail:signer certificate not found
time-mismatch-date-2h-later.eml             verify => ok
time-date-30min-later.eml                   verify => ok
no-date-header.eml                          verify => ok
partial-m1-prepended-text.eml               part:2 verify => ok
partial-m2-html-hiding.eml                  part:2 verify => ok
partial-m3-related-cid.eml                  part:2 verify => ok
partial-m4-rfc822-attachment.eml            part:2 verify => ok
partial-mailing-list-footer.eml             part:1 verify => ok
partial-nested-1-2.eml                      part:1.2 verify => ok
malformed-multipart-signed-one-part.eml     verify => fail:no multipart body
malformed-signature-bad-base64.eml          verify => fail:decode error
malformed-signature-not-cms.eml             verify => fail:decode error|not enough data
malformed-signature-enveloped-data.eml      verify => fail:type not signed data|not signed data
malformed-econtent-confusion.eml            verify => fail:content verify error
malformed-opaque-no-content.eml             verify => fail:no content
multi-signers-alice-bob.eml                 verify => ok
no-signers-certs-only-in-multipart-signed.eml verify => fail:no signers
no-signers-stripped.eml                     verify => fail:no signers
certs-only-openssl.eml                      certs => ok
enc-aes256-cbc.eml                          decrypt:alice => ok
enc-aes128-cbc.eml                          decrypt:alice => ok
enc-rsa-oaep.eml                            decrypt:alice => ok
enc-ecdh-p256-judy.eml                      decrypt:judy => ok
enc-aes256-gcm.eml                          decrypt:alice => ok
enc-two-recipients.eml                      decrypt:alice => ok
enc-aes256-gcm-tampered.eml                 decrypt:alice => fail:Error decrypting CMS structure
enc-to-bob-no-key.eml                       decrypt:alice => fail:Error decrypting CMS using private key
enc-smime-p7m-octet-stream.eml              der decrypt:alice => ok
nested-sign-then-encrypt.eml                decrypt:alice verify => ok
nested-opaque-sign-then-encrypt.eml         decrypt:alice verify => ok
nested-sign-then-encrypt-gcm.eml            decrypt:alice verify => ok
nested-encrypt-then-sign.eml                verify decrypt:alice => ok
nested-triple-wrap.eml                      verify decrypt:alice verify => ok
nested-re-signed.eml                        verify verify => ok
nested-re-signed-multipart.eml              verify verify => ok
efail-direct-exfiltration.eml               part:2 decrypt:alice => ok
efail-two-encrypted-siblings.eml            part:2 decrypt:alice => ok
# A second opinion from NSS cmsutil (3.87 cannot do OAEP, ECDH or GCM, so those are not here).
# NSS judges certificates at the current time, not at the fixed one.
openssl-detached-sha256.eml                 nss-verify => ok
openssl-opaque-sha256.eml                   nss-verify => ok
openssl-detached-x-pkcs7-signature.eml      nss-verify => ok
openssl-opaque-x-pkcs7-mime.eml             nss-verify => ok
openssl-detached-sha512.eml                 nss-verify => ok
openssl-detached-ecdsa-p384-ken.eml         nss-verify => ok
openssl-detached-rsa4096-dave.eml           nss-verify => ok
openssl-detached-gsalice-globalsign.eml     nss-verify => ok
openssl-detached-lf-line-endings.eml        nss-verify => ok
openssl-detached-quoted-printable-utf8.eml  nss-verify => ok
gpgsm-detached-sha256.eml                   nss-verify => ok
altered-detached-text.eml                   nss-verify => fail:DigestMismatch
altered-opaque-econtent.eml                 nss-verify => fail:DigestMismatch
multi-signers-transplanted.eml              nss-verify => fail:DigestMismatch
untrusted-unknown-ca-trudy.eml              nss-verify => fail:SigningCertNotTrusted
enc-aes256-cbc.eml                          nss-decrypt => ok
enc-two-recipients.eml                      nss-decrypt => ok
gpgsm-enveloped.eml                         nss-decrypt => ok
nested-sign-then-encrypt.eml                nss-decrypt verify => ok
EOF
)

# run_step STEP IN OUT: one transformation; openssl's messages go to $TMP/err.
run_step() {
    local step=$1 in=$2 out=$3
    # `openssl cms` has no -CRLfile; CRLs in the -CAfile file are loaded into the store too.
    local verify=(openssl cms -verify -in "$in" -out "$out" -purpose smimesign -attime "$AT")
    case $step in
        part:*) python3 "$HERE/mime.py" part "$in" "${step#part:}" > "$out" 2>"$TMP/err" ;;
        verify) "${verify[@]}" -CAfile "$PKI/root.pem" 2>"$TMP/err" ;;
        verify:crl) "${verify[@]}" -CAfile "$TMP/root+crl.pem" -crl_check 2>"$TMP/err" ;;
        verify:crl-empty) "${verify[@]}" -CAfile "$TMP/root+empty-crl.pem" -crl_check 2>"$TMP/err" ;;
        verify:msgcrl) "${verify[@]}" -CAfile "$PKI/root.pem" -crl_check 2>"$TMP/err" ;;
        nss-verify) nss_verify "$in" ;;
        nss-decrypt) openssl cms -cmsout -in "$in" -outform DER -out "$TMP/nss.der" 2>"$TMP/err" \
            && cmsutil -D -i "$TMP/nss.der" -d "sql:$TMP/nssdb" -p '' -o "$out" 2>"$TMP/err" ;;
        der) python3 "$HERE/mime.py" der "$in" > "$out" 2>"$TMP/err" ;;
        decrypt:*) local who=${step#decrypt:} form=SMIME
            [[ $(head -c1 "$in" | od -An -tx1) == " 30" ]] && form=DER
            openssl cms -decrypt -inform "$form" -in "$in" -out "$out" \
                -recip "$PKI/users/$who.pem" -inkey "$PKI/users/$who.key" 2>"$TMP/err" ;;
        certs) openssl smime -pk7out -in "$in" 2>"$TMP/err" | openssl pkcs7 -print_certs -noout > "$out" 2>>"$TMP/err" \
                   && grep -q '^subject=' "$out" ;;
        *) echo "unknown step $step" > "$TMP/err"; return 2 ;;
    esac
}

# nss_verify FILE: cmsutil -D on the signature (and, for multipart/signed, the signed part as
# openssl extracts it: CRLF-canonical). cmsutil exits 0 even on a bad signature, so read the status.
nss_verify() {
    openssl cms -cmsout -in "$1" -outform DER -out "$TMP/nss.der" 2>"$TMP/err" || return 1
    local content=()
    if grep -qi '^content-type: *multipart/signed' "$1"; then
        openssl cms -verify -noverify -nosigs -in "$1" -out "$TMP/nss.part" 2>"$TMP/err" || return 1
        content=(-c "$TMP/nss.part")
    fi
    cmsutil -D -i "$TMP/nss.der" "${content[@]}" -d "sql:$TMP/nssdb" -n -h 1 > "$TMP/nss.out" 2>"$TMP/err" || return 1
    grep -o 'signer[0-9]*\.status=[A-Za-z]*' "$TMP/nss.out" > "$TMP/err" || true
    [[ -s $TMP/err ]] && ! grep -qv 'status=GoodSignature' "$TMP/err"
}

# check FILE STEPS… => OUTCOME: prints nothing on success, the reason on failure.
check() {
    local file=$1; shift
    local steps=() outcome
    while [[ $1 != "=>" ]]; do steps+=("$1"); shift; done
    shift
    outcome="$*" # a fail:REGEX may contain spaces
    local cur=$VEC/$file i=0
    [[ -f $cur ]] || { echo "missing file"; return 1; }
    for step in "${steps[@]}"; do
        i=$((i + 1))
        local next=$TMP/step$i
        if ! run_step "$step" "$cur" "$next"; then
            if [[ $outcome == fail:* && $i -eq ${#steps[@]} ]]; then
                grep -Eiq -- "${outcome#fail:}" "$TMP/err" && return 0
                echo "failed at $step, but not with /${outcome#fail:}/: $(tr '\n' ' ' < "$TMP/err" | cut -c1-300)"
                return 1
            fi
            echo "step $step failed: $(tr '\n' ' ' < "$TMP/err" | cut -c1-300)"
            return 1
        fi
        cur=$next
    done
    if [[ $outcome == fail:* ]]; then
        echo "expected the last step to fail, but it succeeded"
        return 1
    fi
    # A successful chain ends in readable MIME (a plaintext or signed-content entity).
    if [[ ${steps[-1]} != certs ]] && ! grep -qi '^content-type:' "$cur"; then
        echo "the final output is not a MIME entity"
        return 1
    fi
}

cat "$PKI/root.pem" "$PKI/crl/intermediate.crl.pem" > "$TMP/root+crl.pem"
cat "$PKI/root.pem" "$PKI/crl/intermediate-empty.crl.pem" > "$TMP/root+empty-crl.pem"
# NSS database for the nss-* steps: the root trusted for e-mail, alice's key for decryption.
mkdir "$TMP/nssdb"
certutil -N -d "sql:$TMP/nssdb" --empty-password
certutil -A -d "sql:$TMP/nssdb" -n test-root -t C,C,C -i "$PKI/root.pem"
pk12util -i "$PKI/users/alice.p12" -d "sql:$TMP/nssdb" -W "$(cat "$PKI/password.txt")" -K '' > /dev/null

passed=0 failed=0
declare -A CHECKED
while read -r line; do
    [[ -z $line || $line == \#* ]] && continue
    read -r -a words <<< "$line"
    file=${words[0]}
    CHECKED[$file]=1
    if msg=$(check "${words[@]}"); then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        printf 'FAIL %s: %s\n' "$file" "$msg"
    fi
done <<< "$CHECKS"

# Rows and expected.json must describe the same files.
while read -r f; do
    if [[ -z ${CHECKED[$f]:-} ]]; then
        failed=$((failed + 1))
        echo "FAIL $f: in expected.json but has no check row"
    fi
done < <(python3 -c 'import json,sys; [print(e["file"]) for e in json.load(open(sys.argv[1]))]' "$VEC/expected.json")
for f in "${!CHECKED[@]}"; do
    if ! grep -q "\"file\": \"$f\"" "$VEC/expected.json"; then
        failed=$((failed + 1))
        echo "FAIL $f: has a check row but is not in expected.json"
    fi
done

echo "check-with-openssl: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
