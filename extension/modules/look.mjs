import { errorKey } from "./texts.mjs";
import { isHostDown } from "./ops.mjs";

// What the header button looks like for a verdict (docs/INSPECT.md): icon, severity, badge and
// the message keys of its label and tooltip. Pure, so every state can be tested in node.

// One entry per look. `icon` names the PNGs in icons/ (<icon>-<theme>-<size>.png).
export const Looks = Object.freeze({
  checking: { icon: "checking", severity: "none" },
  unavailable: { icon: "unavailable", severity: "warning" },
  failed: { icon: "unavailable", severity: "warning" },
  unsigned: { icon: "unsigned", severity: "none" },
  valid: { icon: "valid", severity: "ok" },
  altered: { icon: "altered", severity: "error" },
  untrusted: { icon: "untrusted", severity: "warning" },
  problem: { icon: "problem", severity: "warning" },
  mismatch: { icon: "mismatch", severity: "error" },
  // A valid signature whose From line may show another sender (SENDER_WARNINGS).
  doubtfulSender: { icon: "mismatch", severity: "warning" },
  partial: { icon: "problem", severity: "warning" },
  encrypted: { icon: "encrypted", severity: "info" },
  encryptedSigned: { icon: "encrypted-signed", severity: "ok" },
  undecryptable: { icon: "undecryptable", severity: "warning" },
});

export const ICON_NAMES = [...new Set(Object.values(Looks).map((l) => l.icon))];
export const ICON_SIZES = [16, 32];
export const THEMES = ["light", "dark"];

// Signature states (docs/INSPECT.md, precedence table and structural states) -> look.
// Broken, changed or revoked signatures are red; an unknown CA is its own look because its
// remedy (compare the fingerprint) differs; every other certificate problem is amber.
export const SIGNATURE_LOOKS = Object.freeze({
  valid: "valid",
  none: "unsigned",
  partially_signed: "partial",
  malformed: "altered",
  content_altered: "altered",
  revoked: "altered",
  untrusted: "untrusted",
  sender_mismatch: "mismatch",
  no_sender_address: "problem",
  unsupported_algorithm: "problem",
  signer_certificate_missing: "problem",
  expired: "problem",
  not_yet_valid: "problem",
  wrong_usage: "problem",
  weak_algorithm: "problem",
  time_mismatch: "problem",
});

// Signature warnings (docs/INSPECT.md) that say a mail program may show another sender than the
// one who signed: a valid signature with one of them never gets the plain green seal.
export const SENDER_WARNINGS = new Set(["display_name_is_other_address"]);

/** The first sender warning of a signature verdict, or null. */
export function senderWarning(signature) {
  return (signature.warnings ?? []).find((w) => SENDER_WARNINGS.has(w.code)) ?? null;
}

// Encryption states that mean the content could not be read (`locked`: it can, once the user
// unlocks their key).
export const UNREADABLE = new Set(["locked", "no_key", "failed", "unsupported"]);

const BADGE_COLORS = { error: "#c50042", warning: "#b35c00" };

/**
 * The facts that decide what the user sees, from one reading of a message: the host's verdict
 * on the raw message and, when Thunderbird decrypted what the host could not, the verdict on the
 * decrypted message.
 */
export function summarize({ verdict, decrypted = null }) {
  const inner = decrypted ?? verdict;
  return {
    signature: inner.signature ?? { state: "none" },
    encryption: verdict.encryption ?? { state: "none" },
    message: inner.message ?? verdict.message ?? {},
    thunderbirdDecrypted: Boolean(decrypted),
  };
}

/** The look name (a key of Looks) for one reading. */
export function lookName(reading) {
  const { signature, encryption, thunderbirdDecrypted } = summarize(reading);
  const encrypted = encryption.state !== "none";
  if (encrypted && UNREADABLE.has(encryption.state) && !thunderbirdDecrypted) return "undecryptable";
  let signatureLook = SIGNATURE_LOOKS[signature.state] ?? "problem";
  if (signatureLook === "valid" && senderWarning(signature)) signatureLook = "doubtfulSender";
  if (!encrypted) return signatureLook;
  if (signatureLook === "valid") return "encryptedSigned";
  if (signatureLook === "unsigned") return "encrypted";
  return signatureLook; // a signature problem outweighs the good news of encryption
}

/**
 * The user's locked keys a message is encrypted to, when that alone keeps it unreadable
 * (`encryption.state` `locked`): their fingerprints (`locked_identities`) and the addresses of
 * their certificates, for the unlock form. Null for every other reading.
 */
export function lockedKeys(reading) {
  const { encryption, thunderbirdDecrypted } = summarize(reading);
  if (encryption.state !== "locked" || thunderbirdDecrypted) return null;
  const emails = (encryption.recipients ?? []).filter((r) => r.mine && r.email).map((r) => r.email);
  return { fingerprints: [...(encryption.locked_identities ?? [])], emails: [...new Set(emails)] };
}

/**
 * Everything the header button needs: icon name, severity, badge, and the message keys (with
 * substitutions) of label and tooltip. `t` is not called here, so this stays testable.
 */
export function buttonLook(reading) {
  const name = lookName(reading);
  return decorate(name, titleFor(name, summarize(reading)));
}

/** The look while a message is being checked. */
export function checkingLook() {
  return decorate("checking", { key: "look_checking_title", subs: [], extra: [] });
}

/** The look when the host cannot be reached or the check failed; `code` is an error code. */
export function failureLook(code) {
  if (isHostDown(code)) {
    return decorate("unavailable", { key: "look_unavailable_title", subs: [], extra: [] });
  }
  return decorate("failed", { key: "look_failed_title", subs: [], extra: [errorKey(code)] });
}

function decorate(name, title) {
  const { icon, severity } = Looks[name];
  const badge = BADGE_COLORS[severity] ? { text: "!", color: BADGE_COLORS[severity] } : { text: "", color: null };
  return { name, icon, severity, badge, label: { key: `look_${name}_label`, subs: [] }, title };
}

function titleFor(name, { signature, encryption, message, thunderbirdDecrypted }) {
  const signer = signature.signer ?? null;
  const who = signerLine(signer);
  const extra = thunderbirdDecrypted ? ["look_suffix_thunderbird_decrypted"] : [];
  const title = (key, ...subs) => ({ key, subs, extra });
  switch (name) {
    case "valid":
      return title("look_valid_title", who);
    case "encryptedSigned":
      return title("look_encryptedSigned_title", who);
    case "doubtfulSender":
      return title("look_doubtfulSender_title", who, senderWarning(signature)?.name_address ?? "?");
    case "mismatch": {
      const from = (message.from ?? []).map((m) => m.address).filter(Boolean).join(", ");
      return title("look_mismatch_title", certEmail(signer) ?? "?", from || "?");
    }
    case "altered":
    case "problem":
      return title(`state_${signature.state}`);
    case "undecryptable":
      return title(`look_undecryptable_title_${encryption.state}`);
    default:
      return title(`look_${name}_title`);
  }
}

/** The name on a certificate: never the message header's display name. */
export function certName(cert) {
  if (!cert) return null;
  const f = cert.subject_fields ?? {};
  const person = [f.given_name, f.surname].filter(Boolean).join(" ");
  return f.common_name || person || f.pseudonym || f.organization || null;
}

/**
 * The certificate's e-mail address: the first that counts (`emails`: subjectAltName, or the
 * subject's emailAddress only without one; plain ASCII as the CA wrote it). An address that does
 * not count is never presented as the certificate's (see `ignored_emails`).
 */
export function certEmail(cert) {
  if (!cert) return null;
  return cert.emails?.[0] ?? null;
}

function signerLine(cert) {
  const name = certName(cert);
  const email = certEmail(cert);
  if (name && email && name.toLowerCase() !== email.toLowerCase()) return `${name} <${email}>`;
  return name ?? email ?? "?";
}
