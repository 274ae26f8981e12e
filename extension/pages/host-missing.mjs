// The page shown when the host program is missing or does not start: how to install it on
// Windows, macOS and Linux (this computer's system first and open), what `smime-companion doctor`
// is for (for IT, folded away), and the live connection state (the add-on keeps retrying).

import { localizePage } from "../modules/page-i18n.mjs";
import { errorKey } from "../modules/texts.mjs";
import { t } from "../modules/i18n.mjs";
import { isHostDown, LocalError } from "../modules/ops.mjs";
import { logError } from "../modules/log.mjs";
import { text } from "../modules/dom.mjs";

const POLL_MS = 2_000;

localizePage();
showOwnSystemFirst().catch(logError);
document.getElementById("retry").addEventListener("click", async () => {
  show(await browser.runtime.sendMessage({ type: "retry" }));
});
poll();

async function poll() {
  try {
    show(await browser.runtime.sendMessage({ type: "status" }));
  } catch (e) {
    logError(e); // the background may be restarting: ask again
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

function show({ host }) {
  const ready = host.state === "ready";
  // Installed but not working (or refusing this add-on), as opposed to not installed at all.
  const broken = host.state === "broken" || (isHostDown(host.lastError) && host.lastError !== LocalError.hostMissing);
  document.body.classList.toggle("ready", ready);
  const variant = ready ? "ready" : broken ? "broken" : "missing";
  text("heading", t(`help_heading_${variant}`));
  text("intro", ready ? t("help_intro_ready", [host.version ?? "?"]) : t(`help_intro_${variant}`));
  text("status", ready ? ""
    : host.lastError ? t("help_last_error", [t(errorKey(host.lastError))]) : t("help_status_waiting"));
}

/** The install steps for this computer's system come first, open and marked. */
async function showOwnSystemFirst() {
  const { os } = await browser.runtime.getPlatformInfo();
  const own = document.querySelector(`#systems details[data-os="${os === "openbsd" ? "linux" : os}"]`);
  if (!own) return;
  own.open = true;
  own.querySelector(".this-computer").hidden = false;
  own.parentElement.prepend(own);
}
