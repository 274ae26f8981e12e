// The compose check follows the recipients while they are typed (issue 14, item 4). Thunderbird
// fires no event when a recipient is added or removed (`compose.onComposeStateChanged` only when
// Send becomes possible or impossible), so the compose window the user types in is read every
// `pollMs` (`compose.getComposeDetails`, which also copies the body: windows in the background
// are not read, as nobody types there); when its recipients, identity or S/MIME switches changed,
// the check runs once they have been still for `debounceMs`. Events (the compose state, the
// identity, the window coming to the front) nudge a read at once. One check runs per window at a
// time; a change during a check runs one more afterwards, with the newest details.
//
// And the host is asked once per change, for new addresses only (`RecipientCache`): each address's
// answer from `recipients_check` is kept for a while and dropped when the contacts change.
//
// Both are plain classes over injected functions and timers, so node tests drive them.

import { addressKey, composeRecipients } from "./recipients.mjs";

export const POLL_MS = 1_000;
export const DEBOUNCE_MS = 400;

/** What decides the check of a compose window: recipients, identity and S/MIME switches. */
export function watchKey(details) {
  const recipients = composeRecipients(details).map((r) => (r.address ? addressKey(r.address) : `${r.kind}:${r.name}`));
  const tech = details?.selectedEncryptionTechnology ?? null;
  return JSON.stringify([recipients, details?.identityId ?? null, tech && [tech.name, Boolean(tech.signMessage), Boolean(tech.encryptBody)]]);
}

export class ComposeWatch {
  #read;
  #check;
  #focused;
  #timers;
  #pollMs;
  #debounceMs;
  #tabs = new Map(); // tabId -> {key, debounce, running, again}
  #poller = null;

  /**
   * `read(tabId)` resolves to the window's ComposeDetails, or null while it is not ready (rejects
   * once it is gone); `check(tabId, details)` runs the check and shows it; `focused()` resolves to
   * the ids of the windows in front (null when that cannot be told: every window is read).
   */
  constructor({ read, check, focused = async () => null, timers = globalThis, pollMs = POLL_MS, debounceMs = DEBOUNCE_MS }) {
    this.#read = read;
    this.#focused = focused;
    this.#check = check;
    this.#timers = timers;
    this.#pollMs = pollMs;
    this.#debounceMs = debounceMs;
  }

  /** Starts following a compose window (in window `windowId`); its first reading is checked at once. */
  track(tabId, windowId = null) {
    if (this.#tabs.has(tabId)) return;
    this.#tabs.set(tabId, { key: null, debounce: null, running: null, again: false, first: true, windowId });
    this.#poller ??= this.#timers.setInterval(() => this.poll(), this.#pollMs);
    this.nudge(tabId);
  }

  /** Stops following a window (closed, or sent). */
  forget(tabId) {
    const entry = this.#tabs.get(tabId);
    if (!entry) return;
    this.#timers.clearTimeout(entry.debounce);
    this.#tabs.delete(tabId);
    if (!this.#tabs.size && this.#poller !== null) {
      this.#timers.clearInterval(this.#poller);
      this.#poller = null;
    }
  }

  tracked() {
    return [...this.#tabs.keys()];
  }

  /** Something may have changed in a window: read it now. */
  nudge(tabId) {
    return this.#readOne(tabId);
  }

  /** Checks every followed window again at the next reading (the contacts changed). */
  recheckAll() {
    for (const entry of this.#tabs.values()) entry.key = null;
    return Promise.all(this.tracked().map((tabId) => this.#readOne(tabId)));
  }

  /** Reads every followed window in front once (the timer calls it). */
  async poll() {
    const front = await this.#focused().catch(() => null);
    const wanted = [...this.#tabs.entries()].filter(([, e]) => !front || e.windowId === null || front.includes(e.windowId));
    return Promise.all(wanted.map(([tabId]) => this.#readOne(tabId)));
  }

  /** A window came to the front: read its compose windows now. */
  windowFocused(windowId) {
    return Promise.all([...this.#tabs.entries()].filter(([, e]) => e.windowId === windowId).map(([tabId]) => this.#readOne(tabId)));
  }

  async #readOne(tabId) {
    if (!this.#tabs.has(tabId)) return;
    let details;
    try {
      details = await this.#read(tabId);
    } catch {
      this.forget(tabId); // the window is gone
      return;
    }
    const entry = this.#tabs.get(tabId);
    if (!entry || !details) return; // gone meanwhile, or not ready yet
    const key = watchKey(details);
    if (key === entry.key) return;
    entry.key = key;
    entry.details = details;
    this.#timers.clearTimeout(entry.debounce);
    // A new window is checked at once; a change once the typing has stopped.
    const wait = entry.first ? 0 : this.#debounceMs;
    entry.first = false;
    entry.debounce = this.#timers.setTimeout(() => this.#run(tabId), wait);
  }

  async #run(tabId) {
    const entry = this.#tabs.get(tabId);
    if (!entry) return;
    entry.debounce = null;
    if (entry.running) {
      entry.again = true;
      return;
    }
    entry.running = Promise.resolve()
      .then(() => this.#check(tabId, entry.details))
      .catch(() => {})
      .finally(() => {
        entry.running = null;
        if (entry.again && this.#tabs.get(tabId) === entry) {
          entry.again = false;
          this.#run(tabId);
        }
      });
    await entry.running;
  }
}

export const CACHE_TTL_MS = 5 * 60_000;
const MAX_CACHED = 1_000;

/**
 * The host's recipients_check answers per address (as the host compares addresses), for the
 * live check. An answer is kept `ttlMs` (certificates expire, trust changes) and dropped at once
 * when the contacts change (a harvest, an import, a decision, a deletion): `invalidate()`.
 * Several callers asking for the same address while it is asked share the one request.
 */
export class RecipientCache {
  #ttlMs;
  #now;
  #answers = new Map(); // addressKey -> {check, at}
  #asking = new Map(); // addressKey -> Promise of the check
  #generation = 0;

  constructor({ ttlMs = CACHE_TTL_MS, now = Date.now } = {}) {
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /** The addresses of `addresses` that `checks` would have to ask the host about. */
  missing(addresses) {
    return addresses.filter((a) => !this.#fresh(addressKey(a)) && !this.#asking.has(addressKey(a)));
  }

  /**
   * The recipients_check answers for `addresses`, in order: known ones from the cache, the others
   * from one call of `ask(missingAddresses)` (which resolves to recipients_check's `recipients`).
   * `fresh` asks for every address (the check on Send).
   */
  async checks(addresses, ask, { fresh = false } = {}) {
    const keys = addresses.map(addressKey);
    const wanted = [...new Set(keys)].filter((k) => fresh || (!this.#fresh(k) && !this.#asking.has(k)));
    const got = new Map();
    if (wanted.length) {
      const byKey = new Map(addresses.map((a) => [addressKey(a), a]));
      const generation = this.#generation;
      const request = Promise.resolve().then(() => ask(wanted.map((k) => byKey.get(k))));
      for (const key of wanted) {
        const answer = request.then((answers) => (answers ?? []).find((c) => addressKey(c.address) === key) ?? null, () => null);
        this.#asking.set(key, answer);
      }
      try {
        for (const check of (await request) ?? []) {
          const key = addressKey(check.address);
          got.set(key, check);
          // An answer that began before the contacts changed is used, not kept.
          if (generation === this.#generation) this.#put(key, check);
        }
      } finally {
        for (const key of wanted) this.#asking.delete(key);
      }
    }
    const checks = await Promise.all(keys.map(async (key) => got.get(key) ?? this.#fresh(key)?.check ?? (await this.#asking.get(key)) ?? null));
    return checks.filter(Boolean);
  }

  /** Forgets what is known (the contacts changed). */
  invalidate() {
    this.#generation += 1;
    this.#answers.clear();
  }

  #fresh(key) {
    const known = this.#answers.get(key);
    if (!known) return null;
    if (this.#now() - known.at > this.#ttlMs) {
      this.#answers.delete(key);
      return null;
    }
    return known;
  }

  #put(key, check) {
    this.#answers.delete(key);
    this.#answers.set(key, { check, at: this.#now() });
    while (this.#answers.size > MAX_CACHED) this.#answers.delete(this.#answers.keys().next().value);
  }
}
