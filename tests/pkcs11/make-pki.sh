#!/usr/bin/env bash
# Makes the PKCS#11 tests' throwaway PKI with openssl: a root (which Thunderbird is told to trust),
# an intermediate known only to the companion's contact cache, and people issued by it.
# Usage: make-pki.sh OUTDIR
#   root.pem                 the root CA (trusted in the test's NSS databases)
#   inter.pem                the intermediate CA (only in the contact cache)
#   alice.{pem,key,p12}      RSA, the user's own identity (passphrase in alice.pass)
#   gina.{pem,key,p12}       EC P-256, a second own identity with another passphrase (gina.pass)
#   bob.{pem,key}            RSA contact      carol.{pem,key}   RSA contact (deleted by the test)
#   erin.{pem,key}           EC P-256 contact
#   dora.{pem,key}           RSA, known only to the test's LDAP directory (run.sh)
set -euo pipefail
out=$1
mkdir -p "$out"
cd "$out"
export OPENSSL_CONF=/dev/null

openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.pem -days 3650 -sha256 \
  -subj "/CN=PKCS11 Test Root CA/O=S-MIME Companion Tests" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout inter.key -out inter.csr -subj "/CN=PKCS11 Test Intermediate CA/O=S-MIME Companion Tests" 2>/dev/null
printf '%s\n' "basicConstraints=critical,CA:TRUE,pathlen:0" "keyUsage=critical,keyCertSign,cRLSign" > inter.ext
openssl x509 -req -in inter.csr -CA root.pem -CAkey root.key -CAcreateserial -days 3650 -sha256 -extfile inter.ext -out inter.pem 2>/dev/null

person() { # NAME CN EMAIL rsa|ec
  if [ "$4" = ec ]; then
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
    ku="digitalSignature,keyAgreement"
  else
    openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
    ku="digitalSignature,keyEncipherment"
  fi
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,$ku" "extendedKeyUsage=emailProtection" \
    "subjectAltName=email:$3" "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA inter.pem -CAkey inter.key -CAcreateserial -days 730 -sha256 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
person alice "Alice Companion" alice@example.org rsa
person gina "Gina Companion" gina@example.org ec
person bob "Bob Contact" bob@example.net rsa
person carol "Carol Contact" carol@example.net rsa
person erin "Erin Contact" erin@example.net ec
person dora "Dora Directory" dora@example.net rsa
echo "alice passphrase 1" > alice.pass
echo "gina passphrase 2" > gina.pass
for who in alice gina; do
  openssl pkcs12 -export -inkey "$who.key" -in "$who.pem" -certfile inter.pem -name "$who" \
    -passout "file:$who.pass" -out "$who.p12" 2>/dev/null
done
rm -f ./*.csr ./*.ext ./*.srl
