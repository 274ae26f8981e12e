// The first-run guide (issue 14, item 7): from "installed" to "my certificate is in, backed up,
// and Thunderbird uses it" in a few steps, each with its live state and the one action that moves
// it on. The add-on opens it once, when it is installed; the Tools menu opens it again.
//
// Pure: the page passes in what it read (the host's state, identities_list, the security module's
// state, Thunderbird's identities) and gets steps as message keys back.

import { identityAddress, thunderbirdSetup } from "./identities-view.mjs";

export const GUIDE_STEPS = Object.freeze(["program", "certificate", "backup", "thunderbird", "exchange"]);

const step = (id, state, key, subs = [], action = null) => ({ id, state, key, subs: subs.map(String), action });

/**
 * The steps: {id, state ("done", "todo", "waiting": an earlier step first, "info"), key, subs,
 * action: {id, key} | null, details: [{key, subs}]}. `host` is "ready" or why not (a port state);
 * `identities` the host's (null when it could not be asked); `module` pkcs11.mjs's state;
 * `tbIdentities` Thunderbird's MailIdentity objects (with their account's name as `accountName`).
 */
export function guideSteps({ host, identities, module, tbIdentities = [], formatDate = (d) => d }) {
  const steps = [];
  const ready = host === "ready";
  steps.push(ready
    ? step("program", "done", "guide_program_done")
    : step("program", "todo", "guide_program_todo", [], { id: "open_help", key: "guide_action_help" }));

  const mine = (identities ?? []).filter((i) => !i.replaced_by && !i.expired);
  const first = mine[0] ?? null;
  if (!ready) steps.push(step("certificate", "waiting", "guide_certificate_todo"));
  else if (first) steps.push(step("certificate", "done", "guide_certificate_done", [identityAddress(first) ?? "?", formatDate(first.not_after) ?? "?"]));
  else steps.push(step("certificate", "todo", "guide_certificate_todo", [], { id: "import", key: "guide_action_import" }));

  const missing = mine.filter((i) => !i.backed_up_at);
  if (!first) steps.push(step("backup", "waiting", "guide_backup_todo"));
  else if (missing.length) steps.push(step("backup", "todo", "guide_backup_todo", [], { id: "backup", key: "guide_action_backup" }));
  else {
    const last = mine.map((i) => i.backed_up_at).sort().at(-1);
    steps.push(step("backup", "done", "guide_backup_done", [formatDate(last) ?? "?"]));
  }

  steps.push(thunderbirdStep({ first, mine, module, tbIdentities }));
  steps.push(step("exchange", "info", "guide_exchange"));
  return steps;
}

// Thunderbird uses the certificate when an identity with its address can sign and encrypt with
// S/MIME; through the companion's security module it finds the companion's keys.
function thunderbirdStep({ first, mine, module, tbIdentities }) {
  if (!first) return step("thunderbird", "waiting", "guide_thunderbird_waiting");
  const emails = new Set(mine.flatMap((i) => (i.emails ?? []).map((e) => e.toLowerCase())));
  const candidates = tbIdentities.filter((i) => emails.has(String(i.email ?? "").toLowerCase()));
  if (!candidates.length) return step("thunderbird", "todo", "guide_thunderbird_no_account", [identityAddress(first) ?? "?"]);
  const setups = candidates.map((i) => ({ identity: i, setup: thunderbirdSetup(i, { identities: mine, module, accountName: i.accountName ?? null }) }));
  const done = setups.find((s) => s.setup.state === "ready");
  if (done) return step("thunderbird", "done", "guide_thunderbird_done", [done.setup.email]);
  const { setup } = setups[0];
  const action = module === "not_loaded" ? { id: "install_module", key: "module_install" } : null;
  return { ...step("thunderbird", "todo", "guide_thunderbird_todo", [], action), details: setup.steps, email: setup.email };
}

/** "2 of 4 done": the steps that can be done (not the advice at the end). */
export function guideProgress(steps) {
  const counted = steps.filter((s) => s.state !== "info");
  return { done: counted.filter((s) => s.state === "done").length, total: counted.length };
}

