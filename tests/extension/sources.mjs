// The two extensions' source files, for the tests that read code: the Thunderbird add-on is
// everything under extension/ but outlook-web/ (what package-xpi.sh packs); the Outlook-on-the-web
// extension is extension/outlook-web/ plus the shared files it packs (package-outlook-web.sh), so
// every shared file is held to the Thunderbird add-on's rules.
//
// And the one place where the rules differ on purpose: the Outlook reader shows a message's
// content. Only sanitize.mjs makes markup (a complete document, from the browser's parser), and
// only reader.mjs puts it on screen, as the srcdoc of its sandboxed content frame. Every test that
// allows something for these names it here, so the exception cannot spread.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./docs.mjs";

export const EXT = `${ROOT}extension`;
export const OUTLOOK = "outlook-web/";

/** The document maker: DOMParser and serialising its own document (outerHTML), nothing else. */
export const CONTENT_DOCUMENT = "outlook-web/modules/sanitize.mjs";
/** The content frame: one iframe, one srcdoc (`contentFrame`), only with sanitize.mjs's documents. */
export const CONTENT_FRAME = "outlook-web/reader.mjs";

/** Files under extension/ (paths relative to it) whose names match `pattern`; locales and icons left out. */
export function sourceFiles(pattern) {
  const walk = (dir) => readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "_locales" || name === "icons" ? [] : walk(path);
    return pattern.test(name) ? [path.slice(EXT.length + 1)] : [];
  });
  return walk(EXT).sort();
}

/** Code without its comments (block comments, and line comments that follow white space or begin a line). */
export function withoutComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|\s)\/\/.*$/gm, "$1");
}

/** The code files, {path, text}: `text` without comments (what runs). */
export function code() {
  return sourceFiles(/\.m?js$/).map((path) => ({ path, text: withoutComments(readFileSync(`${EXT}/${path}`, "utf8")) }));
}
