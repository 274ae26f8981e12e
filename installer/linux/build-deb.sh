#!/usr/bin/env bash
# Builds the Debian package dist/smime-companion_<version>_<arch>.deb with dpkg-deb alone (no
# cargo plug-ins), on any Debian or Ubuntu machine that can build the host.
#
# The package holds:
#   /usr/bin/smime-companion                                     the host (and CLI)
#   /usr/share/smime-companion/smime-companion.xpi               the add-on
#   /usr/lib/smime-companion/libsmime_companion_pkcs11.so        the PKCS#11 module (docs/PKCS11.md)
#   /usr/share/smime-companion/outlook-web/                      the Outlook-on-the-web extension for
#                                                                Chrome, Edge and Chromium: unpacked/
#                                                                and the store zip (docs/OUTLOOK-WEB.md)
#   DEBIAN/postinst, prerm, postrm                               from `smime-companion generate debian`
# postinst registers the host with `smime-companion install --system` (the manifest in
# /usr/lib/mozilla/native-messaging-hosts, also in /usr/lib64/mozilla where that exists, and the
# Chromium-style one in Chrome's, Edge's and Chromium's folders, allowing the Outlook-on-the-web
# extension and any origin /etc/smime-companion/config.json adds; recorded in the install
# receipt, not shipped in the package) and merges the Thunderbird enterprise policy that
# force-installs the add-on into /etc/thunderbird/policies/policies.json; prerm removes both again.
# Paths (package-layout.sh, also from `generate debian`), names and the add-on ID come from the host
# binary itself (src/install/package.rs), the single source of truth shared with the Windows and
# macOS packages.
#
# Usage: installer/linux/build-deb.sh [OUT_DIR]      (default: dist/); prints the .deb's path.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
out_dir=${1:-$repo/dist}
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)

installer/debian-packages.sh build-essential pkg-config libssl-dev python3
cargo build --release --locked >&2
bin=$repo/target/release/smime-companion
version=$("$bin" --version | awk '{print $2}')
arch=$(dpkg --print-architecture)

stage=$(mktemp -d "${TMPDIR:-/tmp}/smime-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
generated=$stage/generated
"$bin" generate debian --out "$generated" >/dev/null
# Where the package puts its files: PKG_BIN, PKG_XPI, PKG_PKCS11_LIBRARY, PKG_POLICY_FILE.
. "$generated/package-layout.sh"
pkg=$stage/pkg
mkdir -p "$pkg"
cp -a "$generated/DEBIAN" "$pkg/DEBIAN"
install -D -m 0755 "$bin" "$pkg$PKG_BIN"
strip --strip-unneeded "$pkg$PKG_BIN"
# The PKCS#11 module; postinst's `install --system` finds it there and registers its manifest.
module=$repo/target/release/$(basename "$PKG_PKCS11_LIBRARY")
install -D -m 0644 "$module" "$pkg$PKG_PKCS11_LIBRARY"
strip --strip-unneeded "$pkg$PKG_PKCS11_LIBRARY"
installer/package-xpi.sh "$pkg$PKG_XPI" >/dev/null
chmod 0644 "$pkg$PKG_XPI"
# The Outlook-on-the-web extension beside the add-on, for IT to roll out: the unpacked folder
# (policy installs, Debian Chromium's /usr/share/chromium/extensions/) and the store zip.
outlook_web=$pkg$(dirname "$PKG_XPI")/outlook-web
installer/package-outlook-web.sh "$outlook_web" >/dev/null
chmod -R u=rwX,go=rX "$outlook_web"
# Owned by the package (not the file inside: that is merged), so dpkg removes the folder again
# when it is empty and no other package uses it.
install -d -m 0755 "$pkg$(dirname "$PKG_POLICY_FILE")"
install -d -m 0755 "$pkg/usr/share/doc/smime-companion"
cat > "$pkg/usr/share/doc/smime-companion/copyright" <<'COPYRIGHT'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: smime-companion

Files: *
License: MPL-2.0
 On Debian systems the full text of the Mozilla Public License 2.0 is in
 /usr/share/common-licenses/MPL-2.0.
COPYRIGHT
chmod 0644 "$pkg/usr/share/doc/smime-companion/copyright"

# Shared-library dependencies, as dpkg-shlibdeps (dpkg-dev, part of build-essential) finds them.
mkdir -p "$stage/debian"
printf 'Source: smime-companion\n\nPackage: smime-companion\nArchitecture: any\n' > "$stage/debian/control"
depends=$(cd "$stage" && dpkg-shlibdeps -O -e "pkg$PKG_BIN" -e "pkg$PKG_PKCS11_LIBRARY" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "build-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
rm -rf "$stage/debian"

installed_size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: smime-companion
Version: $version
Architecture: $arch
Maintainer: S/MIME Companion maintainers <maintainers@smime-companion.org>
Installed-Size: $installed_size
Depends: $depends
Suggests: thunderbird
Section: mail
Priority: optional
Description: S/MIME companion for Thunderbird and Outlook on the web
 Shows in Thunderbird who signed a message and what the signer's certificate
 confirms, explains every S/MIME problem in plain words, and keeps the
 certificates of your contacts. The package installs the native-messaging
 host, registers it system-wide for Thunderbird and Firefox, and for Chrome,
 Edge and Chromium (Outlook on the web), force-installs the Thunderbird
 add-on through an enterprise policy, and ships the Outlook-on-the-web
 extension for IT to roll out.
CONTROL

deb=$out_dir/smime-companion_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null
chmod 0644 "$deb"
echo "$deb"
