#!/usr/bin/env python3
"""Merge several PKCS#12 files (same password) into one, for a test file holding two keys.

    p12merge.py PASSWORD OUT.p12 IN1.p12 IN2.p12 ...

`openssl pkcs12 -export` writes exactly one private key per file. A PFX is
    SEQUENCE { version 3, authSafe ContentInfo(data: AuthenticatedSafe), macData }
and AuthenticatedSafe is a SEQUENCE OF ContentInfo (the encrypted bags). We concatenate the
ContentInfos of all inputs unchanged (they are encrypted under the same password, so they stay
readable) and recompute the MAC, which covers the AuthenticatedSafe, with RFC 7292 appendix B's
key derivation. Salt, iteration count and MAC digest are taken from the first file.
Standard library only.
"""
import hashlib
import hmac
import os
import sys


def read_tlv(buf, pos):
    """Return (tag, header_len, value_start, value_end) of the DER TLV at pos."""
    tag = buf[pos]
    length = buf[pos + 1]
    hdr = 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0:
            raise ValueError("indefinite length not supported")
        length = int.from_bytes(buf[pos + 2:pos + 2 + n], "big")
        hdr += n
    return tag, hdr, pos + hdr, pos + hdr + length


def children(buf, start, end):
    out = []
    pos = start
    while pos < end:
        tag, _, vs, ve = read_tlv(buf, pos)
        out.append((tag, pos, vs, ve))
        pos = ve
    return out


def encode(tag, value):
    n = len(value)
    if n < 0x80:
        length = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + length + value


# Digest OIDs a PKCS#12 MAC may use (DER value bytes → hashlib name).
MAC_DIGESTS = {
    bytes.fromhex("2b0e03021a"): "sha1",
    bytes.fromhex("608648016503040201"): "sha256",
    bytes.fromhex("608648016503040202"): "sha384",
    bytes.fromhex("608648016503040203"): "sha512",
}


def pkcs12_kdf(hash_name, password, salt, ident, iterations, n):
    """RFC 7292 appendix B.2 key derivation; password as BMPString with trailing NUL."""
    h = hashlib.new(hash_name)
    u, v = h.digest_size, h.block_size
    pw = (password.encode("utf-16-be") + b"\0\0") if password is not None else b""

    def stretch(data):
        if not data:
            return b""
        size = v * ((len(data) + v - 1) // v)
        return (data * (size // len(data) + 1))[:size]

    D = bytes([ident]) * v
    I = bytearray(stretch(salt) + stretch(pw))
    out = b""
    while True:
        A = D + bytes(I)
        for _ in range(iterations):
            A = hashlib.new(hash_name, A).digest()
        out += A
        if len(out) >= n:
            return out[:n]
        B = (A * (v // u + 1))[:v]
        b_int = int.from_bytes(B, "big") + 1
        for j in range(0, len(I), v):
            block = (int.from_bytes(I[j:j + v], "big") + b_int) % (1 << (8 * v))
            I[j:j + v] = block.to_bytes(v, "big")


def parse_pfx(data):
    """Return (list of ContentInfo DER blobs, macData DER)."""
    _, _, vs, ve = read_tlv(data, 0)
    version, auth_safe, mac_data = children(data, vs, ve)
    # authSafe ContentInfo: SEQUENCE { OID data, [0] { OCTET STRING AuthenticatedSafe } }
    oid, explicit = children(data, auth_safe[2], auth_safe[3])
    (octet,) = children(data, explicit[2], explicit[3])
    if octet[0] != 0x04:
        raise ValueError("authSafe content is not a primitive OCTET STRING")
    safe = data[octet[2]:octet[3]]
    _, _, svs, sve = read_tlv(safe, 0)
    infos = [safe[p:e] for (_, p, _, e) in children(safe, svs, sve)]
    return infos, data[mac_data[1]:mac_data[3]]


def main():
    password, out_path, inputs = sys.argv[1], sys.argv[2], sys.argv[3:]
    infos = []
    first_mac = None
    for path in inputs:
        with open(path, "rb") as f:
            i, mac = parse_pfx(f.read())
        infos += i
        first_mac = first_mac or mac
    auth_safe = encode(0x30, b"".join(infos))

    # macData: SEQUENCE { DigestInfo { AlgorithmIdentifier, OCTET STRING }, salt, iterations }
    m = first_mac
    _, _, vs, ve = read_tlv(m, 0)
    fields = children(m, vs, ve)
    digest_info, salt_tlv = fields[0], fields[1]
    iterations = int.from_bytes(m[fields[2][2]:fields[2][3]], "big") if len(fields) > 2 else 1
    alg = children(m, digest_info[2], digest_info[3])[0]
    oid = children(m, alg[2], alg[3])[0]
    hash_name = MAC_DIGESTS[bytes(m[oid[2]:oid[3]])]
    salt = m[salt_tlv[2]:salt_tlv[3]]
    key = pkcs12_kdf(hash_name, password, salt, 3, iterations, hashlib.new(hash_name).digest_size)
    digest = hmac.new(key, auth_safe, hash_name).digest()

    new_mac = encode(0x30, encode(0x30, m[alg[1]:alg[3]] + encode(0x04, digest))
                     + m[salt_tlv[1]:salt_tlv[3]] + b"".join(m[f[1]:f[3]] for f in fields[2:]))
    content_info = encode(0x30, bytes.fromhex("06092a864886f70d010701") + encode(0xA0, encode(0x04, auth_safe)))
    pfx = encode(0x30, encode(0x02, b"\x03") + content_info + new_mac)
    tmp = out_path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(pfx)
    os.replace(tmp, out_path)


if __name__ == "__main__":
    main()
