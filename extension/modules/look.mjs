import { errorKey } from "./texts.mjs";
import { isHostDown } from "./ops.mjs";

// What the add-on calls each state of a message, and how it shows it (docs/INSPECT.md): one table
// of every state with its one label (message key) and its look (icon and severity), used by the
// header button, the popup, the banner, the Outlook notice and toolbar title, the contacts page
// and My certificates alike. Pure, so every state can be tested in node.

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

// Signature states (docs/INSPECT.md, precedence table and structural states).
export const SIGNATURE_STATES = Object.freeze([
  "valid", "none", "partially_signed", "malformed", "content_altered", "unsupported_algorithm", "signer_certificate_missing",
  "revoked", "untrusted", "expired", "not_yet_valid", "wrong_usage", "weak_algorithm", "no_sender_address", "sender_mismatch",
  "time_mismatch",
]);

/**
 * Every state the add-on names: its `label` (the message key of its one name, the same on every
 * view) and its `look` (a key of Looks). Broken, changed or revoked signatures and a wrong sender
 * are red; an unknown CA has a look of its own because its remedy (compare the fingerprint)
 * differs; every other certificate problem is amber. Besides the signature states: a valid
 * signature whose From line shows another address (`doubtful_sender`), the readings with
 * encryption (`encrypted`, `encrypted_signed`, `enc_<encryption.state>` for the unreadable
 * ones), a state a newer host names (`unknown`), the check itself (`checking`,
 * `host_unavailable`, `check_failed`), and a contact's new key (`key_changed`).
 */
export const STATES = Object.freeze({
  valid: { label: "state_valid", look: "valid" },
  none: { label: "state_none", look: "unsigned" },
  partially_signed: { label: "state_partially_signed", look: "partial" },
  malformed: { label: "state_malformed", look: "altered" },
  content_altered: { label: "state_content_altered", look: "altered" },
  unsupported_algorithm: { label: "state_unsupported_algorithm", look: "problem" },
  signer_certificate_missing: { label: "state_signer_certificate_missing", look: "problem" },
  revoked: { label: "state_revoked", look: "altered" },
  untrusted: { label: "state_untrusted", look: "untrusted" },
  expired: { label: "state_expired", look: "problem" },
  not_yet_valid: { label: "state_not_yet_valid", look: "problem" },
  wrong_usage: { label: "state_wrong_usage", look: "problem" },
  weak_algorithm: { label: "state_weak_algorithm", look: "problem" },
  no_sender_address: { label: "state_no_sender_address", look: "problem" },
  sender_mismatch: { label: "state_sender_mismatch", look: "mismatch" },
  time_mismatch: { label: "state_time_mismatch", look: "problem" },
  doubtful_sender: { label: "label_doubtful_sender", look: "doubtfulSender" },
  encrypted: { label: "label_encrypted", look: "encrypted" },
  encrypted_signed: { label: "label_encrypted_signed", look: "encryptedSigned" },
  enc_locked: { label: "enc_locked", look: "undecryptable" },
  enc_no_key: { label: "enc_no_key", look: "undecryptable" },
  enc_failed: { label: "enc_failed", look: "undecryptable" },
  enc_unsupported: { label: "enc_unsupported", look: "undecryptable" },
  unknown: { label: "label_unknown", look: "problem" },
  checking: { label: "label_checking", look: "checking" },
  host_unavailable: { label: "label_host_unavailable", look: "unavailable" },
  check_failed: { label: "label_check_failed", look: "failed" },
  key_changed: { label: "label_key_changed", look: "problem" },
});

/** The message key of a state's one name; a state this add-on does not know is `unknown`. */
export function stateLabel(state) {
  return (Object.hasOwn(STATES, state ?? "") ? STATES[state] : STATES.unknown).label;
}

/** Signature state -> look, for the states docs/INSPECT.md defines. */
export const SIGNATURE_LOOKS = Object.freeze(Object.fromEntries(SIGNATURE_STATES.map((s) => [s, STATES[s].look])));

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

// The fills of the buttons' badges (the header button's "!" for an error or a warning, the
// compose button's count, "!" or "?", muted while it could not check), with white text on them: all pass WCAG AA (tests/extension
// contrast.test.mjs).
export const BADGE_COLORS = Object.freeze({ error: "#c50042", warning: "#9c4f00", ok: "#15703a", muted: "#5b5b66" });
export const BADGE_TEXT_COLOR = "#ffffff";
const PROBLEM_BADGES = new Set(["error", "warning"]);

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

/** The state (a key of STATES) of one reading. */
export function readingState(reading) {
  const { signature, encryption, thunderbirdDecrypted } = summarize(reading);
  const encrypted = encryption.state !== "none";
  if (encrypted && UNREADABLE.has(encryption.state) && !thunderbirdDecrypted) return `enc_${encryption.state}`;
  let state = SIGNATURE_STATES.includes(signature.state) ? signature.state : "unknown";
  if (state === "valid" && senderWarning(signature)) state = "doubtful_sender";
  if (!encrypted) return state;
  if (state === "valid") return "encrypted_signed";
  if (state === "none") return "encrypted";
  return state; // a signature problem outweighs the good news of encryption
}

/** The look name (a key of Looks) for one reading. */
export function lookName(reading) {
  return STATES[readingState(reading)].look;
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
 * Everything the header button needs: state, icon name, severity, badge, and the message keys
 * (with substitutions) of label and tooltip. `t` is not called here, so this stays testable.
 */
export function buttonLook(reading) {
  const state = readingState(reading);
  return decorate(state, titleFor(state, summarize(reading)));
}

/** The look while a message is being checked. */
export function checkingLook() {
  return decorate("checking", { key: "look_checking_title", subs: [], extra: [] });
}

/** The look when the host cannot be reached or the check failed; `code` is an error code. */
export function failureLook(code) {
  if (isHostDown(code)) {
    return decorate("host_unavailable", { key: "look_unavailable_title", subs: [], extra: [] });
  }
  return decorate("check_failed", { key: "look_failed_title", subs: [], extra: [errorKey(code)] });
}

function decorate(state, title) {
  const name = STATES[state].look;
  const { icon, severity } = Looks[name];
  const badge = PROBLEM_BADGES.has(severity) ? { text: "!", color: BADGE_COLORS[severity], textColor: BADGE_TEXT_COLOR } : { text: "", color: null, textColor: null };
  return { state, name, icon, severity, badge, label: { key: STATES[state].label, subs: [] }, title };
}

// The tooltip (and the popup's first sentence): who signed for the good states, what is wrong
// for the others.
function titleFor(state, { signature, encryption, message, thunderbirdDecrypted }) {
  const signer = signature.signer ?? null;
  const who = signerLine(signer);
  const extra = thunderbirdDecrypted ? ["look_suffix_thunderbird_decrypted"] : [];
  const title = (key, ...subs) => ({ key, subs, extra });
  switch (state) {
    case "valid":
      return title("look_valid_title", who);
    case "encrypted_signed":
      return title("look_encryptedSigned_title", who);
    case "doubtful_sender":
      return title("look_doubtfulSender_title", who, senderWarning(signature)?.name_address ?? "?");
    case "sender_mismatch": {
      const from = (message.from ?? []).map((m) => m.address).filter(Boolean).join(", ");
      return title("look_mismatch_title", certEmail(signer) ?? "?", from || "?");
    }
    case "none":
      return title("look_unsigned_title");
    case "encrypted":
      return title("look_encrypted_title");
    case "untrusted":
      return title("look_untrusted_title");
    case "partially_signed":
      return title("look_partial_title");
    case "unknown":
      return title("look_unknown_title");
    default:
      return state.startsWith("enc_")
        ? title(`look_undecryptable_title_${encryption.state}`)
        : title(`state_${state}_explain`);
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
