// What the My certificates page says about the user's own certificates (the host's IdentityInfo
// and identities_import results) and about Thunderbird's own S/MIME setup of each identity.
// Pure: message keys and substitutions come back, the page renders them with `t`.

import { smimeCapabilities } from "./recipients.mjs";
import { certificateRows, row } from "./cert-rows.mjs";
import { dnName } from "./format.mjs";

export { dnName };
import { certificateLead } from "./describe.mjs";
import { stateLabel } from "./look.mjs";

// The checks identities_import reports, in the order a user would fix them.
export const IMPORT_CHECKS = Object.freeze([
  "key_present", "single_key", "key_matches_certificate", "chain_complete", "email_usage",
  "has_email_address", "not_expired",
]);

// The usages `email_usage` may name as missing.
export const USAGES = Object.freeze(["email_protection", "digital_signature", "key_encipherment", "key_agreement"]);

// Days before expiry from which a certificate counts as expiring (the radar's default window).
export const EXPIRY_WARNING_DAYS = 30;

const list = (items) => (Array.isArray(items) ? items : items ? [items] : []);


/**
 * One import check as shown: passed or not, its text, and for a failure what it means and what
 * to do. `formatDate` formats RFC 3339 times; `t` is only used to name missing usages.
 */
export function importCheck(check, { t, formatDate = (d) => d, now = Date.now() }) {
  const name = IMPORT_CHECKS.includes(check.check) ? check.check : "unknown";
  const ok = check.ok === true;
  const subs = [];
  let key = `check_${name}_${ok ? "ok" : "fail"}`;
  let advice = `check_${name}_advice`;
  if (name === "unknown") subs.push(String(check.check));
  // chain_complete fails in two ways: an intermediate is missing (`missing` names its issuer), or
  // the chain is whole but ends at an authority not trusted here (`root_trusted` false).
  if (!ok && name === "chain_complete" && !check.missing && check.root_trusted === false) {
    key = "check_chain_complete_fail_untrusted";
    advice = "check_chain_complete_advice_untrusted";
    subs.push(dnName(list(check.chain).at(-1)) || "?");
  } else if (!ok && name === "chain_complete") {
    subs.push(list(check.missing).map(dnName).join(", ") || "?");
  }
  if (!ok && name === "email_usage") subs.push(list(check.missing).map((u) => (USAGES.includes(u) ? t(`usage_${u}`) : u)).join(", ") || "?");
  if (name === "not_expired") {
    const notYet = check.not_before && Date.parse(check.not_before) > now;
    if (!ok && notYet) key = "check_not_expired_fail_not_yet";
    subs.push(formatDate(notYet ? check.not_before : check.not_after) ?? "?");
  }
  return {
    check: check.check,
    ok,
    title: { key, subs },
    advice: ok ? null : { key: advice, subs: [] },
  };
}

/** All checks of an import, failures first (they need the user), each in IMPORT_CHECKS order. */
export function importChecks(checks, options) {
  const order = (c) => (c.ok === true ? 100 : 0) + (IMPORT_CHECKS.indexOf(c.check) + 1 || 50);
  return [...(checks ?? [])].sort((a, b) => order(a) - order(b)).map((c) => importCheck(c, options));
}

/** The state of one of the user's certificates: valid, expiring, expired, replaced, not_yet_valid. */
export function identityState(identity, { now = Date.now() } = {}) {
  if (identity.replaced_by) return "replaced";
  if (identity.expired) return "expired";
  if (identity.not_before && Date.parse(identity.not_before) > now) return "not_yet_valid";
  if (Number.isFinite(identity.expires_in_days) && identity.expires_in_days <= EXPIRY_WARNING_DAYS) return "expiring";
  return "valid";
}

const BADGE_KINDS = Object.freeze({ valid: "ok", expiring: "warning", expired: "error", replaced: "muted", not_yet_valid: "warning" });

/**
 * The badges of one of the user's certificates ({kind, key}): its state, locked or not, and a
 * missing backup. An expired or not yet valid certificate is named as the verdict names that
 * state (look.mjs STATES).
 */
export function identityBadges(identity, { now = Date.now() } = {}) {
  const state = identityState(identity, { now });
  const key = ["expired", "not_yet_valid"].includes(state) ? stateLabel(state) : `identity_badge_${state}`;
  return [
    { kind: BADGE_KINDS[state], key },
    { kind: identity.unlocked ? "ok" : "muted", key: identity.unlocked ? "identity_badge_unlocked" : "identity_badge_locked" },
    ...(identity.backed_up_at ? [] : [{ kind: "warning", key: "identity_badge_no_backup" }]),
  ];
}

/**
 * What one of the user's certificates confirms about them, in plain words; for an expired or not
 * yet valid one as its claim, with why it is not confirmed now. Empty without a validation type.
 */
export function identityLead(identity, t, { now = Date.now() } = {}) {
  const cert = identity.certificate ?? {};
  if (!cert.validation) return "";
  const state = identityState(identity, { now });
  return certificateLead(cert, ["expired", "not_yet_valid"].includes(state) ? state : "valid", t);
}

/** The one-line status of a certificate, as a message key with substitutions. */
export function identityStatus(identity, { formatDate = (d) => d, now = Date.now() } = {}) {
  const state = identityState(identity, { now });
  const subs = {
    valid: [formatDate(identity.not_after)],
    expiring: [formatDate(identity.not_after)],
    expired: [formatDate(identity.not_after)],
    replaced: [formatDate(identity.not_after)],
    not_yet_valid: [formatDate(identity.not_before)],
  }[state];
  const count = state === "expiring" ? { count: Math.max(0, identity.expires_in_days ?? 0) } : {};
  return { state, key: `identity_state_${state}`, subs: subs.map((s) => String(s ?? "?")), ...count };
}

/**
 * Whether a backup reminder is due, and for which addresses: from the host's backup_status when
 * there is one, else from the identities. Replaced (renewed) certificates need none: the
 * reminder is about the keys in use.
 */
export function backupReminder(status, identities) {
  const replaced = new Set(identities.filter((i) => i.replaced_by).map((i) => i.fingerprint));
  const source = status ? list(status.identities) : identities;
  const missing = source.filter((i) => !i.backed_up_at && !replaced.has(i.fingerprint));
  const needs = status ? Boolean(status.needs_backup) : missing.length > 0;
  if (!needs) return null;
  return { emails: [...new Set(missing.flatMap((i) => list(i.emails)))], fingerprints: missing.map((i) => i.fingerprint) };
}

/** The user's certificates that can serve a Thunderbird identity (its address, current, not replaced). */
export function companionCertificatesFor(email, identities) {
  const address = String(email ?? "").toLowerCase();
  return identities.filter((i) => !i.replaced_by && !i.expired && list(i.emails).some((e) => e.toLowerCase() === address));
}

/**
 * The user's certificate for `email` when every one the companion holds for that address has
 * expired: the newest of them (Thunderbird cannot sign with it, nobody can encrypt to it). Null
 * when a current one exists, or when the companion holds none for the address.
 */
export function expiredOwnCertificate(email, identities) {
  const address = String(email ?? "").toLowerCase();
  if (!address || companionCertificatesFor(address, identities).length) return null;
  const expired = identities.filter((i) => i.expired && list(i.emails).some((e) => e.toLowerCase() === address));
  return expired.reduce((newest, i) => (!newest || Date.parse(i.not_after) > Date.parse(newest.not_after) ? i : newest), null);
}

/**
 * Thunderbird's own S/MIME setup of one identity, and step by step what to do when it is
 * missing. `module` is the PKCS#11 module's state (pkcs11.mjs): through it Thunderbird sees the
 * companion's certificates and keys, and they can be chosen in the account settings.
 */
export function thunderbirdSetup(tbIdentity, { identities, module, accountName = null }) {
  const caps = smimeCapabilities(tbIdentity);
  const email = tbIdentity.email ?? "";
  const mine = companionCertificatesFor(email, identities);
  const state = caps.canSign && caps.canEncrypt ? "ready" : caps.canSign || caps.canEncrypt ? "partial" : "missing";
  const steps = [];
  if (state !== "ready") {
    if (!mine.length) steps.push({ key: "setup_step_import", subs: [email] });
    if (module === "not_loaded") steps.push({ key: "setup_step_module", subs: [] });
    else if (module !== "loaded") steps.push({ key: "setup_step_import_into_thunderbird", subs: [] });
    steps.push({ key: "setup_step_open_settings", subs: [accountName ?? email] });
    const cert = mine[0];
    // Through the module (loaded, or installed by the step above) the certificate sits on the
    // companion's device; without it, on Thunderbird's own "Software Security Device".
    const viaModule = module === "loaded" || module === "not_loaded";
    steps.push(cert
      ? { key: viaModule ? "setup_step_pick_signing_companion" : "setup_step_pick_signing_software", subs: [certLabel(cert)] }
      : { key: "setup_step_pick_signing_any", subs: [email] });
    steps.push({ key: "setup_step_pick_encryption", subs: [] });
    steps.push({ key: "setup_step_check_back", subs: [] });
  }
  return {
    email,
    name: tbIdentity.name || null,
    state,
    sign: caps.canSign,
    encrypt: caps.canEncrypt,
    companionCertificate: mine[0] ?? null,
    steps,
  };
}

/** What a certificate of the user's is called: its common name, else its first address, else its subject. */
export function identityName(identity) {
  return identity?.certificate?.subject_fields?.common_name ?? identityAddress(identity);
}

/** The address a certificate of the user's is for (its first one), else its subject; null for none. */
export function identityAddress(identity) {
  return list(identity?.emails)[0] ?? identity?.subject ?? null;
}

/**
 * The labelled facts of one of the user's certificates on My certificates. `date` formats date
 * and time, `day` the date only; `identities` are all of them, to date the replacement.
 */
export function identityRows(identity, { t, date, day, identities = [] }) {
  const cert = identity.certificate ?? {};
  // The identity's own fields where it has them (IdentityInfo), the certificate's issuer fields.
  const facts = {
    emails: identity.emails, issuer_fields: cert.issuer_fields, issuer: identity.issuer, not_before: identity.not_before,
    not_after: identity.not_after, fingerprint_sha256: identity.fingerprint, key: identity.key,
  };
  const uses = [identity.can_sign && t("identity_use_sign"), identity.can_encrypt && t("identity_use_encrypt")].filter(Boolean).join(", ");
  const replacement = identity.replaced_by && identities.find((i) => i.fingerprint === identity.replaced_by);
  return [
    ...certificateRows(facts, ["email", "issued_by", "valid_from", "valid_until", "fingerprint", "key"], { t, date }),
    row(t("field_uses"), uses || t("identity_use_none")),
    row(t("field_imported"), date(identity.imported_at)),
    row(t("field_backed_up"), identity.backed_up_at ? date(identity.backed_up_at) : t("identity_never_backed_up")),
    replacement ? row(t("field_replaced_by"), t("identity_replaced_by", [day(replacement.not_after) ?? "?"])) : null,
  ].filter(Boolean);
}

/**
 * How a card of My certificates puts what matters first: a key in use without a backup shows a
 * warning above its facts with "save a backup now", makes Backup its main button, and keeps
 * "Delete…" out of the way behind "More", with a warning that the key would be lost for good.
 */
export function identityCardLayout(identity) {
  const inUse = !identity.replaced_by && !identity.expired;
  const noBackup = !identity.backed_up_at;
  return {
    warning: noBackup && inUse ? { key: "identity_warning_no_backup", subs: [] } : null,
    backupFirst: noBackup,
    deleteBehindMore: noBackup,
  };
}

// The shortest password the backup dialog accepts for the file: it protects the private key.
export const MIN_BACKUP_PASSWORD = 8;

/**
 * The identities_export params for the backup dialog, or the message key of what is wrong with
 * the input. The identity's passphrase is always needed, also while the key is unlocked: the
 * host checks it against the stored key before the key leaves (docs/IDENTITIES.md).
 * `record_backup` is false: the page records the backup once the file is really saved.
 */
export function backupRequest(identity, { password, repeat, passphrase, legacy = false }) {
  if (!passphrase) return { error: "backup_passphrase_missing" };
  if (password !== repeat) return { error: "backup_passwords_differ" };
  if (String(password ?? "").length < MIN_BACKUP_PASSWORD) return { error: "backup_password_short" };
  return { params: { identity: identity.fingerprint, password, passphrase, legacy: Boolean(legacy), record_backup: false } };
}

/** The message key for a failed backup: a wrong passphrase is the user's to retry. */
export function backupFailureKey(code) {
  return code === "wrong_password" ? "backup_passphrase_wrong" : null;
}

/** "Alice Example (Example Issuing CA)": how a certificate is recognised in Thunderbird's lists. */
export function certLabel(identity) {
  const cert = identity.certificate ?? {};
  const name = identityName(identity) ?? "?";
  const issuer = cert.issuer_fields?.common_name ?? cert.issuer_fields?.organization ?? null;
  return issuer ? `${name} (${issuer})` : name;
}
