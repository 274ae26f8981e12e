"""Just enough DER/BER for surgery on CMS structures in test vectors (standard library only).

parse() turns bytes into a tree of Node; Node.encode() writes definite-length DER lengths again
(the content octets of untouched primitives are kept byte for byte, so signatures over them stay
valid). BER indefinite lengths are accepted on input.
"""

# OIDs as DER value bytes (without tag and length).
OID_SIGNED_DATA = bytes.fromhex("2a864886f70d010702")
OID_ENVELOPED_DATA = bytes.fromhex("2a864886f70d010703")
OID_AUTH_ENVELOPED_DATA = bytes.fromhex("2a864886f70d0109100117")  # 1.2.840.113549.1.9.16.1.23
OID_SHA256 = bytes.fromhex("608648016503040201")

CONTENT_CIPHERS = {
    bytes.fromhex("608648016503040102"): "aes-128-cbc",
    bytes.fromhex("608648016503040116"): "aes-192-cbc",
    bytes.fromhex("60864801650304012a"): "aes-256-cbc",
    bytes.fromhex("608648016503040106"): "aes-128-gcm",
    bytes.fromhex("60864801650304011a"): "aes-192-gcm",
    bytes.fromhex("60864801650304012e"): "aes-256-gcm",
    bytes.fromhex("2a864886f70d0307"): "des-ede3-cbc",
    bytes.fromhex("2a864886f70d0302"): "rc2-cbc",
}


class Node:
    """One TLV. `tag` is the full identifier octet (single-byte tags only, enough for CMS)."""

    def __init__(self, tag, value=b"", children=None):
        self.tag = tag
        self.value = value
        self.children = children

    @property
    def constructed(self):
        return bool(self.tag & 0x20)

    def encode(self):
        body = b"".join(c.encode() for c in self.children) if self.children is not None else self.value
        return bytes([self.tag]) + encode_length(len(body)) + body

    def __getitem__(self, i):
        return self.children[i]

    def __repr__(self):
        if self.children is not None:
            return f"Node(0x{self.tag:02x}, {len(self.children)} children)"
        return f"Node(0x{self.tag:02x}, {len(self.value)} bytes)"


def encode_length(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, value):
    return bytes([tag]) + encode_length(len(value)) + value


def _parse_one(buf, pos):
    tag = buf[pos]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-byte tags are not supported")
    first = buf[pos + 1]
    pos += 2
    if first == 0x80:  # BER indefinite length: children up to end-of-contents 00 00
        if not tag & 0x20:
            raise ValueError("indefinite length on a primitive")
        kids = []
        while buf[pos:pos + 2] != b"\0\0":
            child, pos = _parse_one(buf, pos)
            kids.append(child)
        return _merge_constructed_string(Node(tag, children=kids)), pos + 2
    if first & 0x80:
        n = first & 0x7F
        length = int.from_bytes(buf[pos:pos + n], "big")
        pos += n
    else:
        length = first
    end = pos + length
    if end > len(buf):
        raise ValueError("truncated")
    if tag & 0x20:
        kids = []
        p = pos
        while p < end:
            child, p = _parse_one(buf, p)
            kids.append(child)
        return _merge_constructed_string(Node(tag, children=kids)), end
    return Node(tag, buf[pos:end]), end


def _merge_constructed_string(node):
    """BER constructed OCTET STRING (0x24) or [0] IMPLICIT one (0xA0 holding only 0x04s) → primitive.

    Only applied to the universal OCTET STRING form; context tags are left alone because a
    constructed [0] is usually a real structure.
    """
    if node.tag == 0x24 and all(c.tag == 0x04 for c in node.children):
        return Node(0x04, b"".join(c.value for c in node.children))
    return node


def parse(buf):
    node, end = _parse_one(bytes(buf), 0)
    return node


# --- CMS helpers -------------------------------------------------------------------------------

def content_info(der):
    """Return (content type OID bytes, inner content Node) of a ContentInfo."""
    ci = parse(der)
    return ci[0].value, ci[1][0]


def signed_data_fields(sd):
    """Index SignedData's fields: version, digestAlgorithms, encapContentInfo, [0] certs, [1] crls, signerInfos."""
    out = {"version": sd[0], "digest_algorithms": sd[1], "encap": sd[2], "certificates": None, "crls": None}
    for child in sd.children[3:]:
        if child.tag == 0xA0:
            out["certificates"] = child
        elif child.tag == 0xA1:
            out["crls"] = child
        elif child.tag == 0x31:
            out["signer_infos"] = child
    return out


def wrap_signed_data(sd):
    return Node(0x30, children=[Node(0x06, OID_SIGNED_DATA), Node(0xA0, children=[sd])]).encode()


def add_crl(signed_der, crl_der):
    """Put a CRL into SignedData's `crls [1] IMPLICIT RevocationInfoChoices` (not covered by any signature)."""
    oid, sd = content_info(signed_der)
    assert oid == OID_SIGNED_DATA
    f = signed_data_fields(sd)
    crl = parse(crl_der)
    if f["crls"] is not None:
        f["crls"].children.append(crl)
    else:
        # crls comes right after certificates (or encapContentInfo when there are none).
        after = f["certificates"] or f["encap"]
        idx = sd.children.index(after) + 1
        sd.children.insert(idx, Node(0xA1, children=[crl]))
    return wrap_signed_data(sd)


def transplant_signers(target_der, donor_der):
    """Append the donor's SignerInfos (and its certificates and digest algorithms) to the target.

    The donor signed other content, so its signer no longer matches: the "one valid, one invalid
    signer" attack (Johnny C2).
    """
    _, sd = content_info(target_der)
    _, donor = content_info(donor_der)
    f, g = signed_data_fields(sd), signed_data_fields(donor)
    have = {c.encode() for c in f["digest_algorithms"].children}
    for alg in g["digest_algorithms"].children:
        if alg.encode() not in have:
            f["digest_algorithms"].children.append(alg)
    if g["certificates"] is not None:
        certs = {c.encode() for c in f["certificates"].children}
        for c in g["certificates"].children:
            if c.encode() not in certs:
                f["certificates"].children.append(c)
    f["signer_infos"].children.extend(g["signer_infos"].children)
    return wrap_signed_data(sd)


def strip_signers(signed_der):
    """The same SignedData with an empty signerInfos SET."""
    _, sd = content_info(signed_der)
    signed_data_fields(sd)["signer_infos"].children.clear()
    return wrap_signed_data(sd)


def flip_encrypted_content_byte(der, offset=None):
    """Flip one bit in the ciphertext of EnvelopedData or AuthEnvelopedData (encryptedContent [0])."""
    oid, env = content_info(der)
    assert oid in (OID_ENVELOPED_DATA, OID_AUTH_ENVELOPED_DATA)
    # [originatorInfo] recipientInfos SET, then the (auth)EncryptedContentInfo SEQUENCE.
    eci = next(c for c in env.children if c.tag == 0x30)
    ec = eci[2]
    if ec.tag == 0xA0:  # BER constructed [0] holding OCTET STRING chunks → make it primitive
        ec.tag, ec.value, ec.children = 0x80, b"".join(c.value for c in ec.children), None
    assert ec.tag == 0x80, hex(ec.tag)
    data = bytearray(ec.value)
    i = len(data) // 2 if offset is None else offset
    data[i] ^= 0x01
    ec.value = bytes(data)
    return Node(0x30, children=[Node(0x06, oid), Node(0xA0, children=[env])]).encode()


def content_cipher(der):
    """Name of the content-encryption algorithm of an (Auth)EnvelopedData, e.g. 'aes-256-cbc'."""
    oid, env = content_info(der)
    assert oid in (OID_ENVELOPED_DATA, OID_AUTH_ENVELOPED_DATA)
    eci = next(c for c in env.children if c.tag == 0x30)
    alg_oid = eci[1][0].value
    return CONTENT_CIPHERS.get(alg_oid, "unknown")


def content_type(der):
    oid, _ = content_info(der)
    return oid
