// Which message a tab shows, asked of Thunderbird (messageDisplay.getDisplayedMessages). For a
// message Thunderbird cannot decrypt it shows its own error page, and getDisplayedMessages waits
// for a load that never ends: every question is bounded. `messageDisplay` and the timers are
// injected, so node tests can drive this module.

import { withTimeout } from "./timeout.mjs";

export const DISPLAYED_TIMEOUT_MS = 3_000;

/** The messages of a MessageList ({messages}), as MV3 hands them over; a plain array passes. */
export function messagesOf(displayed) {
  return Array.isArray(displayed) ? displayed : (displayed?.messages ?? []);
}

/**
 * The id of the one message tab `tabId` shows, or null: none or several messages (a summary
 * without a message header has nothing to judge), not a message tab, or no answer in time.
 */
export async function displayedMessageId(tabId, {
  messageDisplay = globalThis.browser?.messageDisplay, timeoutMs = DISPLAYED_TIMEOUT_MS, timers = globalThis,
} = {}) {
  try {
    const shown = messagesOf(await withTimeout(messageDisplay.getDisplayedMessages(tabId), timeoutMs, `no displayed message of tab ${tabId} within ${timeoutMs} ms`, timers));
    return shown.length === 1 ? shown[0].id : null;
  } catch {
    return null;
  }
}
