// Reminders that reach the user (issue 14, item 7): the expiry of one of your certificates and a
// missing backup are notified through Thunderbird's notifications, not only shown when My
// certificates is opened. Each is notified once per period, remembered in storage.local
// (`REMINDER_KEY`): a missing backup weekly until one exists (the first a day after the import,
// so a fresh import is not nagged), an expiry when it comes within 60, 30, 7 and 1 days, and once
// when it has passed. A renewed certificate (`replaced_by`) needs no reminder: its successor is
// the one in use.
//
// Pure: the background passes the host's identities (identities_list) and the stored state, and
// gets back the notifications to show and the state to store.

export const REMINDER_KEY = "reminders";
export const BACKUP_EVERY_DAYS = 7;
export const BACKUP_GRACE_DAYS = 1;
// Days before the end of validity at which an expiry is notified; 0: it has ended.
export const EXPIRY_STAGES = Object.freeze([60, 30, 7, 1, 0]);

const DAY_MS = 86_400_000;

const current = (identities) => identities.filter((i) => !i.replaced_by);
const address = (identity) => (identity.emails ?? [])[0] ?? identity.subject ?? "?";

/** The expiry stage a certificate is in (EXPIRY_STAGES), or null while it is further away. */
export function expiryStage(notAfter, now) {
  const end = Date.parse(notAfter ?? "");
  if (!Number.isFinite(end)) return null;
  if (end <= now) return 0;
  const days = Math.ceil((end - now) / DAY_MS);
  const stages = EXPIRY_STAGES.filter((s) => s > 0 && days <= s);
  return stages.length ? Math.min(...stages) : null;
}

/**
 * The notifications due now, and the state to remember: {notifications: [{id, kind, fingerprint,
 * title: {key, subs, count?}, message: {key, subs}}], state} (each text for `t.phrase`). `formatDate` formats RFC 3339 dates.
 */
export function dueReminders({ identities, state = {}, now = Date.now(), formatDate = (d) => d }) {
  const notifications = [];
  const next = { backup: state.backup ?? null, expiry: { ...(state.expiry ?? {}) } };
  const inUse = current(identities ?? []);

  // A backup: for the keys in use (not expired, not replaced) without one, a while after import.
  const missing = inUse.filter((i) => !i.backed_up_at && !i.expired
    && !(Date.parse(i.imported_at ?? "") > now - BACKUP_GRACE_DAYS * DAY_MS));
  if (!missing.length) {
    next.backup = null;
  } else if (!(Date.parse(next.backup?.at ?? "") > now - BACKUP_EVERY_DAYS * DAY_MS)) {
    const emails = [...new Set(missing.map(address))];
    notifications.push({
      id: "backup",
      kind: "backup",
      fingerprint: null,
      title: { key: "reminder_backup_title", subs: [] },
      message: { key: "reminder_backup_message", subs: [emails.join(", ")] },
    });
    next.backup = { at: new Date(now).toISOString() };
  }

  // Expiry: once per stage and certificate; stages only go down.
  const seen = new Set();
  for (const identity of inUse) {
    seen.add(identity.fingerprint);
    const stage = expiryStage(identity.not_after, now);
    if (stage === null) {
      delete next.expiry[identity.fingerprint];
      continue;
    }
    const told = next.expiry[identity.fingerprint];
    if (Number.isInteger(told) && told <= stage) continue;
    next.expiry[identity.fingerprint] = stage;
    const when = formatDate(identity.not_after) ?? "?";
    const days = Math.max(1, Math.ceil((Date.parse(identity.not_after) - now) / DAY_MS));
    notifications.push(stage === 0
      ? {
        id: `expired-${identity.fingerprint}`, kind: "expired", fingerprint: identity.fingerprint,
        title: { key: "reminder_expired_title", subs: [] },
        message: { key: "reminder_expired_message", subs: [address(identity), when] },
      }
      : {
        id: `expiry-${identity.fingerprint}`, kind: "expiry", fingerprint: identity.fingerprint,
        // Counted (`t.count`): one day is "tomorrow".
        title: { key: "reminder_expiry_title", count: days, subs: [] },
        message: { key: "reminder_expiry_message", subs: [address(identity), when] },
      });
  }
  for (const fingerprint of Object.keys(next.expiry)) if (!seen.has(fingerprint)) delete next.expiry[fingerprint];
  return { notifications, state: next };
}
