// Turning codes into words: the message keys for host error codes and verdict codes, and a
// translator that joins a key, its substitutions and follow-up sentences. Pure: the lookup
// function (`browser.i18n.getMessage` in Thunderbird) is passed in.

/** The message key of an error code; unknown codes (a newer host) fall back to a generic text. */
export function errorKey(code) {
  return /^[a-z0-9_]+$/.test(code ?? "") ? `error_${code}` : "error_unknown";
}

/**
 * Builds `t(key, subs)` over a raw lookup (`getMessage(key, subs)` that returns "" for unknown
 * keys). Unknown error keys fall back to `error_unknown`, naming the code, so a host newer than
 * the add-on still gets a readable answer.
 */
export function translator(getMessage) {
  const t = (key, subs = []) => {
    const text = getMessage(key, subs.map(String));
    if (text) return text;
    if (key.startsWith("error_")) return getMessage("error_unknown", [key.slice("error_".length)]);
    return key;
  };
  /** Renders `{key, subs, extra}` as produced by look.mjs: the sentence, then each extra one. */
  t.phrase = ({ key, subs = [], extra = [] }) => [t(key, subs), ...extra.map((k) => t(k))].join(" ");
  return t;
}
