// Turning codes into words: the message keys for host error codes and verdict codes, and a
// translator that joins a key, its substitutions and follow-up sentences. Pure: the lookup
// function (`browser.i18n.getMessage` in Thunderbird) and the UI language are passed in
// (i18n.mjs sets this up once for the add-on's pages).

/** The message key of an error code; unknown codes (a newer host) fall back to a generic text. */
export function errorKey(code) {
  return /^[a-z0-9_]+$/.test(code ?? "") ? `error_${code}` : "error_unknown";
}

/**
 * Builds `t(key, subs)` over a raw lookup (`getMessage(key, subs)` that returns "" for unknown
 * keys). Unknown error keys fall back to `error_unknown`, naming the code, so a host newer than
 * the add-on still gets a readable answer. Numbers among the substitutions are written the way
 * `locale` writes them ("10.000" in German).
 *
 * `t.count(key, n, subs)` picks the text for the grammatical number of `n`: `<key>_one` or
 * `<key>_other` (the plural categories of English and German), with `n` as `$1` and `subs` after
 * it. The locale files never carry "certificate(s)".
 */
export function translator(getMessage, { locale = "en" } = {}) {
  const numbers = new Intl.NumberFormat(locale);
  const plurals = new Intl.PluralRules(locale);
  const sub = (value) => (typeof value === "number" && Number.isFinite(value) ? numbers.format(value) : String(value));
  const t = (key, subs = []) => {
    const text = getMessage(key, subs.map(sub));
    if (text) return text;
    if (key.startsWith("error_")) return getMessage("error_unknown", [key.slice("error_".length)]);
    return key;
  };
  t.count = (key, n, subs = []) => t(`${key}_${plurals.select(n) === "one" ? "one" : "other"}`, [n, ...subs]);
  /**
   * Renders `{key, subs, count?, extra?}` as the pure modules produce them (look.mjs and others):
   * the sentence (for `count`, the one for that number: `t.count`), then each extra one.
   */
  t.phrase = ({ key, subs = [], count, extra = [] }) =>
    [count === undefined ? t(key, subs) : t.count(key, count, subs), ...extra.map((k) => t(k))].join(" ");
  return t;
}
