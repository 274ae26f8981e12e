#!/usr/bin/env bash
# Runs every test of S/MIME Companion on a Debian machine, installing what the tests need first.
set -euo pipefail
cd "$(dirname "$0")/.."

# Every Debian package any suite below needs, in one go (one `apt-get update` on a fresh machine):
# build tools; the real S/MIME peers the interop tests run (openssl, NSS cmsutil, gpgsm); strace
# (tests/install.rs checks that files are flushed before they replace old ones); node for
# the add-on's unit tests, with jsdom's HTML parser for the reader's sanitiser; Thunderbird, its
# German language pack and python3-venv (Marionette) for the end-to-end and PKCS#11 suites;
# Chromium for the Outlook-on-the-web suite; OpenLDAP's slapd and ldap-utils for the directory
# lookups (tests/directory.rs, the directory benchmark, and the e2e and PKCS#11 suites start their
# own slapd on 127.0.0.1). Each suite still names what it needs itself (so it runs alone); here
# those calls find everything installed.
installer/debian-packages.sh build-essential pkg-config libssl-dev openssl libnss3-tools gpgsm python3 strace \
  nodejs node-jsdom thunderbird thunderbird-l10n-de python3-venv chromium slapd ldap-utils

# --- revocation tests (begin)
# Revocation checked online (tests/revocation.rs, run by `cargo test` below; the revocation bench)
# against real servers on 127.0.0.1 that the tests start and stop themselves: `openssl ocsp` as a
# CA's OCSP responder, small HTTP servers for CRLs and pre-made answers. The end-to-end suite
# starts its own responder. They need the openssl program (and nothing from the network).
installer/debian-packages.sh openssl
# --- revocation tests (end)
echo "== Rust: unit and integration tests"
cargo test --locked 2>&1
cargo bench --locked --no-run 2>&1   # benchmarks must keep compiling; they are run by hand
echo "== Fuzz targets: built with coverage instrumentation (stable toolchain), each run once over its seeds"
tests/fuzz/build.sh 2>&1             # campaigns are run by hand (docs/FUZZING.md)

# --- installer tests (begin)
# The Debian package built, installed with apt-get, checked with doctor and purged on this machine
# (needs root or password-less sudo; CI runs as root).
echo "== installer: Debian package"
tests/deb/run.sh
# --- installer tests (end)
# --- extension tests (begin)
installer/debian-packages.sh nodejs node-jsdom
echo "== Thunderbird add-on: unit tests (node)"
node --test tests/extension/ 2>&1
# Once in an English and once in a German Thunderbird: every text must come from that language's
# locale file (screenshots en-… and de-…).
echo "== Thunderbird add-on: end-to-end in headless Thunderbird, English (screenshots in ${E2E_ARTIFACTS:-target/e2e})"
E2E_LOCALE=en tests/e2e/run.sh 2>&1
echo "== Thunderbird add-on: end-to-end in headless Thunderbird, German"
E2E_LOCALE=de tests/e2e/run.sh 2>&1
# --- extension tests (end)
# --- outlook-web tests (begin)
# The Outlook-on-the-web extension in headless Chromium with the real host and stand-ins for
# Outlook on the web, the identity platform, Graph and EWS (a few minutes at most).
echo "== Outlook-on-the-web extension: headless Chromium (screenshots in ${OWA_ARTIFACTS:-target/outlook-web})"
tests/outlook-web/run.sh 2>&1
# --- outlook-web tests (end)
# --- pkcs11 tests (begin)
# The PKCS#11 module with its real consumers: NSS's modutil/certutil, then a headless Thunderbird
# that finds recipients in the cache, signs, encrypts and decrypts with the companion's keys
# (its unit tests and benchmark build run with `cargo test` / `cargo bench --no-run` above).
echo "== PKCS#11 module: NSS tools and headless Thunderbird"
tests/pkcs11/run.sh 2>&1
# --- pkcs11 tests (end)
echo "== all test suites passed"
