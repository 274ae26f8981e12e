#!/usr/bin/env bash
# Makes the end-to-end test messages with `openssl cms`, from a throwaway PKI made here.
# Usage: make-messages.sh OUTDIR
#   OUTDIR/pki/     e2e-ca.pem (to be trusted), alice (signer), rogue CA + its alice, bob (the
#                   reader, with bob.p12 for Thunderbird's own store), carol (someone else),
#                   alice-new (Alice with a new key: importing it is a key change), carol.cer (DER),
#                   bob-old.p12 (password old-pass; expires in 10 days, renewed by bob.p12),
#                   alice-no-key.p12 (password x; a certificate without its private key)
#   OUTDIR/*.eml    plain, signed, altered, untrusted, mismatch, encrypted (to bob, signed inside),
#                   undecryptable (to carol), certificate (carol.cer attached), newkey (signed with
#                   alice-new: a key change once alice is known)
set -euo pipefail
out=$1
pki=$out/pki
mkdir -p "$pki"
cd "$pki"

ca() { # NAME SUBJECT
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 3650 -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
person() { # NAME SUBJECT EMAIL CA [DAYS]
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=emailProtection" "subjectAltName=email:$3" "certificatePolicies=2.23.140.1.5.3.2" > "$1.ext"
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
openssl x509 -in carol.pem -outform DER -out carol.cer
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
grep -q "transfer 900 EUR" altered.eml   # the alteration must have hit the signed text
