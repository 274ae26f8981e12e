#!/usr/bin/env bash
# The Outlook-on-the-web suite's messages: the end-to-end suite's PKI and messages
# (tests/e2e/make-messages.sh: plain, signed, altered, untrusted, mismatch, encrypted = signed and
# encrypted to Bob, undecryptable = to Carol), and with the same PKI:
#   encrypted-only.eml   encrypted to Bob, not signed
#   key-changed.eml      signed by Alice with her new key (after signed.eml: the key changed)
#   opaque.eml           signed by Alice in the opaque form (application/pkcs7-mime; signed-data)
#   rich.eml             signed and encrypted to Bob: text and HTML with everything a sanitiser must
#                        stop (remote images, scripts, handlers, CSS url(), forms, frames), an
#                        inline image by Content-ID, a PDF and an HTML attachment
# With BENCH=1 also bench-1k.eml, bench-1m.eml, bench-25m.eml (signed by Alice).
# Usage: make-messages.sh OUTDIR
set -euo pipefail
out=$1
here=$(cd "$(dirname "$0")" && pwd)
# Dave's revoked certificate names an OCSP responder; no test here shows his message, so his
# certificate may name a port nothing listens on (9: discard) when no responder was started.
E2E_OCSP_PORT=${E2E_OCSP_PORT:-9} "$here/../e2e/make-messages.sh" "$out" >/dev/null
cd "$out"
date_header="Date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S +0000')"
headers() { # FROM SUBJECT ID
  printf 'From: %s\r\nTo: Bob Reader <bob@example.org>\r\nSubject: %s\r\n%s\r\nMessage-ID: <%s@owa.example.org>\r\n' \
    "$1" "$2" "$date_header" "$3"
}
body() {
  printf 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s\r\n' \
    "Hello Bob, please transfer 100 EUR to the usual account. Alice"
}
sign() { openssl cms -sign -binary -crlfeol -md sha256 -signer "pki/$1.pem" -inkey "pki/$1.key" -certfile pki/e2e-ca.pem; }
sign_opaque() { openssl cms -sign -nodetach -binary -crlfeol -md sha256 -signer "pki/$1.pem" -inkey "pki/$1.key" -certfile pki/e2e-ca.pem; }
encrypt() { openssl cms -encrypt -binary -crlfeol -aes256 "pki/$1.pem"; }

{ headers "Alice Example <alice@example.org>" "Encrypted, not signed" encrypted-only; body | encrypt bob; } > encrypted-only.eml
{ headers "Alice Example <alice@example.org>" "Signed with Alice's new key" key-changed; body | sign alice-new; } > key-changed.eml
{ headers "Alice Example <alice@example.org>" "Signed, opaque" opaque; body | sign_opaque alice; } > opaque.eml

png=iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==
rich_content() {
  printf 'Content-Type: multipart/mixed; boundary="mixed"\r\n\r\n--mixed\r\n'
  printf 'Content-Type: multipart/alternative; boundary="alt"\r\n\r\n--alt\r\n'
  printf 'Content-Type: text/plain; charset=utf-8\r\n\r\nGrüße, Bob: the plain version.\r\n--alt\r\n'
  printf 'Content-Type: multipart/related; boundary="rel"\r\n\r\n--rel\r\n'
  printf 'Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
  cat <<'HTML' | sed 's/$/\r/'
<html><head><style>@import url(https://remote.test/import.css); body { background: url(https://remote.test/bg.png); }</style>
<meta http-equiv=3D"refresh" content=3D"0; url=3Dhttps://remote.test/refresh"><base href=3D"https://remote.test/"></head>
<body onload=3D"fetch('https://remote.test/onload')"><h1 id=3D"greeting">Gr=C3=BC=C3=9Fe, Bob</h1>
<p style=3D"color: green; background-image: url('https://remote.test/style.png')">The <b>HTML</b> version.</p>
<img id=3D"tracker" src=3D"https://remote.test/pixel.png" width=3D"1" height=3D"1">
<img id=3D"logo" src=3D"cid:logo@owa.example.org" alt=3D"logo">
<script>fetch('https://remote.test/script')</script>
<iframe src=3D"https://remote.test/frame"></iframe><form action=3D"https://remote.test/form"><input name=3D"q"></form>
<svg><image href=3D"https://remote.test/svg.png"/></svg>
<a id=3D"link" href=3D"https://example.org/info" onclick=3D"fetch('https://remote.test/click')">More</a>
<a id=3D"js" href=3D"javascript:fetch('https://remote.test/js')">Click</a>
</body></html>
HTML
  printf -- '--rel\r\nContent-Type: image/png\r\nContent-ID: <logo@owa.example.org>\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n--rel--\r\n--alt--\r\n' "$png"
  printf -- '--mixed\r\nContent-Type: application/pdf; name="report.pdf"\r\nContent-Disposition: attachment; filename="report.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
  printf '%%PDF-1.4 stand-in report' | base64 -w 76 | sed 's/$/\r/'
  printf -- '--mixed\r\nContent-Type: text/html; name="page.html"\r\nContent-Disposition: attachment; filename="page.html"\r\n\r\n'
  printf '<script>fetch("https://remote.test/attachment")</script>\r\n--mixed--\r\n'
}
{ headers "Alice Example <alice@example.org>" "Signed and encrypted, with HTML and attachments" rich; rich_content | sign alice | encrypt bob; } > rich.eml

if [ "${BENCH:-0}" = 1 ]; then
  for size in 1k:1024 1m:1048576 25m:26214400; do
    name=${size%%:*}
    bytes=${size##*:}
    { headers "Alice Example <alice@example.org>" "Benchmark $name" "bench-$name"
      { printf 'Content-Type: application/octet-stream; name="data.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        head -c $((bytes * 3 / 4)) /dev/urandom | base64 -w 76 | sed 's/$/\r/'; } | sign alice; } > "bench-$name.eml"
  done
fi
