// Signing in to Microsoft Graph: OAuth 2.0 authorization code with PKCE (RFC 7636) through the
// browser's own sign-in window (`identity.launchWebAuthFlow`), for the delegated scope Mail.Read
// only. No refresh token is asked for (no `offline_access`): the access token lives in
// storage.session (memory, this browser session) until it expires, and a new one comes from the
// identity provider's session cookie without a window; only when that needs the user does the
// popup ask them to sign in. Tokens, codes and verifiers are never logged or shown.
//
// Every failure becomes an error code the popup explains (fetch-errors.mjs). `launch`, `fetch`,
// `store`, `random` and `now` are injected, so node tests run the whole flow.

import { HostError } from "../../modules/ops.mjs";
import { OwaError } from "./fetch-errors.mjs";

const TOKEN_KEY = "owaToken";
const EXPIRY_MARGIN_MS = 120_000; // a token this close to its end is not used for a new request
const SILENT_TIMEOUT_MS = 10_000;

function base64url(bytes) {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A PKCE verifier (32 random bytes) and its S256 challenge. */
export async function pkcePair(crypto = globalThis.crypto) {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return { verifier, challenge: base64url(new Uint8Array(digest)) };
}

/** A random `state` for one sign-in. */
export function randomState(crypto = globalThis.crypto) {
  return base64url(crypto.getRandomValues(new Uint8Array(16)));
}

function endpoint(settings, which) {
  return `${settings.authority}/${encodeURIComponent(settings.tenantId)}/oauth2/v2.0/${which}`;
}

/** The authorization request's URL. */
export function authorizeUrl(settings, { redirectUri, scope, state, challenge, prompt = null }) {
  const params = new URLSearchParams({
    client_id: settings.clientId,
    response_type: "code",
    redirect_uri: redirectUri,
    response_mode: "query",
    scope,
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  if (prompt) params.set("prompt", prompt);
  return `${endpoint(settings, "authorize")}?${params}`;
}

/**
 * What the identity provider answered on the redirect URI: the code, or the failure as an
 * OwaError. A redirect for another sign-in (`state` differs) is refused.
 */
export function parseRedirect(redirectUrl, { redirectUri, state }) {
  let url;
  try {
    url = new URL(redirectUrl);
  } catch {
    throw new HostError(OwaError.signInFailed, "the sign-in window returned no address");
  }
  if (!redirectUrl.startsWith(redirectUri)) throw new HostError(OwaError.signInFailed, "the sign-in ended at another address");
  const params = url.searchParams.size ? url.searchParams : new URLSearchParams(url.hash.slice(1));
  if (params.get("state") !== state) throw new HostError(OwaError.signInFailed, "the sign-in answer belongs to another request");
  const error = params.get("error");
  if (error) throw authError(error, params.get("error_description"));
  const code = params.get("code");
  if (!code) throw new HostError(OwaError.signInFailed, "the sign-in answer holds no code");
  return code;
}

/** The token request (form-encoded POST): its URL and body. */
export function tokenRequest(settings, { redirectUri, scope, code, verifier }) {
  const body = new URLSearchParams({
    client_id: settings.clientId,
    grant_type: "authorization_code",
    code,
    redirect_uri: redirectUri,
    code_verifier: verifier,
    scope,
  });
  return { url: endpoint(settings, "token"), body: body.toString() };
}

/** A token endpoint's answer as `{accessToken, expiresAt}`, or the failure as an OwaError. */
export function parseTokenResponse(status, json, now = Date.now()) {
  if (status === 200 && typeof json?.access_token === "string" && json.access_token) {
    const seconds = Number(json.expires_in);
    const expiresAt = now + (Number.isFinite(seconds) && seconds > 0 ? seconds : 3600) * 1000;
    return { accessToken: json.access_token, expiresAt };
  }
  if (json?.error) throw authError(json.error, json.error_description, json.error_codes);
  throw new HostError(status >= 500 ? OwaError.serverError : OwaError.signInFailed, `the token endpoint answered ${status}`);
}

/**
 * The error code of an OAuth error (RFC 6749 and Microsoft's AADSTS codes): the user must sign in,
 * consent is missing, or the app registration is wrong (IT must fix it). The description is kept
 * for developers; it never holds a token.
 */
export function authError(error, description = "", codes = []) {
  const text = `${error}: ${String(description ?? "").split(/\r?\n/)[0]}`.slice(0, 300);
  const aadsts = new Set([...(Array.isArray(codes) ? codes : []), ...[...String(description ?? "").matchAll(/AADSTS(\d+)/g)].map((m) => Number(m[1]))]);
  if (error === "consent_required" || error === "access_denied" || aadsts.has(65001) || aadsts.has(65004) || aadsts.has(90094)) {
    return new HostError(OwaError.consentMissing, text);
  }
  if (["interaction_required", "login_required", "invalid_grant"].includes(error) || aadsts.has(50058) || aadsts.has(50076)) {
    return new HostError(OwaError.signedOut, text);
  }
  if (error === "temporarily_unavailable" || error === "server_error") return new HostError(OwaError.serverError, text);
  return new HostError(OwaError.signInFailed, text);
}

/** The error code of a launchWebAuthFlow failure (its messages are Chromium's, in English). */
export function launchError(e) {
  const message = e?.message ?? String(e);
  if (/interaction required|did not approve|user cancel|cancel/i.test(message)) return new HostError(OwaError.signedOut, message);
  if (/could not be loaded|network|timed out|timeout/i.test(message)) return new HostError(OwaError.network, message);
  return new HostError(OwaError.signInFailed, message);
}

/**
 * Keeps the access token for Graph. `launch(url, interactive)` runs the sign-in window and
 * resolves to the address it ended at; `fetch` is the network; `store` is storage.session.
 */
export class TokenKeeper {
  #launch;
  #fetch;
  #store;
  #now;
  #crypto;
  #running = null; // one sign-in at a time: {interactive, promise}

  constructor({ launch, fetch = globalThis.fetch, store, now = Date.now, crypto = globalThis.crypto }) {
    this.#launch = launch;
    this.#fetch = (...args) => fetch(...args); // the browser's fetch must not be called as a method of this object
    this.#store = store;
    this.#now = now;
    this.#crypto = crypto;
  }

  /**
   * A valid access token for `settings`: the kept one, else a new one from a sign-in (silent
   * unless `interactive`). Rejects with an OwaError (not configured, signed out, consent missing,
   * sign-in failed, network).
   */
  async token(settings, { redirectUri, scope, interactive = false }) {
    if (!settings.clientId) throw new HostError(OwaError.notConfigured, "no application (client) ID configured");
    const key = `${settings.authority}|${settings.tenantId}|${settings.clientId}|${scope}`;
    const kept = (await this.#store.get(TOKEN_KEY))[TOKEN_KEY];
    if (kept?.key === key && kept.expiresAt - EXPIRY_MARGIN_MS > this.#now()) return kept.accessToken;
    // A silent sign-in already running serves a silent caller; an interactive one waits for it.
    if (this.#running && (this.#running.interactive || !interactive)) return this.#running.promise;
    const promise = this.#signIn(settings, { redirectUri, scope, interactive, key });
    this.#running = { interactive, promise };
    try {
      return await promise;
    } finally {
      if (this.#running?.promise === promise) this.#running = null;
    }
  }

  /** Drops the kept token (Graph refused it). */
  async forget() {
    await this.#store.remove(TOKEN_KEY);
  }

  async #signIn(settings, { redirectUri, scope, interactive, key }) {
    const { verifier, challenge } = await pkcePair(this.#crypto);
    const state = randomState(this.#crypto);
    // Silent: the identity provider answers with an error (login_required, consent_required, …)
    // instead of showing a page, so the popup can say which.
    const url = authorizeUrl(settings, { redirectUri, scope, state, challenge, prompt: interactive ? null : "none" });
    let redirected;
    try {
      redirected = await this.#launch(url, interactive, SILENT_TIMEOUT_MS);
    } catch (e) {
      throw launchError(e);
    }
    const code = parseRedirect(redirected ?? "", { redirectUri, state });
    const request = tokenRequest(settings, { redirectUri, scope, code, verifier });
    let response;
    let json = null;
    try {
      response = await this.#fetch(request.url, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: request.body,
        credentials: "omit",
        cache: "no-store",
      });
      json = await response.json().catch(() => null);
    } catch (e) {
      throw new HostError(OwaError.network, `token endpoint unreachable: ${e?.message ?? e}`);
    }
    const { accessToken, expiresAt } = parseTokenResponse(response.status, json, this.#now());
    await this.#store.set({ [TOKEN_KEY]: { key, accessToken, expiresAt } });
    return accessToken;
  }
}
