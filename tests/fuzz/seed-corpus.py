#!/usr/bin/env python3
"""Seed corpora for the fuzz targets from the S/MIME test vectors and the test PKI.

    seed-corpus.py VECTORS_DIR PKI_DIR OUT_DIR

Writes OUT_DIR/TARGET/NAME files: whole messages (inspect, mime), header blocks (header),
address and date field values (address, time), the DER of every CMS part (cms_der, asn1, and
inspect, which also reads DER as an opaque S/MIME body), certificates (x509, asn1), and framed
requests carrying small messages (envelope). Files larger than 64 KiB are skipped: the campaigns
run with -max_len=65536.
"""
import base64, email, email.policy, hashlib, json, os, re, struct, sys

MAX = 64 * 1024


def put(out, target, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    if not data or len(data) > MAX:
        return
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "v-" + hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def pem_blocks(text):
    for m in re.finditer(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", text, re.S):
        yield m.group(1), base64.b64decode("".join(m.group(2).split()))


def main(vectors, pki, out):
    for name in sorted(os.listdir(vectors)):
        if not name.endswith(".eml"):
            continue
        raw = open(os.path.join(vectors, name), "rb").read()
        put(out, "inspect", raw)
        put(out, "mime", raw)
        head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
        put(out, "header", head + b"\r\n\r\n")
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        for field in ("From", "To", "Cc", "Sender", "Reply-To"):
            for value in msg.get_all(field) or []:
                put(out, "address", str(value))
        for value in msg.get_all("Date") or []:
            put(out, "time", str(value))
        for part in msg.walk():
            ctype = (part.get("Content-Type") or "").replace("\r\n", "")
            if ctype:
                put(out, "header", ctype)
            if "pkcs7" in ctype.lower():
                der = part.get_payload(decode=True)
                if der:
                    put(out, "cms_der", der)
                    put(out, "asn1", der)
                    put(out, "inspect", der)
        if len(raw) < 16 * 1024:
            request = json.dumps({"id": name, "op": "inspect_message", "params": {"message_b64": base64.b64encode(raw).decode()}}).encode()
            put(out, "envelope", struct.pack("<I", len(request)) + request)
    for root, _, files in os.walk(pki):
        for f in sorted(files):
            if not f.endswith(".pem"):
                continue
            text = open(os.path.join(root, f), encoding="latin-1").read()
            for kind, der in pem_blocks(text):
                if kind == "CERTIFICATE":
                    put(out, "x509", der)
                    put(out, "asn1", der)
                elif kind == "X509 CRL":
                    put(out, "asn1", der)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
