#!/usr/bin/env bash
# Builds S/MIME Companion and installs it for the current user on Debian/Ubuntu:
#   - the host program in ~/.local/bin/smime-companion
#   - its native-messaging registration in ~/.mozilla/native-messaging-hosts/ (where Thunderbird looks)
#   - the PKCS#11 module in ~/.local/lib/smime-companion/ and its manifest in ~/.mozilla/pkcs11-modules/
#   - the add-on, copied into each Thunderbird profile listed in ~/.thunderbird/profiles.ini
#     (Thunderbird asks at its next start whether to enable it: click Enable)
# Safe to run again: it updates what it installed before. `smime-companion uninstall --user`
# removes the registration and the add-on copies again; then delete ~/.local/bin/smime-companion.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
  echo "Rust is needed to build S/MIME Companion: install it from https://rustup.rs, then run this again." >&2
  exit 1
fi
installer/debian-packages.sh build-essential pkg-config libssl-dev python3

cargo build --release --locked
bin_dir="${XDG_BIN_HOME:-$HOME/.local/bin}"
install -D -m 0755 target/release/smime-companion "$bin_dir/smime-companion"
# The PKCS#11 module (Thunderbird's S/MIME uses the companion's certificates and keys through it),
# where `install` looks for it: <prefix>/lib/smime-companion/ for a binary in <prefix>/bin.
lib_dir="$(dirname "$bin_dir")/lib/smime-companion"
install -D -m 0644 target/release/libsmime_companion_pkcs11.so "$lib_dir/libsmime_companion_pkcs11.so"
data_dir="${XDG_DATA_HOME:-$HOME/.local/share}/smime-companion"
mkdir -p "$data_dir"
installer/package-xpi.sh "$data_dir/smime-companion.xpi" >/dev/null
"$bin_dir/smime-companion" install --user --client thunderbird --path "$bin_dir/smime-companion" \
  --addon "$data_dir/smime-companion.xpi"
"$bin_dir/smime-companion" doctor --user || echo "Some checks failed; see the fixes above (docs/INSTALL.md explains each)."
echo "S/MIME Companion installed: $bin_dir/smime-companion"
