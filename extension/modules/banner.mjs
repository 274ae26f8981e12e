// The banner above a displayed message for problems. Thunderbird injects the banner script into
// every newly displayed message (scripting.messageDisplay); for messages that were already open
// it is injected by hand. The script asks the background what to show (`bannerFor`), so nothing
// from the message ever decides its text.

import { neutralize } from "./untrusted.mjs";
import { decisionBanner } from "./key-decision.mjs";

const SCRIPT_ID = "smime-companion-banner";
const FILES = ["/banner/banner.js"];
const BANNER_LOOKS = new Set(["altered", "untrusted", "problem", "mismatch", "doubtfulSender", "partial", "undecryptable"]);

/** Registers the banner script once; registrations outlive a suspended background page. */
export async function registerBanner() {
  const api = browser.scripting.messageDisplay;
  // (Filtering by an unknown id is an error, so list them all.)
  const known = await api.getRegisteredScripts();
  if (!known.some((s) => s.id === SCRIPT_ID)) await api.registerScripts([{ id: SCRIPT_ID, js: FILES, runAt: "document_end" }]);
}

/** Runs the banner script in a tab whose message is already on screen (it replaces its banner). */
export async function refreshBanner(tabId) {
  await browser.scripting.executeScript({ target: { tabId }, files: FILES });
}

/**
 * What the banner of a reading says, or null when the message needs no banner. `view` is the
 * reading as describe() presents it: the banner repeats its headline (the state's one name) and
 * the sentence under it (the header button's label and tooltip). A danger state (a red look:
 * altered, broken or revoked signature, wrong sender) also marks the message body: `mark` says
 * why its text is not to be trusted. `decision` is where the user's decision on a changed key
 * stands (key-decision.mjs).
 * Every text is neutralised here: the banner script in the message's page cannot import modules.
 * `dismissed`: the user closed this message's banner; it stays `hidden`, the mark stays.
 */
export function bannerFor(view, t, { dismissed = false, decision = null } = {}) {
  const { look } = view;
  if (!BANNER_LOOKS.has(look.name)) return keyChangeBanner(view, t, decision, dismissed);
  return {
    hidden: dismissed,
    severity: look.severity,
    name: neutralize(t("banner_name")),
    headline: neutralize(view.headline),
    summary: neutralize(view.summary),
    details: neutralize(t("banner_details")),
    dismiss: neutralize(t("banner_dismiss")),
    mark: look.severity === "error" ? neutralize(t(markKey(look.state))) : null,
  };
}

/** The message key of the mark on the body of a message in a danger state. */
export function markKey(state) {
  return MARKED_STATES.has(state) ? `mark_${state}` : "mark_other";
}

// The danger states (a red look, look.mjs), each with its own reason not to trust the text.
export const MARKED_STATES = new Set(["malformed", "content_altered", "revoked", "sender_mismatch"]);

/**
 * A new key that waits for the user's decision (key-decision.mjs), or one the user refused
 * (`decision`, from the contact), gets a banner of its own even on a valid signature: its button
 * opens the details popup with the decision card. Closed, it stays closed for its message.
 */
function keyChangeBanner(view, t, decision, dismissed) {
  const words = decisionBanner(view.keyChange, t, decision);
  if (!words) return null;
  return {
    hidden: dismissed,
    severity: "warning",
    name: neutralize(t("banner_name")),
    headline: neutralize(words.headline),
    summary: neutralize(words.summary),
    details: neutralize(words.details),
    dismiss: neutralize(t("banner_dismiss")),
    mark: null,
  };
}
