// What the Outlook-on-the-web extension shows besides the shared popup: the in-page notice for
// a bad verdict, the toolbar button's title, the popup's extra buttons, and the names attachments
// are saved under. They come from the same reading and the same texts as the Thunderbird
// add-on's banner and popup (banner.mjs, describe.mjs), and every text in them that names a
// certificate, an address or a file goes through the shared `neutralize` (untrusted.mjs). Pure.

import { bannerFor } from "../../modules/banner.mjs";
import { stateLabel, summarize } from "../../modules/look.mjs";
import { neutralize } from "../../modules/untrusted.mjs";
import { actionsFor } from "./fetch-errors.mjs";

/**
 * The notice's texts the content script shows (content.js cannot import modules, so they arrive
 * neutralised): each of them goes through `neutralize` here, whatever made it.
 */
export const NOTICE_TEXTS = Object.freeze(["name", "headline", "summary", "details", "dismiss"]);

/**
 * The notice above Outlook's page for a reading, or null: the states the Thunderbird banner
 * shows (altered, revoked, wrong sender, untrusted, other certificate problems, partly signed,
 * unreadable), and a valid signature whose certificate replaced another valid one (key changed).
 */
export function noticeFor(view, reading, t) {
  const notice = bannerFor(view, t) ?? keyChangedNotice(reading, t);
  if (!notice) return null;
  const out = { severity: notice.severity === "error" ? "error" : "warning" };
  // (the service worker leaves out a notice the user closed; the banner's mark is Thunderbird's)
  for (const key of NOTICE_TEXTS) out[key] = neutralize(notice[key]);
  return out;
}

function keyChangedNotice(reading, t) {
  const { signature } = summarize(reading);
  if (!(signature.warnings ?? []).some((w) => w.code === "key_changed")) return null;
  return {
    severity: "warning",
    name: t("banner_name"),
    headline: t(stateLabel("key_changed")),
    summary: t("sigwarn_key_changed"),
    details: t("banner_details"),
    dismiss: t("banner_dismiss"),
  };
}

/**
 * The toolbar button's title for a look (look.mjs; null: no message open): the state's one name
 * (the Thunderbird button's label) and its sentence, which may name the signer's certificate:
 * "S/MIME Companion: Signed. Signed by Alice Example <alice@example.org>. …".
 */
export function actionTitle(look, t) {
  const title = look ? t("owa_action_title_state", [t(look.label.key), t.phrase(look.title)]) : t("owa_actionTitle");
  return neutralize(`${t("banner_name")}: ${title}`);
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

/**
 * The name an attachment is saved under: the sender's file name without folders, with the
 * characters that hide or reorder text shown as markers (neutralize: "report⟨U+202E⟩fdp.exe"
 * cannot pass for "reportexe.pdf"), without characters file systems refuse, not hidden (no
 * leading dot), not empty.
 */
export function fileName(name, fallback = "attachment") {
  const base = neutralize(String(name ?? "").split(/[\\/]/).pop()).replace(/[<>:"|?*]/g, "_").replace(/^[.\s]+/, "").trim();
  return [...base].slice(0, 180).join("") || fallback;
}
