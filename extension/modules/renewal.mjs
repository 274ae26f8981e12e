// The expiry radar's checklists and the record of signed mail sent since a renewal.
//
// A renewal brings a new key pair, so every contact needs the new certificate before they can
// encrypt to you again: the key exchange, once more. The add-on notes, after each successful
// send of a signed message (compose.onAfterSend), which recipients got it and when
// (storage.local `signedMail`); the checklist then lists the contacts still waiting.
// Pure: identities are the host's IdentityInfo objects, contacts the addresses from
// contacts_list, Thunderbird identities the `identities` API's MailIdentity objects.

import { smimeCapabilities } from "./recipients.mjs";

export const SIGNED_MAIL_KEY = "signedMail";
const MAX_LOG_ENTRIES = 5_000; // one small entry per address; bounds storage in a long life
const DAY_MS = 86_400_000;
// How long after a renewal its checklist stays on the page once nothing is left to do.
const FINISHED_RENEWAL_SHOWN_DAYS = 30;

/**
 * The log after a signed message went to `addresses` from `from` at `at` (RFC 3339): per address
 * (lower case) the last time and sender address. The oldest entries go first when it is full.
 */
export function recordSignedMail(log, { addresses, from, at }, { max = MAX_LOG_ENTRIES } = {}) {
  const next = { ...(log ?? {}) };
  for (const address of addresses) {
    const key = String(address).toLowerCase();
    delete next[key]; // re-insert, so insertion order stays "oldest first"
    next[key] = { at, from: from ? String(from).toLowerCase() : null };
  }
  const keys = Object.keys(next);
  for (let i = 0; i < keys.length - max; i++) delete next[keys[i]];
  return next;
}

/**
 * The recipients of a message that left signed, from compose.onAfterSend's `sendInfo` and what
 * onBeforeSend let go (`pending`: {addresses, signed}); [] when it failed or was not signed.
 * A send later that fails while saving to the outbox is reported without an error but with no
 * copy of the message; a sent message has a Message-ID (send now) or a copy (send later).
 * Newer Thunderbirds report the S/MIME switches of what was sent; older ones leave it to `pending`.
 */
export function signedRecipients(sendInfo, pending) {
  if (!pending || sendInfo?.error) return [];
  const delivered = Boolean(sendInfo?.headerMessageId) || (sendInfo?.messages ?? []).length > 0;
  const tech = sendInfo?.details?.selectedEncryptionTechnology;
  const signed = tech ? tech.name === "S/MIME" && Boolean(tech.signMessage) : Boolean(pending.signed);
  return delivered && signed ? [...pending.addresses] : [];
}

/** The addresses of `log` that got a signed mail from one of `emails` at or after `since`. */
export function reachedSince(log, { since, emails }) {
  const from = new Set((emails ?? []).map((e) => e.toLowerCase()));
  const start = Date.parse(since);
  const reached = new Set();
  for (const [address, entry] of Object.entries(log ?? {})) {
    if (!(Date.parse(entry.at) >= start)) continue;
    if (entry.from && from.size && !from.has(entry.from)) continue;
    reached.add(address);
  }
  return reached;
}

/** The identities `identity` replaced (renewal): they point at it with `replaced_by`. */
export function replacedBy(identity, identities) {
  return identities.filter((i) => i.replaced_by && i.replaced_by === identity.fingerprint);
}

/** Thunderbird identities sending from one of the certificate's addresses. */
export function thunderbirdIdentitiesFor(identity, tbIdentities) {
  const emails = new Set((identity.emails ?? []).map((e) => e.toLowerCase()));
  return (tbIdentities ?? []).filter((i) => emails.has(String(i.email ?? "").toLowerCase()));
}

function step(id, done, key, subs = [], count = undefined) {
  return { id, done, key, subs: subs.map(String), ...(count === undefined ? {} : { count }) };
}

/**
 * The checklist after a renewal: `identity` is the new certificate, `previous` the ones it
 * replaced. `contacts` are contact addresses; the user's own addresses are left out.
 * Steps have `done` true, false, or null for advice that cannot be checked.
 */
export function renewalChecklist({ identity, previous, contacts, log, tbIdentities, formatDate = (d) => d }) {
  const own = new Set((identity.emails ?? []).map((e) => e.toLowerCase()));
  const everyone = [...new Set(contacts.map((c) => c.toLowerCase()))].filter((c) => !own.has(c)).sort();
  const since = identity.imported_at;
  const reached = reachedSince(log, { since, emails: identity.emails });
  const waiting = everyone.filter((c) => !reached.has(c));
  const done = everyone.filter((c) => reached.has(c));

  const steps = [step("imported", true, "renewal_step_imported", [formatDate(since)])];
  steps.push(step("backup", Boolean(identity.backed_up_at), "renewal_step_backup"));
  const tb = thunderbirdIdentitiesFor(identity, tbIdentities);
  if (tb.length) {
    const ready = tb.every((i) => {
      const caps = smimeCapabilities(i);
      return caps.canSign && caps.canEncrypt;
    });
    steps.push(step("thunderbird", ready, "renewal_step_thunderbird", [tb.map((i) => i.email).join(", ")]));
  }
  steps.push(step("keep_old", null, "renewal_step_keep_old", [], previous.length));
  steps.push(everyone.length
    ? step("contacts", waiting.length === 0, "renewal_step_contacts", [String(done.length), String(everyone.length)])
    : step("contacts", null, "renewal_step_no_contacts"));
  return { kind: "renewed", identity, previous, since, steps, waiting, reached: done, complete: steps.every((s) => s.done !== false) };
}

/** The checklist before a renewal, for a certificate that expires soon (or has expired). */
export function expiryChecklist({ identity, formatDate = (d) => d }) {
  const until = formatDate(identity.not_after);
  return {
    kind: identity.expired ? "expired" : "expiring",
    identity,
    steps: [
      step("request", false, identity.expired ? "expiry_step_request_expired" : "expiry_step_request", [until]),
      step("import", false, "expiry_step_import"),
      step("backup_new", false, "expiry_step_backup"),
      step("announce", null, "expiry_step_announce"),
    ],
    waiting: [],
    reached: [],
    complete: false,
  };
}

/**
 * Whether checklists() needs the contact addresses: only a renewal's checklist lists contacts, so
 * without a renewed certificate the page does not fetch them (up to 5,000, in 10 host calls).
 */
export function needsContacts(identities) {
  return identities.some((i) => i.replaced_by);
}

/**
 * Every checklist the page shows: one per certificate on the expiry radar that has not been
 * renewed yet, and one per renewal that is recent or not finished.
 */
export function checklists({ identities, radar, contacts, log, tbIdentities, now = Date.now(), formatDate }) {
  const lists = [];
  const radarIds = new Set((radar ?? []).map((i) => i.fingerprint));
  for (const identity of identities) {
    if (radarIds.has(identity.fingerprint) && !identity.replaced_by) lists.push(expiryChecklist({ identity, formatDate }));
  }
  for (const identity of identities) {
    const previous = replacedBy(identity, identities);
    if (!previous.length) continue;
    const list = renewalChecklist({ identity, previous, contacts, log, tbIdentities, formatDate });
    const age = (now - Date.parse(identity.imported_at)) / DAY_MS;
    if (!list.complete || age <= FINISHED_RENEWAL_SHOWN_DAYS) lists.push(list);
  }
  return lists;
}
