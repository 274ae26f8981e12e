import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import {
  buttonLook, checkingLook, failureLook, ICON_NAMES, ICON_SIZES, lockedKeys, lookName, Looks, SIGNATURE_LOOKS, THEMES,
} from "../../extension/modules/look.mjs";
import { inspectCodes, ROOT, strictT } from "./docs.mjs";
import { LOCKED_FINGERPRINT, verdict } from "./fixtures.mjs";

const { signatureStates, encryptionStates } = inspectCodes();
const t = strictT();

test("every signature state in INSPECT.md has a look, and nothing else does", () => {
  assert.deepEqual(Object.keys(SIGNATURE_LOOKS).sort(), [...signatureStates].sort());
});

test("every state and combination with encryption gives a look with label and title texts", () => {
  for (const signature of signatureStates) {
    for (const encryption of encryptionStates) {
      const look = buttonLook({ verdict: verdict({ signature, encryption }) });
      assert.ok(Looks[look.name], `${signature}/${encryption}`);
      assert.ok(t(look.label.key).length > 0);
      assert.ok(t.phrase(look.title).length > 0, `${signature}/${encryption} title`);
    }
  }
});

test("the looks the issue asks for are distinct icons", () => {
  const cases = {
    unsigned: { signature: "none" },
    valid: { signature: "valid" },
    altered: { signature: "content_altered" },
    untrusted: { signature: "untrusted" },
    problem: { signature: "expired" },
    mismatch: { signature: "sender_mismatch" },
    encrypted: { signature: "none", encryption: "decrypted" },
    encryptedSigned: { signature: "valid", encryption: "decrypted" },
    undecryptable: { signature: "none", encryption: "no_key" },
  };
  const icons = new Set();
  for (const [expected, args] of Object.entries(cases)) {
    const look = buttonLook({ verdict: verdict(args) });
    assert.equal(look.name, expected, JSON.stringify(args));
    icons.add(look.icon);
  }
  assert.equal(icons.size, Object.keys(cases).length);
});

test("a broken, changed or revoked signature is red; certificate trouble is amber", () => {
  for (const s of ["malformed", "content_altered", "revoked", "sender_mismatch"]) {
    assert.equal(buttonLook({ verdict: verdict({ signature: s }) }).severity, "error", s);
  }
  for (const s of ["untrusted", "expired", "not_yet_valid", "wrong_usage", "weak_algorithm", "time_mismatch", "partially_signed"]) {
    assert.equal(buttonLook({ verdict: verdict({ signature: s }) }).severity, "warning", s);
  }
});

test("problems carry a badge, good news does not", () => {
  assert.equal(buttonLook({ verdict: verdict({ signature: "content_altered" }) }).badge.text, "!");
  assert.equal(buttonLook({ verdict: verdict({ signature: "valid" }) }).badge.text, "");
  assert.equal(buttonLook({ verdict: verdict({ signature: "none" }) }).badge.text, "");
});

test("a signature problem inside encryption shows the problem, not the lock", () => {
  assert.equal(lookName({ verdict: verdict({ signature: "content_altered", encryption: "decrypted" }) }), "altered");
});

test("what Thunderbird decrypted is judged by the inner verdict and says so", () => {
  const outer = verdict({ signature: "none", encryption: "no_key" });
  assert.equal(lookName({ verdict: outer }), "undecryptable");
  const reading = { verdict: outer, decrypted: verdict({ signature: "valid" }) };
  assert.equal(lookName(reading), "encryptedSigned");
  assert.match(t.phrase(buttonLook(reading).title), /Thunderbird decrypted it/);
});

test("the title names the signer from the certificate, not the header display name", () => {
  const v = verdict({ signature: "valid", from: [{ name: "Bank Security Team", address: "alice@example.org" }] });
  const title = t.phrase(buttonLook({ verdict: v }).title);
  assert.match(title, /Alice Example <alice@example\.org>/);
  assert.doesNotMatch(title, /Bank Security Team/);
});

test("a sender mismatch title shows both addresses", () => {
  const v = verdict({ signature: "sender_mismatch", from: [{ name: "Boss", address: "boss@example.com" }] });
  assert.equal(t.phrase(buttonLook({ verdict: v }).title), "Signed by alice@example.org, but the message claims to come from boss@example.com.");
});

test("host missing, broken and refused look unavailable; other failures name their error", () => {
  for (const code of ["host_missing", "host_broken", "caller_not_allowed"]) assert.equal(failureLook(code).name, "unavailable");
  const look = failureLook("timeout");
  assert.equal(look.name, "failed");
  assert.match(t.phrase(look.title), /took too long/);
  assert.equal(checkingLook().name, "checking");
});

test("every icon exists as PNG for both themes at 16 and 32 px, with its SVG source", () => {
  for (const icon of ICON_NAMES) {
    assert.ok(existsSync(`${ROOT}extension/icons/src/${icon}.svg`), `${icon}.svg`);
    for (const theme of THEMES) {
      for (const size of ICON_SIZES) {
        assert.ok(existsSync(`${ROOT}extension/icons/${theme}-theme/${icon}-${size}.png`), `${theme}/${icon}-${size}`);
      }
    }
  }
});

test("a message encrypted to a locked key of yours cannot be read yet, and says why", () => {
  const reading = { verdict: verdict({ signature: "none", encryption: "locked" }) };
  const look = buttonLook(reading);
  assert.equal(look.name, "undecryptable");
  assert.equal(look.title.key, "look_undecryptable_title_locked");
  assert.match(t.phrase(look.title), /your key is locked/);
});

test("lockedKeys names the locked keys and their addresses, for locked messages only", () => {
  const reading = { verdict: verdict({ signature: "none", encryption: "locked" }) };
  assert.deepEqual(lockedKeys(reading), { fingerprints: [LOCKED_FINGERPRINT], emails: ["bob@example.org"] });
  for (const encryption of ["none", "decrypted", "no_key", "failed", "unsupported"]) {
    assert.equal(lockedKeys({ verdict: verdict({ encryption }) }), null, encryption);
  }
  // What Thunderbird decrypted needs no unlock.
  assert.equal(lockedKeys({ ...reading, decrypted: verdict({ signature: "valid" }) }), null);
  // Recipients without an address still give a form, labelled without one.
  const bare = verdict({ signature: "none", encryption: "locked" });
  bare.encryption.recipients = [{ ...bare.encryption.recipients[0], email: null }];
  assert.deepEqual(lockedKeys({ verdict: bare }).emails, []);
});

test("a valid signature whose display name shows another address is no plain green seal", () => {
  const warnings = [{ code: "display_name_is_other_address", name_address: "boss@corp.example", address: "alice@example.org" }];
  for (const encryption of ["none", "decrypted"]) {
    const look = buttonLook({ verdict: verdict({ signature: "valid", encryption, warnings }) });
    assert.equal(look.name, "doubtfulSender", encryption);
    assert.equal(look.severity, "warning");
    assert.equal(look.badge.text, "!");
    assert.notEqual(look.icon, buttonLook({ verdict: verdict({ signature: "valid" }) }).icon);
    assert.match(t.phrase(look.title), /Alice Example <alice@example\.org>.*boss@corp\.example/);
  }
  // Other warnings keep the green seal; a worse state keeps its own look.
  assert.equal(lookName({ verdict: verdict({ signature: "valid", warnings: [{ code: "renewed" }] }) }), "valid");
  assert.equal(lookName({ verdict: verdict({ signature: "sender_mismatch", warnings }) }), "mismatch");
});
