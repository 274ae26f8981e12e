import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { authError, authorizeUrl, launchError, parseRedirect, parseTokenResponse, pkcePair, TokenKeeper, tokenRequest } from "../../extension/outlook-web/modules/oauth.mjs";
import { OwaError } from "../../extension/outlook-web/modules/fetch-errors.mjs";

const SETTINGS = { clientId: "11111111-2222-3333-4444-555555555555", tenantId: "contoso.com", authority: "https://login.example" };
const REDIRECT = "https://lhedfoapbnhfnodandjcbapohnbjbddg.chromiumapp.org/";
const SCOPE = "https://graph.example/Mail.Read";

test("PKCE: the challenge is the unpadded base64url SHA-256 of the verifier", async () => {
  const { verifier, challenge } = await pkcePair();
  assert.match(verifier, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(challenge, createHash("sha256").update(verifier).digest("base64url"));
  assert.notEqual((await pkcePair()).verifier, verifier);
});

test("the authorization request asks for a code with PKCE, for Mail.Read only, silently when asked", () => {
  const url = new URL(authorizeUrl(SETTINGS, { redirectUri: REDIRECT, scope: SCOPE, state: "s", challenge: "c", prompt: "none" }));
  assert.equal(url.origin + url.pathname, "https://login.example/contoso.com/oauth2/v2.0/authorize");
  const p = Object.fromEntries(url.searchParams);
  assert.deepEqual(p, {
    client_id: SETTINGS.clientId, response_type: "code", redirect_uri: REDIRECT, response_mode: "query", scope: SCOPE,
    state: "s", code_challenge: "c", code_challenge_method: "S256", prompt: "none",
  });
  const body = new URLSearchParams(tokenRequest(SETTINGS, { redirectUri: REDIRECT, scope: SCOPE, code: "k", verifier: "v" }).body);
  assert.equal(body.get("grant_type"), "authorization_code");
  assert.equal(body.get("code_verifier"), "v");
  assert.equal(body.has("client_secret"), false);
});

test("a redirect for another sign-in, or to another address, is refused; errors become codes", () => {
  assert.equal(parseRedirect(`${REDIRECT}?code=abc&state=s`, { redirectUri: REDIRECT, state: "s" }), "abc");
  assert.throws(() => parseRedirect(`${REDIRECT}?code=abc&state=other`, { redirectUri: REDIRECT, state: "s" }), (e) => e.code === OwaError.signInFailed);
  assert.throws(() => parseRedirect("https://evil.example/?code=abc&state=s", { redirectUri: REDIRECT, state: "s" }), (e) => e.code === OwaError.signInFailed);
  assert.throws(() => parseRedirect(`${REDIRECT}?error=login_required&state=s`, { redirectUri: REDIRECT, state: "s" }), (e) => e.code === OwaError.signedOut);
  assert.throws(() => parseRedirect(`${REDIRECT}?error=consent_required&state=s`, { redirectUri: REDIRECT, state: "s" }), (e) => e.code === OwaError.consentMissing);
});

test("OAuth and AADSTS errors say whether to sign in, to consent, or to call IT", () => {
  assert.equal(authError("invalid_grant", "AADSTS65001: The user or administrator has not consented").code, OwaError.consentMissing);
  assert.equal(authError("invalid_grant", "x", [65001]).code, OwaError.consentMissing);
  assert.equal(authError("interaction_required", "").code, OwaError.signedOut);
  assert.equal(authError("invalid_request", "AADSTS50011: The redirect URI does not match").code, OwaError.signInFailed);
  assert.equal(authError("unauthorized_client", "").code, OwaError.signInFailed);
  assert.equal(authError("temporarily_unavailable", "").code, OwaError.serverError);
  assert.equal(launchError(new Error("User interaction required.")).code, OwaError.signedOut);
  assert.equal(launchError(new Error("The user did not approve access.")).code, OwaError.signedOut);
  assert.equal(launchError(new Error("Authorization page could not be loaded.")).code, OwaError.network);
  assert.equal(parseTokenResponse(200, { access_token: "t", expires_in: 60 }, 1000).expiresAt, 61_000);
  assert.throws(() => parseTokenResponse(500, null), (e) => e.code === OwaError.serverError);
});

function memoryStore() {
  const data = {};
  return {
    data,
    get: async (key) => (key in data ? { [key]: data[key] } : {}),
    set: async (items) => Object.assign(data, items),
    remove: async (key) => delete data[key],
  };
}

/** A fake identity provider: checks PKCE and state like the real one, counts sign-ins. */
function provider({ answer = "code" } = {}) {
  const p = { launches: [], tokens: 0 };
  p.launch = async (url, interactive) => {
    const u = new URL(url);
    p.launches.push({ interactive, prompt: u.searchParams.get("prompt") });
    p.challenge = u.searchParams.get("code_challenge");
    const state = u.searchParams.get("state");
    if (answer === "code" || (answer === "interactive" && interactive)) return `${REDIRECT}?code=c${p.launches.length}&state=${state}`;
    if (answer === "interactive") throw new Error("User interaction required.");
    return `${REDIRECT}?error=${answer}&state=${state}`;
  };
  p.fetch = async (url, init) => {
    const body = new URLSearchParams(init.body);
    const ok = createHash("sha256").update(body.get("code_verifier")).digest("base64url") === p.challenge;
    p.tokens++;
    return { status: ok ? 200 : 400, json: async () => (ok ? { access_token: `token${p.tokens}`, expires_in: 3600 } : { error: "invalid_grant" }) };
  };
  return p;
}

test("the token is kept until shortly before it expires, then fetched again without a window", async () => {
  let now = 0;
  const p = provider();
  const store = memoryStore();
  const keeper = new TokenKeeper({ launch: p.launch, fetch: p.fetch, store, now: () => now });
  const options = { redirectUri: REDIRECT, scope: SCOPE };
  assert.equal(await keeper.token(SETTINGS, options), "token1");
  assert.equal(await keeper.token(SETTINGS, options), "token1");
  assert.deepEqual(p.launches, [{ interactive: false, prompt: "none" }]);
  now = 3600_000 - 60_000;
  assert.equal(await keeper.token(SETTINGS, options), "token2");
  await keeper.forget();
  assert.equal(await keeper.token(SETTINGS, options), "token3");
  assert.equal(await keeper.token({ ...SETTINGS, clientId: "99999999-2222-3333-4444-555555555555" }, options), "token4", "another app registration, another token");
});

test("concurrent checks share one silent sign-in", async () => {
  const p = provider();
  const keeper = new TokenKeeper({ launch: p.launch, fetch: p.fetch, store: memoryStore() });
  const options = { redirectUri: REDIRECT, scope: SCOPE };
  const tokens = await Promise.all([keeper.token(SETTINGS, options), keeper.token(SETTINGS, options), keeper.token(SETTINGS, options)]);
  assert.deepEqual(tokens, ["token1", "token1", "token1"]);
  assert.equal(p.launches.length, 1);
});

test("signed out: silent fails with owa_signed_out, the interactive sign-in succeeds", async () => {
  const p = provider({ answer: "interactive" });
  const keeper = new TokenKeeper({ launch: p.launch, fetch: p.fetch, store: memoryStore() });
  await assert.rejects(keeper.token(SETTINGS, { redirectUri: REDIRECT, scope: SCOPE }), (e) => e.code === OwaError.signedOut);
  assert.equal(await keeper.token(SETTINGS, { redirectUri: REDIRECT, scope: SCOPE, interactive: true }), "token1");
  assert.equal(p.launches.at(-1).prompt, null, "the window lets the identity provider choose what to ask");
});

test("no app registration: nothing is launched", async () => {
  const p = provider();
  const keeper = new TokenKeeper({ launch: p.launch, fetch: p.fetch, store: memoryStore() });
  await assert.rejects(keeper.token({ ...SETTINGS, clientId: "" }, { redirectUri: REDIRECT, scope: SCOPE }), (e) => e.code === OwaError.notConfigured);
  assert.equal(p.launches.length, 0);
});

test("a token endpoint that cannot be reached is a network failure, and nothing is kept", async () => {
  const p = provider();
  const store = memoryStore();
  const keeper = new TokenKeeper({ launch: p.launch, fetch: async () => { throw new TypeError("Failed to fetch"); }, store });
  await assert.rejects(keeper.token(SETTINGS, { redirectUri: REDIRECT, scope: SCOPE }), (e) => e.code === OwaError.network);
  assert.deepEqual(store.data, {});
});
