#!/usr/bin/env bash
# Builds S/MIME Companion and installs it for the current user on Debian/Ubuntu:
#   - the host program in ~/.local/bin/smime-companion
#   - its native-messaging registration in ~/.mozilla/native-messaging-hosts/ (where Thunderbird looks)
#   - the PKCS#11 module in ~/.local/lib/smime-companion/ and its manifest in ~/.mozilla/pkcs11-modules/
#   - the add-on, copied into each Thunderbird profile listed in ~/.thunderbird/profiles.ini
#     (Thunderbird asks at its next start whether to enable it: click Enable)
#   - for each of Chromium, Chrome and Edge it finds: the host's registration for the Outlook-on-the-web
#     extension (~/.config/<browser>/NativeMessagingHosts/), and the extension itself, unpacked in
#     ~/.local/share/smime-companion/outlook-web/ (it says how to add it to the browser)
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
# Outlook on the web: every Chromium-family browser found (installed, or with a profile of this user).
browsers=()
for pair in chromium:chromium:chromium chrome:google-chrome:google-chrome-stable edge:microsoft-edge:microsoft-edge-stable; do
  IFS=: read -r client dir command <<<"$pair"
  if command -v "$command" >/dev/null || command -v "${command%-stable}" >/dev/null || [ -d "$HOME/.config/$dir" ]; then
    "$bin_dir/smime-companion" install --user --client "$client" --path "$bin_dir/smime-companion" --quiet
    browsers+=("$client")
  fi
done
if [ ${#browsers[@]} -gt 0 ]; then
  installer/package-outlook-web.sh "$data_dir/outlook-web" >/dev/null
fi
"$bin_dir/smime-companion" doctor --user || echo "Some checks failed; see the fixes above (docs/INSTALL.md explains each)."
echo "S/MIME Companion installed: $bin_dir/smime-companion"
if [ ${#browsers[@]} -gt 0 ]; then
  echo "Registered for Outlook on the web in: ${browsers[*]}. To add the extension to the browser, open"
  echo "chrome://extensions (edge://extensions in Edge), switch on \"Developer mode\", click \"Load unpacked\""
  echo "and choose $data_dir/outlook-web/unpacked (docs/OUTLOOK-WEB.md explains the settings)."
fi
