// The compose check: which recipients can receive encrypted mail (the host's `recipients_check`,
// docs/CONTACTS.md), why the others cannot and what to do about it, what Thunderbird's S/MIME
// switches can be set to, and what to do when the user presses Send. Pure: the background and
// the compose popup pass in what they read from Thunderbird and the host, and get message keys
// (with substitutions) back, so node can check every path. What a directory lookup found
// (directories.mjs, docs/DIRECTORY.md) is joined in per row and as notes.

import { lookupNotes, rowDirectory } from "./directories.mjs";
import { BADGE_COLORS } from "./look.mjs";

// Reasons recipients_check gives (docs/CONTACTS.md), plus `list` for a mailing list entry
// (Thunderbird expands it only when sending) and `unresolved` for an address-book reference.
export const RECIPIENT_REASONS = Object.freeze([
  "never_seen", "refused", "no_encryption_usage", "revoked", "only_expired", "not_yet_valid", "untrusted",
  "ca_not_for_email", "weak_algorithm", "pending_confirmation", "superseded", "invalid_address", "list", "unresolved",
]);

// Reasons that the key exchange fixes: a signed mail from the contact brings a usable certificate.
const KEY_EXCHANGE = new Set(["never_seen", "only_expired", "revoked", "no_encryption_usage", "ca_not_for_email", "weak_algorithm"]);

/**
 * The address of one ComposeRecipient: "Name <a@b>" or "a@b" as a string, or an address-book
 * reference ({nodeId|id, type}). Mailing lists look like "List <List>": no @.
 */
export function parseRecipient(recipient) {
  if (recipient && typeof recipient === "object") return { address: null, name: null, kind: "unresolved" };
  const text = String(recipient ?? "").trim();
  if (!text) return null;
  const angle = text.match(/^(.*)<([^<>]*)>\s*$/);
  const address = (angle ? angle[2] : text).trim();
  const name = angle ? angle[1].trim().replace(/^"(.*)"$/, "$1").trim() || null : null;
  if (!address.includes("@")) return { address: null, name: name ?? address, kind: "list" };
  return { address, name, kind: "address" };
}

/** Every recipient of a ComposeDetails (To, Cc, Bcc), each address once, in order. */
export function composeRecipients(details) {
  const seen = new Set();
  const out = [];
  for (const field of ["to", "cc", "bcc"]) {
    const value = details?.[field];
    for (const recipient of Array.isArray(value) ? value : value ? [value] : []) {
      const parsed = parseRecipient(recipient);
      if (!parsed) continue;
      const key = parsed.address ? addressKey(parsed.address) : `${parsed.kind}:${parsed.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ ...parsed, field });
    }
  }
  return out;
}

/**
 * How the host compares addresses (docs/CONTACTS.md, "Addresses"): the local part as written,
 * the domain without case. `Alice@example.org` and `alice@example.org` are two recipients.
 */
export function addressKey(address) {
  const text = String(address).trim();
  const at = text.lastIndexOf("@");
  return at < 0 ? text : `${text.slice(0, at)}@${text.slice(at + 1).toLowerCase()}`;
}

/** The addresses to send to recipients_check. */
export function addressesToCheck(recipients) {
  return recipients.filter((r) => r.kind === "address").map((r) => r.address);
}

/** Message keys of a reason: a short status, what it means and what to do. */
export function reasonText(reason) {
  const known = RECIPIENT_REASONS.includes(reason) ? reason : "unknown";
  return {
    status: `recipient_${known}`,
    advice: `recipient_${known}_advice`,
    keyExchange: KEY_EXCHANGE.has(known),
  };
}

/**
 * One row per recipient, joining the parsed recipients with the host's answers (matched by
 * address as the host compares them, `addressKey`). `checks` is recipients_check's
 * `recipients`, or null when the host could not be asked; `lookup` its directory lookup (each row
 * gets `directory`).
 */
export function recipientRows(recipients, checks, lookup = null) {
  return recipientRowsOf(recipients, checks).map((row) => ({ ...row, directory: rowDirectory(row.address, lookup, addressKey) }));
}

function recipientRowsOf(recipients, checks) {
  const byAddress = new Map((checks ?? []).map((c) => [addressKey(c.address), c]));
  return recipients.map((r) => {
    if (r.kind !== "address") {
      const text = reasonText(r.kind);
      return { address: null, name: r.name, can: false, reason: r.kind, ...text, certificate: null };
    }
    const check = byAddress.get(addressKey(r.address));
    if (!check) return { address: r.address, name: r.name, can: null, reason: null, status: "recipient_unchecked", advice: null, keyExchange: false, certificate: null };
    if (check.can_encrypt) {
      // A new key that waits for the user's decision: encryption uses the previous certificate.
      const pending = (check.pending_certificates ?? 0) > 0;
      return {
        address: r.address, name: r.name, can: true, reason: pending ? "pending_decision" : null,
        status: pending ? "recipient_can_pending" : "recipient_can", advice: pending ? "recipient_can_pending_advice" : null,
        keyExchange: false, certificate: check.certificate ?? null, pending,
      };
    }
    return { address: r.address, name: r.name, can: false, reason: check.reason, ...reasonText(check.reason), certificate: null, knownCertificates: check.known_certificates ?? 0 };
  });
}

/** Thunderbird's S/MIME capabilities of an identity ({canSign, canEncrypt}), false when unknown. */
export function smimeCapabilities(identity) {
  const caps = identity?.encryptionCapabilities?.["S/MIME"];
  return { canSign: Boolean(caps?.canSign), canEncrypt: Boolean(caps?.canEncrypt) };
}

/** The S/MIME switches of a compose window, or null when it uses OpenPGP or no encryption at all. */
export function smimeSwitches(details) {
  const tech = details?.selectedEncryptionTechnology;
  if (!tech || tech.name !== "S/MIME") return null;
  return { sign: Boolean(tech.signMessage), encrypt: Boolean(tech.encryptBody) };
}

// What Send will do with the message, as the compose button and the check show it while the
// recipients are typed (`sendOutcome`). While the host answers (and looks recipients without a
// usable certificate up in the directories, docs/DIRECTORY.md) the outcome is `checking`.
export const SEND_OUTCOMES = Object.freeze([
  "empty", "checking", "unchecked", "openpgp", "no_smime", "blocked", "encrypt_uncertain", "own_expired", "encrypted_signed",
  "encrypted", "signed", "plain",
]);

// Reasons that asking the contact for a signed message fixes (the key exchange).
const ASK_FOR_SIGNED_MAIL = KEY_EXCHANGE;
// Reasons that only a decision on the contacts page fixes.
const DECIDE_ON_CONTACTS_PAGE = new Set(["refused", "pending_confirmation", "untrusted"]);

/**
 * What Send will do, from the same decision the background takes on Send (decideOnSend): the
 * options (IT's managed values included), what the user chose for this message, Thunderbird's
 * switches and capabilities, the recipients' rows, and `ownExpired` (composeView) when the
 * user's own certificates for the sending address have all expired: Thunderbird then refuses to
 * sign or encrypt, so a message that would be either does not leave (`own_expired`).
 * Returns {outcome (SEND_OUTCOMES), switches (those Send will use, or null), missing (recipients
 * who cannot receive encrypted mail), total, pending (recipients whose new key waits), stop}.
 */
export function sendOutcome({
  options, caps, switches, rows, hostError = null, confirmedKey = null, userChoice = {}, openpgp = false, ownExpired = null,
}) {
  const total = rows.length;
  const missing = rows.filter((r) => r.can === false).length;
  const pending = rows.filter((r) => r.pending).length;
  const base = { switches: switches ?? null, missing, total, pending, stop: null };
  if (openpgp) return { ...base, outcome: "openpgp" };
  if (!total) return { ...base, outcome: "empty" };
  if (hostError) return { ...base, outcome: "unchecked" };
  if (rows.some((r) => r.can === null)) return { ...base, outcome: "checking" };
  if (!switches) return { ...base, outcome: "no_smime" };
  const decision = decideOnSend({ options, caps, switches, rows, hostError, confirmedKey, userChoice });
  const next = decision.switches ?? switches;
  // Stopped once, the user may send as it is: Thunderbird then tries with its own certificates.
  const outcome = decision.stop ? "blocked"
    : ownExpired && (next.sign || next.encrypt) ? "own_expired"
    : next.encrypt && missing > 0 ? "encrypt_uncertain"
    : next.encrypt && next.sign ? "encrypted_signed"
    : next.encrypt ? "encrypted"
    : next.sign ? "signed"
    : "plain";
  return { ...base, switches: next, stop: decision.stop, outcome };
}

// How the compose button shows each outcome: icon (icons/), badge colour (look.mjs BADGE_COLORS,
// under the one badge text colour), and whether the badge counts the recipients who cannot
// receive encrypted mail.
const OUTCOME_LOOKS = Object.freeze({
  empty: { icon: null, badge: "" },
  checking: { icon: "checking", badge: "" },
  unchecked: { icon: "unavailable", badge: "?", color: BADGE_COLORS.muted },
  openpgp: { icon: null, badge: "" },
  no_smime: { icon: "unsigned", badge: "" },
  blocked: { icon: "problem", badge: "!", color: BADGE_COLORS.error },
  encrypt_uncertain: { icon: "problem", badge: "?", color: BADGE_COLORS.warning },
  own_expired: { icon: "problem", badge: "!", color: BADGE_COLORS.error },
  encrypted_signed: { icon: "encrypted-signed", badge: "" },
  encrypted: { icon: "encrypted", badge: "" },
  signed: { icon: "valid", badge: "count", color: BADGE_COLORS.warning },
  plain: { icon: "unsigned", badge: "count", color: BADGE_COLORS.warning },
});

// The outcomes whose sentence counts the recipients who cannot receive encrypted mail
// (`<key>_one`/`<key>_other`: $1 those, $2 all recipients).
const COUNTED_OUTCOMES = new Set(["blocked", "encrypt_uncertain"]);

/** The sentence saying what Send will do, as {key, subs} or {key, count, subs} (`t.phrase`). */
export function outcomePhrase(result) {
  const key = `compose_outcome_${result.outcome}`;
  return COUNTED_OUTCOMES.has(result.outcome) ? { key, count: result.missing, subs: [result.total] } : { key, subs: [] };
}

/**
 * The compose button for an outcome (sendOutcome): icon (null: the manifest's own), label and
 * tooltip as message keys, badge text and colour. The badge of a message that leaves
 * unencrypted counts the recipients who could not receive it encrypted anyway.
 */
export function composeButton(result) {
  const look = OUTCOME_LOOKS[result.outcome] ?? OUTCOME_LOOKS.unchecked;
  const badge = look.badge === "count" ? (result.missing ? String(result.missing) : "") : look.badge;
  if (result.outcome === "empty" || result.outcome === "openpgp") {
    return { icon: null, label: { key: "composeActionLabel", subs: [] }, title: { key: "composeActionTitle", subs: [] }, badge: "", color: null };
  }
  return {
    icon: look.icon,
    label: { key: `compose_button_${result.outcome}`, subs: [] },
    title: outcomePhrase(result),
    badge,
    color: badge ? look.color : null,
  };
}

/**
 * What the compose popup shows: what Send will do (the headline, from sendOutcome), how many
 * recipients can receive encrypted mail, one row per recipient with what can be done for it,
 * notes, and the actions in the order they help: when Send stops, "send signed, not encrypted"
 * first, then per recipient "remove" and "ask for a signed mail"; the switches after that.
 * `rows` from recipientRows; `caps` from smimeCapabilities; `switches` from smimeSwitches (null:
 * OpenPGP in use, or the identity has no encryption); `options` the add-on's options in effect;
 * `lookup` what recipients_check's directory lookup said (a note per directory that failed);
 * `ownExpired` ({email, until}: the address and the formatted end) when the user's own
 * certificates for the sending address have all expired (identities-view.mjs expiredOwnCertificate).
 */
export function composeView({
  rows, caps, switches, openpgp = false, identityEmail = null, hostError = null, module = null, stopped = null,
  options = { alwaysSign: false, encryptWhenPossible: false }, optionSources = {}, userChoice = {}, confirmedKey = null, lookup = null,
  ownExpired = null,
}) {
  const result = sendOutcome({ options, caps, switches, rows, hostError, confirmedKey, userChoice, openpgp, ownExpired });
  const total = rows.length;
  const able = rows.filter((r) => r.can === true).length;
  const everyone = total > 0 && able === total;
  // Encryption is on and somebody cannot receive it: Send stops, or (stopped once already)
  // Thunderbird tries with certificates of its own.
  const blocked = result.outcome === "blocked" || result.outcome === "encrypt_uncertain";
  let state;
  if (hostError) state = { key: "compose_headline_unchecked", subs: [] };
  else if (total === 0) state = { key: "compose_headline_no_recipients", subs: [] };
  else if (everyone) state = total === 1 ? { key: "compose_headline_one_can", subs: [] } : { key: "compose_headline_all_can", subs: [String(total)] };
  else state = { key: "compose_headline_some_cannot", count: total - able, subs: [total] };
  // The headline's colour is about what Send will do: encrypted is good news, a stop or an
  // unchecked message needs the user; signed only and neither are plain facts.
  const severity = blocked || hostError || result.outcome === "own_expired" ? "warning"
    : ["encrypted_signed", "encrypted"].includes(result.outcome) ? "ok"
    : "none";

  const notes = [];
  const actions = []; // the ways forward, under the headline
  const switches_ = []; // Thunderbird's S/MIME switches, at the end
  const sign = switches?.sign ?? false;
  const encrypt = switches?.encrypt ?? false;
  if (openpgp) {
    notes.push({ key: "compose_note_openpgp", subs: [] });
  } else if (!caps.canSign && !caps.canEncrypt) {
    notes.push({ key: "compose_note_no_smime", subs: [identityEmail ?? "?"] });
    actions.push({ id: "open_identities", key: "compose_action_setup", primary: true });
  } else {
    if (blocked) {
      // The way out that sends now, first; then keeping the message open without encryption.
      actions.push(caps.canSign
        ? { id: "send_signed", key: "compose_action_send_signed", primary: true }
        : { id: "send_plain", key: "compose_action_send_plain", primary: true });
      actions.push({ id: "encrypt_off", key: "compose_action_encrypt_off_keep" });
      if (!stopped) notes.push({ key: "compose_note_encrypt_will_fail", subs: [] });
    } else if (caps.canEncrypt && !encrypt && everyone && !hostError) {
      actions.push({ id: "encrypt_on", key: "compose_action_encrypt_on", primary: true });
    } else if (caps.canEncrypt && encrypt) {
      switches_.push({ id: "encrypt_off", key: "compose_action_encrypt_off" });
    } else if (caps.canEncrypt && total > 0 && !hostError && !everyone) {
      notes.push({ key: "compose_note_encrypt_needs_all", subs: [] });
    }
    if (!caps.canEncrypt) notes.push({ key: "compose_note_cannot_encrypt", subs: [identityEmail ?? "?"] });
    if (caps.canSign) {
      // Always-sign signs on Send: the switch shown is what Send will do.
      const willSign = result.switches?.sign ?? sign;
      if (!blocked) switches_.push({ id: willSign ? "sign_off" : "sign_on", key: willSign ? "compose_action_sign_off" : "compose_action_sign_on" });
    } else {
      notes.push({ key: "compose_note_cannot_sign", subs: [identityEmail ?? "?"] });
    }
    // What the options (or IT) will switch on at Send, said before Send.
    const it = (option) => (optionSources[option] === "managed" ? "_it" : "");
    if (result.switches?.sign && !sign && options.alwaysSign && userChoice.sign === undefined) {
      notes.push({ key: `compose_note_always_sign${it("alwaysSign")}`, subs: [] });
    }
    if (result.switches?.encrypt && !encrypt && options.encryptWhenPossible && userChoice.encrypt === undefined) {
      notes.push({ key: `compose_note_encrypt_when_possible${it("encryptWhenPossible")}`, subs: [] });
    }
  }
  // The user's own certificate for this address has expired (and none replaces it): Thunderbird
  // refuses to sign with it and nobody can encrypt to it; the way out is the renewed one.
  if (!openpgp && ownExpired) {
    notes.unshift({ key: "compose_note_own_expired", subs: [ownExpired.email, ownExpired.until] });
    if (!actions.some((a) => a.id === "open_identities")) actions.push({ id: "open_identities", key: "compose_action_renew" });
  }
  // Thunderbird encrypts with the certificates it finds itself; the companion's contacts reach
  // it through the companion's security module (pkcs11.mjs).
  if (!openpgp && caps.canEncrypt && module !== null && module !== "loaded" && able > 0) {
    notes.push({ key: "compose_note_module", subs: [] });
  }
  if (!hostError && able < total) notes.push(...lookupNotes(lookup));
  return {
    headline: outcomePhrase(result),
    outcome: result.outcome,
    severity,
    state,
    rows: rows.map((row) => ({ ...row, actions: rowActions(row, { blocked }) })),
    keyExchange: rows.some((r) => r.keyExchange),
    notes,
    actions,
    switches: switches_,
  };
}

/** What can be done for one recipient, most useful first. */
function rowActions(row, { blocked }) {
  const actions = [];
  if (row.address && row.can === false && ASK_FOR_SIGNED_MAIL.has(row.reason)) actions.push({ id: "ask_signed", key: "compose_action_ask_signed" });
  if (row.address && (DECIDE_ON_CONTACTS_PAGE.has(row.reason) || row.pending)) actions.push({ id: "decide", key: "compose_action_decide" });
  if (blocked && row.can === false) actions.push({ id: "remove", key: "compose_action_remove" });
  return actions;
}

/**
 * The recipient lists of ComposeDetails without `address` (compared as the host compares
 * addresses), for "remove recipient"; address-book references and lists are kept.
 */
export function withoutRecipient(details, address) {
  const out = {};
  for (const field of ["to", "cc", "bcc"]) {
    const value = details?.[field];
    const list = Array.isArray(value) ? value : value ? [value] : [];
    out[field] = list.filter((recipient) => {
      const parsed = parseRecipient(recipient);
      return !(parsed?.address && addressKey(parsed.address) === addressKey(address));
    });
  }
  return out;
}

/** What a popup action says about the user's wish for this message: {sign} or {encrypt}. */
export function choiceOf(action) {
  if (action === "send_signed") return { sign: true, encrypt: false };
  if (action === "send_plain") return { encrypt: false };
  const [what, state] = String(action).split("_");
  return (what === "sign" || what === "encrypt") && (state === "on" || state === "off") ? { [what]: state === "on" } : {};
}

/** The selectedEncryptionTechnology that a popup action asks for, from the current switches. */
export function switchesAfter(action, switches, caps = { canSign: true }) {
  const now = { sign: switches?.sign ?? false, encrypt: switches?.encrypt ?? false };
  switch (action) {
    case "send_signed": return { sign: true, encrypt: false };
    case "send_plain": return { sign: now.sign && caps.canSign, encrypt: false };
    case "sign_on": return { ...now, sign: true };
    case "sign_off": return { ...now, sign: false };
    case "encrypt_on": return { ...now, encrypt: true };
    case "encrypt_off": return { ...now, encrypt: false };
    default: return null;
  }
}

export function technology({ sign, encrypt }) {
  return { name: "S/MIME", signMessage: sign, encryptBody: encrypt };
}

/** A key for "these recipients with these switches", to remember that the user saw the check. */
export function sendKey(rows, switches) {
  const who = rows.map((r) => (r.address ?? `${r.reason}:${r.name}`).toLowerCase()).sort().join(",");
  return `${who}|${switches?.sign ? "s" : ""}${switches?.encrypt ? "e" : ""}`;
}

/**
 * What to do when the user presses Send.
 *  - The options switch signing on (always sign) and encryption on (when every recipient can),
 *    but only where Thunderbird has the certificates: switching on what the identity cannot do
 *    would make the send fail.
 *  - When encryption is on and a recipient has no usable certificate in the companion, the send
 *    stops once and the check shows why (Thunderbird may still hold a certificate of its own, so
 *    sending again as it is goes through: `confirmedKey` is what the user has seen).
 *  - Without an answer from the host nothing is changed or stopped: the check must never keep
 *    mail from being sent.
 *  - A switch the user flipped in the check for this message (`userChoice`) is left as they set it.
 * Returns {switches (null: leave as is), stop: null | "encrypt_impossible", key}.
 */
export function decideOnSend({ options, caps, switches, rows, hostError = null, confirmedKey = null, userChoice = {} }) {
  if (!switches || hostError) return { switches: null, stop: null, key: null };
  const next = { ...switches };
  const everyone = rows.length > 0 && rows.every((r) => r.can === true);
  // What the user chose for this message in the check wins over the options.
  if (options.alwaysSign && caps.canSign && userChoice.sign === undefined) next.sign = true;
  if (options.encryptWhenPossible && caps.canEncrypt && everyone && userChoice.encrypt === undefined) next.encrypt = true;
  const changed = next.sign !== switches.sign || next.encrypt !== switches.encrypt;
  const key = sendKey(rows, next);
  if (next.encrypt && !everyone && rows.length > 0 && key !== confirmedKey) {
    return { switches: changed ? next : null, stop: "encrypt_impossible", key };
  }
  return { switches: changed ? next : null, stop: null, key };
}
