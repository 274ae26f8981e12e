// Content script of the Outlook-on-the-web extension, in every Outlook-on-the-web page the
// settings name (registered by the service worker). It does two things and touches nothing else
// of Outlook's page:
//   - it tells the service worker the page's address whenever it changes (Outlook is one page
//     that changes its address as messages are opened), and whether the page is dark;
//   - it shows the notice the service worker sends for a bad verdict (altered, wrong sender,
//     untrusted, revoked, key changed…), closable, with a Details button.
// The notice's text comes from the service worker, which judged the message; nothing from the
// message or the page decides it. It lives in a closed shadow root on an element of its own at
// the document's root, positioned fixed with !important inline styles, and is put back when the
// page removes or restyles it: Outlook's changing layout can neither hide nor restyle it.
// Decrypted content never comes here: it is shown in the extension's reader page.
(() => {
  if (globalThis.__smimeCompanionOwa) return; // injected twice (registration and startup)
  globalThis.__smimeCompanionOwa = true;

  const TAG = "smime-companion-notice";
  const HOST_STYLE = [
    "all: initial", "display: block", "position: fixed", "top: 12px", "right: 12px", "left: auto", "bottom: auto",
    "z-index: 2147483647", "width: min(440px, calc(100vw - 24px))", "margin: 0", "padding: 0", "border: 0",
    "visibility: visible", "opacity: 1", "transform: none", "filter: none", "clip-path: none", "pointer-events: auto",
  ].map((d) => `${d} !important`).join("; ");
  const STYLE = `
    :host { all: initial; }
    .box { display: flex; align-items: flex-start; gap: 10px; padding: 10px 12px; border-radius: 6px;
      border-inline-start: 6px solid; font: 13px/1.4 system-ui, "Segoe UI", sans-serif;
      box-shadow: 0 4px 16px rgba(0,0,0,.25); }
    .warning { background: #fff4e5; color: #4a2a00; border-color: #b35c00; }
    .error { background: #fde8ec; color: #5c0016; border-color: #c50042; }
    .text { flex: 1; min-width: 0; overflow-wrap: anywhere; }
    .name { margin-inline-end: .5em; }
    .headline { font-weight: 700; }
    .summary { margin-top: 3px; }
    button { font: inherit; padding: 3px 10px; border-radius: 4px; border: 1px solid currentColor;
      background: transparent; color: inherit; cursor: pointer; }
    button.dismiss { border: none; font-size: 18px; line-height: 1; padding: 0 4px; }
    @media (prefers-color-scheme: dark) {
      .warning { background: #3d2a0a; color: #ffe2b8; border-color: #f0a35a; }
      .error { background: #42101d; color: #ffd0da; border-color: #ff6f8f; }
    }`;

  let host = null; // the notice's element while one is shown
  let shown = null; // the notice shown: {key, severity, name, headline, summary, details, dismiss}
  let lastUrl = null;
  const dark = matchMedia("(prefers-color-scheme: dark)");

  function send(message) {
    return chrome.runtime.sendMessage(message).catch(() => null); // the extension is reloading
  }

  async function report(force = false) {
    if (!force && location.href === lastUrl) return;
    lastUrl = location.href;
    const answer = await send({ type: "owaLocation", url: location.href, dark: dark.matches });
    if (answer && "notice" in answer) render(answer.notice);
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function render(notice) {
    shown = notice ?? null;
    host?.remove();
    host = null;
    if (!shown) return;
    host = document.createElement(TAG);
    host.setAttribute("style", HOST_STYLE);
    host.dataset.severity = shown.severity === "error" ? "error" : "warning";
    host.setAttribute("role", "alert");
    const root = host.attachShadow({ mode: "closed" });
    const style = el("style");
    style.textContent = STYLE;
    const box = el("div", `box ${host.dataset.severity}`);
    const text = el("div", "text");
    const line = el("div");
    line.append(el("span", "name", shown.name), el("span", "headline", shown.headline));
    text.append(line, el("div", "summary", shown.summary));
    const details = el("button", "details", shown.details);
    details.addEventListener("click", () => send({ type: "openDetails" }));
    const dismiss = el("button", "dismiss", "×");
    dismiss.title = shown.dismiss;
    dismiss.setAttribute("aria-label", shown.dismiss);
    dismiss.addEventListener("click", () => {
      send({ type: "dismissNotice", key: shown?.key ?? null });
      render(null);
    });
    box.append(text, details, dismiss);
    root.append(style, box);
    attach();
  }

  // The notice hangs off <html>, not <body>: Outlook replaces the body's content as it works.
  function attach() {
    if (!host || !document.documentElement) return;
    if (host.parentNode !== document.documentElement) document.documentElement.append(host);
    if (host.getAttribute("style") !== HOST_STYLE) host.setAttribute("style", HOST_STYLE);
    if (host.hidden) host.hidden = false;
  }

  // Runs at document_start, so the message is fetched while Outlook's page still loads.
  new MutationObserver(() => attach()).observe(document, { childList: true, subtree: false });
  const observeRoot = () => document.documentElement && new MutationObserver(() => attach()).observe(document.documentElement, { childList: true });
  if (document.documentElement) observeRoot();
  else document.addEventListener("readystatechange", observeRoot, { once: true });
  const guard = new MutationObserver(() => attach());
  const watch = () => host && guard.observe(host, { attributes: true });
  setInterval(() => {
    attach();
    watch();
    report();
  }, 1000);

  chrome.runtime.onMessage.addListener((message) => {
    if (message?.type === "owaNotice") render(message.notice);
  });
  globalThis.navigation?.addEventListener("currententrychange", () => report());
  addEventListener("popstate", () => report());
  addEventListener("hashchange", () => report());
  dark.addEventListener("change", () => report(true));
  report(true);
})();
