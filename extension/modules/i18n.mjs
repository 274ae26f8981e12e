// The texts and formats of the UI language, set up once for every entry file of both extensions
// (the Thunderbird add-on's background page, popup, compose check and pages; the Outlook-on-the-web
// extension's service worker, reader and options): `t` (texts.mjs translator over the locale
// files), `date` (date and time), `day` (date only).
//
// platform.mjs comes first: in Chromium it makes `browser` (with the `owa_` variants of texts)
// before anything here reads it.

import "./platform.mjs";
import { translator } from "./texts.mjs";
import { dateFormatter, dayFormatter } from "./format.mjs";

export const uiLanguage = browser.i18n.getUILanguage();
export const t = translator((key, subs) => browser.i18n.getMessage(key, subs), { locale: uiLanguage });
export const date = dateFormatter(uiLanguage);
export const day = dayFormatter(uiLanguage);
