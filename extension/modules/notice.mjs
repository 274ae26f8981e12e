// The notice box of an add-on page (#notice): what an action did, or why it failed. A failure
// names its error code's text, is logged, and when no host works offers the help page.

import { byId, el } from "./dom.mjs";
import { logError } from "./log.mjs";
import { isHostDown } from "./ops.mjs";
import { errorKey } from "./texts.mjs";

/**
 * `showNotice(severity, headline, lines)` and `showError(e)` for a page; a line is a text, or
 * {text, steps} for a text followed by numbered steps. `asList` shows the lines
 * as a bulleted list instead of paragraphs; `scroll` brings the box into view (a long page);
 * `headlineKey(code)` is the message key of a failure's headline.
 */
export function notices(t, { asList = false, scroll = false, headlineKey = () => "page_host_error" } = {}) {
  function showNotice(severity, headline, lines = []) {
    const box = byId("notice");
    box.className = `status notice ${severity}`;
    box.replaceChildren(el("strong", null, headline));
    if (asList && lines.length) {
      const list = el("ul");
      for (const line of lines) list.append(item(line));
      box.append(list);
    } else if (!asList) {
      for (const line of lines) box.append(typeof line === "string" ? el("p", null, line) : item(line, "div"));
    }
    box.hidden = false;
    if (scroll) box.scrollIntoView({ block: "nearest" });
  }

  // A line of text, or {text, steps}: the text with its steps as a numbered list under it.
  function item(line, tag = "li") {
    if (typeof line === "string") return el(tag, null, line);
    const node = el(tag, null, line.text);
    const steps = el("ol");
    for (const step of line.steps ?? []) steps.append(el("li", null, step));
    node.append(steps);
    return node;
  }

  function showError(e) {
    logError(e);
    const code = e?.code ?? "internal_error";
    showNotice("error", t(headlineKey(code)), [t(errorKey(code))]);
    if (isHostDown(code)) {
      const help = el("button", null, t("popup_open_help"));
      help.addEventListener("click", () => browser.runtime.sendMessage({ type: "openHelp" }));
      byId("notice").append(help);
    }
  }

  return { showNotice, showError };
}
