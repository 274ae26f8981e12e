// Which message each tab shows, and what is known about each message: its reading (the host's
// verdicts), the check in progress, or why the last check failed; and whose banner the user
// closed: for that message only (never a setting for all), and not for good: it lives as long as
// the background page (Thunderbird) or the browser session (Outlook on the web). Pure, so node
// tests can use it.

const MAX_MESSAGES = 500; // readings are small, but a long session opens many messages

export class VerdictStore {
  #messages = new Map(); // messageId -> {reading, error, running}; insertion order = age
  #tabs = new Map(); // tabId -> messageId (only tabs showing exactly one message)
  #dismissed = new Set(); // message ids whose banner the user closed; insertion order = age

  /** Records what a tab shows: one message id, or null for none or several. */
  showInTab(tabId, messageId) {
    if (messageId === null || messageId === undefined) this.#tabs.delete(tabId);
    else this.#tabs.set(tabId, messageId);
  }

  forgetTab(tabId) {
    this.#tabs.delete(tabId);
  }

  /** The message a tab shows, or null. */
  messageInTab(tabId) {
    return this.#tabs.get(tabId) ?? null;
  }

  /** [tabId, messageId] for every tab that shows one message. */
  tabs() {
    return [...this.#tabs.entries()];
  }

  /** {reading, error, running} for a message, or an empty entry. */
  entry(messageId) {
    return this.#messages.get(messageId) ?? { reading: null, error: null, running: null };
  }

  /**
   * Runs `check()` for a message unless its reading is known or a check is running; concurrent
   * callers share one check. Failures are remembered for display but retried on the next call.
   */
  async reading(messageId, check) {
    const known = this.#messages.get(messageId);
    if (known?.reading) return known.reading;
    if (known?.running) return known.running;
    const running = check();
    this.#put(messageId, { reading: null, error: known?.error ?? null, running });
    try {
      const reading = await running;
      this.#put(messageId, { reading, error: null, running: null });
      return reading;
    } catch (e) {
      this.#put(messageId, { reading: null, error: e, running: null });
      throw e;
    }
  }

  /** Remembers that the user closed the banner of a message (the newest MAX_MESSAGES of them). */
  dismiss(messageId) {
    this.#dismissed.delete(messageId);
    this.#dismissed.add(messageId);
    while (this.#dismissed.size > MAX_MESSAGES) this.#dismissed.delete(this.#dismissed.values().next().value);
  }

  /** True when the user closed the banner of this message. */
  dismissed(messageId) {
    return this.#dismissed.has(messageId);
  }

  /** Drops what failed, so the next display checks again (the host came back). */
  forgetFailures() {
    for (const [id, e] of this.#messages) if (e.error && !e.running) this.#messages.delete(id);
  }

  /** Drops the readings `predicate` picks, so the next display checks again (a key was unlocked). */
  forgetReadings(predicate) {
    for (const [id, e] of this.#messages) if (e.reading && !e.running && predicate(e.reading)) this.#messages.delete(id);
  }

  #put(messageId, entry) {
    this.#messages.delete(messageId);
    this.#messages.set(messageId, entry);
    while (this.#messages.size > MAX_MESSAGES) {
      const oldest = this.#messages.keys().next().value;
      if (oldest === messageId) break;
      this.#messages.delete(oldest);
    }
  }
}
