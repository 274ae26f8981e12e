#!/usr/bin/env bash
# Builds the test PKI for S/MIME Companion's tests: a root, issuing CAs and one end-entity
# certificate per test identity (each with a deliberate property: expired, revoked, wrong usage…).
#
#   tests/pki/make-pki.sh OUTDIR
#
# Everything is made with the openssl CLI (plus p12merge.py for twokeys.p12, which the CLI cannot
# build). Validity dates are fixed, so the tests judge certificates at the fixed time in pki.json
# ("at") and keep working for years. Keys are random, so every run yields new fingerprints;
# OUTDIR/pki.json lists them.
#
# The script is cheap to call on every test run: when OUTDIR/pki.json exists and OUTDIR/.stamp
# holds the hash of this script (and its helper), it does nothing. A lock makes parallel callers
# (cargo runs tests in threads) wait for one build instead of racing.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
STAMP=$(cat "$HERE/make-pki.sh" "$HERE/p12merge.py" | sha256sum | cut -d' ' -f1)

exec 9>"$OUT/.lock"
flock 9
if [[ -f $OUT/pki.json && -f $OUT/.stamp && "$(cat "$OUT/.stamp")" == "$STAMP" ]]; then
    exit 0
fi

# Start from scratch: an old stamp must not survive a half-finished rebuild.
rm -rf "$OUT/.stamp" "$OUT/pki.json" "$OUT/users" "$OUT/crl" "$OUT/work"
mkdir -p "$OUT/users" "$OUT/crl" "$OUT/work"
cd "$OUT"
W=work # throwaway CA databases, configs and CSRs; removed at the end

PASS=test
printf '%s' "$PASS" > password.txt

# Normal end-entity validity and CA validity (fixed, see above).
EE_START=20240101000000Z EE_END=20360101000000Z
CA_START=20200101000000Z CA_END=20400101000000Z

# ---------------------------------------------------------------------------------------------
# Keys. Generated first and in parallel: key generation is the only slow step (RSA 4096 can
# take seconds). genpkey writes unencrypted PKCS#8 PEM, which is what NAME.key should be.
genkey() { # genkey FILE TYPE
    case $2 in
        rsa*) openssl genpkey -quiet -algorithm RSA -pkeyopt "rsa_keygen_bits:${2#rsa}" -out "$1" ;;
        ec-p256) openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$1" ;;
        ec-p384) openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -pkeyopt ec_param_enc:named_curve -out "$1" ;;
        *) echo "unknown key type $2" >&2; return 1 ;;
    esac
}

# name → key type, for every identity in users/ (the order is the order in pki.json).
declare -A KEYTYPE=(
    [alice]=rsa2048 [bob]=rsa2048 [carol]=rsa2048 [dave]=rsa4096 [gsalice]=rsa2048
    [judy]=ec-p256 [ken]=ec-p384 [eve]=rsa2048 [trudy]=rsa2048 [frank]=rsa2048 [grace]=rsa2048
    [heidi]=rsa2048 [ivan]=rsa2048 [oscar]=rsa2048 [mallory]=rsa1024 [noaddr]=rsa2048
    [rupert]=rsa2048 [erin]=rsa2048 [alice2]=rsa2048
)
NAMES=(alice bob carol dave gsalice judy ken eve trudy frank grace heidi ivan oscar mallory noaddr rupert erin alice2)

pids=()
genkey "$W/root.key" rsa3072 & pids+=($!)
for ca in intermediate rogue-root globalsign-ps1; do genkey "$W/$ca.key" rsa2048 & pids+=($!); done
# dave's 4096-bit key first among the users: it is the slowest.
genkey users/dave.key rsa4096 & pids+=($!)
for n in "${NAMES[@]}"; do
    [[ $n == dave ]] && continue
    genkey "users/$n.key" "${KEYTYPE[$n]}" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done

# ---------------------------------------------------------------------------------------------
# A throwaway `openssl ca` setup. `openssl ca` (unlike `x509 -req` in 3.0) can set notBefore.
# Each CA gets its own database directory, picked through $CADIR.
cat > "$W/ca.cnf" <<'EOF'
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = $ENV::CADIR
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
policy = policy_any
# alice2 reuses alice's subject; rupert must be listed in the database to be revoked.
unique_subject = no
email_in_dn = yes
copy_extensions = none
# With -preserveDN every subject field is kept in the order given; the policy only needs to exist.
[ policy_any ]
commonName = optional
[ crl_ext ]
authorityKeyIdentifier = keyid:always
EOF

newca_db() { # newca_db NAME: an empty database for one CA
    mkdir -p "$W/db-$1/newcerts"
    : > "$W/db-$1/index.txt"
    echo 1000 > "$W/db-$1/crlnumber"
}

# sign ISSUER CSR OUTPEM EXTFILE START END: issue one certificate with a random serial.
# ISSUER "self" makes a self-signed certificate with the CSR's own key ($SELFKEY).
sign() {
    local issuer=$1 csr=$2 out=$3 ext=$4 start=$5 end=$6
    if [[ $issuer == self ]]; then
        CADIR=$W/db-self openssl ca -batch -config "$W/ca.cnf" -selfsign -keyfile "$SELFKEY" \
            -in "$csr" -out "$out" -notext -rand_serial -preserveDN \
            -startdate "$start" -enddate "$end" -extfile "$ext" 2>"$W/ca.log" || { cat "$W/ca.log" >&2; return 1; }
    else
        CADIR=$W/db-$issuer openssl ca -batch -config "$W/ca.cnf" -cert "$(capem "$issuer")" -keyfile "$W/$issuer.key" \
            -in "$csr" -out "$out" -notext -rand_serial -preserveDN \
            -startdate "$start" -enddate "$end" -extfile "$ext" 2>"$W/ca.log" || { cat "$W/ca.log" >&2; return 1; }
    fi
}
capem() { echo "$OUT/$1.pem"; }

# ---------------------------------------------------------------------------------------------
# CAs
for db in self root intermediate rogue-root globalsign-ps1; do newca_db "$db"; done

cat > "$W/ext-root" <<'EOF'
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
cat > "$W/ext-subca" <<'EOF'
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF

openssl req -new -key "$W/root.key" -subj "/O=S-MIME Companion Tests/CN=Companion Test Root CA" -out "$W/root.csr"
SELFKEY=$W/root.key sign self "$W/root.csr" root.pem "$W/ext-root" "$CA_START" "$CA_END"

openssl req -new -key "$W/intermediate.key" -subj "/O=S-MIME Companion Tests/CN=Companion Test Issuing CA" -out "$W/intermediate.csr"
sign root "$W/intermediate.csr" intermediate.pem "$W/ext-subca" "$CA_START" "$CA_END"

# A test copy of GlobalSign's pre-2023 PersonalSign 1 issuing CA: the host reads the product
# ("PersonalSign 1" = e-mail only) from this name. Signed by our root, so it is trusted in tests.
openssl req -new -key "$W/globalsign-ps1.key" -subj "/C=BE/O=GlobalSign nv-sa/CN=GlobalSign PersonalSign 1 CA - SHA256 - G3" -out "$W/globalsign-ps1.csr"
sign root "$W/globalsign-ps1.csr" globalsign-ps1.pem "$W/ext-subca" "$CA_START" "$CA_END"

# A root the tests never trust.
openssl req -new -key "$W/rogue-root.key" -subj "/O=Rogue/CN=Rogue Root CA" -out "$W/rogue-root.csr"
SELFKEY=$W/rogue-root.key sign self "$W/rogue-root.csr" rogue-root.pem "$W/ext-root" "$CA_START" "$CA_END"

cat intermediate.pem root.pem > chain.pem
cat globalsign-ps1.pem root.pem > globalsign-chain.pem

# ---------------------------------------------------------------------------------------------
# End entities.
#
# issue NAME ISSUER SUBJECT [key=value…]
#   email=ADDR      SAN rfc822Name (default: none)
#   ku=…            keyUsage (default digitalSignature+keyEncipherment, or +keyAgreement for EC)
#   eku=…|none      extendedKeyUsage (default emailProtection)
#   policy=OID      certificatePolicies (default: none)
#   start=/end=     validity (default 2024-01-01 → 2036-01-01)
declare -A EMAIL ISSUER
issue() {
    local name=$1 issuer=$2 subject=$3; shift 3
    local email="" ku="" eku=emailProtection policy="" start=$EE_START end=$EE_END kv
    for kv in "$@"; do
        case $kv in
            email=*) email=${kv#*=} ;; ku=*) ku=${kv#*=} ;; eku=*) eku=${kv#*=} ;;
            policy=*) policy=${kv#*=} ;; start=*) start=${kv#*=} ;; end=*) end=${kv#*=} ;;
            *) echo "issue: bad option $kv" >&2; return 1 ;;
        esac
    done
    if [[ -z $ku ]]; then
        case ${KEYTYPE[$name]} in
            ec-*) ku=digitalSignature,keyAgreement ;;
            *) ku=digitalSignature,keyEncipherment ;;
        esac
    fi
    {
        echo "basicConstraints = critical, CA:FALSE"
        echo "keyUsage = critical, $ku"
        [[ $eku != none ]] && echo "extendedKeyUsage = $eku"
        [[ -n $email ]] && echo "subjectAltName = email:$email"
        [[ -n $policy ]] && echo "certificatePolicies = $policy"
        echo "subjectKeyIdentifier = hash"
        # A self-signed certificate has no other issuer key to point to.
        [[ $issuer != self ]] && echo "authorityKeyIdentifier = keyid:always"
    } > "$W/ext-$name"
    openssl req -new -key "users/$name.key" -subj "$subject" -out "$W/$name.csr"
    SELFKEY=users/$name.key sign "$issuer" "$W/$name.csr" "users/$name.pem" "$W/ext-$name" "$start" "$end"
    # The address the tests expect (SAN, else subject emailAddress, else none).
    if [[ -z $email && $subject == */emailAddress=* ]]; then email=${subject##*/emailAddress=}; fi
    EMAIL[$name]=$email
    ISSUER[$name]=$issuer
}

# CA/Browser Forum S/MIME BR policy OIDs 2.23.140.1.5.<type>.<generation>.
issue alice intermediate "/CN=alice@example.org" email=alice@example.org policy=2.23.140.1.5.1.3
issue bob intermediate "/CN=Bob Example/GN=Bob/SN=Example" email=bob@example.org policy=2.23.140.1.5.4.2
issue carol intermediate "/C=DE/organizationIdentifier=VATDE-123456789/O=Example Corp/CN=Example Corp Info" \
    email=carol@example.com policy=2.23.140.1.5.2.2
issue dave intermediate "/organizationIdentifier=VATDE-123456789/O=Example Corp/title=Head of Accounts/SN=Sponsor/GN=Dave/CN=Dave Sponsor" \
    email=dave@example.com policy=2.23.140.1.5.3.3
issue gsalice globalsign-ps1 "/CN=gs@example.org" email=gs@example.org policy=1.3.6.1.4.1.4146.1.40
issue judy intermediate "/CN=Judy Example" email=judy@example.org
issue ken intermediate "/CN=Ken Example" email=ken@example.org
issue eve self "/CN=Eve Example" email=eve@example.net
issue trudy rogue-root "/CN=Trudy Example" email=trudy@example.org
issue frank intermediate "/CN=Frank Example" email=frank@example.org start=20200101000000Z end=20230101000000Z
issue grace intermediate "/CN=Grace Example" email=grace@example.org start=20300101000000Z end=20400101000000Z
issue heidi intermediate "/CN=Heidi Example" email=heidi@example.org eku=none
issue ivan intermediate "/CN=Ivan Example" email=ivan@example.org eku=serverAuth
issue oscar intermediate "/CN=Oscar Example" email=oscar@example.org ku=keyEncipherment
issue mallory intermediate "/CN=Mallory Example" email=mallory@example.org
issue noaddr intermediate "/CN=No Address"
issue rupert intermediate "/CN=Rupert Example" email=rupert@example.org
issue erin intermediate "/CN=Erin Example/emailAddress=erin@example.org"
issue alice2 intermediate "/CN=alice@example.org" email=alice@example.org policy=2.23.140.1.5.1.3 \
    start=20260101000000Z end=20380101000000Z

# ---------------------------------------------------------------------------------------------
# CRLs of the issuing CA: one empty, one listing rupert. The CRL times are fixed like the
# certificates'; the revocation date is fixed too (set in the database, because `ca -revoke`
# would record "now").
CRL_TIMES=(-crl_lastupdate 20240101000000Z -crl_nextupdate 20360101000000Z)
gencrl() {
    CADIR=$W/db-intermediate openssl ca -batch -config "$W/ca.cnf" -gencrl -crlexts crl_ext \
        -cert intermediate.pem -keyfile "$W/intermediate.key" "${CRL_TIMES[@]}" -out "$1" 2>"$W/ca.log" \
        || { cat "$W/ca.log" >&2; return 1; }
}
gencrl crl/intermediate-empty.crl.pem
RUPERT_SERIAL=$(openssl x509 -in users/rupert.pem -noout -serial | cut -d= -f2)
awk -F'\t' -v OFS='\t' -v s="$RUPERT_SERIAL" \
    '$4 == s { $1 = "R"; $3 = "240601000000Z,keyCompromise" } { print }' \
    "$W/db-intermediate/index.txt" > "$W/index.new"
mv "$W/index.new" "$W/db-intermediate/index.txt"
gencrl crl/intermediate.crl.pem
openssl crl -in crl/intermediate.crl.pem -outform DER -out crl/intermediate.crl.der
openssl crl -in crl/intermediate-empty.crl.pem -outform DER -out crl/intermediate-empty.crl.der

# ---------------------------------------------------------------------------------------------
# PKCS#12 files: certificate + key + the chain up to (and including) its root, password "test",
# OpenSSL 3 defaults (PBES2, AES-256-CBC, HMAC-SHA256 MAC).
chain_of() {
    case ${ISSUER[$1]} in
        intermediate) echo chain.pem ;;
        globalsign-ps1) echo globalsign-chain.pem ;;
        rogue-root) echo rogue-root.pem ;;
        self) echo "" ;;
    esac
}
for n in "${NAMES[@]}"; do
    chain=$(chain_of "$n")
    openssl pkcs12 -export -in "users/$n.pem" -inkey "users/$n.key" ${chain:+-certfile "$chain"} \
        -name "$n" -passout "pass:$PASS" -out "users/$n.p12"
done

# alice in the other PKCS#12 flavours a user may bring along.
openssl pkcs12 -export -in users/alice.pem -inkey users/alice.key -certfile chain.pem -name alice -passout "pass:$PASS" \
    -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1 -out users/alice-3des.p12   # gpgsm 2.2 can import this
openssl pkcs12 -export -in users/alice.pem -inkey users/alice.key -certfile chain.pem -name alice -passout "pass:$PASS" \
    -legacy -out users/alice-rc2.p12                                                        # RC2-40 certs, 3DES key
openssl pkcs12 -export -in users/alice.pem -certfile chain.pem -nokeys -name alice -passout "pass:$PASS" \
    -out users/alice-nokey.p12                                                              # certificates only
openssl pkcs12 -export -in users/alice.pem -inkey users/alice.key -name alice -passout "pass:$PASS" \
    -out users/alice-nochain.p12                                                            # no CA certificates
# Two keys in one file: the CLI exports only one key, so merge alice's and bob's files
# (their bags stay as OpenSSL encrypted them; only the MAC is recomputed).
python3 "$HERE/p12merge.py" "$PASS" users/twokeys.p12 users/alice.p12 users/bob.p12

# ---------------------------------------------------------------------------------------------
# pki.json: what the tests need to find things.
fingerprint() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d ':' | tr 'A-F' 'a-f'; }
jstr() { if [[ -n $1 ]]; then printf '"%s"' "$1"; else printf 'null'; fi; }
{
    echo '{'
    echo '  "at": "2027-01-01T00:00:00Z",'
    echo '  "password_file": "password.txt",'
    echo '  "root": "root.pem",'
    echo '  "intermediate": "intermediate.pem",'
    echo '  "chain": "chain.pem",'
    echo '  "globalsign_ca": "globalsign-ps1.pem",'
    echo '  "rogue_root": "rogue-root.pem",'
    echo '  "crl": "crl/intermediate.crl.pem",'
    echo '  "crl_der": "crl/intermediate.crl.der",'
    echo '  "crl_empty": "crl/intermediate-empty.crl.pem",'
    echo '  "extra_p12": {"alice-3des": "users/alice-3des.p12", "alice-rc2": "users/alice-rc2.p12", "alice-nokey": "users/alice-nokey.p12", "alice-nochain": "users/alice-nochain.p12", "twokeys": "users/twokeys.p12"},'
    echo '  "identities": {'
    sep=""
    for n in "${NAMES[@]}"; do
        printf '%s    "%s": {"email": %s, "cert": "users/%s.pem", "key": "users/%s.key", "p12": "users/%s.p12", "key_type": "%s", "issuer": "%s", "serial": "%s", "fingerprint_sha256": "%s"}' \
            "$sep" "$n" "$(jstr "${EMAIL[$n]}")" "$n" "$n" "$n" "${KEYTYPE[$n]}" "${ISSUER[$n]}" \
            "$(openssl x509 -in "users/$n.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')" "$(fingerprint "users/$n.pem")"
        sep=$',\n'
    done
    printf '\n  }\n}\n'
} > pki.json

rm -rf "$W"
echo "$STAMP" > .stamp
