// Background script (event page). Listeners are registered at the top level so Thunderbird can
// wake the page for them. The native port is opened on demand.
const HOST_NAME = "smime_companion";

async function checkHost() {
  try {
    const reply = await browser.runtime.sendNativeMessage(HOST_NAME, { id: 1, op: "hello" });
    console.info("S/MIME Companion host", reply?.result?.version ?? reply);
  } catch (e) {
    console.warn("S/MIME Companion host not reachable:", e.message);
  }
}

browser.runtime.onInstalled.addListener(checkHost);
browser.runtime.onStartup.addListener(checkHost);
