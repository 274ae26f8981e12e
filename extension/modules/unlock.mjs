// Unlocking the user's keys with their passphrase (identities_unlock, docs/IDENTITIES.md), for
// My certificates and for the details popup of a message encrypted to a locked key. The call goes
// through the background (host-client.mjs), which checks the messages that were locked again once
// a key opens. What an answer means for the user is pure (unlockOutcome, unlockFailure), so node
// can test it. The passphrase is only passed on: never kept, logged or returned.

import { callHost } from "./host-client.mjs";
import { Op } from "./ops.mjs";
import { errorKey } from "./texts.mjs";

/**
 * Unlocks every key of the user's that `passphrase` opens. `needed` are the fingerprints the
 * caller waits for (a message's `locked_identities`); empty when any key will do.
 * Resolves to an outcome (below); never rejects.
 */
export async function unlockKeys(passphrase, { needed = [] } = {}) {
  try {
    return unlockOutcome(await callHost(Op.identitiesUnlock, { passphrase }), needed);
  } catch (e) {
    return unlockFailure(e);
  }
}

/**
 * A successful identities_unlock reply (`{unlocked: [fingerprint…], seconds}`) as shown:
 * `opensNeeded` says whether one of the `needed` keys is among the unlocked ones, and `notice`
 * is the message key (with substitutions) that tells the user what happened.
 */
export function unlockOutcome(result, needed = []) {
  const unlocked = [...(result?.unlocked ?? [])];
  const minutes = Math.max(1, Math.round((result?.seconds ?? 0) / 60));
  const opened = new Set(unlocked.map((f) => String(f).toLowerCase()));
  const opensNeeded = unlocked.length > 0 && (needed.length === 0 || needed.some((f) => opened.has(String(f).toLowerCase())));
  const notice = opensNeeded
    ? { key: "unlock_done", count: unlocked.length, subs: [minutes] }
    : { key: unlocked.length ? "popup_unlock_other_keys" : "unlock_wrong", subs: [] };
  return { ok: true, unlocked, minutes, opensNeeded, notice };
}

/**
 * A failed unlock: a wrong passphrase is the user's to retry (`wrongPassword`); anything else
 * (host missing, store error, …) is an `error_<code>` text, with the error for the page to report.
 */
export function unlockFailure(error) {
  const code = error?.code ?? "internal_error";
  const wrongPassword = code === "wrong_password";
  return { ok: false, code, wrongPassword, error, notice: { key: wrongPassword ? "unlock_wrong" : errorKey(code), subs: [] } };
}

/** The label of the passphrase field for locked keys (lockedKeys in look.mjs): whose key it opens. */
export function unlockLabel(locked) {
  const emails = locked?.emails ?? [];
  return emails.length ? { key: "popup_unlock_label", subs: [emails.join(", ")] } : { key: "popup_unlock_label_any", subs: [] };
}
