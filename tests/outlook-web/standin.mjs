// Stand-ins for Microsoft's services, on one HTTPS port of 127.0.0.1 (Chromium maps every *.test
// name there with --host-resolver-rules). Each host name plays one part:
//   owa.cloud.test     Outlook on the web of Exchange Online: a page at /mail/inbox/id/<id>
//   owa.onprem.test    Outlook on the web of an Exchange server, and its EWS at /EWS/Exchange.asmx
//   login.test         the Microsoft identity platform: /<tenant>/oauth2/v2.0/authorize and /token
//   graph.test         Microsoft Graph: /v1.0/me/messages/<id>/$value
//   remote.test        "the internet": every request to it is logged (the reader must make none)
// They behave like the real ones where the extension depends on it (PKCE checked, tokens
// checked, REST ids for Graph and EWS ids for EWS, prompt=none answered with an error instead of a
// page) and can be switched into each failure the extension must explain (`state`).

import https from "node:https";
import { createHash, randomBytes } from "node:crypto";

export const CLIENT_ID = "11111111-2222-3333-4444-555555555555";
export const TENANT = "contoso.test";

/** The REST item id the stand-ins give a message: holds both `-` and `_`, so EWS ids differ. */
export function itemId(name) {
  return `AAMk-${Buffer.from(name).toString("base64url")}_AA==`;
}

const restOf = (id) => id.replace(/\//g, "-").replace(/\+/g, "_");

export function startStandins({ key, cert, redirectUri }) {
  const messages = new Map(); // REST id -> bytes
  const state = {
    auth: "signed_in", // signed_in | signed_out | no_consent | bad_app
    graph: "ok", // ok | down (connection dropped) | error (500) | host_down (dropped for the host's own requests only)
    ews: "ok", // ok | denied (401)
  };
  const codes = new Map(); // code -> {challenge}
  const tokens = new Set();
  const log = { remote: [], graph: 0, graphAgents: [], ews: 0, authorize: [], token: 0 };

  const page = (title, body) => `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;

  // The Outlook-on-the-web stand-in: an app shell that changes its address as messages are
  // opened (history.pushState), re-renders its body all the time and sweeps unknown elements
  // off <html>, the way a busy web app may; and a style sheet that would hide anything foreign.
  const owaPage = (host) => page("Outlook", `
<style>
  html > :not(head):not(body) { display: none !important; opacity: 0 !important; }
  body { margin: 0; font: 14px sans-serif; }
  #app { display: grid; grid-template-columns: 220px 1fr; height: 100vh; }
  nav { background: #0f6cbd; color: #fff; padding: 12px; } main { padding: 16px; }
</style>
<div id="app"><nav>Outlook (stand-in)<br>${host}</nav><main id="reading">…</main></div>
<script>
  const render = () => {
    const id = decodeURIComponent((location.pathname.match(/\\/id\\/([^/]+)/) || [])[1] || "");
    const app = document.getElementById("app").cloneNode(true);
    app.querySelector("#reading").textContent = id ? "Message " + id + " (Outlook cannot show S/MIME content here)" : "Inbox";
    document.body.replaceChildren(app);
  };
  window.openMessage = (id) => { history.pushState({}, "", "/mail/inbox/id/" + encodeURIComponent(id)); render(); };
  setInterval(render, 700);
  setTimeout(() => { for (const n of [...document.documentElement.children]) if (n !== document.head && n !== document.body) n.remove(); }, 1500);
  render();
</script>`);

  function redirect(res, url) {
    res.writeHead(302, { location: url, "cache-control": "no-store" });
    res.end();
  }

  function json(res, status, body, headers = {}) {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  }

  function authorize(req, res, url) {
    const p = url.searchParams;
    log.authorize.push({ prompt: p.get("prompt"), auth: state.auth });
    const back = (params) => redirect(res, `${p.get("redirect_uri")}?${new URLSearchParams({ ...params, state: p.get("state") ?? "" })}`);
    const wrong = p.get("client_id") !== CLIENT_ID || p.get("redirect_uri") !== redirectUri || p.get("response_type") !== "code"
      || p.get("code_challenge_method") !== "S256" || !p.get("code_challenge") || p.get("scope") !== "https://graph.test/Mail.Read";
    if (url.pathname !== `/${TENANT}/oauth2/v2.0/authorize` || wrong || state.auth === "bad_app") {
      return back({ error: "invalid_request", error_description: "AADSTS50011: The redirect URI or app registration does not match." });
    }
    const grant = () => {
      const code = randomBytes(12).toString("hex");
      codes.set(code, { challenge: p.get("code_challenge") });
      back({ code });
    };
    if (p.get("accept") === "1") {
      state.auth = "signed_in"; // the person signed in (and consented) in the window
      return grant();
    }
    if (state.auth === "signed_in") return grant();
    if (p.get("prompt") === "none") return back({ error: state.auth === "no_consent" ? "consent_required" : "login_required", error_description: "AADSTS50058: silent sign-in failed" });
    const next = new URL(url);
    next.searchParams.set("accept", "1");
    const what = state.auth === "no_consent" ? "S/MIME Companion wants to read your mail (Mail.Read)." : "Sign in to your account.";
    res.writeHead(200, { "content-type": "text/html" });
    res.end(page("Sign in", `<h1>Microsoft (stand-in)</h1><p>${what}</p><a id="accept" href="${next.pathname}${next.search}">Accept</a>`));
  }

  async function token(req, res) {
    log.token++;
    const body = new URLSearchParams(await text(req));
    const grant = codes.get(body.get("code") ?? "");
    codes.delete(body.get("code") ?? "");
    const verifier = body.get("code_verifier") ?? "";
    const ok = grant && createHash("sha256").update(verifier).digest("base64url") === grant.challenge
      && body.get("client_id") === CLIENT_ID && body.get("redirect_uri") === redirectUri && body.get("grant_type") === "authorization_code";
    if (!ok) return json(res, 400, { error: "invalid_grant", error_description: "AADSTS70008: bad code or verifier", error_codes: [70008] });
    const access = randomBytes(24).toString("base64url");
    tokens.add(access);
    json(res, 200, { token_type: "Bearer", access_token: access, expires_in: 3600, scope: "https://graph.test/Mail.Read" });
  }

  function graph(req, res, url) {
    log.graph++;
    const agent = req.headers["user-agent"] ?? "";
    log.graphAgents.push({ agent, path: url.pathname });
    // The host downloads messages itself (transfer_fetch) and names itself; the browser is the fallback.
    if (state.graph === "down" || (state.graph === "host_down" && agent.startsWith("smime-companion/"))) return req.socket.destroy();
    if (state.graph === "error") return json(res, 500, { error: { code: "InternalServerError" } });
    const auth = req.headers.authorization ?? "";
    if (!tokens.has(auth.replace(/^Bearer /, ""))) return json(res, 401, { error: { code: "InvalidAuthenticationToken" } });
    const m = url.pathname.match(/^\/v1\.0\/me\/messages\/([^/]+)\/\$value$/);
    const bytes = m && messages.get(decodeURIComponent(m[1]));
    if (!bytes) return json(res, 404, { error: { code: "ErrorItemNotFound" } });
    res.writeHead(200, { "content-type": "message/rfc822", "content-length": bytes.length });
    res.end(bytes);
  }

  async function ews(req, res) {
    log.ews++;
    const body = await text(req);
    if (state.ews === "denied") {
      res.writeHead(401, { "www-authenticate": "Negotiate" });
      return res.end();
    }
    const id = body.match(/<t:ItemId Id="([^"]+)"/)?.[1] ?? "";
    const bytes = messages.get(restOf(id)) && !/[-_]/.test(id) ? messages.get(restOf(id)) : null; // an EWS id has no - or _
    const code = bytes ? "NoError" : "ErrorItemNotFound";
    const mime = bytes ? `<t:MimeContent CharacterSet="UTF-8">${Buffer.from(bytes).toString("base64")}</t:MimeContent>` : "";
    res.writeHead(bytes ? 200 : 500, { "content-type": "text/xml; charset=utf-8" });
    res.end(`<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
<m:GetItemResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
<m:ResponseMessages><m:GetItemResponseMessage ResponseClass="${bytes ? "Success" : "Error"}"><m:ResponseCode>${code}</m:ResponseCode>
<m:Items><t:Message>${mime}<t:ItemId Id="${id}"/></t:Message></m:Items></m:GetItemResponseMessage></m:ResponseMessages></m:GetItemResponse></s:Body></s:Envelope>`);
  }

  const server = https.createServer({ key, cert }, (req, res) => {
    const host = (req.headers.host ?? "").replace(/:\d+$/, "");
    const url = new URL(req.url, `https://${host}`);
    if (host === "remote.test") {
      log.remote.push(url.pathname);
      res.writeHead(404);
      return res.end();
    }
    if (host === "login.test" && url.pathname.endsWith("/oauth2/v2.0/authorize")) return authorize(req, res, url);
    if (host === "login.test" && url.pathname === `/${TENANT}/oauth2/v2.0/token` && req.method === "POST") return token(req, res);
    if (host === "graph.test") return graph(req, res, url);
    if (host === "owa.onprem.test" && url.pathname === "/EWS/Exchange.asmx" && req.method === "POST") return ews(req, res);
    if ((host === "owa.cloud.test" || host === "owa.onprem.test") && (url.pathname.startsWith("/mail") || url.pathname.startsWith("/owa"))) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      return res.end(owaPage(host));
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not here");
  });

  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve({
      port: server.address().port,
      state,
      log,
      messages,
      add(name, bytes) {
        const id = itemId(name);
        messages.set(id, bytes);
        return id;
      },
      close: () => new Promise((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
    }));
  });
}

function text(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
