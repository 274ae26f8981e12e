"""MIME assembly for the S/MIME test vectors, and raw part extraction for the self-check.

Everything works on bytes with CRLF line ends: a signed part must reach the verifier byte for
byte as it was signed, so nothing here re-folds or re-encodes an entity it is given.

As a command (used by check-with-openssl.sh):
    mime.py part FILE NUMBER   print the raw entity of IMAP part NUMBER ("2", "1.2"); for a
                               message/rfc822 part, the encapsulated message
    mime.py der FILE           print the base64-decoded body of the entity in FILE
"""
import base64
import email.utils
import re
import sys

CRLF = b"\r\n"


def b64_lines(data, width=76):
    """Base64 in lines of `width` characters, CRLF after every line."""
    text = base64.b64encode(data)
    return b"".join(text[i:i + width] + CRLF for i in range(0, len(text), width))


def entity(headers, body):
    """An entity: header lines, an empty line, the body (bytes, used as is)."""
    head = b"".join(h.encode("utf-8") + CRLF for h in headers)
    return head + CRLF + body


def text_part(text, subtype="plain", charset="utf-8", cte=None, extra_headers=()):
    """A text/* entity. `text` is str; lines are joined with CRLF and the body ends with CRLF."""
    body = text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
    if not body.endswith(CRLF):
        body += CRLF
    headers = [f"Content-Type: text/{subtype}; charset={charset}"]
    if cte:
        headers.append(f"Content-Transfer-Encoding: {cte}")
    return entity(headers + list(extra_headers), body)


def multipart(subtype, parts, boundary, params="", preamble=b"", extra_headers=()):
    """multipart/<subtype> from raw part entities. Each part is emitted unchanged between
    delimiter lines; the CRLF before a delimiter belongs to the delimiter (RFC 2046)."""
    b = boundary.encode()
    out = b""
    if preamble:
        out += preamble + CRLF
    for p in parts:
        out += b"--" + b + CRLF + p + CRLF
    out += b"--" + b + b"--" + CRLF
    headers = [f'Content-Type: multipart/{subtype}; boundary="{boundary}"{params}'] + list(extra_headers)
    return entity(headers, out)


def multipart_signed(content, sig_der, micalg, boundary, protocol="application/pkcs7-signature",
                     sig_body=None, extra_headers=()):
    """RFC 8551 multipart/signed: the signed entity `content` exactly as signed, then the signature.

    `sig_body` replaces the base64 signature body (for broken-signature vectors)."""
    sig_part = entity([
        f'Content-Type: {protocol}; name="smime.p7s"',
        "Content-Transfer-Encoding: base64",
        'Content-Disposition: attachment; filename="smime.p7s"',
        "Content-Description: S/MIME Cryptographic Signature",
    ], sig_body if sig_body is not None else b64_lines(sig_der))
    params = f'; protocol="{protocol}"; micalg={micalg}'
    preamble = b"This is a cryptographically signed message in MIME format.\r\n"
    return multipart("signed", [content, sig_part], boundary, params=params, preamble=preamble,
                     extra_headers=extra_headers)


def pkcs7_mime(der, smime_type, ctype="application/pkcs7-mime", name="smime.p7m",
               disposition="attachment", extra_headers=()):
    """An opaque S/MIME entity (signed-data, enveloped-data, authEnveloped-data, certs-only)."""
    params = f"; smime-type={smime_type}" if smime_type else ""
    headers = [f'Content-Type: {ctype}{params}; name="{name}"', "Content-Transfer-Encoding: base64"]
    if disposition:
        headers.append(f'Content-Disposition: {disposition}; filename="{name}"')
    headers.append("Content-Description: S/MIME Cryptographic Message")
    return entity(headers + list(extra_headers), b64_lines(der))


def rfc5322_date(dt):
    """RFC 5322 date-time in UTC, e.g. 'Fri, 27 Nov 2026 19:40:00 +0000'."""
    return email.utils.format_datetime(dt.replace(microsecond=0))


def message(body_entity, headers):
    """A whole message: RFC 5322 header fields (list of 'Name: value', in order), MIME-Version,
    then the top-level entity's own header fields and body.

    A leading "MIME-Version:" line of the entity (openssl's S/MIME writer adds one) is dropped so
    the message has exactly one."""
    if body_entity.startswith(b"MIME-Version:"):
        body_entity = body_entity.split(CRLF, 1)[1]
    return entity(list(headers) + ["MIME-Version: 1.0"], b"")[:-2] + body_entity


def to_crlf(data):
    """Bare LF → CRLF (openssl writes base64 lines with LF even with -crlfeol)."""
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def to_lf(data):
    return data.replace(CRLF, b"\n")


# --- parsing, for the self-check -------------------------------------------------------------

def split_entity(raw):
    """(header bytes, body bytes) of an entity; accepts CRLF or LF."""
    m = re.search(rb"\r?\n\r?\n", raw)
    if raw.startswith(b"\r\n") or raw.startswith(b"\n"):
        return b"", raw[1 if raw.startswith(b"\n") else 2:]
    if not m:
        return raw, b""
    return raw[:m.start()], raw[m.end():]


def header_value(headers, name):
    unfolded = re.sub(rb"\r?\n[ \t]+", b" ", headers)
    for line in re.split(rb"\r?\n", unfolded):
        k, _, v = line.partition(b":")
        if k.strip().lower() == name.lower().encode():
            return v.strip().decode("utf-8", "replace")
    return None


def content_type(headers):
    ct = header_value(headers, "Content-Type") or "text/plain"
    mtype = ct.split(";")[0].strip().lower()
    m = re.search(r'boundary\s*=\s*"?([^";]+)"?', ct, re.I)
    return mtype, (m.group(1) if m else None)


def children(raw):
    """Raw child entities of a multipart entity (bytes between delimiters, CRLF before each
    delimiter excluded)."""
    headers, body = split_entity(raw)
    mtype, boundary = content_type(headers)
    if not mtype.startswith("multipart/") or not boundary:
        raise ValueError(f"not a multipart entity: {mtype}")
    delim = re.compile(rb"(?:^|\r?\n)--" + re.escape(boundary.encode()) + rb"(--)?[ \t]*(?=\r?\n|$)")
    parts, start = [], None
    for m in delim.finditer(body):
        if start is not None:
            parts.append(body[start:m.start()])
        if m.group(1):
            break
        nl = body.find(b"\n", m.end())
        start = nl + 1 if nl >= 0 else len(body)
    return parts


def part(raw, number):
    """Entity of IMAP part `number` in message `raw` (children of message/rfc822 are numbered
    inside the encapsulated message, as IMAP does)."""
    cur = raw
    for n in number.split("."):
        headers, body = split_entity(cur)
        mtype, _ = content_type(headers)
        if mtype == "message/rfc822":
            cur = body
            headers, body = split_entity(cur)
            mtype, _ = content_type(headers)
        cur = children(cur)[int(n) - 1]
    headers, body = split_entity(cur)
    if content_type(headers)[0] == "message/rfc822":
        return body
    return cur


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "part":
        with open(sys.argv[2], "rb") as f:
            sys.stdout.buffer.write(part(f.read(), sys.argv[3]))
    elif len(sys.argv) == 3 and sys.argv[1] == "der":
        with open(sys.argv[2], "rb") as f:
            sys.stdout.buffer.write(base64.b64decode(split_entity(f.read())[1], validate=False))
    else:
        sys.exit(__doc__)
