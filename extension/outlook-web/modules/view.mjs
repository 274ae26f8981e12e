// What the Outlook-on-the-web extension shows besides the shared popup: the in-page notice for
// a bad verdict, and the popup's extra buttons. Both come from the same reading and the same
// texts as the Thunderbird add-on's banner and popup (banner.mjs, describe.mjs). Pure.

import { bannerFor } from "../../modules/banner.mjs";
import { summarize } from "../../modules/look.mjs";
import { actionsFor } from "./fetch-errors.mjs";

/**
 * The notice above Outlook's page for a reading, or null: the states the Thunderbird banner
 * shows (altered, revoked, wrong sender, untrusted, other certificate problems, partly signed,
 * unreadable), and a valid signature whose certificate replaced another valid one (key changed).
 */
export function noticeFor(view, reading, t) {
  const banner = bannerFor(view, t);
  if (banner) return banner;
  const { signature } = summarize(reading);
  if ((signature.warnings ?? []).some((w) => w.code === "key_changed")) {
    return {
      severity: "warning",
      name: t("banner_name"),
      headline: t("owa_notice_key_changed"),
      summary: t("sigwarn_key_changed"),
      details: t("banner_details"),
      dismiss: t("banner_dismiss"),
    };
  }
  return null;
}

/**
 * Whether Outlook on the web cannot show the content itself, so the reader page should: the
 * message was decrypted, or it is signed in the opaque form (application/pkcs7-mime), whose
 * content Outlook shows only through Microsoft's control.
 */
export function offersReader(reading) {
  const { verdict } = reading;
  if (verdict.encryption?.state === "decrypted") return true;
  return (verdict.message?.structure ?? []).some((s) => s.kind === "signed" && s.form === "signed_data");
}

const PAGES = [
  { type: "openContacts", key: "compose_link_contacts", closes: true, page: true },
  { type: "openIdentities", key: "compose_link_identities", closes: true, page: true },
];

/** The popup's buttons for a tab: read the content, fix a failure, and the extension's pages. */
export function popupActions({ reading = null, error = null } = {}) {
  const out = [];
  if (reading && offersReader(reading)) out.push({ type: "openReader", key: "owa_action_open_reader", primary: true, closes: true });
  if (!reading && error) out.push(...actionsFor(error));
  return [...out, ...PAGES];
}

// Characters that change how text reads without being seen: controls, bidirectional overrides
// and isolates, zero-width characters. Header fields are chosen by the sender.
const HIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb]/g;

/** Text an attacker chose, with every invisible or reordering character shown as [U+XXXX]. */
export function visible(text) {
  return String(text ?? "").replace(HIDDEN, (c) => `[U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}]`);
}

/** A file name safe to save under: no folders, no invisible characters, not empty. */
export function fileName(name, fallback = "attachment") {
  const base = String(name ?? "").split(/[\\/]/).pop().replace(HIDDEN, "").replace(/[\u0000-\u001f<>:"|?*]/g, "_").replace(/^\.+/, "").trim();
  return base.slice(0, 180) || fallback;
}
