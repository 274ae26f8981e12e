# Shell functions for the suites that need an LDAP directory (tests/e2e/run.sh,
# tests/pkcs11/run.sh): Debian's OpenLDAP slapd as a child on free 127.0.0.1 ports, the way
# tests/common/slapd.rs starts it for the Rust tests. Sourced from the repository's top folder:
#   . tests/common/slapd.sh
# The binary is copied into the work folder and run from there: AppArmor profiles attach by path,
# and Debian's profile for /usr/sbin/slapd would keep it out of a folder under /tmp.

slapd_pid=
slapd_ldap_port=
slapd_ldaps_port=
SLAPD_BASE_DN="dc=example,dc=org"

slapd_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# slapd_tls_cert DIR CA_PEM CA_KEY: a server certificate for 127.0.0.1 issued by the CA, as
# DIR/server.pem and DIR/server.key.
slapd_tls_cert() {
  local dir=$1 ca=$2 cakey=$3
  mkdir -p "$dir"
  OPENSSL_CONF=/dev/null openssl req -newkey rsa:2048 -nodes -keyout "$dir/server.key" -out "$dir/server.csr" \
    -subj "/CN=directory.test" 2>/dev/null
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1" > "$dir/server.ext"
  OPENSSL_CONF=/dev/null openssl x509 -req -in "$dir/server.csr" -CA "$ca" -CAkey "$cakey" -CAcreateserial \
    -days 30 -sha256 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
}

# slapd_person UID MAIL CERT_PEM [BUNDLE_PEM...]: one person's LDIF entry: the certificate as
# userCertificate;binary, and CERT_PEM with the BUNDLE_PEMs (CA certificates) as a PKCS#7 bundle
# in userSMIMECertificate.
slapd_person() {
  local uid=$1 mail=$2 cert=$3
  shift 3
  local certfiles=(-certfile "$cert")
  for extra in "$@"; do certfiles+=(-certfile "$extra"); done
  printf 'dn: uid=%s,ou=people,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\nmail: %s\n' \
    "$uid" "$SLAPD_BASE_DN" "$uid" "$uid" "$uid" "$mail"
  printf 'userCertificate;binary:: %s\n' "$(openssl x509 -in "$cert" -outform DER | base64 -w0)"
  printf 'userSMIMECertificate:: %s\n\n' "$(openssl crl2pkcs7 -nocrl "${certfiles[@]}" -outform DER | base64 -w0)"
}

# slapd_start DIR PEOPLE_LDIF: starts slapd with the entries in PEOPLE_LDIF under ou=people and
# TLS with DIR/server.{pem,key} (slapd_tls_cert); waits at most 30 s for both ports. Sets
# slapd_pid, slapd_ldap_port (ldap://, StartTLS) and slapd_ldaps_port. Returns 1 with the reason.
slapd_start() {
  local dir=$1 people=$2
  installer/debian-packages.sh slapd ldap-utils
  mkdir -p "$dir/db"
  cp /usr/sbin/slapd "$dir/slapd"
  cat > "$dir/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile $dir/slapd.pid
TLSCertificateFile $dir/server.pem
TLSCertificateKeyFile $dir/server.key
database mdb
suffix "$SLAPD_BASE_DN"
rootdn "cn=admin,$SLAPD_BASE_DN"
rootpw secret
directory $dir/db
maxsize 104857600
CONF
  { printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n' "$SLAPD_BASE_DN"
    printf 'dn: ou=people,%s\nobjectClass: organizationalUnit\nou: people\n\n' "$SLAPD_BASE_DN"
    cat "$people"; } > "$dir/data.ldif"
  "$dir/slapd" -T add -f "$dir/slapd.conf" -l "$dir/data.ldif" > "$dir/slapadd.log" 2>&1 \
    || { echo "slapadd failed: $(tail -n 5 "$dir/slapadd.log")"; return 1; }
  slapd_ldap_port=$(slapd_free_port)
  slapd_ldaps_port=$(slapd_free_port)
  "$dir/slapd" -d 0 -h "ldap://127.0.0.1:$slapd_ldap_port/ ldaps://127.0.0.1:$slapd_ldaps_port/" -f "$dir/slapd.conf" \
    > "$dir/slapd.log" 2>&1 < /dev/null &
  slapd_pid=$!
  local port
  for port in "$slapd_ldap_port" "$slapd_ldaps_port"; do
    for _ in $(seq 300); do
      if python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2>/dev/null; then
        continue 2
      fi
      kill -0 "$slapd_pid" 2>/dev/null || { echo "slapd exited: $(tail -n 5 "$dir/slapd.log")"; slapd_pid=; return 1; }
      sleep 0.1
    done
    echo "slapd did not listen on $port within 30 s"
    return 1
  done
}

# Stops slapd if it runs (for the EXIT trap).
slapd_stop() {
  if [ -n "$slapd_pid" ]; then kill "$slapd_pid" 2>/dev/null || true; wait "$slapd_pid" 2>/dev/null || true; slapd_pid=; fi
}
