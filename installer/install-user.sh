#!/usr/bin/env bash
# Builds S/MIME Companion and installs it for the current user on Debian/Ubuntu:
#   - the host program in ~/.local/bin/smime-companion
#   - its native-messaging registration in ~/.mozilla/native-messaging-hosts/ (where Thunderbird looks)
# Safe to run again: it updates what it installed before.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
  echo "Rust is needed to build S/MIME Companion: install it from https://rustup.rs, then run this again." >&2
  exit 1
fi
installer/debian-packages.sh build-essential pkg-config libssl-dev

cargo build --release --locked
bin_dir="${XDG_BIN_HOME:-$HOME/.local/bin}"
install -D -m 0755 target/release/smime-companion "$bin_dir/smime-companion"
"$bin_dir/smime-companion" install --user --client thunderbird --path "$bin_dir/smime-companion"
echo "S/MIME Companion installed: $bin_dir/smime-companion"
