// Banner above a displayed message, for problems with its signature or encryption, and for a
// danger state (altered, broken or revoked signature, wrong sender) a mark on the message body:
// a red frame around the message and a line above it saying not to trust the text.
// Runs in the message's document (injected by the add-on); every text comes from the add-on's
// background, which judged the message, and nothing from the message is put into them. Banner
// and mark live in closed shadow roots on elements of their own beside the message body (never
// inside it), with their placement set inline and !important: the message's markup and styles
// can neither reach nor hide them, and the message's content is left as it is.
// Closing the banner closes it for this message (the background remembers which, while it runs);
// the mark cannot be closed.
(async () => {
  const BANNER_ID = "smime-companion-banner";
  const MARK_ID = "smime-companion-mark";
  const HOST_STYLE = ["all: initial", "display: block", "position: static", "visibility: visible", "opacity: 1",
    "transform: none", "filter: none", "clip-path: none", "margin: 0", "padding: 0", "border: 0"]
    .map((d) => `${d} !important`).join("; ");
  const STYLE = `
    :host { all: initial; display: block; }
    .banner { display: flex; align-items: flex-start; gap: 10px; margin: 0 0 8px; padding: 8px 12px;
      font: message-box; font-size: 13px; line-height: 1.4; border-inline-start: 5px solid; border-radius: 4px; }
    .warning { background: #fff4e5; color: #4a2a00; border-color: #b35c00; }
    .error { background: #fde8ec; color: #5c0016; border-color: #c50042; }
    .text { flex: 1; min-width: 0; overflow-wrap: anywhere; }
    .name { margin-inline-end: .5em; }
    .headline { font-weight: 700; }
    .summary { margin-top: 2px; }
    button { font: inherit; padding: 2px 10px; border-radius: 4px; border: 1px solid currentColor;
      background: transparent; color: inherit; cursor: pointer; }
    button.dismiss { border: none; font-size: 16px; line-height: 1; padding: 2px 6px; }
    .bar { display: flex; gap: 8px; align-items: baseline; margin: 0 0 8px; padding: 6px 12px; border-radius: 4px;
      font: message-box; font-size: 13px; font-weight: 700; line-height: 1.4; background: #c50042; color: #ffffff; }
    .frame { position: fixed; inset: 0; border: 4px solid #c50042; pointer-events: none; z-index: 2147483647; }
    @media (prefers-color-scheme: dark) {
      .warning { background: #3d2a0a; color: #ffe2b8; border-color: #f0a35a; }
      .error { background: #42101d; color: #ffd0da; border-color: #ff6f8f; }
      .bar { background: #ffb3c3; color: #42101d; }
      .frame { border-color: #ff6f8f; }
    }`;

  const remove = () => {
    for (const id of [BANNER_ID, MARK_ID]) document.getElementById(id)?.remove();
  };
  remove();
  let banner = null;
  try {
    banner = await browser.runtime.sendMessage({ type: "banner" });
  } catch {
    return; // the add-on is reloading; the next display brings the banner back
  }
  remove(); // a second injection may have finished first
  if (!banner) return;

  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  };
  const shadowHost = (id) => {
    const host = el("div");
    host.id = id;
    host.setAttribute("style", HOST_STYLE);
    const root = host.attachShadow({ mode: "closed" });
    const style = el("style");
    style.textContent = STYLE;
    root.append(style);
    return { host, root };
  };

  // Before <body>, not inside it: neither is ever part of the message content.
  if (!banner.hidden) {
    const { host, root } = shadowHost(BANNER_ID);
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
    root.append(box);
    document.documentElement.insertBefore(host, document.body);
  }
  if (banner.mark) {
    const { host, root } = shadowHost(MARK_ID);
    const bar = el("div", "bar");
    bar.setAttribute("role", "note");
    bar.append(el("span", null, "⚠"), el("span", null, banner.mark));
    root.append(bar, el("div", "frame"));
    document.documentElement.insertBefore(host, document.body);
  }
})();
