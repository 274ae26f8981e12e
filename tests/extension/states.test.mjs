// One label per state, everywhere; and a certificate's claims are never shown as facts unless the
// signature is valid. Every state is rendered through every view that names it: the header
// button, the popup (headline and first problem card), the banner, the Outlook toolbar title and
// notice, the contacts page (its cards' badges, the list's flags, the layers) and My certificates.

import { test } from "node:test";
import { readFileSync } from "node:fs";
import assert from "node:assert/strict";
import { bannerFor, MARKED_STATES, markKey } from "../../extension/modules/banner.mjs";
import { claims, confirms, describe } from "../../extension/modules/describe.mjs";
import { certificateCard, certificateState, contactRow } from "../../extension/modules/contacts-view.mjs";
import { identityBadges, identityLead } from "../../extension/modules/identities-view.mjs";
import { buttonLook, checkingLook, failureLook, Looks, readingState, SIGNATURE_STATES, stateLabel, STATES } from "../../extension/modules/look.mjs";
import { showLook } from "../../extension/modules/header-button.mjs";
import { dateFormatter } from "../../extension/modules/format.mjs";
import { actionTitle, noticeFor } from "../../extension/outlook-web/modules/view.mjs";
import { code } from "./sources.mjs";
import { inspectCodes, locales, strictT } from "./docs.mjs";
import { cert, identity, verdict } from "./fixtures.mjs";

const NOW = Date.parse("2026-11-27T00:00:00Z");
const date = dateFormatter("en");

// Every reading the add-on can be shown, with the state it must be named by.
function readings() {
  const out = SIGNATURE_STATES.map((state) => [state, { verdict: verdict({ signature: state }) }]);
  out.push(["doubtful_sender", { verdict: verdict({ warnings: [{ code: "display_name_is_other_address", name_address: "boss@x.org", address: "alice@example.org" }] }) }]);
  out.push(["encrypted", { verdict: verdict({ signature: "none", encryption: "decrypted" }) }]);
  out.push(["encrypted_signed", { verdict: verdict({ signature: "valid", encryption: "decrypted" }) }]);
  for (const enc of ["locked", "no_key", "failed", "unsupported"]) out.push([`enc_${enc}`, { verdict: verdict({ signature: "none", encryption: enc }) }]);
  out.push(["unknown", { verdict: verdict({ signature: "brand_new_state" }) }]);
  return out;
}

async function buttonLabel(look, t) {
  let label = null;
  globalThis.browser = { messageDisplayAction: {
    setIcon: async () => {}, setTitle: async () => {}, setBadgeText: async () => {}, setBadgeBackgroundColor: async () => {},
    setBadgeTextColor: async () => {}, setLabel: async (details) => { label = details.label; },
  } };
  await showLook(1, look, t);
  return label;
}

for (const lang of ["en", "de"]) {
  const t = strictT(locales()[lang]);

  test(`${lang}: every state has one name on the button, in the popup, the banner and the Outlook title and notice`, async () => {
    const seen = new Set();
    for (const [state, reading] of readings()) {
      assert.equal(readingState(reading), state);
      const name = t(STATES[state].label);
      const view = describe(reading, { t, date });
      assert.equal(await buttonLabel(view.look, t), name, `${state}: header button`);
      assert.equal(view.headline, name, `${state}: popup headline`);
      if (view.problems.length) assert.equal(view.problems[0].title, name, `${state}: the popup's first problem card`);
      const banner = bannerFor(view, t);
      if (banner) assert.equal(banner.headline, name, `${state}: banner`);
      const notice = noticeFor(view, reading, t);
      if (notice) assert.equal(notice.headline, name, `${state}: Outlook notice`);
      assert.ok(actionTitle(view.look, t).includes(`: ${name}. `), `${state}: Outlook toolbar title ${actionTitle(view.look, t)}`);
      // Two states never share a name.
      assert.ok(!seen.has(name), `${state}: the name ${name} is taken`);
      seen.add(name);
    }
    for (const look of [checkingLook(), failureLook("host_missing"), failureLook("timeout")]) {
      assert.equal(await buttonLabel(look, t), t(STATES[look.state].label), look.state);
      assert.ok(!seen.has(t(STATES[look.state].label)), look.state);
      seen.add(t(STATES[look.state].label));
    }
  });

  test(`${lang}: a certificate's state has the verdict's name on the contacts page, in My certificates and in the layers`, () => {
    const stored = (overrides) => ({ ...cert(), source: "signed_mail", trusted_when_seen: true, revoked: false, can_encrypt: true, ...overrides });
    const cases = {
      revoked: stored({ revoked: true }),
      expired: stored({ not_after: "2026-01-01T00:00:00Z" }),
      not_yet_valid: stored({ not_before: "2027-01-01T00:00:00Z" }),
      untrusted: stored({ trusted_when_seen: false }),
    };
    for (const [state, c] of Object.entries(cases)) {
      assert.equal(certificateState(c, { now: NOW }), state);
      const badges = certificateCard(c, { t, date, now: NOW }).badges.map((b) => b.text);
      assert.ok(badges.includes(t(stateLabel(state))), `${state}: ${badges}`);
    }
    const mine = { expired: identity({ expired: true, expires_in_days: -3 }), not_yet_valid: identity({ not_before: "2027-01-01T00:00:00Z" }) };
    for (const [state, i] of Object.entries(mine)) {
      assert.equal(t(identityBadges(i, { now: NOW })[0].key), t(stateLabel(state)), state);
    }
    const flags = contactRow({ address: "a@x.org", certificates: 2, pending: 1, warnings: ["key_changed"] }, { t, date }).flags;
    assert.deepEqual(flags.map((f) => f.text), [t(stateLabel("key_changed"))]);
    const layers = [
      { part: "", form: "multipart_signed", position: "root", state: "valid", problems: [], signers: [] },
      { part: "1", form: "multipart_signed", position: "inner", state: "revoked", problems: [], signers: [] },
    ];
    const v = describe({ verdict: verdict({ signature: "valid", layers }) }, { t, date });
    const rows = v.technical.find((s) => s.id === "layers").rows.map((r) => r.value);
    assert.deepEqual(rows, [t(stateLabel("valid")), t(stateLabel("revoked"))]);
  });

  // The certificate's statements about its holder as facts: "The certification authority checked …".
  const factPatterns = Object.entries(locales()[lang]).filter(([key]) => key.startsWith("validation_"))
    .map(([, text]) => new RegExp(text.split(/\$\d/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*?")));
  const assertNoFact = (what, value) => {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    for (const pattern of factPatterns) assert.doesNotMatch(text, pattern, `${what} states a claim as fact`);
  };

  test(`${lang}: no view states a certificate's claims as fact unless the signature is valid`, () => {
    for (const type of inspectCodes().validationTypes) {
      const signer = cert({ validation: { type } });
      for (const state of SIGNATURE_STATES) {
        const reading = { verdict: verdict({ signature: state, signer }) };
        const view = describe(reading, { t, date });
        const banner = bannerFor(view, t);
        const notice = noticeFor(view, reading, t);
        if (state === "valid") {
          assert.ok(JSON.stringify(view).includes(JSON.stringify(confirms(signer, t)).slice(1, -1)), `${type}: the valid signature confirms`);
          continue;
        }
        for (const [what, value] of [["popup", view], ["banner", banner], ["notice", notice]]) assertNoFact(`${type}/${state}: ${what}`, value);
        const signerSection = view.sections.find((s) => s.id === "signer");
        if (signerSection) {
          assert.ok(signerSection.lead.startsWith(claims(signer, t)), `${type}/${state}: the popup says what the certificate claims`);
          assert.notEqual(signerSection.lead, claims(signer, t), `${type}/${state}: and why it is not proven`);
          assert.notEqual(signerSection.heading, t("section_signer"), `${type}/${state}: the heading does not say who signed`);
        }
      }
      // Contacts' certificates and your own: only a valid one confirms.
      const stored = (overrides) => ({ ...signer, source: "signed_mail", trusted_when_seen: true, revoked: false, can_encrypt: true, ...overrides });
      for (const c of [stored({ revoked: true }), stored({ trusted_when_seen: false }), stored({ not_after: "2026-01-01T00:00:00Z" })]) {
        assertNoFact(`${type}: contacts card`, certificateCard(c, { t, date, now: NOW }));
      }
      assert.equal(certificateCard(stored({}), { t, date, now: NOW }).lead, confirms(signer, t));
      const own = identity({ certificate: { ...signer } });
      assertNoFact(`${type}: My certificates, expired`, identityLead({ ...own, expired: true }, t, { now: NOW }));
      assert.equal(identityLead(own, t, { now: NOW }), confirms(signer, t));
    }
  });

  test(`${lang}: the danger states mark the message body, each with its own reason, and only they`, () => {
    for (const [state, reading] of readings()) {
      const view = describe(reading, { t, date });
      const banner = bannerFor(view, t);
      const danger = Looks[STATES[state].look].severity === "error";
      assert.equal(Boolean(banner?.mark), danger, state);
      if (danger) assert.ok(MARKED_STATES.has(state) && banner.mark === t(markKey(state)), state);
    }
  });
}

test("a closed banner stays closed for its message, and the mark on a danger state stays", () => {
  const t = strictT();
  const altered = bannerFor(describe({ verdict: verdict({ signature: "content_altered" }) }, { t, date }), t, { dismissed: true });
  assert.equal(altered.hidden, true);
  assert.equal(altered.mark, t("mark_content_altered"));
  const untrusted = bannerFor(describe({ verdict: verdict({ signature: "untrusted" }) }, { t, date }), t);
  assert.equal(untrusted.hidden, false);
  assert.equal(untrusted.mark, null);
  // The banner script draws the mark whether or not the banner is hidden.
  const script = readFileSync(new URL("../../extension/banner/banner.js", import.meta.url), "utf8");
  assert.match(script, /if \(!banner\.hidden\) \{/);
  assert.match(script, /if \(banner\.mark\) \{/);
});

test("no view names a state except through the table", () => {
  // `state_<code>` alone is a state's name: it comes from stateLabel(), never spelled out.
  for (const { path, text } of code()) {
    for (const m of text.matchAll(/`state_\$\{[^}]+\}`/g)) assert.fail(`${path}: ${m[0]} names a state without the table`);
    for (const m of text.matchAll(/\bt\("(state_[a-z_]+|enc_(?:locked|no_key|failed|unsupported)|label_[a-z_]+)"\)/g)) {
      assert.fail(`${path}: ${m[0]} names a state without the table`);
    }
  }
});

test("INSPECT.md lists every state with the labels and looks the add-on uses", async () => {
  const { read, rows, section } = await import("./docs.mjs");
  const table = rows(section(read("docs/INSPECT.md"), "## How the add-ons show a verdict"));
  const { en, de } = locales();
  const documented = Object.fromEntries(table.map(([state, enLabel, deLabel, look]) => [state.replaceAll("`", ""), { enLabel, deLabel, look }]));
  assert.deepEqual(Object.keys(documented).sort(), Object.keys(STATES).sort());
  for (const [state, { label, look }] of Object.entries(STATES)) {
    assert.deepEqual(documented[state], { enLabel: en[label], deLabel: de[label], look: `\`${look}\` (${Looks[look].severity})` }, state);
  }
});
