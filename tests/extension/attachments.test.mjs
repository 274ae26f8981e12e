import { test } from "node:test";
import assert from "node:assert/strict";
import { isCertificateAttachment } from "../../extension/modules/attachments.mjs";

test("certificate files are recognised by name: .cer .crt .der .pem .p7c .p7b .p7s", () => {
  for (const name of ["carol.cer", "CAROL.CRT", "x.der", "chain.pem", "bundle.p7c", "bundle.p7b", "smime.p7s"]) {
    assert.ok(isCertificateAttachment({ name, contentType: "application/octet-stream" }), name);
  }
  for (const name of ["report.pdf", "key.p12", "cert.cer.exe", "pem", "notes.txt"]) {
    assert.ok(!isCertificateAttachment({ name, contentType: "application/octet-stream" }), name);
  }
});

test("or by media type, where PKCS #7 counts only when it holds certificates only", () => {
  assert.ok(isCertificateAttachment({ name: "x", contentType: "application/pkix-cert" }));
  assert.ok(isCertificateAttachment({ name: "x", contentType: "application/x-x509-ca-cert; name=x" }));
  assert.ok(isCertificateAttachment({ name: "x", contentType: 'application/pkcs7-mime; smime-type="certs-only"' }));
  assert.ok(!isCertificateAttachment({ name: "smime", contentType: "application/pkcs7-mime; smime-type=enveloped-data" }));
  assert.ok(!isCertificateAttachment({}));
});
