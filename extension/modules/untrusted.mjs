// Text someone else chose (a certificate's names and addresses, a From display name, an
// attachment's file name, a message subject) made safe to show: characters that can hide,
// reorder or fake what a reader sees become a visible marker naming the code point, `⟨U+202E⟩`,
// so the reader sees that the text is odd. Nothing is dropped silently.
//
// The same rules, character for character, as `untrusted::neutralize` in the host
// (src/untrusted.rs, where each class is explained; a test compares the two tables). In short:
// C0/C1 controls, bidirectional marks, embeddings, overrides and isolates, line and paragraph
// separators, zero-width and other invisible characters, tag characters; a variation selector
// only where it does not follow a visible character ("❤️" stays). JavaScript strings may also
// hold lone surrogates, which are shown the same way.
//
// Every view sets text through dom.mjs (el, text, setText, setDocumentTitle), which calls
// neutralize; the header button's tooltip and the banner do so themselves. Pure.

/** Code point ranges (inclusive) that are always made visible; the host's `is_hidden`. */
export const HIDDEN_RANGES = Object.freeze([
  [0x0000, 0x001f],
  [0x007f, 0x009f],
  [0x00ad, 0x00ad],
  [0x034f, 0x034f],
  [0x061c, 0x061c],
  [0x115f, 0x1160],
  [0x17b4, 0x17b5],
  [0x180e, 0x180e],
  [0x200b, 0x200f],
  [0x2028, 0x202e],
  [0x2060, 0x206f],
  [0x3164, 0x3164],
  [0xfeff, 0xfeff],
  [0xffa0, 0xffa0],
  [0xfff9, 0xfffb],
  [0x1d173, 0x1d17a],
  [0xe0000, 0xe007f],
]);

/** Variation selector ranges: kept only right after a character shown as itself. */
export const VARIATION_SELECTORS = Object.freeze([
  [0xfe00, 0xfe0f],
  [0xe0100, 0xe01ef],
]);

const inRanges = (ranges, cp) => ranges.some(([from, to]) => cp >= from && cp <= to);

/** Whether a code point is always made visible (lone surrogates included). */
export function isHidden(cp) {
  return inRanges(HIDDEN_RANGES, cp) || (cp >= 0xd800 && cp <= 0xdfff);
}

/** Whether a code point is a variation selector. */
export function isVariationSelector(cp) {
  return inRanges(VARIATION_SELECTORS, cp);
}

/** The visible marker of a code point: ⟨U+202E⟩. */
export function marker(cp) {
  return `⟨U+${cp.toString(16).toUpperCase().padStart(4, "0")}⟩`;
}

// Anything that may need a marker; text without one is returned as it is.
const SUSPECT = /[\u0000-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb\ud800-\udfff]/;

/**
 * `value` as text with every hidden character replaced by its marker. null and undefined give
 * ""; anything else is turned into a string first.
 */
export function neutralize(value) {
  const text = value === null || value === undefined ? "" : String(value);
  if (!SUSPECT.test(text)) return text;
  let out = "";
  let afterVisible = false;
  // for…of walks code points; a lone surrogate comes as one unit of its own.
  for (const ch of text) {
    const cp = ch.codePointAt(0);
    const selector = isVariationSelector(cp);
    const hide = isHidden(cp) || (selector && !afterVisible);
    out += hide ? marker(cp) : ch;
    afterVisible = !hide && !selector;
  }
  return out;
}
