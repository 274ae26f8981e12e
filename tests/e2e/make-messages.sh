#!/usr/bin/env bash
# Makes the end-to-end test messages with `openssl cms`, from a throwaway PKI made here.
# Usage: make-messages.sh OUTDIR
#   OUTDIR/pki/     e2e-ca.pem (to be trusted), alice (signer), rogue CA + its alice, bob (the
#                   reader, with bob.p12 for Thunderbird's own store), carol (someone else),
#                   alice-new (Alice with a new key: importing it is a key change), carol.cer (DER),
#                   bob-old.p12 (password old-pass; expires in 10 days, renewed by bob.p12),
#                   dora (known only to the test's LDAP directory, run.sh),
#                   alice-no-key.p12 (password x; a certificate without its private key)
#                   dave (revoked: his CA's OCSP responder says so),
#                   erin (expired last year)
#   OUTDIR/*.eml    plain, signed, altered, untrusted, mismatch, encrypted (to bob, signed inside),
#                   undecryptable (to carol), certificate (carol.cer attached), revoked (by dave),
#                   expired (by erin), broken (a damaged signature), partial (a signed part inside an
#                   unsigned message), doubtful (signed by alice, the display name another address),
#                   newkey (signed with alice-new: a key change once alice is known)
#   Dave's certificate names the OCSP responder http://127.0.0.1:$E2E_OCSP_PORT/ (authorityInfoAccess);
#   pki/ocsp-index.txt is the responder's index (`openssl ocsp -index`), which says it is revoked.
set -euo pipefail
out=$1
pki=$out/pki
mkdir -p "$pki"
cd "$pki"

ca() { # NAME SUBJECT
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 3650 -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
person() { # NAME SUBJECT EMAIL CA [DAYS [EXTENSION]]
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=emailProtection" "subjectAltName=email:$3" "certificatePolicies=2.23.140.1.5.3.2" ${6:+"$6"} > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$4.pem" -CAkey "$4.key" -CAcreateserial -days "${5:-730}" -sha256 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
ca e2e-ca "/CN=E2E Test CA/O=S-MIME Companion Tests"
ca rogue-ca "/CN=Unknown Test CA/O=Nobody"
# Bob's old certificate first: a renewal must start later than what it renews (whole seconds).
person bob-old "/CN=Bob Reader/C=DE" bob@example.org e2e-ca 10
sleep 1
person alice "/CN=Alice Example/O=Example Corp/C=DE" alice@example.org e2e-ca
person rogue-alice "/CN=Alice Example/O=Example Corp/C=DE" alice@example.org rogue-ca
person bob "/CN=Bob Reader/C=DE" bob@example.org e2e-ca
person carol "/CN=Carol Other/C=DE" carol@example.org e2e-ca
person alice-new "/CN=Alice Example/O=Example Corp/C=DE" alice@example.org e2e-ca
# Dave's CA revoked his certificate yesterday (key compromise); its OCSP responder says so.
: "${E2E_OCSP_PORT:?the port of the OCSP responder run.sh starts}"
person dave "/CN=Dave Example/C=DE" dave@example.org e2e-ca 730 "authorityInfoAccess=OCSP;URI:http://127.0.0.1:$E2E_OCSP_PORT/"
serial=$(openssl x509 -in dave.pem -noout -serial | cut -d= -f2)
printf 'R\t%s\t%s,keyCompromise\t%s\tunknown\t/CN=Dave Example\n' \
  "$(date -u -d '+2 years' +%y%m%d%H%M%SZ)" "$(date -u -d '-1 day' +%y%m%d%H%M%SZ)" "$serial" > ocsp-index.txt
person dora "/CN=Dora Directory/C=DE" dora@example.org e2e-ca
openssl x509 -in carol.pem -outform DER -out carol.cer
# The CA's own records, for what only `openssl ca` does: a certificate whose validity lies in the
# past.
mkdir -p ca-db && : > ca-db/index.txt && echo 1000 > ca-db/crlnumber
cat > ca.cnf <<'CNF'
[ca]
default_ca = e2e
[e2e]
database = ca-db/index.txt
crlnumber = ca-db/crlnumber
new_certs_dir = ca-db
certificate = e2e-ca.pem
private_key = e2e-ca.key
default_md = sha256
default_crl_days = 3650
policy = any
serial = ca-db/serial
[any]
commonName = supplied
CNF
echo 2000 > ca-db/serial
openssl req -newkey rsa:2048 -nodes -keyout erin.key -out erin.csr -subj "/CN=Erin Example/C=DE" 2>/dev/null
printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
  "extendedKeyUsage=emailProtection" "subjectAltName=email:erin@example.org" "certificatePolicies=2.23.140.1.5.3.2" > erin.ext
last_year=$(( $(date -u +%Y) - 1 ))
openssl ca -batch -config ca.cnf -in erin.csr -extfile erin.ext -notext -preserveDN \
  -startdate "$((last_year - 1))0101000000Z" -enddate "${last_year}0101000000Z" -out erin.pem 2>/dev/null
openssl pkcs12 -export -inkey bob.key -in bob.pem -certfile e2e-ca.pem -name "Bob Reader" \
  -passout pass: -out bob.p12 2>/dev/null
openssl pkcs12 -export -inkey bob-old.key -in bob-old.pem -certfile e2e-ca.pem -name "Bob Reader" \
  -passout pass:old-pass -out bob-old.p12 2>/dev/null
openssl pkcs12 -export -nokeys -in alice.pem -passout pass:x -out alice-no-key.p12 2>/dev/null

cd "$out"
date_header="Date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S +0000')"
headers() { # FROM SUBJECT ID
  printf 'From: %s\r\nTo: Bob Reader <bob@example.org>\r\nSubject: %s\r\n%s\r\nMessage-ID: <%s@e2e.example.org>\r\n' \
    "$1" "$2" "$date_header" "$3"
}
body() {
  printf 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s\r\n' \
    "Hello Bob, please transfer 100 EUR to the usual account. Alice"
}
sign() { # SIGNER: a MIME entity on stdin -> multipart/signed entity (MIME-Version + body)
  openssl cms -sign -binary -crlfeol -md sha256 -signer "pki/$1.pem" -inkey "pki/$1.key" -certfile pki/e2e-ca.pem 
}
encrypt() { # RECIPIENT: a MIME entity on stdin -> application/pkcs7-mime entity
  openssl cms -encrypt -binary -crlfeol -aes256 "pki/$1.pem"
}

{ headers "Alice Example <alice@example.org>" "Plain: not signed" plain; printf 'MIME-Version: 1.0\r\n'; body; } > plain.eml
{ headers "Alice Example <alice@example.org>" "Signed by Alice" signed; body | sign alice; } > signed.eml
sed 's/transfer 100 EUR/transfer 900 EUR/' signed.eml > altered.eml
sed -i 's/^Subject: Signed by Alice/Subject: Altered after signing/' altered.eml
{ headers "Alice Example <alice@example.org>" "Signed by an unknown CA" untrusted; body | sign rogue-alice; } > untrusted.eml
{ headers "Alice Example <boss@example.com>" "Signed, but not by the sender" mismatch; body | sign alice; } > mismatch.eml
{ headers "Alice Example <alice@example.org>" "Encrypted and signed" encrypted; body | sign alice | encrypt bob; } > encrypted.eml
{ headers "Alice Example <alice@example.org>" "Signed with Alice's new key" newkey; body | sign alice-new; } > newkey.eml
{ headers "Alice Example <alice@example.org>" "Encrypted for somebody else" undecryptable; body | sign alice | encrypt carol; } > undecryptable.eml
{ headers "Carol Other <carol@example.org>" "My certificate" certificate; printf 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
  printf 'Content-Type: text/plain; charset=utf-8\r\n\r\nHello Bob, here is my certificate, so you can write to me encrypted. Carol\r\n--b1\r\n'
  printf 'Content-Type: application/pkix-cert; name="carol.cer"\r\nContent-Disposition: attachment; filename="carol.cer"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
  base64 -w 76 pki/carol.cer | sed 's/$/\r/'; printf -- '--b1--\r\n'; } > certificate.eml
{ headers "Dave Example <dave@example.org>" "Signed with a revoked certificate" revoked; body | sign dave; } > revoked.eml
{ headers "Erin Example <erin@example.org>" "Signed with an expired certificate" expired; body | sign erin; } > expired.eml
# A signature whose data is cut short: it can no longer be read at all.
python3 - signed.eml broken.eml <<'PY'
import re, sys
raw = open(sys.argv[1], "rb").read().decode("ascii").replace("Subject: Signed by Alice", "Subject: A damaged signature")
head, sig = raw.rsplit("Content-Transfer-Encoding: base64", 1)
lines = sig.split("\n")
data = [i for i, l in enumerate(lines) if re.fullmatch(r"[A-Za-z0-9+/=]{8,}\r?", l)]
keep = [l for i, l in enumerate(lines) if i not in data[2:]]
open(sys.argv[2], "wb").write((head + "Content-Transfer-Encoding: base64" + "\n".join(keep)).encode("ascii"))
PY
{ headers "Alice Example <alice@example.org>" "Only partly signed" partial; printf 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="p1"\r\n\r\n--p1\r\n'
  printf 'Content-Type: text/plain; charset=utf-8\r\n\r\nPlease transfer 900 EUR to account DE00 1234 instead.\r\n--p1\r\n'
  body | sign alice | sed '/^MIME-Version:/d'; printf '\r\n--p1--\r\n'; } > partial.eml
{ headers '"boss@example.com" <alice@example.org>' "Signed, with another address as the name" doubtful; body | sign alice; } > doubtful.eml
grep -q "transfer 900 EUR" altered.eml   # the alteration must have hit the signed text

# --- The FAQ's stories (stories.py): people, certificates and messages of their own, so the stories
# change nothing the parts above check. Validity dates come from the CA's records (`openssl ca`).
#   pki/fiona        Fiona Colleague, whose first signed mail arrives (the key exchange)
#   pki/greta-old    Greta Example's certificate since last year; pki/greta: her new one (new key,
#                    since yesterday), after she replaced it
#   pki/bob-home-expired.p12, pki/bob-home.p12   Bob's own certificates for bob@home.example: one
#                    that expired last month, and its renewal (password home-pass)
#   pki/bob-home.cer the renewal's certificate alone (DER), as the CA sends it: no private key;
#   pki/bob-home-no-key.p12  the same exported without its private key (password home-pass)
#   story-fiona.eml      signed by Fiona
#   story-greta-old.eml  signed with Greta's old certificate; story-greta-new.eml and
#                        story-greta-next.eml with her new one
#   story-home-old.eml   encrypted to Bob's expired bob@home.example certificate (signed by Fiona)
#   story-home-new.eml   encrypted to his renewed one (signed by Fiona)
cd "$pki"
printf 'unique_subject = no\n' > ca-db/index.txt.attr
ca_person() { # NAME SUBJECT EMAIL START END (YYYYMMDDHHMMSSZ)
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=emailProtection" "subjectAltName=email:$3" "certificatePolicies=2.23.140.1.5.3.2" > "$1.ext"
  openssl ca -batch -config ca.cnf -in "$1.csr" -extfile "$1.ext" -notext -preserveDN \
    -startdate "$4" -enddate "$5" -out "$1.pem" 2>/dev/null
}
when() { date -u -d "$1" +%Y%m%d%H%M%SZ; }
ca_person fiona "/CN=Fiona Colleague/C=DE" fiona@example.org "$(when '-1 day')" "$(when '+2 years')"
ca_person greta-old "/CN=Greta Example/C=DE" greta@example.org "$(when '-1 year')" "$(when '+1 year')"
ca_person greta "/CN=Greta Example/C=DE" greta@example.org "$(when '-1 day')" "$(when '+2 years')"
ca_person bob-home-expired "/CN=Bob Reader/C=DE" bob@home.example "$(when '-2 years')" "$(when '-30 days')"
ca_person bob-home "/CN=Bob Reader/C=DE" bob@home.example "$(when '-1 day')" "$(when '+2 years')"
for who in bob-home-expired bob-home; do
  openssl pkcs12 -export -inkey "$who.key" -in "$who.pem" -certfile e2e-ca.pem -name "Bob Reader" \
    -passout pass:home-pass -out "$who.p12" 2>/dev/null
done
openssl x509 -in bob-home.pem -outform DER -out bob-home.cer
openssl pkcs12 -export -nokeys -in bob-home.pem -certfile e2e-ca.pem -passout pass:home-pass -out bob-home-no-key.p12 2>/dev/null
cd "$out"
story_body() { # TEXT
  printf 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s\r\n' "$1"
}
to_home() { # FROM SUBJECT ID
  printf 'From: %s\r\nTo: Bob Reader <bob@home.example>\r\nSubject: %s\r\n%s\r\nMessage-ID: <%s@e2e.example.org>\r\n' \
    "$1" "$2" "$date_header" "$3"
}
{ headers "Fiona Colleague <fiona@example.org>" "Hello from Fiona, signed" story-fiona
  story_body "Hello Bob, here is my signed reply: now you have my certificate. Fiona" | sign fiona; } > story-fiona.eml
{ headers "Greta Example <greta@example.org>" "Greta, signed last year" story-greta-old
  story_body "Hello Bob, a signed mail with my certificate. Greta" | sign greta-old; } > story-greta-old.eml
{ headers "Greta Example <greta@example.org>" "Greta, with her new certificate" story-greta-new
  story_body "Hello Bob, my old key is gone: this mail brings my new certificate. Greta" | sign greta; } > story-greta-new.eml
{ headers "Greta Example <greta@example.org>" "Greta, signed again" story-greta-next
  story_body "Hello Bob, here is my new certificate once more. Greta" | sign greta; } > story-greta-next.eml
{ to_home "Fiona Colleague <fiona@example.org>" "Encrypted to your old certificate" story-home-old
  story_body "Secret for Bob, from the time of his old certificate. Fiona" | sign fiona | encrypt bob-home-expired; } > story-home-old.eml
{ to_home "Fiona Colleague <fiona@example.org>" "Encrypted to your new certificate" story-home-new
  story_body "Secret for Bob's new certificate, readable on every computer he brings it to. Fiona" | sign fiona | encrypt bob-home; } > story-home-new.eml
