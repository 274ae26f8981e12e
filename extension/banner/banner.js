// Banner above a displayed message, for problems with its signature or encryption.
// Runs in the message's document (injected by the add-on); the text comes from the add-on's
// background, which judged the message. The banner lives in a closed shadow root outside the
// message body, so the message's own markup and styles cannot reach or restyle it.
(async () => {
  const HOST_ID = "smime-companion-banner";
  const STYLE = `
    :host { all: initial; display: block; }
    .banner { display: flex; align-items: flex-start; gap: 10px; margin: 0 0 8px; padding: 8px 12px;
      font: message-box; font-size: 13px; line-height: 1.4; border-inline-start: 5px solid; border-radius: 4px; }
    .warning { background: #fff4e5; color: #4a2a00; border-color: #d97706; }
    .error { background: #fde8ec; color: #5c0016; border-color: #c50042; }
    .text { flex: 1; }
    .name { font-weight: 600; opacity: .75; margin-inline-end: .5em; }
    .headline { font-weight: 600; }
    .summary { margin-top: 2px; }
    button { font: inherit; padding: 2px 10px; border-radius: 4px; border: 1px solid currentColor;
      background: transparent; color: inherit; cursor: pointer; }
    button.dismiss { border: none; font-size: 16px; line-height: 1; padding: 2px 6px; }
    @media (prefers-color-scheme: dark) {
      .warning { background: #3d2a0a; color: #ffe2b8; }
      .error { background: #42101d; color: #ffd0da; }
    }`;

  document.getElementById(HOST_ID)?.remove();
  let banner = null;
  try {
    banner = await browser.runtime.sendMessage({ type: "banner" });
  } catch {
    return; // the add-on is reloading; the next display brings the banner back
  }
  document.getElementById(HOST_ID)?.remove(); // a second injection may have finished first
  if (!banner) return;

  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  };
  const host = el("div");
  host.id = HOST_ID;
  const root = host.attachShadow({ mode: "closed" });
  const style = el("style");
  style.textContent = STYLE;
  const box = el("div", `banner ${banner.severity === "error" ? "error" : "warning"}`);
  box.setAttribute("role", "alert");
  const text = el("div", "text");
  const line = el("div");
  line.append(el("span", "name", banner.name), el("span", "headline", banner.headline));
  text.append(line, el("div", "summary", banner.summary));
  const details = el("button", "details", banner.details);
  details.addEventListener("click", () => browser.runtime.sendMessage({ type: "openDetails" }));
  const dismiss = el("button", "dismiss", "×");
  dismiss.title = banner.dismiss;
  dismiss.setAttribute("aria-label", banner.dismiss);
  dismiss.addEventListener("click", () => {
    host.remove();
    browser.runtime.sendMessage({ type: "dismissBanner" });
  });
  box.append(text, details, dismiss);
  root.append(style, box);
  // Before <body>, not inside it: the banner is never part of the message content.
  document.documentElement.insertBefore(host, document.body);
})();
