// The compose check: which recipients can receive encrypted mail (the host's `recipients_check`,
// docs/CONTACTS.md), why the others cannot and what to do about it, what Thunderbird's S/MIME
// switches can be set to, and what to do when the user presses Send. Pure: the background and
// the compose popup pass in what they read from Thunderbird and the host, and get message keys
// (with substitutions) back, so node can check every path. What a directory lookup found
// (directories.mjs, docs/DIRECTORY.md) is joined in per row and as notes.

import { lookupNotes, rowDirectory } from "./directories.mjs";

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
      return { address: r.address, name: r.name, can: true, reason: null, status: "recipient_can", advice: null, keyExchange: false, certificate: check.certificate ?? null };
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

/**
 * What the compose popup shows: a headline, one row per recipient, the current S/MIME state and
 * the switches the user may flip. `rows` from recipientRows; `caps` from smimeCapabilities;
 * `switches` from smimeSwitches (null: OpenPGP in use, or the identity has no encryption).
 */
export function composeView({ rows, caps, switches, openpgp = false, identityEmail = null, hostError = null, module = null, stopped = null, lookup = null }) {
  const total = rows.length;
  const able = rows.filter((r) => r.can === true).length;
  const everyone = total > 0 && able === total;
  let headline;
  let severity;
  if (hostError) {
    headline = { key: "compose_headline_unchecked", subs: [] };
    severity = "warning";
  } else if (total === 0) {
    headline = { key: "compose_headline_no_recipients", subs: [] };
    severity = "none";
  } else if (everyone) {
    headline = total === 1 ? { key: "compose_headline_one_can", subs: [] } : { key: "compose_headline_all_can", subs: [String(total)] };
    severity = "ok";
  } else {
    headline = { key: "compose_headline_some_cannot", count: total - able, subs: [total] };
    severity = "warning";
  }

  const state = openpgp ? "openpgp"
    : !switches ? "none"
    : switches.sign && switches.encrypt ? "signed_encrypted"
    : switches.encrypt ? "encrypted"
    : switches.sign ? "signed"
    : "plain";

  const notes = [];
  const actions = [];
  if (openpgp) {
    notes.push({ key: "compose_note_openpgp", subs: [] });
  } else if (!caps.canSign && !caps.canEncrypt) {
    notes.push({ key: "compose_note_no_smime", subs: [identityEmail ?? "?"] });
    actions.push({ id: "open_identities", key: "compose_action_setup" });
  } else {
    const sign = switches?.sign ?? false;
    const encrypt = switches?.encrypt ?? false;
    if (caps.canSign) actions.push({ id: sign ? "sign_off" : "sign_on", key: sign ? "compose_action_sign_off" : "compose_action_sign_on" });
    else notes.push({ key: "compose_note_cannot_sign", subs: [identityEmail ?? "?"] });
    if (!caps.canEncrypt) {
      notes.push({ key: "compose_note_cannot_encrypt", subs: [identityEmail ?? "?"] });
      if (encrypt) actions.push({ id: "encrypt_off", key: "compose_action_encrypt_off" });
    } else if (encrypt) {
      actions.push({ id: "encrypt_off", key: "compose_action_encrypt_off" });
      // When the send was stopped for this, the stop notice says it already.
      if (!everyone && total > 0 && !hostError && !stopped) notes.push({ key: "compose_note_encrypt_will_fail", subs: [] });
    } else if (everyone && !hostError) {
      actions.push({ id: "encrypt_on", key: "compose_action_encrypt_on" });
    } else if (total > 0 && !hostError) {
      notes.push({ key: "compose_note_encrypt_needs_all", subs: [] });
    }
  }
  // Thunderbird encrypts with the certificates it finds itself; the companion's contacts reach
  // it through the companion's security module (pkcs11.mjs).
  if (!openpgp && caps.canEncrypt && module !== null && module !== "loaded" && able > 0) {
    notes.push({ key: "compose_note_module", subs: [] });
  }
  if (!hostError && able < total) notes.push(...lookupNotes(lookup));
  return {
    headline,
    severity,
    state: { key: `compose_state_${state}`, subs: [] },
    rows,
    keyExchange: rows.some((r) => r.keyExchange),
    notes,
    actions,
  };
}

/** What a popup action says about the user's wish for this message: {sign} or {encrypt}. */
export function choiceOf(action) {
  const [what, state] = String(action).split("_");
  return (what === "sign" || what === "encrypt") && (state === "on" || state === "off") ? { [what]: state === "on" } : {};
}

/** The selectedEncryptionTechnology that a popup action asks for, from the current switches. */
export function switchesAfter(action, switches) {
  const now = { sign: switches?.sign ?? false, encrypt: switches?.encrypt ?? false };
  switch (action) {
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
