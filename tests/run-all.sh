#!/usr/bin/env bash
# Runs every test of S/MIME Companion on a Debian machine, installing what the tests need first.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build tools, and the real S/MIME peers the interop tests run: openssl, NSS cmsutil, gpgsm.
installer/debian-packages.sh build-essential pkg-config libssl-dev openssl libnss3-tools gpgsm python3

echo "== Rust: unit and integration tests"
cargo test --locked 2>&1
cargo bench --locked --no-run 2>&1   # benchmarks must keep compiling; they are run by hand
echo "== all test suites passed"
