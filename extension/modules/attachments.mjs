// Which attachments hold certificates the contact cache can import: .cer/.crt/.der/.pem files,
// PKCS #7 bundles (.p7c/.p7b) and detached signatures (.p7s, which carry the signer's chain).
// Judged by file name first, then by media type. Pure.

const EXTENSIONS = new Set(["cer", "crt", "der", "pem", "p7c", "p7b", "p7s"]);
const TYPES = new Set([
  "application/pkix-cert",
  "application/x-x509-ca-cert",
  "application/x-x509-user-cert",
  "application/x-x509-email-cert",
  "application/x-pem-file",
  "application/pkcs7-signature",
  "application/x-pkcs7-signature",
  "application/x-pkcs7-certificates",
]);

/** True for an attachment whose bytes contacts_import can read. */
export function isCertificateAttachment({ name, contentType } = {}) {
  const extension = String(name ?? "").toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  if (extension && EXTENSIONS.has(extension)) return true;
  const [type, ...params] = String(contentType ?? "").toLowerCase().split(";").map((s) => s.trim());
  if (TYPES.has(type)) return true;
  // application/pkcs7-mime is also used for encrypted and signed messages; only certs-only holds certificates.
  return (type === "application/pkcs7-mime" || type === "application/x-pkcs7-mime")
    && params.some((p) => p.replace(/\s|"/g, "") === "smime-type=certs-only");
}
