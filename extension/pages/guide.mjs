// The first-run guide: the steps from "installed" to "my certificate is in, backed up, and
// Thunderbird uses it", each with its live state (guide.mjs) and the one action that moves it on.
// The page reads the state again whenever it is shown and every few seconds while it is: the
// user does the steps on My certificates and in Thunderbird's settings, then comes back here.

import { callHost } from "../modules/host-client.mjs";
import { Op } from "../modules/ops.mjs";
import { localizePage } from "../modules/page-i18n.mjs";
import { day, t } from "../modules/i18n.mjs";
import { byId, el, text } from "../modules/dom.mjs";
import { notices } from "../modules/notice.mjs";
import { guideProgress, guideSteps } from "../modules/guide.mjs";
import { installModule, moduleState } from "../modules/pkcs11.mjs";
import { whileBusy } from "../modules/busy.mjs";
import { logError } from "../modules/log.mjs";

const { showNotice, showError } = notices(t);
const REFRESH_MS = 4_000;

let shown = null;
let working = false;

localizePage();
document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh().catch(logError); });
setInterval(() => { if (!document.hidden) refresh().catch(logError); }, REFRESH_MS);
refresh().catch(showError).finally(() => {
  document.body.dataset.ready = "true"; // for the end-to-end test: the first render is complete
});

async function refresh() {
  if (working) return;
  const status = await browser.runtime.sendMessage({ type: "status", tabId: null });
  const ready = status.host.state === "ready";
  const [identities, module, tbIdentities] = await Promise.all([
    ready ? callHost(Op.identitiesList).then((r) => r.identities).catch(() => null) : null,
    moduleState(),
    thunderbirdIdentities(),
  ]);
  const steps = guideSteps({ host: status.host.state, identities, module, tbIdentities, formatDate: day });
  const key = JSON.stringify(steps);
  if (key === shown) return;
  shown = key;
  render(steps);
}

async function thunderbirdIdentities() {
  const accounts = await browser.accounts.list(false).catch(() => []);
  return accounts.flatMap((account) => (account.identities ?? []).map((identity) => ({ ...identity, accountName: account.name })));
}

function render(steps) {
  const { done, total } = guideProgress(steps);
  text("progress", t("guide_progress", [String(done), String(total)]));
  document.body.dataset.done = String(done);
  const list = byId("steps");
  list.replaceChildren();
  for (const s of steps) {
    const li = el("li", s.state);
    li.dataset.step = s.id;
    li.dataset.state = s.state;
    li.append(el("span", "state", t(`guide_state_${s.state}`)), el("span", "text", t(s.key, s.subs)));
    if (s.details?.length) {
      const ol = el("ol");
      for (const d of s.details) ol.append(el("li", null, t(d.key, d.subs)));
      li.append(ol);
    }
    if (s.action) {
      const box = el("div", "act");
      const button = el("button", "primary", t(s.action.key));
      button.dataset.action = s.action.id;
      button.addEventListener("click", () => act(s.action.id, box).catch(showError));
      box.append(button);
      li.append(box);
    }
    list.append(li);
  }
}

async function act(action, box) {
  switch (action) {
    case "open_help":
      return browser.runtime.sendMessage({ type: "openHelp" });
    case "import":
      return browser.runtime.sendMessage({ type: "openIdentities", hash: "import" });
    case "backup":
      return browser.runtime.sendMessage({ type: "openIdentities", hash: "backup" });
    case "install_module": {
      working = true;
      try {
        const state = await whileBusy(box, t("busy_module"), () => installModule().catch(() => "not_loaded"));
        showNotice(state === "loaded" ? "ok" : "warning", t(state === "loaded" ? "module_installed" : "module_install_failed"), []);
      } finally {
        working = false;
      }
      shown = null;
      return refresh();
    }
    default:
      return null;
  }
}
